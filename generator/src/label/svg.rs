//! A laid-out label written as a self-contained SVG: outlines only, no `<text>`, no fonts, no
//! external references; compact path data; the same label always gives the same bytes.

use std::fmt::Write as _;

use super::font::{push_int, OUTLINE_UNIT};
use super::layout::{Ink, Label, Run, Star, BORDER, QUIET, RADIUS};

/// Opens the group of everything on a label that depends on the tier only.
pub const CARD_OPEN: &str = "<g id=\"card\">";

/// Appends `v` rounded to `decimals` places, without trailing zeros or a leading `0.`.
pub fn num(out: &mut String, v: f64, decimals: u32) {
    let factor = 10i64.pow(decimals) as f64;
    let scaled = (v * factor).round() as i64;
    if scaled < 0 {
        out.push('-');
    }
    let abs = scaled.unsigned_abs();
    let unit = 10u64.pow(decimals);
    let (int, frac) = (abs / unit, abs % unit);
    if int != 0 || frac == 0 {
        let _ = write!(out, "{int}");
    }
    if frac != 0 {
        let digits = format!("{frac:0width$}", width = decimals as usize);
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// `v` rounded to `decimals` places: the number [`num`] writes, as a parser reads it back
/// (both are the correctly rounded value of the same decimal fraction).
fn decimal(v: f64, decimals: u32) -> f64 {
    let factor = 10i64.pow(decimals) as f64;
    (v * factor).round() / factor
}

/// Decimals of a run's scale and of its position in its transform.
const SCALE_DECIMALS: u32 = 7;
const POSITION_DECIMALS: u32 = 3;

/// A run's `matrix(s 0 0 -s x y)` as written: `[s, x, y]`, millimetres per outline unit and
/// the pen's start on the baseline.
pub fn run_matrix(run: &Run) -> [f64; 3] {
    [
        decimal(run.scale() * f64::from(OUTLINE_UNIT), SCALE_DECIMALS),
        decimal(run.x, POSITION_DECIMALS),
        decimal(run.baseline, POSITION_DECIMALS),
    ]
}

/// The QR path's `matrix(m 0 0 m x y)` as written: `[m, x, y]`, millimetres per module and the
/// quiet zone's corner.
pub fn qr_matrix(qr: &super::layout::Qr) -> [f64; 3] {
    [decimal(qr.module, 6), decimal(qr.x, 4), decimal(qr.y, 4)]
}

fn n(v: f64) -> String {
    let mut s = String::new();
    num(&mut s, v, 3);
    s
}

/// Escapes text for an XML text node or attribute.
fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
}

/// The root element of a `width` x `height` mm label SVG: millimetres as user units.
pub fn root(width: f64, height: f64) -> String {
    let (w, h) = (n(width), n(height));
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
         width=\"{w}mm\" height=\"{h}mm\" viewBox=\"0 0 {w} {h}\">"
    )
}

/// Opens the group of the label's own texts (manufacturer, model, validity, number).
const BODY_OPEN: &str = "<g fill=\"#000\">";

/// Opens the QR code's path, followed by its transform's numbers.
const QR_OPEN: &str = "<path shape-rendering=\"crispEdges\" fill=\"#000\" transform=\"matrix(";

