//! The C2SP tlog-tiles layout: tiles of hashes, entry bundles and their paths, and a
//! [`HashSource`] that reads hashes from tiles.
//!
//! Tiles have height 8: the tile at level `L` and index `N` holds the hashes of the tree's nodes
//! at tree level `8·L`, indexes `256·N ..`, 32 bytes each, in order. A full tile holds 256
//! hashes; the last tile of a level holds fewer while the tree grows (a partial tile, of width
//! `W` = 1..255). An entry bundle holds entries `256·N ..`, each as a big-endian `u16` length and
//! the entry's bytes. Paths (relative to the log's root):
//!
//! ```text
//! checkpoint
//! tile/<L>/<N>            tile/<L>/<N>.p/<W>        (hash tiles, L = 0..7)
//! tile/entries/<N>        tile/entries/<N>.p/<W>    (entry bundles)
//! ```
//! where `<N>` is written in groups of three decimal digits, zero-padded, all but the last
//! prefixed with `x` (index 1234067 is `x001/x234/067`, index 5 is `005`), and `<W>` in decimal
//! without leading zeros.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::error::LogError;
use crate::log::merkle::{root_of, Hash, HashSource};
use crate::log::LogFiles;

/// Tile height: each tile spans 8 levels of the tree.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes in a full tile and entries in a full bundle.
pub const TILE_WIDTH: u16 = 256;
/// The highest tile level: a tree of up to 2^64 − 1 leaves has no hash at tree level 64.
pub const MAX_LEVEL: u8 = 7;
/// The longest entry a bundle holds (its length prefix is a `u16`).
pub const MAX_ENTRY_LEN: usize = u16::MAX as usize;
/// The path of the checkpoint.
pub const CHECKPOINT_PATH: &str = "checkpoint";

/// A tile of hashes: its level, index and width (1..=256; 256 is a full tile).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TileId {
    /// The tile level (tree level 8 × level).
    pub level: u8,
    /// Its index in the level.
    pub index: u64,
    /// How many hashes it holds.
    pub width: u16,
}

/// An entry bundle: its index and width (1..=256; 256 is a full bundle).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BundleId {
    /// Its index: it holds entries `256 × index ..`.
    pub index: u64,
    /// How many entries it holds.
    pub width: u16,
}

/// A file of the log, by what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogPath {
    /// `checkpoint`.
    Checkpoint,
    /// A tile of hashes.
    Tile(TileId),
    /// An entry bundle.
    Bundle(BundleId),
}

/// The number of hashes stored at tile level `level` in a tree of `size` leaves.
fn count_at(level: u8, size: u64) -> u64 {
    size.checked_shr(u32::from(level) * u32::from(TILE_HEIGHT))
        .unwrap_or(0)
}

/// The tile or bundle of `index` among `count` items, with its width in that tree.
fn width_of(index: u64, count: u64) -> u16 {
    let start = index.saturating_mul(u64::from(TILE_WIDTH));
    let left = count.saturating_sub(start);
    left.min(u64::from(TILE_WIDTH)) as u16
}

impl TileId {
    /// The tile of level `level` that holds stored hash `hash_index` in a tree of `size` leaves
    /// (width 0 when the tree has no such hash).
    pub fn holding(level: u8, hash_index: u64, size: u64) -> TileId {
        let index = hash_index / u64::from(TILE_WIDTH);
        TileId {
            level,
            index,
            width: width_of(index, count_at(level, size)),
        }
    }

    /// Every tile of a tree of `size` leaves, level by level, in index order: the full tiles and
    /// the partial tile that ends each level.
    pub fn all(size: u64) -> impl Iterator<Item = TileId> {
        (0..=MAX_LEVEL)
            .map(move |level| (level, count_at(level, size)))
            .take_while(|(_, count)| *count > 0)
            .flat_map(|(level, count)| {
                (0..count.div_ceil(u64::from(TILE_WIDTH))).map(move |index| TileId {
                    level,
                    index,
                    width: width_of(index, count),
                })
            })
    }

