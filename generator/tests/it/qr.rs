//! `starmark qr --png`: the QR code of a typical label fits version 10 at error correction M,
//! keeps its quiet zone, and reads back (rqrr, and zbarimg when installed).

use std::path::Path;
use std::process::Command;

use crate::common::{s, RecordText, Reg};

/// Decodes the one QR code of a PNG with rqrr (independently of the binary).
pub fn decode_png(path: &Path) -> String {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        img.width() as usize,
        img.height() as usize,
        |x, y| img.get_pixel(x as u32, y as u32).0[0],
    );
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "{}: QR codes found", path.display());
    grids[0].decode().expect("decodable QR code").1
}

/// The text zbarimg reads from an image, or `None` when zbarimg is not on PATH.
pub fn zbarimg(path: &Path) -> Option<String> {
    let out = Command::new("zbarimg")
        .args(["-q", "--raw", s(path)])
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "zbarimg failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .trim_end()
            .to_string(),
    )
}

/// The N of "QR version N" on stderr.
fn version(stderr: &str) -> u32 {
    let rest = stderr
        .split_once("QR version ")
        .unwrap_or_else(|| panic!("no QR version in {stderr:?}"))
        .1;
    let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
    n.parse().unwrap()
}

/// The claim the design calls typical: a 12-character Chinese manufacturer name, a
/// 12-character model, serial 20260001, base URL https://label.example.cn.
fn typical(category: &str) -> RecordText {
    let mut r = RecordText::new(20_260_001);
    r.manufacturer = "深圳星联网络科技有限公司".into();
    r.model = "XL-AX3000-PR".into();
    r.category = category.into();
    assert_eq!(r.manufacturer.chars().count(), 12);
    assert_eq!(r.model.chars().count(), 12);
    r
}

/// Writes the typical label's PNG at scale 1; returns the version, the PNG path and the URL.
fn typical_png(reg: &Reg, category: &str) -> (u32, std::path::PathBuf, String) {
    let url = reg.signed("20260001.md", &typical(category).text());
    let png = reg.tmp().join("label.png");
    let out = reg.run(&[
        "qr",
        "records/20260001.md",
        "--png",
        s(&png),
        "--scale",
        "1",
    ]);
    out.ok().stderr_has(&["error correction M"]);
    (version(&out.stderr), png, url)
}

#[test]
fn a_typical_label_fits_qr_version_10() {
    let reg = Reg::new();
    let (v, png, url) = typical_png(&reg, "router");
    assert!(v <= 10, "QR version {v} > 10 for a typical label");
    assert!(url.starts_with("https://label.example.cn/verify/#"));
    // Version v is 17 + 4v modules wide; plus the 4-module quiet zone on each side.
    let img = image::open(&png).unwrap().to_luma8();
    assert_eq!(img.width(), 17 + 4 * v + 8);
    assert_eq!(img.height(), img.width());
    // The quiet zone is white.
    for i in 0..img.width() {
        for j in 0..4 {
            assert_eq!(img.get_pixel(i, j).0[0], 255, "quiet zone at ({i}, {j})");
            assert_eq!(img.get_pixel(j, i).0[0], 255, "quiet zone at ({j}, {i})");
        }
    }
    assert_eq!(decode_png(&png), url);
    let (code, json) = reg.verify(s(&png), &[]);
    assert_eq!(
        (code, json["verdict"].as_str()),
        (0, Some("valid")),
        "{json}"
    );
    assert_eq!(json["manufacturer"], "深圳星联网络科技有限公司");
}

#[test]
fn the_png_reads_back_with_zbarimg() {
    let reg = Reg::new();
    let url = reg.signed("20260001.md", &typical("router").text());
    let png = reg.tmp().join("label.png");
    reg.run(&["qr", "records/20260001.md", "--png", s(&png)])
        .ok();
    assert_eq!(decode_png(&png), url);
    match zbarimg(&png) {
        Some(text) => assert_eq!(text, url),
        None => println!("note: zbarimg not on PATH; skipped the zbarimg check"),
    }
}

#[test]
fn scale_sets_pixels_per_module() {
    let reg = Reg::new();
    reg.signed("20260001.md", &typical("router").text());
    let png1 = reg.tmp().join("1.png");
    let png3 = reg.tmp().join("3.png");
    reg.run(&[
        "qr",
        "records/20260001.md",
        "--png",
        s(&png1),
        "--scale",
        "1",
    ])
    .ok();
    reg.run(&[
        "qr",
        "records/20260001.md",
        "--png",
        s(&png3),
        "--scale",
        "3",
    ])
    .ok();
    let w1 = image::open(&png1).unwrap().width();
    let w3 = image::open(&png3).unwrap().width();
    assert_eq!(w3, 3 * w1);
    reg.run(&[
        "qr",
        "records/20260001.md",
        "--png",
        s(&png1),
        "--scale",
        "0",
    ])
    .code(2);
}

/// The claim carries the category code as text: the default catalogue keeps its codes short
/// enough that a typical label fits version 10 in every category.
#[test]
fn a_typical_label_fits_qr_version_10_in_every_default_category() {
    let reg = Reg::new();
    let config = std::fs::read_to_string(reg.path("starmark.toml")).unwrap();
    let codes: Vec<&str> = config
        .lines()
        .filter_map(|l| l.strip_prefix("code = \""))
        .map(|l| l.trim_end_matches('"'))
        .collect();
    assert_eq!(codes.len(), 12);
    let mut too_big = Vec::new();
    for code in codes {
        let reg = Reg::new();
        let (v, _, _) = typical_png(&reg, code);
        if v > 10 {
            too_big.push(format!("{code}: version {v}"));
        }
    }
    assert!(too_big.is_empty(), "{too_big:?}");
}
