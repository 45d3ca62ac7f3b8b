//! QR codes for labels: the verify URL with its prefix in byte mode and the digits in numeric
//! mode, error correction M, the smallest version that fits; PNG rendering with the 4-module quiet
//! zone; and reading a QR code back from a photo (rqrr).

use std::path::Path;

use anyhow::{bail, Context, Result};
use image::{GrayImage, Luma};
use qrcode::bits::Bits;
use qrcode::types::{Color, Mode, QrError};
use qrcode::{EcLevel, QrCode, Version};

/// Modules of white border around the code (the QR standard's quiet zone).
pub const QUIET_ZONE: u32 = 4;

/// The QR code of a verify URL `<prefix>#<digits>`: byte mode up to and including `#`, then
/// numeric mode; error correction M; the smallest version that holds it.
pub fn encode_url(url: &str) -> Result<QrCode> {
    QrCode::with_bits(verify_url_bits(url)?, EcLevel::M).context("QR encoding failed")
}

/// The data bits of a verify URL's QR code at the smallest version that holds them (the version
/// is `bits.version()`): the one segmentation every QR code of starmark uses.
pub fn verify_url_bits(url: &str) -> Result<Bits> {
    let (prefix, digits) = match url.split_once('#') {
        Some((p, d)) if !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) => {
            (&url[..p.len() + 1], d)
        }
        _ => bail!("{url:?} is not a verify URL with a #digits fragment"),
    };
    // The smallest version, computed from the segment sizes (two 4-bit mode indicators, the
    // length fields, the data bits) instead of encoding at version 1, 2, 3, ...; checked by
    // encoding: if the version below holds the data after all, search from version 1.
    let (p, d) = (prefix.as_bytes(), digits.as_bytes());
    let fits = |v: i16| {
        let version = Version::Normal(v);
        let (b, n) = (
            Mode::Byte.length_bits_count(version),
            Mode::Numeric.length_bits_count(version),
        );
        let len = 8
            + b
            + n
            + Mode::Byte.data_bits_count(p.len())
            + Mode::Numeric.data_bits_count(d.len());
        p.len() < 1 << b
            && d.len() < 1 << n
            && Bits::new(version)
                .max_len(EcLevel::M)
                .is_ok_and(|max| len <= max)
    };
    let estimate = (1..=40).find(|&v| fits(v)).unwrap_or(1);
    let below_fits = estimate > 1 && segments(Version::Normal(estimate - 1), p, d).is_ok();
    let first = if below_fits { 1 } else { estimate };
    for v in first..=40 {
        match segments(Version::Normal(v), p, d) {
            Ok(bits) => return Ok(bits),
            Err(QrError::DataTooLong) => continue,
            Err(e) => bail!("QR encoding failed: {e}"),
        }
    }
    bail!(
        "the verify URL is too long for any QR code ({} characters)",
        url.len()
    )
}

fn segments(version: Version, prefix: &[u8], digits: &[u8]) -> Result<Bits, QrError> {
    let mut bits = Bits::new(version);
    bits.push_byte_data(prefix)?;
    bits.push_numeric_data(digits)?;
    bits.push_terminator(EcLevel::M)?;
    Ok(bits)
}

/// The version number (1..=40) of a code.
pub fn version_number(code: &QrCode) -> i16 {
    match code.version() {
        Version::Normal(v) | Version::Micro(v) => v,
    }
}

/// Renders a code as a black-on-white image, `scale` pixels per module, with the quiet zone.
pub fn render(code: &QrCode, scale: u32) -> GrayImage {
    let width = code.width() as u32;
    let side = (width + 2 * QUIET_ZONE) * scale;
    let colors = code.to_colors();
    GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / scale, y / scale);
        let dark = mx >= QUIET_ZONE
            && my >= QUIET_ZONE
            && mx < width + QUIET_ZONE
            && my < width + QUIET_ZONE
            && colors[((my - QUIET_ZONE) * width + (mx - QUIET_ZONE)) as usize] == Color::Dark;
        Luma([if dark { 0 } else { 255 }])
    })
}

/// Writes a code as PNG.
pub fn write_png(code: &QrCode, scale: u32, path: &Path) -> Result<()> {
    let img = render(code, scale);
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .context("PNG encoding failed")?;
    crate::fsutil::write_atomic(path, &bytes)
}

/// Reads the text of the QR code(s) in a photo; errors name the file.
pub fn decode_file(path: &Path) -> Result<String> {
    let img = image::open(path)
        .with_context(|| format!("{}: not a readable PNG or JPEG image", path.display()))?;
    decode_image(&img.to_luma8())
        .with_context(|| format!("{}: no readable QR code found", path.display()))
}

/// Reads the text of the first decodable QR code in an image.
pub fn decode_image(img: &GrayImage) -> Result<String> {
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        img.width() as usize,
        img.height() as usize,
        |x, y| img.get_pixel(x as u32, y as u32).0[0],
    );
    let grids = prepared.detect_grids();
    if grids.is_empty() {
        bail!("no QR code detected");
    }
    let mut last_error = None;
    for grid in grids {
        match grid.decode() {
            Ok((_, text)) => return Ok(text),
            Err(e) => last_error = Some(e),
        }
    }
    bail!(
        "QR code detected but unreadable: {}",
        last_error.map(|e| e.to_string()).unwrap_or_default()
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_an_image() {
        let url = "https://label.example.cn/verify/#0012345678901234567";
        let code = encode_url(url).unwrap();
        let text = decode_image(&render(&code, 4)).unwrap();
        assert_eq!(text, url);
    }

    #[test]
    fn refuses_urls_without_digits() {
        assert!(encode_url("https://x.cn/verify/").is_err());
        assert!(encode_url("https://x.cn/verify/#12a").is_err());
    }
}