/// Writes the SVG of a label; `title` becomes its `<title>` (for screen readers).
pub fn write(label: &Label, title: &str) -> String {
    let mut out = String::with_capacity(40 * 1024);
    let (w, h) = (n(label.width), n(label.height));
    out.push_str(&root(label.width, label.height));
    out.push_str("\n<title>");
    escape(&mut out, title);
    out.push_str("</title>\n");
    // The card: everything that depends on the tier only, drawn first (the PNG renderer reuses
    // its pixels from label to label). No nested groups inside it.
    out.push_str(CARD_OPEN);
    out.push('\n');
    let _ = writeln!(
        out,
        "<rect width=\"{w}\" height=\"{h}\" rx=\"{}\" fill=\"#fff\"/>",
        n(RADIUS)
    );
    // The heading band follows the inside of the rounded border.
    let (i, r) = (BORDER / 2.0, RADIUS - BORDER / 2.0);
    let _ = writeln!(
        out,
        "<path d=\"M{i} {band}V{r1}A{r} {r} 0 0 1 {r1} {i}H{r2}A{r} {r} 0 0 1 {wi} {r1}V{band}Z\"/>",
        i = n(i),
        r = n(r),
        r1 = n(RADIUS),
        r2 = n(label.width - RADIUS),
        wi = n(label.width - i),
        band = n(label.band),
    );
    let _ = writeln!(
        out,
        "<rect x=\"{i}\" y=\"{i}\" width=\"{bw}\" height=\"{bh}\" rx=\"{r}\" fill=\"none\" \
         stroke=\"#000\" stroke-width=\"{s}\"/>",
        i = n(i),
        bw = n(label.width - BORDER),
        bh = n(label.height - BORDER),
        r = n(r),
        s = n(BORDER),
    );
    for run in &label.card {
        write_run(&mut out, run);
    }
    write_stars(&mut out, &label.stars);
    out.push_str("</g>\n");
    out.push_str(BODY_OPEN);
    out.push('\n');
    let shared = Shared::of(label);
    write_defs(&mut out, &shared, label);
    for run in &label.runs {
        write_glyphs(&mut out, run, &shared);
    }
    out.push_str("</g>\n");
    write_qr(&mut out, label);
    out.push_str("</svg>\n");
    out
}

/// One run as one path in font units, placed and flipped by its transform.
fn write_run(out: &mut String, run: &Run) {
    if !open_run(out, "path", run) {
        return;
    }
    out.push_str(" d=\"");
    let mut prev = (0i32, 0i32);
    for (origin, c) in run.placed_contours() {
        write_contour(out, origin, c, &mut prev);
    }
    out.push_str("\"/>\n");
}

/// One run as a group placed and flipped by its transform, with one path (or one `<use>` of a
/// [`Shared`] glyph) for each glyph: resvg draws each glyph on its own, so the PNG renderer can
/// reuse a glyph's pixels wherever it recurs at the same place (a digit of the certificate
/// number, a date).
fn write_glyphs(out: &mut String, run: &Run, shared: &Shared) {
    if !open_run(out, "g", run) {
        return;
    }
    out.push('>');
    for (origin, glyph) in run.placed_glyphs() {
        match shared.index(glyph.uid) {
            Some(i) => {
                out.push_str("<use xlink:href=\"#");
                push_id(out, i);
                out.push('"');
                if origin != 0 {
                    out.push_str(" x=\"");
                    push_int(out, origin, true);
                    out.push('"');
                }
                out.push_str("/>");
            }
            None => write_glyph(out, origin, glyph, ""),
        }
    }
    out.push_str("</g>\n");
}

/// The glyphs a label body draws more than once: each is defined once (`<defs>`, at origin 0)
/// and placed by `<use x>` wherever it occurs, which keeps label SVGs small (the digits of
/// the number and the dates recur). resvg draws a `<use>` as its path under one more
/// translation, still glyph by glyph.
pub struct Shared {
    /// Glyph uids, in order of first occurrence; the index is the glyph's id.
    uids: Vec<u64>,
}

impl Shared {
    /// The glyphs with ink that occur more than once in the body of `label`.
    pub fn of(label: &Label) -> Shared {
        let mut seen: Vec<(u64, u32)> = Vec::new();
        for run in label.runs.iter().filter(|r| r.has_ink()) {
            for (_, glyph) in run.placed_glyphs() {
                match seen.iter_mut().find(|(uid, _)| *uid == glyph.uid) {
                    Some((_, n)) => *n += 1,
                    None => seen.push((glyph.uid, 1)),
                }
            }
        }
        Shared {
            uids: seen
                .into_iter()
                .filter(|&(_, n)| n > 1)
                .map(|(uid, _)| uid)
                .collect(),
        }
    }

