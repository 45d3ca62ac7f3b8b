//! Where everything on a label goes, in millimetres (y down): text runs, stars, the QR code.
//!
//! Legibility first: every line of text is set at an em of at least [`min_em`] (a Latin x-height
//! of 0.9 mm, the EU minimum for small packages, Regulation 1169/2011; a hanzi at that em is
//! about 1.45 mm tall), and the QR module is whole pixels at 300 dpi and at least
//! [`MIN_MODULE`]. Text that does not fit the width wraps (CJK anywhere, Latin at spaces, then
//! after hyphens, then anywhere); the label grows taller for it, and wider for a QR code larger
//! than version 10. Nothing is shrunk below the minimum or dropped.

use std::sync::Arc;

use anyhow::{bail, Result};

use super::font::{Contour, Glyph, LabelFont};
use super::LabelInput;

/// Border stroke width, mm (drawn fully inside the label).
pub const BORDER: f64 = 0.2;
/// Outer corner radius, mm.
pub const RADIUS: f64 = 1.0;
/// Left and right margin of text, mm.
pub const MARGIN: f64 = 0.9;
/// Resolution the QR code is snapped for: its modules and position are whole pixels at this dpi.
pub const DESIGN_DPI: f64 = 300.0;
/// The smallest x-height of any text line, mm.
pub const MIN_X_HEIGHT: f64 = 0.9;
/// The smallest QR module, mm.
pub const MIN_MODULE: f64 = 0.33;
/// The QR version the default size is made for: a typical record (a Chinese manufacturer name)
/// gives a version-10 code (docs/FORMAT.md).
#[cfg(test)]
pub const DESIGN_VERSION: u32 = 10;
/// Gap between the QR area and the bottom of the label, mm: clear of the rounded corners.
const QR_BOTTOM: f64 = 0.8;
/// Modules of quiet zone on each side of the QR code.
pub const QUIET: u32 = crate::qrcode_image::QUIET_ZONE;
/// Line height of every text line, in ems.
const LINE: f64 = 1.25;
/// Preferred size of the heading (网络安全标识), mm.
const HEADING: f64 = 2.1;
/// Preferred size of the manufacturer's name, mm.
const MAKER: f64 = 1.9;
/// Space above and below the heading band's text, mm.
const BAND_PAD: f64 = 0.3;
/// Height of the row of stars, mm.
const STAR_ROW: f64 = 3.0;
/// Outer radius of a star, mm.
const STAR_R: f64 = 1.05;
/// Gap between the manufacturer and the rows below it, mm.
const GAP: f64 = 0.45;
/// Gap between the manufacturer's name and its English name, mm.
const EN_GAP: f64 = 0.2;

/// The smallest em (font size) of any line for `font`, mm: the em at which its x-height is
/// [`MIN_X_HEIGHT`], rounded up to a micrometre. 1.658 mm (4.7 pt) for the built-in font.
pub fn min_em(font: &LabelFont) -> f64 {
    let ratio = f64::from(font.x_height()) / f64::from(font.units_per_em());
    (MIN_X_HEIGHT / ratio * 1000.0).ceil() / 1000.0
}

/// Pixels per QR module at [`DESIGN_DPI`]: the fewest whole pixels of at least [`MIN_MODULE`]
/// (4 px = 0.339 mm).
pub fn module_px() -> u32 {
    (MIN_MODULE / px()).ceil() as u32
}

/// Pixels the border takes on each side at [`DESIGN_DPI`], rounded up.
fn border_px() -> u32 {
    (BORDER / px()).ceil() as u32
}

/// The narrowest label, mm (rounded up to 0.1 mm), that holds a QR code of `version` with
/// [`MIN_MODULE`] modules and its quiet zone inside the border: 22.6 mm for version 10.
#[cfg(test)]
pub fn min_width(version: u32) -> f64 {
    let side = 17 + 4 * version + 2 * QUIET;
    let px_total = side * module_px() + 2 * border_px();
    (f64::from(px_total) * px() * 10.0 - 1e-9).ceil() / 10.0
}

/// Colour of a text run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ink {
    /// Black on the white card.
    Black,
    /// White on the black heading band.
    White,
}

/// One line of text in one size, laid out with the glyph advances.
pub struct Run {
    /// Left end of the pen, mm.
    pub x: f64,
    /// Baseline, mm.
    pub baseline: f64,
    /// Font size (em), mm.
    pub size: f64,
    /// Extra advance after each glyph, font units.
    pub tracking: i32,
    /// The glyphs.
    pub glyphs: Vec<Arc<Glyph>>,
    /// Colour.
    pub ink: Ink,
    units_per_em: f64,
}

