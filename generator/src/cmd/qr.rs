//! `starmark qr RECORD.md [--png FILE]`.

use anyhow::Result;
use starmark_core::qr::verify_url;

use crate::cli::QrArgs;
use crate::qrcode_image;
use crate::registry::Registry;
use crate::signed;

pub fn run(args: &QrArgs) -> Result<u8> {
    let reg = Registry::locate(args.registry.registry.as_deref(), Some(&args.record))?;
    let sr = signed::load(&args.record, reg.config.max_record_bytes)?;
    signed::check_signature(&sr, &reg.trust_list()?)?;
    let url = verify_url(&reg.config.base_url, sr.signed.as_bytes());
    if let Some(png) = &args.png {
        let code = qrcode_image::encode_url(&url)?;
        qrcode_image::write_png(&code, args.scale, png)?;
        errln!(
            "wrote {} for serial {} (QR version {}, error correction M, {} modules + quiet zone)",
            png.display(),
            sr.record.serial,
            qrcode_image::version_number(&code),
            code.width()
        );
    }
    outln!("{url}");
    Ok(crate::EXIT_OK)
}