    /// The id of a shared glyph; `None` for a glyph written in place.
    pub fn index(&self, uid: u64) -> Option<usize> {
        self.uids.iter().position(|&u| u == uid)
    }
}

/// The `<defs>` of the shared glyphs, each a path at origin 0 with its id.
fn write_defs(out: &mut String, shared: &Shared, label: &Label) {
    if shared.uids.is_empty() {
        return;
    }
    out.push_str("<defs>");
    let glyphs = label
        .runs
        .iter()
        .filter(|r| r.has_ink())
        .flat_map(|r| r.placed_glyphs().map(|(_, g)| g));
    let mut written = 0;
    for glyph in glyphs {
        if shared.index(glyph.uid) == Some(written) {
            let mut id = String::new();
            push_id(&mut id, written);
            write_glyph(out, 0, glyph, &id);
            written += 1;
        }
    }
    out.push_str("</defs>\n");
}

/// One glyph as a path at `origin`, with an `id` unless empty.
fn write_glyph(out: &mut String, origin: i32, glyph: &super::font::Glyph, id: &str) {
    out.push_str("<path ");
    if !id.is_empty() {
        out.push_str("id=\"");
        out.push_str(id);
        out.push_str("\" ");
    }
    out.push_str("d=\"");
    let mut prev = (0i32, 0i32);
    for c in &glyph.contours {
        write_contour(out, origin, c, &mut prev);
    }
    out.push_str("\"/>");
}

/// A short element id for index `i`: `a`..`z`, `A`..`Z`, then two letters and so on.
fn push_id(out: &mut String, i: usize) {
    const LETTERS: &[u8; 52] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if i >= LETTERS.len() {
        push_id(out, i / LETTERS.len() - 1);
    }
    out.push(char::from(LETTERS[i % LETTERS.len()]));
}

/// Opens the `element` of a run with its ink and its `transform="matrix(...)"` (path data in
/// outline units, scaled to millimetres); false, writing nothing, for a run without ink.
fn open_run(out: &mut String, element: &str, run: &Run) -> bool {
    if !run.has_ink() {
        return false;
    }
    out.push('<');
    out.push_str(element);
    if run.ink == Ink::White {
        out.push_str(" fill=\"#fff\"");
    }
    out.push_str(" transform=\"matrix(");
    let [scale, x, y] = run_matrix(run);
    num(out, scale, SCALE_DECIMALS);
    out.push_str(" 0 0 -");
    num(out, scale, SCALE_DECIMALS);
    out.push(' ');
    num(out, x, POSITION_DECIMALS);
    out.push(' ');
    num(out, y, POSITION_DECIMALS);
    out.push_str(")\"");
    true
}

/// A contour of a glyph placed at `origin`, moving relative to `prev`, the start of the
/// contour before it (the current point after its `z`), or the origin of the path.
fn write_contour(out: &mut String, origin: i32, c: &super::font::Contour, prev: &mut (i32, i32)) {
    let start = (origin + c.start.0, c.start.1);
    out.push('m');
    push_int(out, start.0 - prev.0, true);
    push_int(out, start.1 - prev.1, false);
    out.push_str(&c.body);
    *prev = start;
}

fn star_points(out: &mut String, s: &Star, r: f64) {
    let inner = r * 0.381_966;
    for k in 0..10u8 {
        let angle = (f64::from(k) * 36.0 - 90.0).to_radians();
        let radius = if k % 2 == 0 { r } else { inner };
        out.push(if k == 0 { 'M' } else { 'L' });
        num(out, s.cx + radius * angle.cos(), 3);
        out.push(' ');
        num(out, s.cy + radius * angle.sin(), 3);
    }
    out.push('Z');
}

const STAR_STROKE: f64 = 0.14;

