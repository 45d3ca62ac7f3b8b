//! Rasterising a label SVG with resvg into an 8-bit greyscale PNG that records its resolution.

use anyhow::{bail, Context, Result};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};
use resvg::{tiny_skia, usvg};

/// Renders `svg` at `dpi` on white; deterministic bytes for the same SVG and dpi.
pub fn render(svg: &str, dpi: f32) -> Result<Vec<u8>> {
    if !(dpi.is_finite() && (1.0..=2400.0).contains(&dpi)) {
        bail!("label PNG: {dpi} dpi is not a resolution between 1 and 2400");
    }
    let tree = usvg::Tree::from_str(svg, &usvg::Options::default())
        .context("label PNG: the SVG does not parse")?;
    // usvg sizes are CSS pixels (96 per inch).
    let scale = dpi / 96.0;
    let size = tree.size();
    let w = (size.width() * scale).round().max(1.0) as u32;
    let h = (size.height() * scale).round().max(1.0) as u32;
    let mut pixmap = tiny_skia::Pixmap::new(w, h)
        .with_context(|| format!("label PNG: cannot make a {w}x{h} image"))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    // Opaque after the white fill, so the premultiplied values are the colour itself.
    let grey: Vec<u8> = pixmap
        .pixels()
        .iter()
        .map(|p| {
            let luma =
                299 * u32::from(p.red()) + 587 * u32::from(p.green()) + 114 * u32::from(p.blue());
            ((luma + 500) / 1000) as u8
        })
        .collect();
    let mut png = Vec::with_capacity(16 * 1024);
    PngEncoder::new_with_quality(&mut png, CompressionType::Fast, FilterType::Adaptive)
        .write_image(&grey, w, h, ExtendedColorType::L8)
        .context("label PNG: encoding failed")?;
    Ok(with_resolution(png, dpi))
}

/// Inserts a `pHYs` chunk (pixels per metre) after `IHDR`, so printing software knows the size.
fn with_resolution(png: Vec<u8>, dpi: f32) -> Vec<u8> {
    // Signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 CRC).
    const AFTER_IHDR: usize = 8 + 25;
    if png.len() < AFTER_IHDR || &png[12..16] != b"IHDR" {
        return png;
    }
    let ppm = (f64::from(dpi) / 0.0254).round() as u32;
    let mut chunk = Vec::with_capacity(21);
    chunk.extend_from_slice(&9u32.to_be_bytes());
    chunk.extend_from_slice(b"pHYs");
    chunk.extend_from_slice(&ppm.to_be_bytes());
    chunk.extend_from_slice(&ppm.to_be_bytes());
    chunk.push(1); // unit: metre
    let crc = crc32(&chunk[4..]);
    chunk.extend_from_slice(&crc.to_be_bytes());
    let mut out = Vec::with_capacity(png.len() + chunk.len());
    out.extend_from_slice(&png[..AFTER_IHDR]);
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&png[AFTER_IHDR..]);
    out
}

/// CRC-32 (ISO-HDLC) as PNG chunks use it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
