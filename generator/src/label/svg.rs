//! A laid-out label written as a self-contained SVG: outlines only, no `<text>`, no fonts, no
//! external references; compact path data; the same label always gives the same bytes.

use std::fmt::Write as _;

use super::font::push_int;
use super::layout::{Ink, Label, Run, Star, BAND, BORDER, HEIGHT, QUIET, RADIUS, WIDTH};

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

/// Writes the SVG of a label; `title` becomes its `<title>` (for screen readers).
pub fn write(label: &Label, title: &str) -> String {
    let mut out = String::with_capacity(24 * 1024);
    let (w, h) = (n(WIDTH), n(HEIGHT));
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}mm\" height=\"{h}mm\" \
         viewBox=\"0 0 {w} {h}\">\n<title>"
    );
    escape(&mut out, title);
    out.push_str("</title>\n");
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
        r2 = n(WIDTH - RADIUS),
        wi = n(WIDTH - i),
        band = n(BAND),
    );
    let _ = writeln!(
        out,
        "<rect x=\"{i}\" y=\"{i}\" width=\"{bw}\" height=\"{bh}\" rx=\"{r}\" fill=\"none\" \
         stroke=\"#000\" stroke-width=\"{s}\"/>",
        i = n(i),
        bw = n(WIDTH - BORDER),
        bh = n(HEIGHT - BORDER),
        r = n(r),
        s = n(BORDER),
    );
    out.push_str("<g fill=\"#fff\">\n");
    for run in label.runs.iter().filter(|r| r.ink == Ink::White) {
        write_run(&mut out, run);
    }
    out.push_str("</g>\n<g fill=\"#000\">\n");
    for run in label.runs.iter().filter(|r| r.ink == Ink::Black) {
        write_run(&mut out, run);
    }
    out.push_str("</g>\n");
    write_stars(&mut out, &label.stars);
    write_qr(&mut out, label);
    out.push_str("</svg>\n");
    out
}

/// One run as one path in font units, placed and flipped by its transform.
fn write_run(out: &mut String, run: &Run) {
    if run.glyphs.iter().all(|g| g.contours.is_empty()) {
        return;
    }
    out.push_str("<path transform=\"matrix(");
    num(out, run.scale(), 7);
    out.push_str(" 0 0 -");
    num(out, run.scale(), 7);
    out.push(' ');
    num(out, run.x, 3);
    out.push(' ');
    num(out, run.baseline, 3);
    out.push_str(")\" d=\"");
    let mut pen = 0i32;
    let mut prev = (0i32, 0i32);
    for g in &run.glyphs {
        for c in &g.contours {
            // After `z` the current point is the start of the closed contour: move relative to it.
            let start = (pen + c.start.0, c.start.1);
            out.push('m');
            push_int(out, start.0 - prev.0, true);
            push_int(out, start.1 - prev.1, false);
            out.push_str(&c.body);
            prev = start;
        }
        pen += g.advance + run.tracking;
    }
    out.push_str("\"/>\n");
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

/// The QR modules as one path in module units (the quiet zone's corner at 0,0), horizontal runs
/// of dark modules as rectangles.
fn write_qr(out: &mut String, label: &Label) {
    let qr = &label.qr;
    out.push_str("<path shape-rendering=\"crispEdges\" fill=\"#000\" transform=\"matrix(");
    num(out, qr.module, 6);
    out.push_str(" 0 0 ");
    num(out, qr.module, 6);
    out.push(' ');
    num(out, qr.x, 4);
    out.push(' ');
    num(out, qr.y, 4);
    out.push_str(")\" d=\"");
    let w = qr.width as usize;
    let mut prev = (0i32, 0i32);
    for y in 0..w {
        let row = &qr.dark[y * w..(y + 1) * w];
        let mut x = 0;
        while x < w {
            if !row[x] {
                x += 1;
                continue;
            }
            let start = x;
            while x < w && row[x] {
                x += 1;
            }
            let len = (x - start) as i32;
            let p = (start as i32 + QUIET as i32, y as i32 + QUIET as i32);
            out.push('m');
            push_int(out, p.0 - prev.0, true);
            push_int(out, p.1 - prev.1, false);
            out.push('h');
            push_int(out, len, true);
            out.push_str("v1h");
            push_int(out, -len, true);
            out.push('z');
            prev = p;
        }
    }
    out.push_str("\"/>\n");
}