fn write_stars(out: &mut String, stars: &[Star]) {
    let mut filled = String::new();
    let mut open = String::new();
    for s in stars {
        if s.filled {
            star_points(&mut filled, s, s.r);
        } else {
            star_points(&mut open, s, s.r - STAR_STROKE);
        }
    }
    if !filled.is_empty() {
        let _ = writeln!(out, "<path d=\"{filled}\"/>");
    }
    if !open.is_empty() {
        let _ = writeln!(
            out,
            "<path d=\"{open}\" fill=\"none\" stroke=\"#000\" stroke-width=\"{}\" \
             stroke-linejoin=\"round\"/>",
            n(STAR_STROKE)
        );
    }
}

/// The QR modules as one path in module units (the quiet zone's corner at 0,0): the outlines of
/// the dark areas, clockwise around dark and counter-clockwise around light holes, so the
/// default nonzero fill gives exactly the dark modules.
fn write_qr(out: &mut String, label: &Label) {
    let qr = &label.qr;
    let [module, x, y] = qr_matrix(qr);
    out.push_str(QR_OPEN);
    num(out, module, 6);
    out.push_str(" 0 0 ");
    num(out, module, 6);
    out.push(' ');
    num(out, x, 4);
    out.push(' ');
    num(out, y, 4);
    out.push_str(")\" d=\"");
    let q = QUIET as i32;
    let mut prev = (0i32, 0i32);
    trace(&qr.dark, qr.width as usize, |outline| {
        let Some(&(sx, sy)) = outline.first() else {
            return;
        };
        out.push('m');
        push_int(out, sx + q - prev.0, true);
        push_int(out, sy + q - prev.1, false);
        // Every side but the last, which `z` draws.
        for pair in outline.windows(2) {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            if y0 == y1 {
                out.push('h');
                push_int(out, x1 - x0, true);
            } else {
                out.push('v');
                push_int(out, y1 - y0, true);
            }
        }
        out.push('z');
        prev = (sx + q, sy + q);
    });
    out.push_str("\"/>\n");
}

const EAST: u8 = 1;
const SOUTH: u8 = 2;
const WEST: u8 = 4;
const NORTH: u8 = 8;

/// The outlines of the dark modules of a `w` x `w` grid as closed polygons of corner points
/// (y down), dark always on the right of the direction of travel; collinear corners merged.
#[cfg(test)]
pub fn outlines(dark: &[bool], w: usize) -> Vec<Vec<(i32, i32)>> {
    let mut polygons = Vec::new();
    trace(dark, w, |corners| polygons.push(corners.to_vec()));
    polygons
}

/// The direction to leave a corner by, for each heading (0 at the start of an outline) and each
/// set of outgoing boundary sides there: straight on when possible, else the first of a right
/// and a left turn; where two dark modules touch only at the corner, the right turn keeps them
/// apart.
const fn turn_table() -> [[u8; 16]; 16] {
    let mut table = [[0u8; 16]; 16];
    let mut heading = 0;
    while heading < 16 {
        let mut here = 1;
        while here < 16 {
            let lowest = here & (!here + 1);
            table[heading][here] = if heading == 0 {
                lowest as u8
            } else {
                let h = heading as u8;
                let (r, l) = (right(h), left(h));
                if here as u8 & r != 0 {
                    r
                } else if here as u8 & h != 0 {
                    h
                } else if here as u8 & l != 0 {
                    l
                } else {
                    lowest as u8
                }
            };
            here += 1;
        }
        heading += 1;
    }
    table
}

const TURN: [[u8; 16]; 16] = turn_table();