impl Run {
    /// Millimetres per font unit.
    pub fn scale(&self) -> f64 {
        self.size / self.units_per_em
    }

    /// Advance width, mm (no tracking after the last glyph).
    pub fn width(&self) -> f64 {
        advance_units(&self.glyphs, self.tracking) as f64 * self.scale()
    }

    /// Whether the run draws anything (a run of blanks is left out of the SVG).
    pub fn has_ink(&self) -> bool {
        self.glyphs.iter().any(|g| !g.contours.is_empty())
    }

    /// Every contour of the run with the x offset of its glyph, in outline units: the pen
    /// advances in font units and each glyph's contours are placed at it, rounded.
    pub fn placed_contours(&self) -> impl Iterator<Item = (i32, &Contour)> {
        self.placed_glyphs()
            .flat_map(|(origin, g)| g.contours.iter().map(move |c| (origin, c)))
    }

    /// Every glyph of the run that draws something, with its x offset in outline units (see
    /// [`Run::placed_contours`]).
    pub fn placed_glyphs(&self) -> impl Iterator<Item = (i32, &Glyph)> {
        let mut pen = 0i32;
        self.glyphs.iter().filter_map(move |g| {
            let origin = (f64::from(pen) / f64::from(super::font::OUTLINE_UNIT)).round() as i32;
            pen += g.advance + self.tracking;
            (!g.contours.is_empty()).then_some((origin, &**g))
        })
    }

    /// Ink box `(x0, y0, x1, y1)` in mm, y down; `None` when nothing is drawn.
    pub fn ink_box(&self) -> Option<(f64, f64, f64, f64)> {
        let k = self.scale();
        let mut pen = 0i64;
        let mut out: Option<(f64, f64, f64, f64)> = None;
        for g in &self.glyphs {
            if let Some((x0, y0, x1, y1)) = g.bbox {
                let b = (
                    self.x + (pen + i64::from(x0)) as f64 * k,
                    self.baseline - f64::from(y1) * k,
                    self.x + (pen + i64::from(x1)) as f64 * k,
                    self.baseline - f64::from(y0) * k,
                );
                out = Some(match out {
                    None => b,
                    Some(o) => (o.0.min(b.0), o.1.min(b.1), o.2.max(b.2), o.3.max(b.3)),
                });
            }
            pen += i64::from(g.advance) + i64::from(self.tracking);
        }
        out
    }
}

/// A five-pointed star.
pub struct Star {
    /// Centre, mm.
    pub cx: f64,
    /// Centre, mm.
    pub cy: f64,
    /// Outer radius, mm.
    pub r: f64,
    /// Filled (earned tier) or outlined.
    pub filled: bool,
}

/// The QR code and its quiet zone.
pub struct Qr {
    /// Top-left corner of the quiet zone, mm.
    pub x: f64,
    /// Top-left corner of the quiet zone, mm.
    pub y: f64,
    /// Module size, mm.
    pub module: f64,
    /// Modules per side, without the quiet zone.
    pub width: u32,
    /// Dark modules, row by row.
    pub dark: Vec<bool>,
}

/// A laid-out label.
pub struct Label {
    /// Width, mm.
    pub width: f64,
    /// Height, mm.
    pub height: f64,
    /// Bottom of the black heading band, mm.
    pub band: f64,
    /// The text runs that depend on the tier only: heading and tier name.
    pub card: Vec<Run>,
    /// The text runs of this certification.
    pub runs: Vec<Run>,
    /// The three stars.
    pub stars: Vec<Star>,
    /// The QR code.
    pub qr: Qr,
}

fn advance_units(glyphs: &[Arc<Glyph>], tracking: i32) -> i64 {
    let sum: i64 = glyphs.iter().map(|g| i64::from(g.advance)).sum();
    let gaps = glyphs.len().saturating_sub(1) as i64;
    sum + gaps * i64::from(tracking)
}

/// Text shaped into glyphs, one per character, with the characters kept for line breaking.
struct Shaped {
    chars: Vec<char>,
    glyphs: Vec<Arc<Glyph>>,
}

fn shape(font: &LabelFont, field: &str, text: &str) -> Result<Shaped> {
    let mut chars = Vec::new();
    let mut glyphs = Vec::new();
    for c in text.chars() {
        match font.glyph(c) {
            Some(g) => {
                chars.push(c);
                glyphs.push(g);
            }
            None => bail!(
                "field {field}: the label font has no glyph for {c:?} (U+{:04X}); a label cannot \
                 print it",
                u32::from(c)
            ),
        }
    }
    Ok(Shaped { chars, glyphs })
}

