//! Pixels of text lines that recur from label to label (a manufacturer's name on each of its
//! products, the captions, common validity dates), drawn once and then copied.
//!
//! Exact by construction: resvg draws each path of a label on its own, so a line drawn where
//! the label is white and nothing else draws gives the same pixels as the line drawn alone on a
//! white label. [`apply`] copies patches only when every one covers white pixels of the label
//! and no two meet; otherwise the caller draws every line.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use resvg::tiny_skia::{Pixmap, PremultipliedColorU8};

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

/// Recurring lines and their patches, bounded in memory. A line gets a patch the second time
/// it is seen, so the one-off lines of a build (model, certificate number) are never stored.
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

/// The patch of the line `key` stands for (everything that makes its pixels): from the cache,
/// or made by `make` when the line is seen for the second time. `None`: draw the line.
pub fn get(key: &[u64], make: impl FnOnce() -> Option<Patch>) -> Option<Arc<Patch>> {
    let h = hash(key);
    {
        let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((k, p)) = cache.patches.get(&h) {
            return (k == key).then(|| Arc::clone(p));
        }
        if cache.seen.len() >= MAX_SEEN {
            cache.seen.clear();
        }
        if cache.seen.insert(h) {
            return None;
        }
    }
    let p = Arc::new(make()?);
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

/// Whether the line `key` stands for has a patch now.
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