/// Calls `emit` with each outline of [`outlines`], in the same order, without allocating one.
pub fn trace(dark: &[bool], w: usize, mut emit: impl FnMut(&[(i32, i32)])) {
    if dark.len() < w * w {
        return;
    }
    let side = w + 1;
    let mut out = if w < 127 {
        boundary_bits(dark, w)
    } else {
        boundary(dark, w)
    };
    let mut corners: Vec<(i32, i32)> = Vec::with_capacity(256);
    for start in 0..out.len() {
        while out[start] != 0 {
            let (mut x, mut y) = ((start % side) as i32, (start / side) as i32);
            corners.clear();
            corners.push((x, y));
            let mut heading = 0u8;
            loop {
                let at = y as usize * side + x as usize;
                let here = out[at];
                if here == 0 {
                    break;
                }
                let dir = TURN[usize::from(heading)][usize::from(here)];
                out[at] &= !dir;
                if dir != heading && heading != 0 {
                    corners.push((x, y));
                }
                heading = dir;
                match dir {
                    EAST => x += 1,
                    SOUTH => y += 1,
                    WEST => x -= 1,
                    _ => y -= 1,
                }
            }
            // Back at the start: the last corner is the start itself unless the path turns there.
            if corners.len() > 1 && corners.last() == corners.first() {
                corners.pop();
            }
            emit(&corners);
        }
    }
}

/// Outgoing boundary edges at each grid corner (`w + 1` per side, row by row): a dark
/// module's side is a boundary where the neighbour across it is light or outside.
pub fn boundary(dark: &[bool], w: usize) -> Vec<u8> {
    let side = w + 1;
    let mut out = vec![0u8; side * side];
    for y in 0..w {
        let row = &dark[y * w..(y + 1) * w];
        let above = (y > 0).then(|| &dark[(y - 1) * w..y * w]);
        let below = (y + 1 < w).then(|| &dark[(y + 1) * w..(y + 2) * w]);
        for x in 0..w {
            if !row[x] {
                continue;
            }
            if !above.is_some_and(|r| r[x]) {
                out[y * side + x] |= EAST;
            }
            if !(x + 1 < w && row[x + 1]) {
                out[y * side + x + 1] |= SOUTH;
            }
            if !below.is_some_and(|r| r[x]) {
                out[(y + 1) * side + x + 1] |= WEST;
            }
            if !(x > 0 && row[x - 1]) {
                out[(y + 1) * side + x] |= NORTH;
            }
        }
    }
    out
}

/// [`boundary`] on bit rows (bit x = column x), for codes under 127 modules wide: whole rows
/// of sides at once, then only the boundary corners visited.
pub fn boundary_bits(dark: &[bool], w: usize) -> Vec<u8> {
    let side = w + 1;
    let rows: Vec<u128> = dark
        .chunks_exact(w)
        .map(|r| {
            r.iter()
                .rev()
                .fold(0u128, |acc, &d| acc << 1 | u128::from(d))
        })
        .collect();
    let mut out = vec![0u8; side * side];
    let mut mark = |bits: u128, corner_row: usize, dir: u8| {
        let mut b = bits;
        while b != 0 {
            let x = b.trailing_zeros() as usize;
            out[corner_row * side + x] |= dir;
            b &= b - 1;
        }
    };
    for (y, &row) in rows.iter().enumerate() {
        let above = if y > 0 { rows[y - 1] } else { 0 };
        let below = rows.get(y + 1).copied().unwrap_or(0);
        // Top sides start at the module's corner going east; right sides at the next corner
        // going south; bottom sides at the far corner going west; left sides at the corner
        // below going north.
        mark(row & !above, y, EAST);
        mark((row & !(row >> 1)) << 1, y, SOUTH);
        mark((row & !below) << 1, y + 1, WEST);
        mark(row & !(row << 1), y + 1, NORTH);
    }
    out
}

/// The direction after a right turn (y down: east, south, west, north is clockwise).
const fn right(d: u8) -> u8 {
    match d {
        EAST => SOUTH,
        SOUTH => WEST,
        WEST => NORTH,
        _ => EAST,
    }
}

const fn left(d: u8) -> u8 {
    match d {
        EAST => NORTH,
        NORTH => WEST,
        WEST => SOUTH,
        _ => EAST,
    }
}
