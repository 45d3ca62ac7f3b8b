//! Pixels of glyphs that recur from label to label at the same place (a manufacturer's name on
//! each of its products, the captions, the digits of certificate numbers and dates), drawn
//! once and then darkened in.
//!
//! Exact by construction: resvg draws each glyph path of a label body on its own, black over
//! what is there, so a glyph drawn alone on white, darkened into the label ([`darken`]), gives
//! the pixels resvg gives. Patches are grey, one byte a pixel (every label pixel is an opaque
//! grey).

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use resvg::tiny_skia::{Pixmap, PremultipliedColorU8};

/// The pixels a path changes when drawn alone on a white label: a rectangle of it, grey.
pub struct Patch {
    x: u32,
    y: u32,
    w: u32,
    h: u32,
    pixels: Vec<u8>,
}

impl Patch {
    fn bytes(&self) -> usize {
        self.pixels.len() + 64
    }
}

/// Recurring glyphs and their patches, bounded in memory. A glyph's patch is kept the second
/// time it is made at the same place, so one-off glyphs are never stored.
struct Cache {
    seen: HashSet<u64>,
    /// By hash of the key: the key, to rule out collisions, and the patch.
    patches: HashMap<u64, (Vec<u64>, Arc<Patch>)>,
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

/// A fast 64-bit hash of a key; collisions are harmless (a hit compares the key).
fn hash(key: &[u64]) -> u64 {
    let mut h = foldhash::fast::FixedState::with_seed(0).build_hasher();
    for &k in key {
        h.write_u64(k);
    }
    h.finish()
}

/// The patch of the glyph `key` stands for (everything that makes its pixels): from the cache,
/// else made by `make`, and kept when the glyph was seen before. `None` when `make` gives none.
pub fn get(key: &[u64], make: impl FnOnce() -> Option<Patch>) -> Option<Arc<Patch>> {
    let h = hash(key);
    let keep = {
        let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((k, p)) = cache.patches.get(&h) {
            if k == key {
                return Some(Arc::clone(p));
            }
            false
        } else {
            if cache.seen.len() >= MAX_SEEN {
                cache.seen.clear();
            }
            !cache.seen.insert(h)
        }
    };
    let p = Arc::new(make()?);
    if !keep {
        return Some(p);
    }
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if !cache.patches.contains_key(&h) {
        cache.bytes += p.bytes() + key.len() * 8;
        cache.order.push_back(h);
        cache.patches.insert(h, (key.to_vec(), Arc::clone(&p)));
        while cache.bytes > MAX_BYTES {
            let Some(old) = cache.order.pop_front() else {
                break;
            };
            if let Some((k, q)) = cache.patches.remove(&old) {
                cache.bytes = cache.bytes.saturating_sub(q.bytes() + k.len() * 8);
            }
        }
    }
    Some(p)
}

/// Whether the glyph `key` stands for has a patch now.
#[cfg(test)]
pub fn has(key: &[u64]) -> bool {
    let cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    cache.patches.get(&hash(key)).is_some_and(|(k, _)| k == key)
}

fn is_white(p: PremultipliedColorU8) -> bool {
    p.red() == 255 && p.green() == 255 && p.blue() == 255 && p.alpha() == 255
}

/// A pixel rectangle `(x0, y0, x1, y1)`, ends excluded.
pub type Area = (u32, u32, u32, u32);

/// The smallest rectangle holding every pixel of `area` that is not white; `None` when all
/// are white.
pub fn crop(pixmap: &Pixmap, area: Area) -> Option<Patch> {
    let w = pixmap.width() as usize;
    let px = pixmap.pixels();
    let (ax0, ay0) = (area.0 as usize, area.1 as usize);
    let (ax1, ay1) = (
        area.2.min(pixmap.width()) as usize,
        area.3.min(pixmap.height()) as usize,
    );
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for y in ay0..ay1 {
        let row = &px[y * w + ax0..y * w + ax1.max(ax0)];
        if let Some(first) = row.iter().position(|&p| !is_white(p)) {
            let last = row.iter().rposition(|&p| !is_white(p)).unwrap_or(first);
            x0 = x0.min(ax0 + first);
            x1 = x1.max(ax0 + last + 1);
            y0 = y0.min(y);
            y1 = y + 1;
        }
    }
    if x0 >= x1 {
        return None;
    }
    // Opaque grey pixels: the red channel is the grey level.
    let mut pixels = Vec::with_capacity((x1 - x0) * (y1 - y0));
    for y in y0..y1 {
        pixels.extend(px[y * w + x0..y * w + x1].iter().map(|p| p.red()));
    }
    Some(Patch {
        x: x0 as u32,
        y: y0 as u32,
        w: (x1 - x0) as u32,
        h: (y1 - y0) as u32,
        pixels,
    })
}

/// Makes `area` of `pixmap` white again.
pub fn whiten(pixmap: &mut Pixmap, area: Area) {
    let w = pixmap.width() as usize;
    let (x0, y1) = (area.0 as usize, area.3.min(pixmap.height()) as usize);
    let x1 = (area.2.min(pixmap.width()) as usize).max(x0);
    let Some(white) = PremultipliedColorU8::from_rgba(255, 255, 255, 255) else {
        return;
    };
    let px = pixmap.pixels_mut();
    for y in area.1 as usize..y1 {
        px[y * w + x0..y * w + x1].fill(white);
    }
}

/// Draws a patch of black ink into `grey`, an image `width` pixels wide, as tiny-skia draws a
/// black path over what is there: a pixel the path covers by `c` of 255 becomes
/// `(v * (255 - c) + 255) >> 8`, and drawn alone on white it is `255 - c`, the patch's grey
/// level `g`. So `v` becomes `(v * g + 255) >> 8`: the patch itself over white, unchanged
/// where the patch is white, exact over any ink (tests compare with resvg).
pub fn darken(p: &Patch, grey: &mut [u8], width: usize) {
    let (x, w) = (p.x as usize, p.w as usize);
    if x + w > width || (p.y + p.h) as usize * width > grey.len() {
        return;
    }
    for (r, src) in p.pixels.chunks_exact(w).enumerate() {
        let at = (p.y as usize + r) * width + x;
        for (d, &g) in grey[at..at + w].iter_mut().zip(src) {
            *d = ((u16::from(*d) * u16::from(g) + 255) >> 8) as u8;
        }
    }
}
