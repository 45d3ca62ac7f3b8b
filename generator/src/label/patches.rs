//! Pixels of text lines that recur from label to label (a manufacturer's name on each of its
//! products, the captions, common validity dates), rendered by resvg once and then copied.
//!
//! Exact by construction: resvg draws each path of a label on its own, so a line drawn where
//! the label is white and nothing else draws gives the same pixels as the line drawn alone on a
//! white label. [`apply`] copies a patch only when its pixels are white in the label when it is
//! copied and no two patches meet; otherwise the caller renders everything with resvg.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use anyhow::Result;
use resvg::tiny_skia::{Pixmap, PremultipliedColorU8};

use super::svg::{root, BODY_OPEN};

/// The pixels a path changes when drawn alone on a white label: a rectangle of it.
pub struct Patch {
    x: u32,
    y: u32,
    w: u32,
    h: u32,
    pixels: Vec<PremultipliedColorU8>,
}

impl Patch {
    fn bytes(&self) -> usize {
        self.pixels.len() * 4 + 64
    }

    fn overlaps(&self, o: &Patch) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
}

/// Recurring paths and their patches, bounded in memory. A path gets a patch the second time it
/// is seen, so the one-off lines of a build (model, certificate number) are never stored.
struct Cache {
    seen: HashSet<u64>,
    /// By hash of element and resolution: the element, to rule out collisions, and its patch.
    patches: HashMap<u64, (String, Arc<Patch>)>,
    order: VecDeque<u64>,
    bytes: usize,
}

const MAX_SEEN: usize = 1 << 18;
const MAX_BYTES: usize = 48 << 20;

static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(|| {
    Mutex::new(Cache {
        seen: HashSet::new(),
        patches: HashMap::new(),
        order: VecDeque::new(),
        bytes: 0,
    })
});

/// A fast 64-bit hash of an element and the resolution (a few KB per label line: SipHash cost
/// more than the rest of the lookup). Collisions are harmless: a hit compares the element.
fn hash(element: &str, dpi: u32) -> u64 {
    let mut h = foldhash::fast::FixedState::with_seed(0).build_hasher();
    h.write(element.as_bytes());
    h.write_u32(dpi);
    h.finish()
}

/// What [`split`] found: the SVG without the paths that have patches, and those patches.
pub struct Split {
    /// The label SVG without the patched paths.
    pub svg: String,
    /// Whether anything remains for resvg to draw.
    pub has_paths: bool,
    /// The patches, in drawing order.
    pub patches: Vec<Arc<Patch>>,
}

/// Takes the paths of the label body (`BODY_OPEN` group) that have, or now get, a patch out of
/// `svg`. `render_alone` renders an SVG on a white label of the right size.
pub fn split(
    svg: &str,
    dpi: f32,
    render_alone: &dyn Fn(&str) -> Result<Pixmap>,
) -> Result<Option<Split>> {
    let Some(open) = svg.find(BODY_OPEN) else {
        return Ok(None);
    };
    let body = open + BODY_OPEN.len();
    let Some(close) = svg[body..].find("</g>").map(|i| body + i) else {
        return Ok(None);
    };
    let key = dpi.to_bits();
    let mut kept = String::with_capacity(svg.len());
    kept.push_str(&svg[..body]);
    let mut has_paths = false;
    let mut patches = Vec::new();
    let mut at = body;
    while let Some(start) = svg[at..close].find("<path ").map(|i| at + i) {
        let Some(end) = svg[start..close].find("/>").map(|i| start + i + 2) else {
            return Ok(None);
        };
        let element = &svg[start..end];
        match patch(element, key, render_alone)? {
            Some(p) => patches.push(p),
            None => {
                kept.push_str(&svg[at..end]);
                has_paths = true;
            }
        }
        at = end;
    }
    kept.push_str(&svg[at..]);
    // Anything else left to draw (a QR path not painted directly).
    has_paths |= svg[close..].contains("<path");
    Ok(Some(Split {
        svg: kept,
        has_paths,
        patches,
    }))
}

fn patch(
    element: &str,
    key: u32,
    render_alone: &dyn Fn(&str) -> Result<Pixmap>,
) -> Result<Option<Arc<Patch>>> {
    let h = hash(element, key);
    {
        let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((e, p)) = cache.patches.get(&h) {
            return Ok((e == element).then(|| Arc::clone(p)));
        }
        if cache.seen.len() >= MAX_SEEN {
            cache.seen.clear();
        }
        if cache.seen.insert(h) {
            return Ok(None);
        }
    }
    let alone = format!("{}{BODY_OPEN}{element}</g></svg>", root());
    let Some(p) = crop(&render_alone(&alone)?) else {
        return Ok(None);
    };
    let p = Arc::new(p);
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if !cache.patches.contains_key(&h) {
        cache.bytes += p.bytes() + element.len();
        cache.order.push_back(h);
        cache
            .patches
            .insert(h, (element.to_string(), Arc::clone(&p)));
        while cache.bytes > MAX_BYTES {
            let Some(old) = cache.order.pop_front() else {
                break;
            };
            if let Some((e, q)) = cache.patches.remove(&old) {
                cache.bytes = cache.bytes.saturating_sub(q.bytes() + e.len());
            }
        }
    }
    Ok(Some(p))
}

fn is_white(p: PremultipliedColorU8) -> bool {
    p.red() == 255 && p.green() == 255 && p.blue() == 255 && p.alpha() == 255
}

/// The smallest rectangle holding every pixel that is not white.
fn crop(pixmap: &Pixmap) -> Option<Patch> {
    let (w, h) = (pixmap.width() as usize, pixmap.height() as usize);
    let px = pixmap.pixels();
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..h {
        let row = &px[y * w..(y + 1) * w];
        if let Some(first) = row.iter().position(|&p| !is_white(p)) {
            let last = row.iter().rposition(|&p| !is_white(p)).unwrap_or(first);
            x0 = x0.min(first);
            x1 = x1.max(last + 1);
            y0 = y0.min(y);
            y1 = y + 1;
        }
    }
    if x0 >= x1 {
        return None;
    }
    let mut pixels = Vec::with_capacity((x1 - x0) * (y1 - y0));
    for y in y0..y1 {
        pixels.extend_from_slice(&px[y * w + x0..y * w + x1]);
    }
    Some(Patch {
        x: x0 as u32,
        y: y0 as u32,
        w: (x1 - x0) as u32,
        h: (y1 - y0) as u32,
        pixels,
    })
}

/// Copies the patches into `pixmap` when that is exact: no two patches meet and every patch
/// covers only white pixels. Returns false, changing nothing, otherwise.
pub fn apply(patches: &[Arc<Patch>], pixmap: &mut Pixmap) -> bool {
    let (w, h) = (pixmap.width(), pixmap.height());
    for (i, p) in patches.iter().enumerate() {
        if p.x + p.w > w || p.y + p.h > h || patches[i + 1..].iter().any(|q| p.overlaps(q)) {
            return false;
        }
        let px = pixmap.pixels();
        let clean = (p.y..p.y + p.h).all(|y| {
            let row = (y * w + p.x) as usize;
            px[row..row + p.w as usize].iter().all(|&c| is_white(c))
        });
        if !clean {
            return false;
        }
    }
    let px = pixmap.pixels_mut();
    for p in patches {
        for (r, y) in (p.y..p.y + p.h).enumerate() {
            let row = (y * w + p.x) as usize;
            let src = &p.pixels[r * p.w as usize..(r + 1) * p.w as usize];
            px[row..row + p.w as usize].copy_from_slice(src);
        }
    }
    true
}
