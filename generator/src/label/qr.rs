//! The label's QR code: exactly the code of [`crate::qrcode_image::encode_url`] (byte-mode
//! prefix, numeric digits, error correction M, smallest version, the `qrcode` crate's mask
//! choice), computed about ten times faster. The `qrcode` crate scores the eight masks with a
//! boxed closure per module, which costs over a millisecond per code; here the same scores are
//! computed over a plain grid. The tests check module for module that both give the same code.

use anyhow::{bail, Context, Result};
use qrcode::bits::Bits;
use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::types::{Color, QrError};
use qrcode::{EcLevel, Version};

/// A QR code: its modules per side and the dark modules, row by row.
pub struct Code {
    /// Modules per side, without the quiet zone.
    pub width: u32,
    /// Dark modules, row by row.
    pub dark: Vec<bool>,
}

/// The QR code of a verify URL `<prefix>#<digits>`, as `encode_url` makes it.
pub fn encode(url: &str) -> Result<Code> {
    let (prefix, digits) = match url.split_once('#') {
        Some((p, d)) if !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) => {
            (&url[..p.len() + 1], d)
        }
        _ => bail!("{url:?} is not a verify URL with a #digits fragment"),
    };
    for v in 1..=40 {
        let version = Version::Normal(v);
        let bits = match segments(version, prefix.as_bytes(), digits.as_bytes()) {
            Ok(bits) => bits,
            Err(QrError::DataTooLong) => continue,
            Err(e) => bail!("QR encoding failed: {e}"),
        };
        let data = bits.into_bytes();
        let (encoded, ec) = qrcode::ec::construct_codewords(&data, version, EcLevel::M)
            .context("QR encoding failed")?;
        let mut canvas = Canvas::new(version, EcLevel::M);
        canvas.draw_all_functional_patterns();
        canvas.draw_data(&encoded, &ec);
        return Ok(best_mask(&canvas, version.width() as usize));
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

/// The masks in the order `qrcode` tries them; the first with the lowest penalty wins.
const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

fn best_mask(canvas: &Canvas, width: usize) -> Code {
    let mut best: Option<(u32, Vec<bool>)> = None;
    for mask in MASKS {
        let mut c = canvas.clone();
        c.apply_mask(mask);
        let dark: Vec<bool> = c
            .into_colors()
            .into_iter()
            .map(|m| m == Color::Dark)
            .collect();
        let score = penalty(&dark, width);
        if best.as_ref().is_none_or(|(s, _)| score < *s) {
            best = Some((score, dark));
        }
    }
    let dark = best.map(|(_, d)| d).unwrap_or_default();
    Code {
        width: width as u32,
        dark,
    }
}

/// The `qrcode` crate's penalty score of a masked normal QR code (its rules, quirks included).
fn penalty(dark: &[bool], w: usize) -> u32 {
    let mut score = 0u32;
    let mut column = vec![false; w];
    for i in 0..w {
        score += line_penalty(&dark[i * w..(i + 1) * w]);
        for (y, c) in column.iter_mut().enumerate() {
            *c = dark[y * w + i];
        }
        score += line_penalty(&column);
    }
    // `qrcode` subtracts 360 per direction for the finder patterns themselves, the same for every
    // mask: the comparison is the same without it.
    // 2x2 blocks of one colour: 3 points each.
    for y in 0..w.saturating_sub(1) {
        let (top, bottom) = (&dark[y * w..(y + 1) * w], &dark[(y + 1) * w..(y + 2) * w]);
        for x in 0..w - 1 {
            let c = top[x];
            if top[x + 1] == c && bottom[x] == c && bottom[x + 1] == c {
                score += 3;
            }
        }
    }
    let dark_count = dark.iter().filter(|&&d| d).count();
    let ratio = dark_count * 200 / dark.len().max(1);
    score + ratio.abs_diff(100) as u32
}

/// The penalty of one row or column: runs of five or more of one colour (3 points, plus 1 per
/// module beyond five) and 1:1:3:1:1 patterns without four light modules on at least one side
/// (40 points).
fn line_penalty(line: &[bool]) -> u32 {
    let w = line.len();
    let mut score = 0u32;
    let mut run = 1u32;
    for j in 1..w {
        if line[j] == line[j - 1] {
            run += 1;
        } else {
            if run >= 5 {
                score += run - 2;
            }
            run = 1;
        }
    }
    if run >= 5 {
        score += run - 2;
    }
    for j in 0..w.saturating_sub(6) {
        if line[j]
            && !line[j + 1]
            && line[j + 2]
            && line[j + 3]
            && line[j + 4]
            && !line[j + 5]
            && line[j + 6]
        {
            let before = line[j.saturating_sub(4)..j].iter().any(|&d| d);
            let after = line[j + 7..(j + 11).min(w)].iter().any(|&d| d);
            if !before || !after {
                score += 40;
            }
        }
    }
    score
}
