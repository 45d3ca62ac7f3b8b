//! Rasterising a label SVG with resvg into an 8-bit greyscale PNG that records its resolution.

use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{bail, Context, Result};
use resvg::{tiny_skia, usvg};

use super::patches;
use super::svg::{root, CARD_OPEN, QR_OPEN};

/// Renders `svg` at `dpi` on white; deterministic bytes for the same SVG and dpi.
///
/// resvg draws the paths of an SVG without group effects one after the other onto the canvas,
/// each on its own, so a label is rendered in parts that give exactly the pixels of rendering
/// the whole SVG at once (tests check it): the card ([`CARD_OPEN`]), the same for every label
/// of a tier, rendered once and reused; text lines seen before, copied from [`patches`]; the
/// rest drawn by resvg; and the QR code, when it sits on whole pixels, painted module by module.
/// Any other SVG is rendered in one pass.
pub fn render(svg: &str, dpi: f32) -> Result<Vec<u8>> {
    if !(dpi.is_finite() && (1.0..=2400.0).contains(&dpi)) {
        bail!("label PNG: {dpi} dpi is not a resolution between 1 and 2400");
    }
    match split_card(svg) {
        Some((card, rest)) => {
            let card = cached_card(&card, dpi)?;
            // The canvas is reused from label to label on a thread: a fresh 357 KB image per
            // label costs more in page faults than the copy of the card into it.
            let mut pixmap = CANVAS
                .with(|c| c.take())
                .filter(|p| p.width() == card.width() && p.height() == card.height())
                .map(|mut p| {
                    p.data_mut().copy_from_slice(card.data());
                    p
                })
                .unwrap_or_else(|| (*card).clone());
            let (rest, qr) = match take_qr(&rest, dpi, pixmap.width(), pixmap.height()) {
                Some((rest, qr)) => (rest, Some(qr)),
                None => (rest, None),
            };
            let patched = match patches::split(&rest, dpi, &|alone| full(alone, dpi))? {
                Some(split) if !split.patches.is_empty() => {
                    if split.has_paths {
                        draw(&split.svg, dpi, &mut pixmap)?;
                    }
                    let applied = patches::apply(&split.patches, &mut pixmap);
                    if !applied {
                        pixmap.data_mut().copy_from_slice(card.data());
                    }
                    applied
                }
                _ => false,
            };
            if !patched {
                draw(&rest, dpi, &mut pixmap)?;
            }
            if let Some(qr) = qr {
                qr.paint(&mut pixmap);
            }
            let png = encode(&pixmap, dpi);
            CANVAS.with(|c| c.set(Some(pixmap)));
            png
        }
        None => encode(&full(svg, dpi)?, dpi),
    }
}

thread_local! {
    /// The canvas of the last label rendered on this thread, for the next one.
    static CANVAS: std::cell::Cell<Option<tiny_skia::Pixmap>> = const { std::cell::Cell::new(None) };
}

/// A label's QR code that sits on whole pixels: painted module by module, which gives the
/// pixels resvg gives for the crisp-edged path (a test checks it), without parsing and
/// scan-converting a few thousand path segments per label.
pub struct QrPixels {
    /// Top-left pixel of module (0, 0) of the path's grid (the quiet zone's corner).
    x: u32,
    y: u32,
    /// Pixels per module.
    module: u32,
    /// Grid side in modules, and the dark modules row by row.
    side: u32,
    dark: Vec<bool>,
}

impl QrPixels {
    fn paint(&self, pixmap: &mut tiny_skia::Pixmap) {
        let width = pixmap.width() as usize;
        let black = tiny_skia::PremultipliedColorU8::from_rgba(0, 0, 0, 255);
        let Some(black) = black else { return };
        let pixels = pixmap.pixels_mut();
        let m = self.module as usize;
        let side = self.side as usize;
        for (my, row) in self.dark.chunks_exact(side).enumerate() {
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
                let (x0, x1) = (self.x as usize + start * m, self.x as usize + end * m);
                for py in 0..m {
                    let row = (self.y as usize + my * m + py) * width;
                    pixels[row + x0..row + x1].fill(black);
                }
                mx = end;
            }
        }
    }
}