    /// The partial tiles of a tree of `size` leaves (the right edge), by level.
    pub fn partial(size: u64) -> impl Iterator<Item = TileId> {
        (0..=MAX_LEVEL).filter_map(move |level| {
            let count = count_at(level, size);
            let width = (count % u64::from(TILE_WIDTH)) as u16;
            (width > 0).then_some(TileId {
                level,
                index: count / u64::from(TILE_WIDTH),
                width,
            })
        })
    }

    /// The tile's path, `tile/<L>/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        format!(
            "tile/{}/{}{}",
            self.level,
            index_path(self.index),
            width_suffix(self.width)
        )
    }

    /// The hashes of the tile's data; refuses data that is not `width × 32` bytes.
    pub fn decode(&self, data: &[u8]) -> Result<Vec<Hash>, LogError> {
        let expected = usize::from(self.width) * 32;
        if data.len() != expected {
            return Err(LogError::TileLength {
                path: self.path(),
                len: data.len(),
                expected,
                width: self.width,
            });
        }
        Ok(data
            .chunks_exact(32)
            .map(|c| {
                let mut h = [0u8; 32];
                h.copy_from_slice(c);
                h
            })
            .collect())
    }
}

/// A tile's data: its hashes, one after the other.
pub fn encode_tile(hashes: &[Hash]) -> Vec<u8> {
    hashes.concat()
}

impl BundleId {
    /// Every entry bundle of a log of `size` entries, in index order.
    pub fn all(size: u64) -> impl Iterator<Item = BundleId> {
        (0..size.div_ceil(u64::from(TILE_WIDTH))).map(move |index| BundleId {
            index,
            width: width_of(index, size),
        })
    }

    /// The partial bundle of a log of `size` entries, if its last bundle is not full.
    pub fn partial(size: u64) -> Option<BundleId> {
        let width = (size % u64::from(TILE_WIDTH)) as u16;
        (width > 0).then_some(BundleId {
            index: size / u64::from(TILE_WIDTH),
            width,
        })
    }

    /// The bundle's path, `tile/entries/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        format!(
            "tile/entries/{}{}",
            index_path(self.index),
            width_suffix(self.width)
        )
    }

    /// The entries of the bundle's data: exactly `width` length-prefixed entries, nothing after.
    /// Never panics.
    pub fn decode<'a>(&self, data: &'a [u8]) -> Result<Vec<&'a [u8]>, LogError> {
        let bad = |why: String| LogError::MalformedBundle {
            path: self.path(),
            why,
        };
        let mut entries = Vec::with_capacity(usize::from(self.width));
        let mut rest = data;
        for i in 0..self.width {
            let (len, after) = match rest {
                [a, b, after @ ..] => (usize::from(u16::from_be_bytes([*a, *b])), after),
                _ => return Err(bad(format!("ends before entry {i} of {}", self.width))),
            };
            if after.len() < len {
                return Err(bad(format!(
                    "entry {i} of {}: {len} bytes announced, {} left",
                    self.width,
                    after.len()
                )));
            }
            let (entry, next) = after.split_at(len);
            entries.push(entry);
            rest = next;
        }
        if !rest.is_empty() {
            return Err(bad(format!(
                "{} bytes after its {} entries",
                rest.len(),
                self.width
            )));
        }
        Ok(entries)
    }
}

