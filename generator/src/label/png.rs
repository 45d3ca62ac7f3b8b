//! Rasterising a label into an 8-bit greyscale PNG that records its resolution: with resvg's
//! renderer (tiny-skia), pixel for pixel what resvg gives for the label's SVG.

use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{bail, Context, Result};
use resvg::tiny_skia::Transform;
use resvg::{tiny_skia, usvg};

use super::font::Segment;
use super::layout::{Ink, Label, Qr, Run, QUIET};
use super::patches;
use super::svg::{qr_matrix, root, run_matrix, trace, CARD_OPEN};

/// Renders the PNG of a laid-out label whose SVG `svg` is [`super::svg::write`] of it, at
/// `dpi` on white: pixel for pixel what resvg gives for `svg` in one pass (tests check it), in
/// a fraction of the time.
///
/// resvg draws each path of an SVG without group effects on its own, one after the other,
/// with tiny-skia. So the label is drawn in parts: the card ([`CARD_OPEN`]), the same for every
/// label of a tier, rendered by resvg once and reused; text lines seen before, copied from
/// [`patches`]; new lines filled with tiny-skia exactly as resvg fills them (the same path
/// points, the same transform, the same paint), straight from the layout instead of parsing
/// the SVG back; and the QR code, painted module by module when it sits on whole pixels.
pub fn render(label: &Label, svg: &str, dpi: f32) -> Result<Vec<u8>> {
    if !(dpi.is_finite() && (1.0..=2400.0).contains(&dpi)) {
        bail!("label PNG: {dpi} dpi is not a resolution between 1 and 2400");
    }
    let (Some(card), Some(base)) = (card_of(svg), base_transform(label, dpi)) else {
        return encode(&full(svg, dpi)?, dpi);
    };
    let card = cached_card(&card, dpi)?;
    // The canvas is reused from label to label on a thread: a fresh 357 KB image per label
    // costs more in page faults than the copy of the card into it.
    let mut pixmap = CANVAS
        .with(|c| c.take())
        .filter(|p| p.width() == card.width() && p.height() == card.height())
        .map(|mut p| {
            p.data_mut().copy_from_slice(card.data());
            p
        })
        .unwrap_or_else(|| (*card).clone());
    let mut patches = Vec::new();
    let mut key = Vec::new();
    for run in &label.runs {
        let Some(ts) = run_transform(run, base) else {
            continue;
        };
        run_key(run, dpi, &mut key);
        let patch = patches::get(&key, || {
            let path = run_path(run)?;
            alone(&path, &solid(run.ink), ts, pixmap.width(), pixmap.height())
        });
        match patch {
            Some(p) => patches.push(p),
            None => fill_run(run, ts, &mut pixmap),
        }
    }
    if !patches::apply(&patches, &mut pixmap) {
        pixmap.data_mut().copy_from_slice(card.data());
        for run in &label.runs {
            if let Some(ts) = run_transform(run, base) {
                fill_run(run, ts, &mut pixmap);
            }
        }
    }
    draw_qr(&label.qr, base, dpi, &mut pixmap);
    let png = encode(&pixmap, dpi);
    CANVAS.with(|c| c.set(Some(pixmap)));
    png
}

thread_local! {
    /// The canvas of the last label rendered on this thread, for the next one.
    static CANVAS: std::cell::Cell<Option<tiny_skia::Pixmap>> = const { std::cell::Cell::new(None) };
    /// A white canvas for drawing a text line alone (white again after each use).
    static SCRATCH: std::cell::Cell<Option<tiny_skia::Pixmap>> = const { std::cell::Cell::new(None) };
}

/// What resvg applies to the paths of the label body at `dpi`: the scale from CSS pixels
/// (usvg sizes are 96 per inch) after the root's viewBox transform (read from usvg itself). The
/// groups in between have no transform of their own.
pub fn base_transform(label: &Label, dpi: f32) -> Option<Transform> {
    /// A label size (the bits of width and height) and its root transform.
    type Root = ((u64, u64), Option<Transform>);
    /// The root transforms seen so far, by label size (a build has one or a few sizes).
    static ROOTS: Mutex<Vec<Root>> = Mutex::new(Vec::new());
    let size = (label.width.to_bits(), label.height.to_bits());
    let cached = {
        let roots = ROOTS.lock().unwrap_or_else(PoisonError::into_inner);
        roots.iter().find(|(k, _)| *k == size).map(|(_, t)| *t)
    };
    let root = match cached {
        Some(t) => t,
        None => {
            let svg = format!(
                "{}<path d=\"M0 0h1v1z\"/></svg>",
                root(label.width, label.height)
            );
            let t = parse(&svg)
                .ok()
                .and_then(|tree| match tree.root().children() {
                    [usvg::Node::Group(g)] => Some(g.transform()),
                    _ => None,
                });
            let mut roots = ROOTS.lock().unwrap_or_else(PoisonError::into_inner);
            if roots.len() >= 64 {
                roots.remove(0);
            }
            roots.push((size, t));
            t
        }
    }?;
    let scale = dpi / 96.0;
    Some(Transform::from_scale(scale, scale).pre_concat(root))
}

