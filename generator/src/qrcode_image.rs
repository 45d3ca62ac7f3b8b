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

/// One QR code found in an image: where it is, and its text or why it could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundCode {
    /// Left edge of its bounding box, in pixels from the left of the image.
    pub x: u32,
    /// Top edge of its bounding box, in pixels from the top of the image.
    pub y: u32,
    /// Width of its bounding box, in pixels.
    pub width: u32,
    /// Height of its bounding box, in pixels.
    pub height: u32,
    /// Its text, or why a code was detected there but not read.
    pub text: Result<String, String>,
}

/// Reads every QR code in a photo (see [`decode_all`]); errors name the file. At least one is
/// read, else an error.
pub fn decode_file(path: &Path) -> Result<Vec<FoundCode>> {
    let img = image::open(path)
        .with_context(|| format!("{}: not a readable PNG or JPEG image", path.display()))?;
    let found = decode_all(&img.to_luma8());
    if !found.iter().any(|f| f.text.is_ok()) {
        let why = match found.iter().find_map(|f| f.text.as_ref().err()) {
            Some(e) => format!("QR code detected but unreadable: {e}"),
            None => "no QR code detected".to_string(),
        };
        bail!("{}: no readable QR code found: {why}", path.display());
    }
    Ok(found)
}

/// The most codes read from one image.
pub const MAX_CODES: usize = 64;

/// Every QR code detected in an image (at most [`MAX_CODES`]), in reading order (rows from the
/// top, then from the left), read or not; empty when none is detected.
///
/// rqrr groups finder patterns into codes, and with several codes side by side it can group the
/// patterns of different codes into one that does not exist. So codes are read in rounds: every
/// code read is painted white, and the image is searched again until a round reads nothing new;
/// what is then still detected and unreadable is reported as such.
pub fn decode_all(img: &GrayImage) -> Vec<FoundCode> {
    let mut img = img.clone();
    let mut read: Vec<FoundCode> = Vec::new();
    loop {
        let (new, unreadable): (Vec<FoundCode>, Vec<FoundCode>) =
            detect(&img).into_iter().partition(|f| f.text.is_ok());
        if new.is_empty() || read.len() >= MAX_CODES {
            read.extend(unreadable);
            break;
        }
        for f in new {
            // The quiet zone around the code goes too, so no finder pattern is left half.
            let margin = f.width.max(f.height) / 8;
            let (x0, y0) = (f.x.saturating_sub(margin), f.y.saturating_sub(margin));
            let x1 = (f.x + f.width + margin).min(img.width());
            let y1 = (f.y + f.height + margin).min(img.height());
            for y in y0..y1 {
                for x in x0..x1 {
                    img.put_pixel(x, y, Luma([255]));
                }
            }
            read.push(f);
        }
    }
    read.truncate(MAX_CODES);
    reading_order(read)
}

/// The codes rqrr detects in one pass.
fn detect(img: &GrayImage) -> Vec<FoundCode> {
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        img.width() as usize,
        img.height() as usize,
        |x, y| img.get_pixel(x as u32, y as u32).0[0],
    );
    prepared
        .detect_grids()
        .iter()
        .map(|grid| {
            let xs = grid.bounds.map(|p| p.x.max(0) as u32);
            let ys = grid.bounds.map(|p| p.y.max(0) as u32);
            let (x0, y0) = (min4(xs), min4(ys));
            FoundCode {
                x: x0,
                y: y0,
                width: max4(xs) - x0,
                height: max4(ys) - y0,
                text: grid
                    .decode()
                    .map(|(_, text)| text)
                    .map_err(|e| e.to_string()),
            }
        })
        .collect()
}

/// Sorts codes into rows (a code whose top is within half a code of the first code of a row is
/// on that row), rows from the top, codes in a row from the left.
fn reading_order(mut found: Vec<FoundCode>) -> Vec<FoundCode> {
    found.sort_by_key(|f| (f.y, f.x));
    let mut row = 0usize;
    let mut row_top: Option<(u32, u32)> = None;
    let mut rows = Vec::with_capacity(found.len());
    for f in &found {
        match row_top {
            Some((top, height)) if f.y.abs_diff(top) <= height / 2 => {}
            Some(_) => {
                row += 1;
                row_top = Some((f.y, f.height));
            }
            None => row_top = Some((f.y, f.height)),
        }
        rows.push(row);
    }
    let mut ordered: Vec<(usize, FoundCode)> = rows.into_iter().zip(found).collect();
    ordered.sort_by_key(|(row, f)| (*row, f.x));
    ordered.into_iter().map(|(_, f)| f).collect()
}

fn min4(v: [u32; 4]) -> u32 {
    v.into_iter().min().unwrap_or(0)
}

fn max4(v: [u32; 4]) -> u32 {
    v.into_iter().max().unwrap_or(0)
}

/// Reads the text of the first decodable QR code in an image, in reading order.
#[cfg(test)]
pub fn decode_image(img: &GrayImage) -> Result<String> {
    let found = decode_all(img);
    if found.is_empty() {
        bail!("no QR code detected");
    }
    let mut last_error = None;
    for f in found {
        match f.text {
            Ok(text) => return Ok(text),
            Err(e) => last_error = Some(e),
        }
    }
    bail!(
        "QR code detected but unreadable: {}",
        last_error.unwrap_or_default()
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
