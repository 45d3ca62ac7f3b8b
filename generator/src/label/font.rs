//! The label font: one OpenType face held in memory once per build, and a thread-safe cache of
//! glyph outlines already turned into compact SVG path data.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use ttf_parser::{Face, OutlineBuilder};

/// The label font built into starmark: a subset of Noto Sans CJK SC Regular (SIL Open Font
/// License 1.1, `generator/assets/fonts/OFL.txt`) with every character of GB 2312 (the 6,763
/// hanzi and the full-width forms), Latin-1 and Latin Extended-A, general and CJK punctuation,
/// made by `scripts/subset-font`.
pub static EMBEDDED: &[u8] = include_bytes!("../../assets/fonts/StarmarkLabelSansSC.otf");

/// How [`LabelFont`] names the embedded font in messages.
pub const EMBEDDED_NAME: &str = "the built-in label font (Noto Sans CJK SC, GB 2312 subset)";

/// The font every text of a label is outlined with.
///
/// Guarantees: `Send + Sync`; the font file is read once and kept in memory; a glyph is outlined
/// at most a few times per build (once per thread that first meets it) and then shared.
pub struct LabelFont {
    data: std::borrow::Cow<'static, [u8]>,
    index: u32,
    source: PathBuf,
    units_per_em: u16,
    ascender: i16,
    x_height: i16,
    cache: RwLock<HashMap<char, Option<Arc<Glyph>>>>,
    id: OnceLock<String>,
}

impl std::fmt::Debug for LabelFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabelFont")
            .field("source", &self.source)
            .field("face", &self.index)
            .finish_non_exhaustive()
    }
}

/// One glyph: advance and ink box in font units, and the outline as SVG path data.
#[derive(Debug)]
pub struct Glyph {
    /// Unique in the process (never reused): identifies the glyph in cache keys.
    pub uid: u64,
    /// Horizontal advance, font units.
    pub advance: i32,
    /// Ink box `(x_min, y_min, x_max, y_max)`, font units with y up; `None` for blank glyphs.
    pub bbox: Option<(i32, i32, i32, i32)>,
    /// Closed contours.
    pub contours: Vec<Contour>,
}

/// One closed contour: its absolute start point and the rest of the contour as relative SVG
/// path commands ending in `z`, in outline units ([`OUTLINE_UNIT`] font units, y up).
#[derive(Debug)]
pub struct Contour {
    /// Start point.
    pub start: (i32, i32),
    /// Relative commands after the start point, ending with `z`.
    pub body: String,
    /// The same commands with absolute points (for drawing without parsing `body`); the line
    /// back to the start that `z` implies is not among them.
    pub segments: Vec<Segment>,
}

/// One command of a contour, absolute points in outline units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// A straight line to the point.
    Line(i32, i32),
    /// A quadratic curve: control point, end point.
    Quad(i32, i32, i32, i32),
    /// A cubic curve: two control points, end point.
    Cubic(i32, i32, i32, i32, i32, i32),
}