/// Cuts the QR path out of a label SVG (without its card) when it lies on whole pixels at `dpi`,
/// inside a `width` x `height` image, and has the shape [`super::svg`] writes: outlines of
/// horizontal and vertical sides in module units. `None` leaves the SVG to resvg.
pub fn take_qr(svg: &str, dpi: f32, width: u32, height: u32) -> Option<(String, QrPixels)> {
    if !svg.starts_with(&root()) {
        return None;
    }
    let start = svg.find(QR_OPEN)?;
    let end = start + svg[start..].find("/>")? + 2;
    let element = &svg[start + QR_OPEN.len()..end];
    let (matrix, rest) = element.split_once(')')?;
    let m: Vec<f64> = matrix
        .split(' ')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    if m.len() != 6 || m[1] != 0.0 || m[2] != 0.0 || m[0] != m[3] {
        return None;
    }
    let d = rest.strip_prefix("\" d=\"")?.strip_suffix("\"/>")?;
    // Pixels per millimetre: the root maps user units to millimetres.
    let f = f64::from(dpi) / 25.4;
    let whole = |v: f64| {
        let r = v.round();
        ((v - r).abs() < 1e-3 && r >= 0.0 && r <= f64::from(u32::MAX)).then_some(r as u32)
    };
    let (module, x, y) = (whole(m[0] * f)?, whole(m[4] * f)?, whole(m[5] * f)?);
    if module == 0 {
        return None;
    }
    let (side, dark) = fill_outlines(d)?;
    let far = |origin: u32| u64::from(origin) + u64::from(side) * u64::from(module);
    if far(x) > u64::from(width) || far(y) > u64::from(height) {
        return None;
    }
    let svg = format!("{}{}", &svg[..start], &svg[end..]);
    Some((
        svg,
        QrPixels {
            x,
            y,
            module,
            side,
            dark,
        },
    ))
}

/// The modules inside the outlines of path data made of `m`, `h`, `v` and `z` with integer
/// arguments, by the nonzero rule: the grid side and the dark modules row by row.
fn fill_outlines(d: &str) -> Option<(u32, Vec<bool>)> {
    // Vertical sides: x, top, bottom, +1 going down or -1 going up.
    let mut sides: Vec<(i64, i64, i64, i32)> = Vec::new();
    let (mut cx, mut cy, mut sx, mut sy) = (0i64, 0i64, 0i64, 0i64);
    let vertical = |x: i64, y0: i64, y1: i64, sides: &mut Vec<(i64, i64, i64, i32)>| {
        if y0 != y1 {
            sides.push((x, y0.min(y1), y0.max(y1), if y1 > y0 { 1 } else { -1 }));
        }
    };
    let bytes = d.as_bytes();
    let mut i = 0;
    // Integers only, as `svg` writes them: optional spaces, an optional `-`, digits.
    let number = |i: &mut usize| -> Option<i64> {
        while bytes.get(*i) == Some(&b' ') {
            *i += 1;
        }
        let negative = bytes.get(*i) == Some(&b'-');
        if negative {
            *i += 1;
        }
        let start = *i;
        let mut v = 0i64;
        while let Some(&b) = bytes.get(*i).filter(|b| b.is_ascii_digit()) {
            v = v.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
            *i += 1;
        }
        (*i > start && *i - start <= 12).then_some(if negative { -v } else { v })
    };
    let mut max = (0i64, 0i64);
    while i < bytes.len() {
        let c = bytes[i];
        i += 1;
        match c {
            b'm' => {
                cx += number(&mut i)?;
                cy += number(&mut i)?;
                (sx, sy) = (cx, cy);
            }
            b'h' => cx += number(&mut i)?,
            b'v' => {
                let dy = number(&mut i)?;
                vertical(cx, cy, cy + dy, &mut sides);
                cy += dy;
            }
            b'z' => {
                if cx != sx {
                    if cy != sy {
                        return None;
                    }
                } else {
                    vertical(cx, cy, sy, &mut sides);
                }
                (cx, cy) = (sx, sy);
            }
            _ => return None,
        }
        if cx < 0 || cy < 0 {
            return None;
        }
        max = (max.0.max(cx), max.1.max(cy));
    }
    let side = max.0.max(max.1);
    if side > 4096 {
        return None;
    }
    let n = side as usize;
    // Winding changes at the left edge of each module (and the grid's right edge), then summed
    // along each row.
    let stride = n + 1;
    let mut delta = vec![0i32; stride * n];
    for &(x, top, bottom, dir) in &sides {
        for row in top..bottom {
            delta[row as usize * stride + x as usize] += dir;
        }
    }
    let mut dark = vec![false; n * n];
    for row in 0..n {
        let mut winding = 0;
        for col in 0..n {
            winding += delta[row * stride + col];
            dark[row * n + col] = winding != 0;
        }
    }
    Some((side as u32, dark))
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

/// Draws `svg` over `pixmap`, which must have the SVG's size at `dpi`.
fn draw(svg: &str, dpi: f32, pixmap: &mut tiny_skia::Pixmap) -> Result<()> {
    let tree = parse(svg)?;
    if pixel_size(&tree, dpi) != (pixmap.width(), pixmap.height()) {
        bail!("label PNG: the card and the label differ in size");
    }
    render_tree(&tree, dpi, pixmap);
    Ok(())
}

/// A label SVG cut into the SVG of its card alone and the SVG of everything else; `None` for an
/// SVG without a card group (rendered in one pass).
pub fn split_card(svg: &str) -> Option<(CardSvg<'_>, String)> {
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
    let card = CardSvg {
        root: &svg[..root_end],
        group: &svg[start..end],
    };
    let rest = format!("{}{}", &svg[..start], &svg[end..]);
    Some((card, rest))
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
