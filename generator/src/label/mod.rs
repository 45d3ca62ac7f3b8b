//! Print-ready labels: a 20 mm wide card with the heading, the tier as stars, the manufacturer,
//! model, validity, certificate number and the QR code of the verify URL, as a self-contained SVG
//! (every text outlined with the label font) and as a PNG rendered from that SVG.
//!
//! Guarantees: the same input and font always give the same bytes; nothing overflows the card
//! (long names shrink, then wrap to two lines); the QR code keeps its whole 4-module quiet zone
//! inside the card, free of any other drawing, and at 300 dpi its modules are whole pixels; a
//! character the font cannot draw is an error naming the character and the field, never a box.

mod font;
mod layout;
mod patches;
mod png;
mod qr;
mod svg;
#[cfg(test)]
mod tests;

use anyhow::Result;
use starmark_core::Day;

pub use font::LabelFont;

/// Version of the label layout, part of every label's cache key: bump it whenever a change here
/// changes the bytes of a label.
pub const VERSION: &str = "2";

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
}

/// The label as a self-contained SVG, 20 mm wide with a viewBox in millimetres: every text is
/// outlined as paths (no `<text>`, no font needed to print it), deterministic bytes.
///
/// Errors: a character the font lacks (naming it as U+XXXX and the field), a tier outside 1..=3,
/// a verify URL that is not `...#<digits>` or too long for a QR code.
#[cfg(test)]
pub fn render_svg(input: &LabelInput<'_>, font: &LabelFont) -> Result<String> {
    let label = layout::layout(input, font)?;
    Ok(svg::write(&label, &title(input)))
}

/// A label as SVG ([`render_svg`]) and as PNG at `dpi` (the site uses 300): on white, 8-bit
/// greyscale, with its resolution recorded, pixel for pixel what resvg renders of the SVG;
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
    format!(
        "网络安全标识 Cybersecurity label: {tier} (tier {}), {}, {}, No. {}, {} – {}",
        input.tier,
        input.manufacturer,
        input.model,
        input.certificate_number,
        input.valid_from,
        input.valid_until
    )
}