/// Source of [`Glyph::uid`].
static NEXT_UID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl LabelFont {
    /// Loads the font from `path` (TTF/OTF/TTC; for a collection, the Simplified Chinese face),
    /// or when `None` the font built into starmark ([`EMBEDDED`]): no system font is ever looked
    /// for, so a build gives the same bytes on every machine. Errors name the path.
    pub fn load(path: Option<&Path>) -> Result<LabelFont> {
        let Some(path) = path else {
            return LabelFont::embedded();
        };
        let data = std::fs::read(path)
            .with_context(|| format!("label font {}: cannot read the file", path.display()))?;
        LabelFont::from_data(data.into(), path)
            .with_context(|| format!("label font {}", path.display()))
    }

    /// The font built into starmark ([`EMBEDDED`]).
    pub fn embedded() -> Result<LabelFont> {
        LabelFont::from_data(EMBEDDED.into(), Path::new(EMBEDDED_NAME))
            .context("the built-in label font")
    }

    /// Whether this is the font built into starmark.
    pub fn is_embedded(&self) -> bool {
        matches!(self.data, std::borrow::Cow::Borrowed(_))
    }

    /// Where the font came from, for messages: its path, or a name for the built-in font.
    pub fn source(&self) -> &Path {
        &self.source
    }

    fn from_data(data: std::borrow::Cow<'static, [u8]>, source: &Path) -> Result<LabelFont> {
        let index = pick_face(&data)?;
        let face = Face::parse(&data, index).context("not a usable TTF/OTF/TTC font")?;
        let units_per_em = face.units_per_em();
        let ascender = face.typographic_ascender().unwrap_or(face.ascender());
        let has_cjk = face.glyph_index('网').is_some_and(|g| g.0 != 0);
        if !has_cjk {
            bail!("the font has no Chinese glyphs (no glyph for '网')");
        }
        let x_height = x_height(&face)
            .context("the font has no x-height (no OS/2 sxHeight and no glyph for 'x')")?;
        Ok(LabelFont {
            data,
            index,
            source: source.to_path_buf(),
            units_per_em,
            ascender,
            x_height,
            cache: RwLock::new(HashMap::new()),
            id: OnceLock::new(),
        })
    }

    /// Whether the font can draw `c`.
    pub fn has_glyph(&self, c: char) -> bool {
        {
            let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(g) = cache.get(&c) {
                return g.is_some();
            }
        }
        self.glyph(c).is_some()
    }

    /// A stable identity of the font (SHA-256 of its bytes and the face index), for cache keys:
    /// it changes when the font file does.
    pub fn id(&self) -> String {
        self.id
            .get_or_init(|| {
                let mut h = Sha256::new();
                h.update(&self.data);
                h.update(self.index.to_le_bytes());
                hex::encode(h.finalize())
            })
            .clone()
    }

    /// Font units per em.
    pub fn units_per_em(&self) -> u16 {
        self.units_per_em
    }

    /// The typographic ascender, font units.
    pub fn ascender(&self) -> i16 {
        self.ascender
    }

    /// The height of a lower-case `x`, font units: the OS/2 table's sxHeight, or else the ink
    /// height of the glyph for 'x'. Always positive.
    pub fn x_height(&self) -> i16 {
        self.x_height
    }

    /// The outline of `c`, or `None` when the font has no glyph for it.
    pub fn glyph(&self, c: char) -> Option<Arc<Glyph>> {
        {
            let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(g) = cache.get(&c) {
                return g.clone();
            }
        }
        let g = self.outline(c).map(Arc::new);
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        cache.entry(c).or_insert(g).clone()
    }

    fn outline(&self, c: char) -> Option<Glyph> {
        let face = Face::parse(&self.data, self.index).ok()?;
        let id = face.glyph_index(c).filter(|g| g.0 != 0)?;
        let advance = i32::from(face.glyph_hor_advance(id)?);
        let mut b = PathWriter::default();
        let bbox = face.outline_glyph(id, &mut b).map(|r| {
            (
                i32::from(r.x_min),
                i32::from(r.y_min),
                i32::from(r.x_max),
                i32::from(r.y_max),
            )
        });
        b.finish();
        Some(Glyph {
            uid: NEXT_UID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            advance,
            bbox,
            contours: b.contours,
        })
    }
}

/// The x-height of a face: OS/2 sxHeight when set, else the top of the glyph for 'x'.
fn x_height(face: &Face<'_>) -> Option<i16> {
    face.x_height().filter(|h| *h > 0).or_else(|| {
        let id = face.glyph_index('x')?;
        face.glyph_bounding_box(id)
            .map(|b| b.y_max)
            .filter(|h| *h > 0)
    })
}

/// The face of a collection to use: the Simplified Chinese one (family name with `SC`, `GB`,
/// `CN` or `Simplified`, or a name in Chinese (PRC)), proportional before monospaced.
fn pick_face(data: &[u8]) -> Result<u32> {
    let count = ttf_parser::fonts_in_collection(data).unwrap_or(1);
    let mut best: Option<(i32, u32)> = None;
    for index in 0..count {
        let Ok(face) = Face::parse(data, index) else {
            continue;
        };
        let mut score = 0;
        for name in face.names() {
            if name.language_id == 0x0804 {
                score = score.max(5);
            }
            if name.name_id == ttf_parser::name_id::FAMILY
                || name.name_id == ttf_parser::name_id::TYPOGRAPHIC_FAMILY
            {
                if let Some(family) = name.to_string() {
                    let sc = family
                        .split_whitespace()
                        .any(|w| matches!(w, "SC" | "GB" | "CN" | "Simplified"));
                    let mono = family.contains("Mono");
                    score = score.max(if sc { 10 } else { 0 } - i32::from(mono));
                }
            }
        }
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, index));
        }
    }
    match best {
        Some((_, index)) => Ok(index),
        None => bail!("not a TTF/OTF/TTC font"),
    }
}