/// A run's transform as resvg has it: `base` after the run's `matrix(...)` as written in the
/// SVG (the same decimals); `None` for a run without ink, which the SVG leaves out.
fn run_transform(run: &Run, base: Transform) -> Option<Transform> {
    if !run.has_ink() {
        return None;
    }
    let [scale, x, y] = run_matrix(run);
    let ts = Transform::from_row(scale as f32, 0.0, 0.0, -scale as f32, x as f32, y as f32);
    Some(base.pre_concat(ts))
}

/// How many of the label's text lines have a patch now.
#[cfg(test)]
pub fn patched_lines(label: &Label, dpi: f32) -> usize {
    let mut key = Vec::new();
    label
        .runs
        .iter()
        .filter(|run| {
            run_key(run, dpi, &mut key);
            patches::has(&key)
        })
        .count()
}

/// What makes a run's pixels: resolution, ink, glyphs, their spacing and the transform.
fn run_key(run: &Run, dpi: f32, key: &mut Vec<u64>) {
    let [scale, x, y] = run_matrix(run);
    key.clear();
    key.extend([
        u64::from(dpi.to_bits()),
        u64::from(run.ink == Ink::White),
        u64::from(run.tracking as u32),
        scale.to_bits(),
        x.to_bits(),
        y.to_bits(),
    ]);
    key.extend(run.glyphs.iter().map(|g| g.uid));
}

/// The path usvg builds from the run's path data: the same points in the same order.
fn run_path(run: &Run) -> Option<tiny_skia::Path> {
    let mut pb = tiny_skia::PathBuilder::new();
    for (origin, c) in run.placed_contours() {
        let p = |x: i32, y: i32| ((origin + x) as f32, y as f32);
        let (x, y) = p(c.start.0, c.start.1);
        pb.move_to(x, y);
        for s in &c.segments {
            match *s {
                Segment::Line(x, y) => {
                    let (x, y) = p(x, y);
                    pb.line_to(x, y);
                }
                Segment::Quad(x1, y1, x, y) => {
                    let ((x1, y1), (x, y)) = (p(x1, y1), p(x, y));
                    pb.quad_to(x1, y1, x, y);
                }
                Segment::Cubic(x1, y1, x2, y2, x, y) => {
                    let ((x1, y1), (x2, y2), (x, y)) = (p(x1, y1), p(x2, y2), p(x, y));
                    pb.cubic_to(x1, y1, x2, y2, x, y);
                }
            }
        }
        pb.close();
    }
    pb.finish()
}

/// The paint resvg gives a path filled with an opaque colour, anti-aliased.
fn solid(ink: Ink) -> tiny_skia::Paint<'static> {
    let mut paint = tiny_skia::Paint::default();
    let v = if ink == Ink::White { 255 } else { 0 };
    paint.set_color_rgba8(v, v, v, 255);
    paint.anti_alias = true;
    paint
}

/// Fills a path as resvg does (which skips paths without area).
fn fill(
    path: &tiny_skia::Path,
    paint: &tiny_skia::Paint<'_>,
    ts: Transform,
    pixmap: &mut tiny_skia::Pixmap,
) {
    if path.bounds().width() == 0.0 || path.bounds().height() == 0.0 {
        return;
    }
    pixmap.fill_path(path, paint, tiny_skia::FillRule::Winding, ts, None);
}

fn fill_run(run: &Run, ts: Transform, pixmap: &mut tiny_skia::Pixmap) {
    if let Some(path) = run_path(run) {
        fill(&path, &solid(run.ink), ts, pixmap);
    }
}