/// An entry bundle's data: each entry as a big-endian `u16` length and its bytes. Refuses an
/// entry over 65535 bytes.
pub fn encode_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, LogError> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| 2 + e.as_ref().len()).sum());
    for e in entries {
        let e = e.as_ref();
        let len = u16::try_from(e.len()).map_err(|_| LogError::EntryTooLong { len: e.len() })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// `<N>` of a path: groups of three digits, all but the last prefixed with `x`.
fn index_path(mut n: u64) -> String {
    let mut groups = Vec::new();
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let mut out = String::new();
    for (i, g) in groups.iter().rev().enumerate() {
        if i + 1 < groups.len() {
            out.push_str(&format!("x{g:03}/"));
        } else {
            out.push_str(&format!("{g:03}"));
        }
    }
    out
}

fn width_suffix(width: u16) -> String {
    if width == TILE_WIDTH {
        String::new()
    } else {
        format!(".p/{width}")
    }
}

impl LogPath {
    /// The path.
    pub fn path(&self) -> String {
        match self {
            LogPath::Checkpoint => CHECKPOINT_PATH.to_string(),
            LogPath::Tile(t) => t.path(),
            LogPath::Bundle(b) => b.path(),
        }
    }

    /// Parses a path of the log. Only the one canonical spelling of each file is accepted: no
    /// leading zeros beyond the three digits of a group, no `x000` group in front, a width of
    /// 1..=255 without leading zeros, levels 0 to 7. Never panics.
    pub fn parse(path: &str) -> Result<LogPath, LogError> {
        let bad = |why| LogError::BadPath {
            path: path.to_string(),
            why,
        };
        if path == CHECKPOINT_PATH {
            return Ok(LogPath::Checkpoint);
        }
        let mut parts: Vec<&str> = path.split('/').collect();
        if parts.first() != Some(&"tile") || parts.len() < 3 {
            return Err(bad("not checkpoint or tile/..."));
        }
        // A partial tile: `.../<last>.p/<W>`.
        let mut width = TILE_WIDTH;
        if let Some(stem) = parts
            .len()
            .checked_sub(2)
            .and_then(|i| parts[i].strip_suffix(".p"))
        {
            let w = parts.pop().unwrap_or_default();
            if w.is_empty() || w.starts_with('0') || !w.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("width is not a number 1 to 255"));
            }
            width = w
                .parse::<u16>()
                .ok()
                .filter(|w| *w < TILE_WIDTH)
                .ok_or(bad("width is not a number 1 to 255"))?;
            let last = parts.len() - 1;
            parts[last] = stem;
        }
        let index = parse_index(&parts[2..]).ok_or(bad("index is not groups of three digits"))?;
        if parts[1] == "entries" {
            return Ok(LogPath::Bundle(BundleId { index, width }));
        }
        let level = match parts[1].as_bytes() {
            [d @ b'0'..=b'7'] => d - b'0',
            _ => return Err(bad("level is not 0 to 7 or entries")),
        };
        Ok(LogPath::Tile(TileId {
            level,
            index,
            width,
        }))
    }
}

fn parse_index(groups: &[&str]) -> Option<u64> {
    let (last, front) = groups.split_last()?;
    let digits = |g: &str| -> Option<u64> {
        (g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
            .then(|| g.parse().ok())
            .flatten()
    };
    let mut n: u64 = 0;
    for (i, g) in front.iter().enumerate() {
        let v = digits(g.strip_prefix('x')?)?;
        if i == 0 && v == 0 {
            return None;
        }
        n = n.checked_mul(1000)?.checked_add(v)?;
    }
    n.checked_mul(1000)?.checked_add(digits(last)?)
}

/// The hashes of a tree of `size` leaves, read from its tiles through [`LogFiles`] (each tile
/// read once, then kept). A tile of the wrong length is an error; whether the hashes are the
/// right ones shows when a proof made from them is verified against the checkpoint.
pub struct TileHashes<'a, F: LogFiles> {
    files: &'a mut F,
    size: u64,
    tiles: BTreeMap<(u8, u64), Vec<Hash>>,
}

impl<'a, F: LogFiles> TileHashes<'a, F> {
    /// The hashes of the tree of `size` leaves in `files`.
    pub fn new(files: &'a mut F, size: u64) -> TileHashes<'a, F> {
        TileHashes {
            files,
            size,
            tiles: BTreeMap::new(),
        }
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.size
    }

    fn tile(&mut self, id: TileId) -> Result<&Vec<Hash>, F::Error> {
        if !self.tiles.contains_key(&(id.level, id.index)) {
            let path = id.path();
            let data = self
                .files
                .read(&path)?
                .ok_or(LogError::Missing { path: path.clone() })?;
            let hashes = id.decode(&data)?;
            self.tiles.insert((id.level, id.index), hashes);
        }
        self.tiles
            .get(&(id.level, id.index))
            .ok_or_else(|| LogError::Missing { path: id.path() }.into())
    }
}

impl<F: LogFiles> HashSource for TileHashes<'_, F> {
    type Error = F::Error;