fn is_cjk(c: char) -> bool {
    c >= '\u{2E80}'
}

fn no_break_before(c: char) -> bool {
    matches!(
        c,
        ')' | ']'
            | '}'
            | ','
            | '.'
            | ';'
            | ':'
            | '!'
            | '?'
            | '）'
            | '，'
            | '。'
            | '、'
            | '；'
            | '：'
            | '！'
            | '？'
            | '》'
            | '】'
            | '」'
            | '』'
    )
}

fn no_break_after(c: char) -> bool {
    matches!(c, '(' | '[' | '{' | '（' | '《' | '【' | '「' | '『')
}

/// Index ranges of the glyphs of a line, without spaces at its ends.
fn trim(chars: &[char], mut a: usize, mut b: usize) -> (usize, usize) {
    while a < b && chars[a].is_whitespace() {
        a += 1;
    }
    while b > a && chars[b - 1].is_whitespace() {
        b -= 1;
    }
    (a, b)
}

/// How good a place between `chars[i - 1]` and `chars[i]` is to break a line: 2 at a space or
/// next to a CJK character, 1 after a hyphen, slash or comma, 0 inside a word (a last resort);
/// `None` where a break is never allowed (before closing or after opening punctuation).
fn break_class(chars: &[char], i: usize) -> Option<u8> {
    let (p, c) = (chars[i - 1], chars[i]);
    if no_break_before(c) || no_break_after(p) {
        return None;
    }
    if p.is_whitespace() || c.is_whitespace() || is_cjk(p) || is_cjk(c) {
        Some(2)
    } else if matches!(p, '-' | '/' | ',' | '，' | '、') {
        Some(1)
    } else {
        Some(0)
    }
}

/// Cuts text into lines no wider than `max` font units: each line as long as fits, ending at
/// the best kind of break that fits ([`break_class`]); a line always takes at least one
/// character. Glyph index ranges, without spaces at their ends; no text is lost.
fn wrap(s: &Shaped, max: i64) -> Vec<(usize, usize)> {
    let n = s.chars.len();
    // prefix[i]: the advance of the first i glyphs.
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0i64);
    for g in &s.glyphs {
        prefix.push(prefix[prefix.len() - 1] + i64::from(g.advance));
    }
    let mut lines = Vec::new();
    let mut start = trim(&s.chars, 0, n).0;
    while start < n {
        let mut best: [Option<usize>; 3] = [None; 3];
        let mut end = None;
        for j in start + 1..=n {
            let (a, b) = trim(&s.chars, start, j);
            if b > a && prefix[b] - prefix[a] > max {
                break;
            }
            if j == n {
                end = Some(n);
                break;
            }
            if let Some(class) = break_class(&s.chars, j) {
                best[usize::from(class)] = Some(j);
            }
        }
        let cut = end
            .or(best[2])
            .or(best[1])
            .or(best[0])
            .unwrap_or((start + 1).min(n));
        let (a, b) = trim(&s.chars, start, cut);
        if b > a {
            lines.push((a, b));
        }
        start = trim(&s.chars, cut, n).0.max(cut);
    }
    lines
}

/// Text fitted into a width: one line as large as fits between `min` and `preferred`, or else
/// wrapped at `min`.
struct Fitted {
    size: f64,
    lines: Vec<Vec<Arc<Glyph>>>,
}

impl Fitted {
    fn height(&self) -> f64 {
        self.size * LINE * self.lines.len() as f64
    }
}

fn fit(upem: f64, s: &Shaped, max_width: f64, preferred: f64, min: f64) -> Fitted {
    let em_width = advance_units(&s.glyphs, 0) as f64 / upem;
    let single = if em_width > 0.0 {
        preferred.min(max_width / em_width)
    } else {
        preferred
    };
    if single >= min {
        return Fitted {
            size: single,
            lines: vec![s.glyphs.clone()],
        };
    }
    // Balanced: the narrowest width that needs no more lines than the full width does.
    let max = (max_width / min * upem).floor() as i64;
    let count = wrap(s, max).len();
    let (mut lo, mut hi) = (0i64, max);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if wrap(s, mid).len() <= count {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Fitted {
        size: min,
        lines: wrap(s, hi)
            .into_iter()
            .map(|(a, b)| s.glyphs[a..b].to_vec())
            .collect(),
    }
}

/// Places text runs; knows the font's units and ascender.
struct Pen<'f> {
    font: &'f LabelFont,
    upem: f64,
    /// Ascender as a fraction of the em.
    asc: f64,
    runs: Vec<Run>,
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Center,
}