/// Collects an outline as integer coordinates in outline units, in relative SVG path commands.
#[derive(Default)]
struct PathWriter {
    contours: Vec<Contour>,
    start: (i32, i32),
    at: (i32, i32),
    body: String,
    segments: Vec<Segment>,
    open: bool,
    /// Byte offset in `body` of the last command when it was a line, with the point it ends at.
    last_line: Option<(usize, (i32, i32))>,
}

impl PathWriter {
    fn finish(&mut self) {
        if self.open {
            self.close();
        }
    }

    fn command(&mut self, letter: char, points: &[(i32, i32)]) {
        let mut first = true;
        self.body.push(letter);
        for &(x, y) in points {
            for v in [x - self.at.0, y - self.at.1] {
                push_int(&mut self.body, v, first);
                first = false;
            }
        }
    }
}

/// Outline coordinates are written in steps of this many font units: 1/250 em for a 1000-unit
/// font, at most 4 µm off on the label's largest text (1.9 mm em), far below a printer's dot
/// (21 µm at 1200 dpi), for a fifth fewer bytes per label.
pub const OUTLINE_UNIT: i32 = 4;

fn round(v: f32) -> i32 {
    (v / OUTLINE_UNIT as f32).round() as i32
}

/// Appends an integer to path data, with a space before it unless it is the first number after
/// a command letter or it starts with `-`.
pub fn push_int(out: &mut String, v: i32, first: bool) {
    if !first && v >= 0 {
        out.push(' ');
    }
    out.push_str(itoa::Buffer::new().format(v));
}

impl OutlineBuilder for PathWriter {
    fn move_to(&mut self, x: f32, y: f32) {
        if self.open {
            self.close();
        }
        self.start = (round(x), round(y));
        self.at = self.start;
        self.open = true;
        self.last_line = None;
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let p = (round(x), round(y));
        if p == self.at {
            return;
        }
        let offset = self.body.len();
        let (dx, dy) = (p.0 - self.at.0, p.1 - self.at.1);
        if dy == 0 {
            self.body.push('h');
            push_int(&mut self.body, dx, true);
        } else if dx == 0 {
            self.body.push('v');
            push_int(&mut self.body, dy, true);
        } else {
            self.command('l', &[p]);
        }
        self.segments.push(Segment::Line(p.0, p.1));
        self.at = p;
        self.last_line = Some((offset, p));
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let p = (round(x), round(y));
        let c = (round(x1), round(y1));
        self.command('q', &[c, p]);
        self.segments.push(Segment::Quad(c.0, c.1, p.0, p.1));
        self.at = p;
        self.last_line = None;
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let p = (round(x), round(y));
        let (c1, c2) = ((round(x1), round(y1)), (round(x2), round(y2)));
        self.command('c', &[c1, c2, p]);
        self.segments
            .push(Segment::Cubic(c1.0, c1.1, c2.0, c2.1, p.0, p.1));
        self.at = p;
        self.last_line = None;
    }

    fn close(&mut self) {
        if !self.open {
            return;
        }
        // A closing line back to the start is implied by `z`.
        if let Some((offset, p)) = self.last_line {
            if p == self.start {
                self.body.truncate(offset);
                self.segments.pop();
            }
        }
        let mut body = std::mem::take(&mut self.body);
        let segments = std::mem::take(&mut self.segments);
        if !body.is_empty() {
            body.push('z');
            self.contours.push(Contour {
                start: self.start,
                body,
                segments,
            });
        }
        self.open = false;
        self.at = self.start;
        self.last_line = None;
    }
}