    fn subtree(&mut self, level: u8, index: u64) -> Result<Hash, F::Error> {
        let size = self.size;
        let not_stored = || LogError::NotStored { level, index, size };
        // The subtree's leaves must all be in the tree.
        let complete = level < 64
            && index
                .checked_add(1)
                .and_then(|i| i.checked_mul(1u64 << level))
                .is_some_and(|end| end <= size);
        if !complete {
            return Err(not_stored().into());
        }
        let tile_level = level / TILE_HEIGHT;
        let below = level % TILE_HEIGHT;
        // The 2^below stored hashes of tile level `tile_level` under this node.
        let first = index << below;
        let count = 1usize << below;
        let id = TileId::holding(tile_level, first, size);
        let offset = (first % u64::from(TILE_WIDTH)) as usize;
        let hashes = self.tile(id)?;
        let part = hashes
            .get(offset..offset + count)
            .ok_or_else(|| F::Error::from(not_stored()))?;
        Ok(root_of(part))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::merkle::{
        consistency_proof, inclusion_proof, leaf_hash, tree_hash, verify_consistency,
        verify_inclusion, Leaves,
    };
    use crate::log::TreeEdge;
    use alloc::vec;
    use proptest::prelude::*;

    #[test]
    fn paths_are_the_c2sp_ones() {
        let t = |level, index, width| TileId {
            level,
            index,
            width,
        };
        assert_eq!(t(0, 0, 256).path(), "tile/0/000");
        assert_eq!(t(1, 5, 17).path(), "tile/1/005.p/17");
        assert_eq!(t(0, 1000, 256).path(), "tile/0/x001/000");
        assert_eq!(t(2, 1_234_067, 256).path(), "tile/2/x001/x234/067");
        assert_eq!(
            BundleId {
                index: 1_234_067,
                width: 1
            }
            .path(),
            "tile/entries/x001/x234/067.p/1"
        );
        assert_eq!(
            t(7, u64::MAX, 255).path(),
            "tile/7/x018/x446/x744/x073/x709/x551/615.p/255"
        );
        for p in [
            "checkpoint",
            "tile/0/000",
            "tile/1/005.p/17",
            "tile/2/x001/x234/067",
            "tile/entries/x001/x234/067.p/1",
            "tile/7/x018/x446/x744/x073/x709/x551/615.p/255",
        ] {
            assert_eq!(LogPath::parse(p).unwrap().path(), p);
        }
        for p in [
            "",
            "tile",
            "tile/0",
            "tile/8/000",
            "tile/00/000",
            "tile/0/00",
            "tile/0/0000",
            "tile/0/x000/005",
            "tile/0/001/002",
            "tile/0/x1/002",
            "tile/0/005.p/0",
            "tile/0/005.p/256",
            "tile/0/005.p/017",
            "tile/0/005.p/",
            "tile/0/005.p",
            "tile/data/000",
            "/tile/0/000",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tile/0/x001/x018/x446/x744/x073/x709/x551/615",
            "checkpoint/",
        ] {
            assert!(LogPath::parse(p).is_err(), "{p:?} parsed");
        }
    }

    #[test]
    fn tiles_of_a_tree() {
        let size = 256 * 256 + 3 * 256 + 7;
        let all: Vec<TileId> = TileId::all(size).collect();
        let paths: Vec<String> = all.iter().map(TileId::path).collect();
        assert_eq!(paths.len(), 260 + 2 + 1);
        assert_eq!(paths[258], "tile/0/258");
        assert_eq!(paths[259], "tile/0/259.p/7");
        assert_eq!(paths[260], "tile/1/000");
        assert_eq!(paths[261], "tile/1/001.p/3");
        assert_eq!(paths[262], "tile/2/000.p/1");
        let partial: Vec<String> = TileId::partial(size).map(|t| t.path()).collect();
        assert_eq!(
            partial,
            ["tile/0/259.p/7", "tile/1/001.p/3", "tile/2/000.p/1"]
        );
        assert_eq!(TileId::all(0).count(), 0);
        assert_eq!(BundleId::all(512).count(), 2);
        assert_eq!(BundleId::partial(512), None);
        assert_eq!(
            BundleId::partial(513),
            Some(BundleId { index: 2, width: 1 })
        );
    }

    #[test]
    fn bundles_round_trip_and_refuse_bad_data() {
        let entries: Vec<Vec<u8>> = vec![b"a".to_vec(), Vec::new(), vec![7; 300]];
        let data = encode_bundle(&entries).unwrap();
        assert_eq!(&data[..3], &[0, 1, b'a']);
        let id = BundleId { index: 0, width: 3 };
        assert_eq!(id.decode(&data).unwrap(), entries);
        let short = BundleId { index: 0, width: 4 };
        assert!(short.decode(&data).is_err());
        let two = BundleId { index: 0, width: 2 };
        assert_eq!(
            two.decode(&data).unwrap_err().to_string(),
            "tile/entries/000.p/2: 302 bytes after its 2 entries"
        );
        assert!(id.decode(&data[..data.len() - 1]).is_err());
        assert_eq!(
            encode_bundle(&[vec![0u8; 65536]]),
            Err(LogError::EntryTooLong { len: 65536 })
        );
    }

    /// A log's files in memory.
    #[derive(Default)]
    struct Files(BTreeMap<String, Vec<u8>>);

    impl LogFiles for Files {
        type Error = LogError;
        fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>, LogError> {
            Ok(self.0.get(path).cloned())
        }
    }

    fn tiles_of(leaves: &[Hash]) -> Files {
        let mut edge = TreeEdge::new();
        let mut files = Files::default();
        for leaf in leaves {
            for (id, hashes) in edge.push(*leaf).unwrap() {
                files.0.insert(id.path(), encode_tile(&hashes));
            }
        }
        for (id, hashes) in edge.partial_tiles() {
            files.0.insert(id.path(), encode_tile(hashes));
        }
        files
    }

    #[test]
    fn proofs_from_tiles_equal_proofs_from_leaves() {
        let size = 256 * 3 + 70;
        let leaves: Vec<Hash> = (0..size)
            .map(|i: u64| leaf_hash(&i.to_le_bytes()))
            .collect();
        let mut files = tiles_of(&leaves);
        let mut from_leaves = Leaves(leaves.clone());
        let mut tiles = TileHashes::new(&mut files, size);
        let root = tree_hash(&mut tiles, size).unwrap();
        assert_eq!(root, root_of(&leaves));
        for index in [0, 1, 255, 256, 700, size - 1] {
            let proof = inclusion_proof(&mut tiles, index, size).unwrap();
            assert_eq!(
                proof,
                inclusion_proof(&mut from_leaves, index, size).unwrap()
            );
            verify_inclusion(&leaves[index as usize], index, size, &proof, &root).unwrap();
        }
        for old in [1, 255, 256, 257, 513, size - 1] {
            let proof = consistency_proof(&mut tiles, old, size).unwrap();
            let old_root = root_of(&leaves[..old as usize]);
            verify_consistency(old, size, &old_root, &root, &proof).unwrap();
        }
        assert!(matches!(
            tiles.subtree(9, 1),
            Err(LogError::NotStored { .. })
        ));
        // A damaged tile is refused by its length, a missing one by its path.
        files.0.insert("tile/0/001".into(), vec![0; 31]);
        files.0.remove("tile/1/000.p/3");
        let mut tiles = TileHashes::new(&mut files, size);
        assert!(matches!(
            tiles.subtree(0, 300),
            Err(LogError::TileLength { .. })
        ));
        assert_eq!(
            tiles.subtree(8, 0),
            Err(LogError::Missing {
                path: "tile/1/000.p/3".into()
            })
        );
    }

    proptest! {
        #[test]
        fn arbitrary_paths_never_panic(p in "[tilex0-9/.pentrs]{0,40}") {
            if let Ok(parsed) = LogPath::parse(&p) {
                prop_assert_eq!(parsed.path(), p);
            }
        }

        #[test]
        fn arbitrary_bundles_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300), w in 1u16..=256) {
            let id = BundleId { index: 0, width: w };
            if let Ok(entries) = id.decode(&b) {
                prop_assert_eq!(encode_bundle(&entries).unwrap(), b);
            }
        }
    }
}