/// The pixels a path changes on a white `w` x `h` canvas, found within its bounds.
fn alone(
    path: &tiny_skia::Path,
    paint: &tiny_skia::Paint<'_>,
    ts: Transform,
    w: u32,
    h: u32,
) -> Option<patches::Patch> {
    let mut canvas = SCRATCH
        .with(|c| c.take())
        .filter(|p| p.width() == w && p.height() == h)
        .or_else(|| {
            let mut p = tiny_skia::Pixmap::new(w, h)?;
            p.fill(tiny_skia::Color::WHITE);
            Some(p)
        })?;
    fill(path, paint, ts, &mut canvas);
    // Anti-aliasing reaches at most a pixel beyond the transformed bounds: two are searched.
    let b = path.bounds();
    let xs = [b.left(), b.right()].map(|x| ts.sx * x + ts.tx);
    let ys = [b.top(), b.bottom()].map(|y| ts.sy * y + ts.ty);
    let clamp = |v: f32, max: u32| (v.max(0.0) as u32).min(max);
    let area = (
        clamp(xs[0].min(xs[1]).floor() - 2.0, w),
        clamp(ys[0].min(ys[1]).floor() - 2.0, h),
        clamp(xs[0].max(xs[1]).ceil() + 2.0, w),
        clamp(ys[0].max(ys[1]).ceil() + 2.0, h),
    );
    let patch = patches::crop(&canvas, area);
    patches::whiten(&mut canvas, area);
    SCRATCH.with(|c| c.set(Some(canvas)));
    patch
}

/// The QR code: painted module by module when it sits on whole pixels (what resvg gives for
/// the crisp-edged path, a test checks it), else filled as resvg fills it.
fn draw_qr(qr: &Qr, base: Transform, dpi: f32, pixmap: &mut tiny_skia::Pixmap) {
    let [module, x, y] = qr_matrix(qr);
    // Pixels per millimetre: the root maps user units to millimetres.
    let f = f64::from(dpi) / 25.4;
    let whole = |v: f64| {
        let r = v.round();
        ((v - r).abs() < 1e-3 && r >= 0.0 && r <= f64::from(u32::MAX)).then_some(r as u32)
    };
    let side = qr.width + 2 * QUIET;
    if let (Some(m), Some(px), Some(py)) = (whole(module * f), whole(x * f), whole(y * f)) {
        let far = |origin: u32| u64::from(origin) + u64::from(side) * u64::from(m);
        if m > 0 && far(px) <= u64::from(pixmap.width()) && far(py) <= u64::from(pixmap.height()) {
            paint_modules(qr, px + QUIET * m, py + QUIET * m, m, pixmap);
            return;
        }
    }
    let mut pb = tiny_skia::PathBuilder::new();
    let q = QUIET as i32;
    trace(&qr.dark, qr.width as usize, |outline| {
        for (i, &(cx, cy)) in outline.iter().enumerate() {
            let (cx, cy) = ((cx + q) as f32, (cy + q) as f32);
            if i == 0 {
                pb.move_to(cx, cy);
            } else {
                pb.line_to(cx, cy);
            }
        }
        pb.close();
    });
    if let Some(path) = pb.finish() {
        let mut paint = solid(Ink::Black);
        paint.anti_alias = false;
        let ts = Transform::from_row(module as f32, 0.0, 0.0, module as f32, x as f32, y as f32);
        fill(&path, &paint, base.pre_concat(ts), pixmap);
    }
}

/// Paints the dark modules of `qr` with module (0, 0) at pixel (`x`, `y`), `m` pixels a module.
fn paint_modules(qr: &Qr, x: u32, y: u32, m: u32, pixmap: &mut tiny_skia::Pixmap) {
    let width = pixmap.width() as usize;
    let Some(black) = tiny_skia::PremultipliedColorU8::from_rgba(0, 0, 0, 255) else {
        return;
    };
    let pixels = pixmap.pixels_mut();
    let (m, side) = (m as usize, qr.width as usize);
    for (my, row) in qr.dark.chunks_exact(side).enumerate() {
        // Runs of dark modules, each filled as one span per pixel row.
        let mut mx = 0;
        while mx < side {
            let Some(start) = row[mx..].iter().position(|&d| d).map(|i| mx + i) else {
                break;
            };
            let end = row[start..]
                .iter()
                .position(|&d| !d)
                .map_or(side, |i| start + i);
            let (x0, x1) = (x as usize + start * m, x as usize + end * m);
            for py in 0..m {
                let row = (y as usize + my * m + py) * width;
                pixels[row + x0..row + x1].fill(black);
            }
            mx = end;
        }
    }
}

/// The whole SVG rendered in one pass, without the card cache.
pub fn full(svg: &str, dpi: f32) -> Result<tiny_skia::Pixmap> {
    let tree = parse(svg)?;
    let (w, h) = pixel_size(&tree, dpi);
    let mut pixmap = tiny_skia::Pixmap::new(w, h)
        .with_context(|| format!("label PNG: cannot make a {w}x{h} image"))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    render_tree(&tree, dpi, &mut pixmap);
    Ok(pixmap)
}

