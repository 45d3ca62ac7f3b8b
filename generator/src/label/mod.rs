//! Print-ready labels: a card with the heading, the tier as stars, the manufacturer (both
//! names), model, validity, certificate number and the QR code of the verify URL, as a
//! self-contained SVG (every text outlined with the label font) and as a PNG rendered from that
//! SVG. [`LabelSize::default`] is the smallest card that holds a typical record legibly.
//!
//! Guarantees: the same input and font always give the same bytes; every text line has an
//! x-height of at least 0.9 mm and the QR module is at least 0.33 mm (whole pixels at 300 dpi);
//! nothing overflows the card or is dropped (long texts wrap and the card grows); the QR code
//! keeps its whole 4-module quiet zone inside the card, free of any other drawing; a character
//! the font cannot draw is an error naming the character and the field, never a box.

mod font;
mod layout;
mod patches;
mod png;
mod qr;
mod svg;
#[cfg(test)]
mod tests;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use starmark_core::Day;

pub use font::LabelFont;

/// Version of the label layout, part of every label's cache key: bump it whenever a change here
/// changes the bytes of a label.
pub const VERSION: &str = "5";

/// The size of a label (`[label]` in starmark.toml), mm. A label whose texts or QR code need
/// more grows (taller for long names, wider for a QR code above version 10); never smaller.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSize {
    /// Width, mm (default and minimum [`LabelSize::MIN_WIDTH`]).
    #[serde(default = "default_width")]
    pub width_mm: f64,
    /// Height, mm (default [`LabelSize::DEFAULT_HEIGHT`], minimum [`LabelSize::MIN_HEIGHT`]).
    #[serde(default = "default_height")]
    pub height_mm: f64,
}

fn default_width() -> f64 {
    LabelSize::MIN_WIDTH
}

fn default_height() -> f64 {
    LabelSize::DEFAULT_HEIGHT
}

impl Default for LabelSize {
    fn default() -> Self {
        LabelSize {
            width_mm: LabelSize::MIN_WIDTH,
            height_mm: LabelSize::DEFAULT_HEIGHT,
        }
    }
}

impl LabelSize {
    /// The narrowest label: a version-10 QR code with 0.33 mm modules (4 pixels at 300 dpi,
    /// 0.339 mm) and its quiet zone, inside the border (a test checks it against the layout).
    pub const MIN_WIDTH: f64 = 22.6;
    /// The default height: the smallest that holds, at [`LabelSize::MIN_WIDTH`] and with the
    /// built-in font, a manufacturer name and an English name on two lines each, a model on one
    /// line, and the QR code (a test checks it against the layout).
    pub const DEFAULT_HEIGHT: f64 = 49.1;
    /// The lowest label: the heading, the stars, one line for each of the manufacturer, model,
    /// validity (two lines) and number, and the QR code (a test checks it against the layout).
    pub const MIN_HEIGHT: f64 = 42.9;
    /// The largest side accepted, mm.
    pub const MAX_SIDE: f64 = 300.0;

    /// Whether this is the default size (left out of the published configuration).
    pub fn is_default(&self) -> bool {
        *self == LabelSize::default()
    }

    /// Checks the size; the error names the field and the minimum or maximum.
    pub fn check(&self) -> Result<()> {
        for (field, v, min, why) in [
            (
                "width_mm",
                self.width_mm,
                LabelSize::MIN_WIDTH,
                "a version-10 QR code with 0.33 mm modules and its quiet zone",
            ),
            (
                "height_mm",
                self.height_mm,
                LabelSize::MIN_HEIGHT,
                "the heading, stars, one line of each text at a 0.9 mm x-height and the QR code",
            ),
        ] {
            if !v.is_finite() || v < min {
                bail!(
                    "[label] {field} = {v}: a label must be at least {min} mm {} to hold {why}",
                    if field == "width_mm" { "wide" } else { "tall" }
                );
            }
            if v > LabelSize::MAX_SIDE {
                bail!("[label] {field} = {v}: at most {} mm", LabelSize::MAX_SIDE);
            }
        }
        Ok(())
    }
}

/// What a label shows. All strings come from verified signed records.
pub struct LabelInput<'a> {
    /// Registered name of the manufacturer, usually Chinese (at most 120 bytes).
    pub manufacturer: &'a str,
    /// The manufacturer's English name, printed small when it fits.
    pub manufacturer_en: Option<&'a str>,
    /// Product model (at most 60 bytes).
    pub model: &'a str,
    /// Stars, 1..=3.
    pub tier: u8,
    /// The certificate number as printed, e.g. `20260001`.
    pub certificate_number: &'a str,
    /// First day of validity.
    pub valid_from: Day,
    /// Last day of validity.
    pub valid_until: Day,
    /// `https://.../verify/#<digits>`, encoded as the label's QR code.
    pub verify_url: &'a str,
    /// The certification is revoked: the heading says VOID (作废) instead.
    pub void: bool,
    /// The size of the card.
    pub size: LabelSize,
}

/// The label as a self-contained SVG, with its size in millimetres and a viewBox in millimetres: every text is
/// outlined as paths (no `<text>`, no font needed to print it), deterministic bytes.
///
/// Errors: a character the font lacks (naming it as U+XXXX and the field), a tier outside 1..=3,
/// a verify URL that is not `...#<digits>` or too long for a QR code.
#[cfg(test)]
pub fn render_svg(input: &LabelInput<'_>, font: &LabelFont) -> Result<String> {
    let label = layout::layout(input, font)?;
    Ok(svg::write(&label, &title(input)))
}

/// A label as SVG ([`render_svg`]) and as PNG at `dpi` (the site uses 300): on white, 4-bit
/// greyscale, with its resolution recorded, pixel for pixel what resvg renders of the SVG (in
/// 16 grey levels);
/// deterministic bytes.
pub fn render(input: &LabelInput<'_>, font: &LabelFont, dpi: f32) -> Result<(String, Vec<u8>)> {
    let label = layout::layout(input, font)?;
    let svg = svg::write(&label, &title(input));
    let png = png::render(&label, &svg, dpi)?;
    Ok((svg, png))
}

/// The SVG's `<title>`, for screen readers.
fn title(input: &LabelInput<'_>) -> String {
    let tier = ["一星级", "二星级", "三星级"]
        .get(usize::from(input.tier.saturating_sub(1)))
        .copied()
        .unwrap_or_default();
    let void = if input.void {
        "作废 VOID (revoked): "
    } else {
        ""
    };
    format!(
        "{void}网络安全标识 Cybersecurity label: {tier} (tier {}), {}, {}, No. {}, {} – {}",
        input.tier,
        input.manufacturer,
        input.model,
        input.certificate_number,
        input.valid_from,
        input.valid_until
    )
}
