//! Where everything on a label goes, in millimetres (y down): text runs, stars, the QR code.
//! Text is fitted to the width (shrunk, then wrapped to two lines), never overflowing.

use std::sync::Arc;

use anyhow::{bail, Result};

use super::font::{Contour, Glyph, LabelFont};
use super::LabelInput;

/// Label width, mm.
pub const WIDTH: f64 = 20.0;
/// Label height, mm.
pub const HEIGHT: f64 = 32.0;
/// Border stroke width, mm (drawn fully inside the label).
pub const BORDER: f64 = 0.2;
/// Outer corner radius, mm.
pub const RADIUS: f64 = 1.0;
/// Left and right margin of text, mm.
pub const MARGIN: f64 = 0.9;
/// Bottom of the black heading band, mm.
pub const BAND: f64 = 3.9;
/// Resolution the QR code is snapped for: its modules and position are whole pixels at this dpi.
pub const DESIGN_DPI: f64 = 300.0;
/// The side of the square reserved for the QR code with its quiet zone, in pixels at
/// [`DESIGN_DPI`]: 195 px = 16.51 mm, 3 px per module for a version-10 code.
const QR_AREA_PX: u32 = 195;
/// Gap between the QR area and the bottom of the label, mm.
const QR_BOTTOM: f64 = 0.3;
/// Modules of quiet zone on each side of the QR code.
pub const QUIET: u32 = crate::qrcode_image::QUIET_ZONE;

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
        let mut pen = 0i32;
        self.glyphs.iter().flat_map(move |g| {
            let origin = (f64::from(pen) / f64::from(super::font::OUTLINE_UNIT)).round() as i32;
            pen += g.advance + self.tracking;
            g.contours.iter().map(move |c| (origin, c))
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

/// The best place to cut text into two lines: the break that makes the longer line shortest,
/// preferring break opportunities (spaces, CJK, after a hyphen) over cuts inside a word.
/// Glyph index ranges `(start, end)` of the two lines.
type TwoLines = ((usize, usize), (usize, usize));

fn split_two(s: &Shaped, tracking: i32) -> Option<TwoLines> {
    let n = s.chars.len();
    let allowed = |i: usize| {
        let (p, c) = (s.chars[i - 1], s.chars[i]);
        (p.is_whitespace()
            || c.is_whitespace()
            || is_cjk(p)
            || is_cjk(c)
            || matches!(p, '-' | '/' | ',' | '，' | '、'))
            && !no_break_before(c)
            && !no_break_after(p)
    };
    let mut best: Option<(i64, TwoLines)> = None;
    for strict in [true, false] {
        for i in 1..n {
            if strict && !allowed(i) {
                continue;
            }
            let l1 = trim(&s.chars, 0, i);
            let l2 = trim(&s.chars, i, n);
            if l1.0 == l1.1 || l2.0 == l2.1 {
                continue;
            }
            let w = advance_units(&s.glyphs[l1.0..l1.1], tracking)
                .max(advance_units(&s.glyphs[l2.0..l2.1], tracking));
            if best.is_none_or(|(bw, _)| w < bw) {
                best = Some((w, (l1, l2)));
            }
        }
        if best.is_some() {
            break;
        }
    }
    best.map(|(_, lines)| lines)
}

/// Text fitted into a width: one line at `size` when it fits, one line shrunk down to `min`, or
/// else two balanced lines at most `two_line` tall, shrunk to the width.
struct Fitted {
    size: f64,
    lines: Vec<Vec<Arc<Glyph>>>,
}

fn fit(
    font: &LabelFont,
    s: &Shaped,
    max_width: f64,
    size: f64,
    min: f64,
    two_line: Option<f64>,
) -> Fitted {
    let upem = f64::from(font.units_per_em());
    let one = advance_units(&s.glyphs, 0) as f64 / upem;
    let fits_at = |em_width: f64, preferred: f64| {
        if em_width <= 0.0 {
            preferred
        } else {
            preferred.min(max_width / em_width)
        }
    };
    let single = fits_at(one, size);
    if single >= min || two_line.is_none() || s.chars.len() < 2 {
        return Fitted {
            size: single,
            lines: vec![s.glyphs.clone()],
        };
    }
    match (split_two(s, 0), two_line) {
        (Some((a, b)), Some(two)) => {
            let w = advance_units(&s.glyphs[a.0..a.1], 0).max(advance_units(&s.glyphs[b.0..b.1], 0))
                as f64
                / upem;
            Fitted {
                size: fits_at(w, two),
                lines: vec![s.glyphs[a.0..a.1].to_vec(), s.glyphs[b.0..b.1].to_vec()],
            }
        }
        _ => Fitted {
            size: single,
            lines: vec![s.glyphs.clone()],
        },
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

    fn text(&self, field: &str, text: &str, size: f64, tracking_em: f64, ink: Ink) -> Result<Run> {
        let s = shape(self.font, field, text)?;
        Ok(self.run(s.glyphs, size, tracking_em, ink))
    }
}

/// The texts of the middle of the label, fitted at a scale; heights in mm.
struct Body {
    maker: Fitted,
    maker_en: Option<Run>,
    captions: [Run; 3],
    value_x: f64,
    model: Fitted,
    validity: Run,
    number: Run,
}

const MAKER_LINE: f64 = 1.18;
const ROW_LINE: f64 = 1.3;
const EN_LINE: f64 = 1.35;
const GAP: f64 = 0.45;

impl Body {
    fn height(&self) -> f64 {
        let maker = self.maker.size * MAKER_LINE * self.maker.lines.len() as f64;
        let en = self.maker_en.as_ref().map_or(0.0, |r| r.size * EN_LINE);
        let model = self.model.size * ROW_LINE * self.model.lines.len() as f64;
        let rows = (self.validity.size + self.number.size) * ROW_LINE;
        maker + en + GAP + model + rows
    }
}

struct BodyText<'a> {
    maker: Shaped,
    maker_en: Option<Shaped>,
    model: Shaped,
    validity: String,
    number: &'a str,
}

fn body(pen: &Pen<'_>, t: &BodyText<'_>, scale: f64, with_en: bool) -> Result<Body> {
    let width = WIDTH - 2.0 * MARGIN;
    let upem = pen.upem;
    let maker = fit(
        pen.font,
        &t.maker,
        width,
        1.45 * scale,
        1.1 * scale,
        Some(1.2 * scale),
    );
    let maker_en = match (&t.maker_en, with_en) {
        (Some(en), true) => {
            let f = fit(pen.font, en, width, 0.66 * scale, 0.66 * scale, None);
            (f.size >= 0.5 * scale).then(|| pen.run(en.glyphs.clone(), f.size, 0.0, Ink::Black))
        }
        _ => None,
    };
    let caption_size = 0.6 * scale;
    let captions = [
        pen.text("caption", "型号 Model", caption_size, 0.0, Ink::Black)?,
        pen.text("caption", "有效期 Valid", caption_size, 0.0, Ink::Black)?,
        pen.text("caption", "证书编号 No.", caption_size, 0.0, Ink::Black)?,
    ];
    let caption_w = captions.iter().map(Run::width).fold(0.0, f64::max);
    let value_x = MARGIN + caption_w + 0.45 * scale;
    let value_w = WIDTH - MARGIN - value_x;
    let value_size = 0.9 * scale;
    let model = fit(
        pen.font,
        &t.model,
        value_w,
        value_size,
        0.7 * scale,
        Some(0.8 * scale),
    );
    let fitted_run = |field: &str, text: &str| -> Result<Run> {
        let s = shape(pen.font, field, text)?;
        let em = advance_units(&s.glyphs, 0) as f64 / upem;
        let size = if em > 0.0 {
            value_size.min(value_w / em)
        } else {
            value_size
        };
        Ok(pen.run(s.glyphs, size, 0.0, Ink::Black))
    };
    Ok(Body {
        maker,
        maker_en,
        captions,
        value_x,
        model,
        validity: fitted_run("valid_from/valid_until", &t.validity)?,
        number: fitted_run("certificate_number", t.number)?,
    })
}

/// Lays out a label. Errors name the field whose character the font lacks, or a bad tier or URL.
pub fn layout(input: &LabelInput<'_>, font: &LabelFont) -> Result<Label> {
    if !(1..=3).contains(&input.tier) {
        bail!("field tier: {} is not a tier (1, 2 or 3 stars)", input.tier);
    }
    let qr = qr(input.verify_url)?;
    let mut pen = Pen::new(font);

    // Heading band.
    let heading = pen.text("heading", "网络安全标识", 1.9, 0.12, Ink::White)?;
    pen.place(heading, WIDTH / 2.0, 2.16, Align::Center);
    let sub = pen.text("heading", "CYBERSECURITY LABEL", 0.62, 0.16, Ink::White)?;
    pen.place(sub, WIDTH / 2.0, 3.22, Align::Center);

    // Stars and tier.
    let star_r = 1.02;
    let star_step = 2.24;
    let star_cy = BAND + 1.55;
    let tier_cn = ["一星级", "二星级", "三星级"][usize::from(input.tier - 1)];
    let tier_run = pen.text("tier", tier_cn, 1.3, 0.0, Ink::Black)?;
    let tier_en = pen.text(
        "tier",
        &format!("Tier {}", input.tier),
        0.75,
        0.0,
        Ink::Black,
    )?;
    let stars_w = 2.0 * star_r + 2.0 * star_step;
    let gap = 0.75;
    let group = stars_w + gap + tier_run.width() + 0.35 + tier_en.width();
    let x0 = (WIDTH - group) / 2.0;
    let stars = (0..3u8)
        .map(|i| Star {
            cx: x0 + star_r + f64::from(i) * star_step,
            cy: star_cy + 0.06,
            r: star_r,
            filled: i < input.tier,
        })
        .collect();
    // Ideographs sit about 0.38 em above the baseline at their centre.
    let baseline = star_cy + 0.38 * 1.3;
    let w = pen.place(tier_run, x0 + stars_w + gap, baseline, Align::Left);
    pen.place(
        tier_en,
        x0 + stars_w + gap + w + 0.35,
        baseline,
        Align::Left,
    );
    let card = std::mem::take(&mut pen.runs);

    // Body: manufacturer, model, validity, certificate number, fitted between the stars and the
    // QR code: the English name goes first, then everything shrinks.
    let top = BAND + 3.35;
    let bottom = qr.y;
    let avail = bottom - top;
    let (y0, m0, d0) = input.valid_from.ymd();
    let (y1, m1, d1) = input.valid_until.ymd();
    let text = BodyText {
        maker: shape(font, "manufacturer", input.manufacturer)?,
        maker_en: input
            .manufacturer_en
            .map(|en| shape(font, "manufacturer_en", en))
            .transpose()?,
        model: shape(font, "model", input.model)?,
        validity: format!("{y0:04}-{m0:02}-{d0:02} – {y1:04}-{m1:02}-{d1:02}"),
        number: input.certificate_number,
    };
    let mut chosen = None;
    'search: for step in 0..30u8 {
        let scale = 1.0 - 0.025 * f64::from(step);
        for with_en in [true, false] {
            let b = body(&pen, &text, scale, with_en)?;
            if b.height() <= avail {
                chosen = Some(b);
                break 'search;
            }
        }
    }
    let Some(b) = chosen else {
        bail!("the label text does not fit the label");
    };
    let mut y = top + (avail - b.height()) / 2.0;
    let asc = pen.asc;
    // Baseline of a line of `size` in a line box of `line` ems starting at `y`.
    let base = |y: f64, size: f64, line: f64| y + size * ((line - 1.0) / 2.0 + asc);
    for glyphs in &b.maker.lines {
        let run = pen.run(glyphs.clone(), b.maker.size, 0.0, Ink::Black);
        pen.place(
            run,
            WIDTH / 2.0,
            base(y, b.maker.size, MAKER_LINE),
            Align::Center,
        );
        y += b.maker.size * MAKER_LINE;
    }
    if let Some(en) = b.maker_en {
        let size = en.size;
        pen.place(en, WIDTH / 2.0, base(y, size, EN_LINE), Align::Center);
        y += size * EN_LINE;
    }
    y += GAP;
    let [c_model, c_valid, c_number] = b.captions;
    let row = |pen: &mut Pen<'_>, caption: Run, lines: Vec<Run>, y: &mut f64| {
        let mut caption = Some(caption);
        for run in lines {
            let size = run.size;
            let baseline = base(*y, size, ROW_LINE);
            if let Some(c) = caption.take() {
                pen.place(c, MARGIN, baseline, Align::Left);
            }
            pen.place(run, b.value_x, baseline, Align::Left);
            *y += size * ROW_LINE;
        }
    };
    let model_runs = b
        .model
        .lines
        .iter()
        .map(|g| pen.run(g.clone(), b.model.size, 0.0, Ink::Black))
        .collect();
    row(&mut pen, c_model, model_runs, &mut y);
    row(&mut pen, c_valid, vec![b.validity], &mut y);
    row(&mut pen, c_number, vec![b.number], &mut y);

    // The guarantee, whatever the font's metrics: all ink on the card, clear of the border, the
    // heading band's edge and the QR code's quiet zone.
    for run in card.iter().chain(&pen.runs) {
        if let Some((x0, y0, x1, y1)) = run.ink_box() {
            let (top, bottom) = match run.ink {
                Ink::White => (BORDER, BAND),
                Ink::Black => (BAND, qr.y),
            };
            if x0 < BORDER || x1 > WIDTH - BORDER || y0 < top || y1 > bottom {
                bail!("the label font's glyphs do not fit the label layout");
            }
        }
    }
    Ok(Label {
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

/// The QR code placed in its area at the bottom of the label: whole pixels per module at
/// [`DESIGN_DPI`] and a whole-pixel position, centred.
fn qr(url: &str) -> Result<Qr> {
    let super::qr::Code { width, dark } = super::qr::encode(url)?;
    let side = width + 2 * QUIET;
    let per_module = QR_AREA_PX / side;
    let (module_px, side_px) = if per_module >= 2 {
        (f64::from(per_module), f64::from(per_module * side))
    } else {
        // Too dense for whole pixels (never for a real claim): fill the area.
        (
            f64::from(QR_AREA_PX) / f64::from(side),
            f64::from(QR_AREA_PX),
        )
    };
    let px = px();
    let area = f64::from(QR_AREA_PX);
    let area_left = ((WIDTH / px - area) / 2.0).round();
    let area_top = ((HEIGHT - QR_BOTTOM) / px - area).floor();
    let x = area_left + ((area - side_px) / 2.0).floor();
    let y = area_top + ((area - side_px) / 2.0).floor();
    Ok(Qr {
        x: x * px,
        y: y * px,
        module: module_px * px,
        width,
        dark,
    })
}