impl<'f> Pen<'f> {
    fn new(font: &'f LabelFont) -> Pen<'f> {
        let upem = f64::from(font.units_per_em());
        Pen {
            font,
            upem,
            asc: f64::from(font.ascender()) / upem,
            runs: Vec::new(),
        }
    }

    fn run(&self, glyphs: Vec<Arc<Glyph>>, size: f64, tracking_em: f64, ink: Ink) -> Run {
        Run {
            x: 0.0,
            baseline: 0.0,
            size,
            tracking: (tracking_em * self.upem).round() as i32,
            glyphs,
            ink,
            units_per_em: self.upem,
        }
    }

    fn place(&mut self, mut run: Run, x: f64, baseline: f64, align: Align) -> f64 {
        let w = run.width();
        run.x = match align {
            Align::Left => x,
            Align::Center => x - w / 2.0,
        };
        run.baseline = baseline;
        self.runs.push(run);
        w
    }

    fn text(&self, field: &str, text: &str, size: f64, ink: Ink) -> Result<Run> {
        let s = shape(self.font, field, text)?;
        Ok(self.run(s.glyphs, size, 0.0, ink))
    }

    /// Baseline of a line of `size` in a line box starting at `y`.
    fn baseline(&self, y: f64, size: f64) -> f64 {
        y + size * ((LINE - 1.0) / 2.0 + self.asc)
    }

    /// Places fitted lines from `y` down, each centred on `cx` or starting at `x`; returns the
    /// `y` below them.
    fn lines(&mut self, f: &Fitted, x: f64, mut y: f64, align: Align, ink: Ink) -> f64 {
        for glyphs in &f.lines {
            let run = self.run(glyphs.clone(), f.size, 0.0, ink);
            let b = self.baseline(y, f.size);
            self.place(run, x, b, align);
            y += f.size * LINE;
        }
        y
    }
}

/// One caption-and-value row: the caption in the left column, the value wrapped in the right.
struct Row {
    caption: Run,
    value: Fitted,
}

/// Lays out a label. Errors name the field whose character the font lacks, or a bad tier or URL.
pub fn layout(input: &LabelInput<'_>, font: &LabelFont) -> Result<Label> {
    if !(1..=3).contains(&input.tier) {
        bail!("field tier: {} is not a tier (1, 2 or 3 stars)", input.tier);
    }
    let code = super::qr::encode(input.verify_url)?;
    let side = code.width + 2 * QUIET;
    let module_px = module_px();
    let e = min_em(font);
    let size = input.size;
    // Wider than configured only for a QR code larger than the size was made for.
    let qr_width = f64::from(side * module_px + 2 * border_px()) * px();
    let width = size.width_mm.max((qr_width * 10.0 - 1e-9).ceil() / 10.0);
    let text_w = width - 2.0 * MARGIN;
    let mut pen = Pen::new(font);
    let upem = pen.upem;

    // Heading band: white on black; a revoked certification's label says VOID instead.
    let (head, sub) = if input.void {
        ("作废 VOID", "REVOKED 已撤销")
    } else {
        ("网络安全标识", "CYBERSECURITY LABEL")
    };
    let head = fit(upem, &shape(font, "heading", head)?, text_w, HEADING, e);
    let sub = fit(upem, &shape(font, "heading", sub)?, text_w, e, e);
    let mut y = pen.lines(
        &head,
        width / 2.0,
        BORDER + BAND_PAD,
        Align::Center,
        Ink::White,
    );
    y = pen.lines(&sub, width / 2.0, y, Align::Center, Ink::White);
    let band = y + BAND_PAD;

    // Stars and tier.
    let star_step = 2.0 * STAR_R + 0.2;
    let star_cy = band + STAR_ROW / 2.0;
    let tier_cn = ["一星级", "二星级", "三星级"][usize::from(input.tier - 1)];
    let tier_run = pen.text("tier", tier_cn, e.max(1.75), Ink::Black)?;
    let tier_en = pen.text("tier", &format!("Tier {}", input.tier), e, Ink::Black)?;
    let stars_w = 2.0 * STAR_R + 2.0 * star_step;
    let (gap, gap_en) = (0.6, 0.35);
    let group = stars_w + gap + tier_run.width() + gap_en + tier_en.width();
    let x0 = (width - group) / 2.0;
    let stars = (0..3u8)
        .map(|i| Star {
            cx: x0 + STAR_R + f64::from(i) * star_step,
            cy: star_cy + 0.06,
            r: STAR_R,
            filled: i < input.tier,
        })
        .collect();
    // Ideographs sit about 0.38 em above the baseline at their centre.
    let baseline = star_cy + 0.38 * tier_run.size;
    let w = pen.place(tier_run, x0 + stars_w + gap, baseline, Align::Left);
    pen.place(
        tier_en,
        x0 + stars_w + gap + w + gap_en,
        baseline,
        Align::Left,
    );
    let card = std::mem::take(&mut pen.runs);
    let top = band + STAR_ROW;

    // Body: manufacturer (both names), then model, validity and number in captioned rows.
    let maker = fit(
        upem,
        &shape(font, "manufacturer", input.manufacturer)?,
        text_w,
        MAKER,
        e,
    );
    let maker_en = input
        .manufacturer_en
        .map(|en| {
            Ok::<_, anyhow::Error>(fit(
                upem,
                &shape(font, "manufacturer_en", en)?,
                text_w,
                e,
                e,
            ))
        })
        .transpose()?;
    let captions = [
        pen.text("caption", "型号 Model", e, Ink::Black)?,
        pen.text("caption", "有效期 Valid", e, Ink::Black)?,
        pen.text("caption", "证书编号 No.", e, Ink::Black)?,
    ];
    let caption_w = captions.iter().map(Run::width).fold(0.0, f64::max);
    let value_x = MARGIN + caption_w + 0.5;
    let value_w = width - MARGIN - value_x;
    let (y0, m0, d0) = input.valid_from.ymd();
    let (y1, m1, d1) = input.valid_until.ymd();
    let validity = format!("{y0:04}-{m0:02}-{d0:02} – {y1:04}-{m1:02}-{d1:02}");
    let values = [
        ("model", input.model),
        ("valid_from/valid_until", validity.as_str()),
        ("certificate_number", input.certificate_number),
    ];
    let mut rows = Vec::new();
    for (caption, (field, text)) in captions.into_iter().zip(values) {
        let value = fit(upem, &shape(font, field, text)?, value_w, e, e);
        rows.push(Row { caption, value });
    }
    let body_h = maker.height()
        + maker_en.as_ref().map_or(0.0, |f| EN_GAP + f.height())
        + GAP
        + rows.iter().map(|r| r.value.height()).sum::<f64>();

    // The QR code at the bottom; the label grows taller when the body needs it.
    let side_mm = f64::from(side * module_px) * px();
    let height = size
        .height_mm
        .max(((top + body_h + 0.3 + side_mm + QR_BOTTOM + 2.0 * px()) * 10.0).ceil() / 10.0);
    let qr = qr(code, width, height, module_px);
    let avail = qr.y - top;
    let mut y = top + (avail - body_h) / 2.0;
    y = pen.lines(&maker, width / 2.0, y, Align::Center, Ink::Black);
    if let Some(en) = &maker_en {
        y = pen.lines(en, width / 2.0, y + EN_GAP, Align::Center, Ink::Black);
    }
    y += GAP;
    for row in rows {
        let b = pen.baseline(y, row.caption.size);
        pen.place(row.caption, MARGIN, b, Align::Left);
        y = pen.lines(&row.value, value_x, y, Align::Left, Ink::Black);
    }

    // The guarantee, whatever the font's metrics: all ink on the card, clear of the border, the
    // heading band's edge and the QR code's quiet zone.
    for run in card.iter().chain(&pen.runs) {
        if let Some((x0, y0, x1, y1)) = run.ink_box() {
            let (top, bottom) = match run.ink {
                Ink::White => (BORDER, band),
                Ink::Black => (band, qr.y),
            };
            if x0 < BORDER || x1 > width - BORDER || y0 < top || y1 > bottom {
                bail!("the label font's glyphs do not fit the label layout");
            }
        }
    }
    Ok(Label {
        width,
        height,
        band,
        card,
        runs: pen.runs,
        stars,
        qr,
    })
}

/// Millimetres per pixel at [`DESIGN_DPI`].
pub fn px() -> f64 {
    25.4 / DESIGN_DPI
}

/// The QR code centred at the bottom of a `width` x `height` label: `module_px` pixels per
/// module at [`DESIGN_DPI`] and a whole-pixel position.
fn qr(code: super::qr::Code, width: f64, height: f64, module_px: u32) -> Qr {
    let super::qr::Code {
        width: modules,
        dark,
    } = code;
    let side_px = f64::from((modules + 2 * QUIET) * module_px);
    let px = px();
    let x = ((width / px - side_px) / 2.0).floor();
    let y = ((height - QR_BOTTOM) / px - side_px).floor();
    Qr {
        x: x * px,
        y: y * px,
        module: f64::from(module_px) * px,
        width: modules,
        dark,
    }
}