/// Draws a parsed SVG at `dpi` (usvg sizes are CSS pixels, 96 per inch).
fn render_tree(tree: &usvg::Tree, dpi: f32, pixmap: &mut tiny_skia::Pixmap) {
    let scale = dpi / 96.0;
    resvg::render(
        tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
}

fn parse(svg: &str) -> Result<usvg::Tree> {
    usvg::Tree::from_str(svg, &usvg::Options::default())
        .context("label PNG: the SVG does not parse")
}

fn pixel_size(tree: &usvg::Tree, dpi: f32) -> (u32, u32) {
    // usvg sizes are CSS pixels (96 per inch).
    let scale = dpi / 96.0;
    let size = tree.size();
    let w = (size.width() * scale).round().max(1.0) as u32;
    let h = (size.height() * scale).round().max(1.0) as u32;
    (w, h)
}

/// The card of a label SVG: its root element and its card group; `None` for an SVG without
/// a card group of paths alone (rendered in one pass).
pub fn card_of(svg: &str) -> Option<CardSvg<'_>> {
    let start = svg.find(CARD_OPEN)?;
    let inner = start + CARD_OPEN.len();
    let end = inner + svg[inner..].find("</g>")? + "</g>".len();
    if svg[inner..end].contains("<g") {
        return None;
    }
    let root_end = svg.find('>')? + 1;
    if !svg.starts_with("<svg ") || root_end > start {
        return None;
    }
    Some(CardSvg {
        root: &svg[..root_end],
        group: &svg[start..end],
    })
}

/// The card of a label SVG: its root element and its card group.
pub struct CardSvg<'a> {
    root: &'a str,
    group: &'a str,
}

impl CardSvg<'_> {
    /// The card alone as an SVG.
    pub fn svg(&self) -> String {
        format!("{}{}</svg>", self.root, self.group)
    }
}

struct Card {
    root: String,
    group: String,
    dpi: u32,
    pixmap: Arc<tiny_skia::Pixmap>,
}

impl Card {
    fn is(&self, card: &CardSvg<'_>, dpi: u32) -> bool {
        self.dpi == dpi && self.group == card.group && self.root == card.root
    }
}

/// Cards rendered so far (one per tier and resolution in a site build), newest last.
static CARDS: Mutex<Vec<Card>> = Mutex::new(Vec::new());
const MAX_CARDS: usize = 16;

fn cached_card(card: &CardSvg<'_>, dpi: f32) -> Result<Arc<tiny_skia::Pixmap>> {
    let key = dpi.to_bits();
    {
        let cards = CARDS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = cards.iter().find(|c| c.is(card, key)) {
            return Ok(Arc::clone(&c.pixmap));
        }
    }
    let pixmap = Arc::new(full(&card.svg(), dpi)?);
    let mut cards = CARDS.lock().unwrap_or_else(PoisonError::into_inner);
    if !cards.iter().any(|c| c.is(card, key)) {
        if cards.len() >= MAX_CARDS {
            cards.remove(0);
        }
        cards.push(Card {
            root: card.root.to_string(),
            group: card.group.to_string(),
            dpi: key,
            pixmap: Arc::clone(&pixmap),
        });
    }
    Ok(pixmap)
}

/// 8-bit greyscale PNG of an opaque pixmap, with its resolution (a `pHYs` chunk, so printing
/// software knows the size). Paeth filter and fdeflate's fast mode: 55 µs and 14 KB for a label,
/// where adaptive filtering costs a fifth more time for 5% fewer bytes.
pub fn encode(pixmap: &tiny_skia::Pixmap, dpi: f32) -> Result<Vec<u8>> {
    // Opaque and grey after the white fill (every label colour is black or white), so the red
    // channel is the grey level; a test checks it.
    let grey: Vec<u8> = pixmap.data().chunks_exact(4).map(|p| p[0]).collect();
    let mut png = Vec::with_capacity(16 * 1024);
    let mut encoder = ::png::Encoder::new(&mut png, pixmap.width(), pixmap.height());
    encoder.set_color(::png::ColorType::Grayscale);
    encoder.set_depth(::png::BitDepth::Eight);
    encoder.set_deflate_compression(::png::DeflateCompression::FdeflateUltraFast);
    encoder.set_filter(::png::Filter::Paeth);
    let ppm = (f64::from(dpi) / 0.0254).round() as u32;
    encoder.set_pixel_dims(Some(::png::PixelDimensions {
        xppu: ppm,
        yppu: ppm,
        unit: ::png::Unit::Meter,
    }));
    let mut writer = encoder
        .write_header()
        .context("label PNG: encoding failed")?;
    writer
        .write_image_data(&grey)
        .context("label PNG: encoding failed")?;
    writer.finish().context("label PNG: encoding failed")?;
    Ok(png)
}
