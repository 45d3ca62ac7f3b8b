//! Appending to a log: the right edge of its tree ([`TreeEdge`]: the hashes of the last,
//! incomplete tile of each level, all an append needs) and an [`Appender`] that turns new
//! entries into the exact files to write and the files the new tree no longer uses. Pure: the
//! caller reads and writes the files.
//!
//! An append reads only the partial tiles of the current tree (one per level, at most 8 KiB
//! each) and its partial entry bundle, whatever the log's size.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::LogError;
use crate::log::merkle::{empty_root, leaf_hash, node_hash, root_of, Hash};
use crate::log::tile::{
    encode_bundle, encode_tile, BundleId, TileId, MAX_ENTRY_LEN, MAX_LEVEL, TILE_WIDTH,
};
use crate::log::LogFiles;

/// The right edge of a tree: for each tile level, the hashes of its last, incomplete tile
/// (between 0 and 255 of them). Enough to append leaves and to compute the root.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TreeEdge {
    size: u64,
    levels: Vec<Vec<Hash>>,
}

impl TreeEdge {
    /// The edge of the empty tree.
    pub fn new() -> TreeEdge {
        TreeEdge::default()
    }

    /// The edge of the tree of `size` leaves, from its partial tiles ([`TileId::partial`]).
    pub fn load<F: LogFiles>(files: &mut F, size: u64) -> Result<TreeEdge, F::Error> {
        let mut levels: Vec<Vec<Hash>> = Vec::new();
        for level in 0..=MAX_LEVEL {
            if size >> (u32::from(level) * 8) == 0 {
                break;
            }
            levels.push(Vec::new());
        }
        for id in TileId::partial(size) {
            let path = id.path();
            let data = files
                .read(&path)?
                .ok_or(LogError::Missing { path: path.clone() })?;
            if let Some(slot) = levels.get_mut(usize::from(id.level)) {
                *slot = id.decode(&data)?;
            }
        }
        Ok(TreeEdge { size, levels })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The leaf hashes of the last, incomplete tile of level 0 (the last `size % 256` leaves).
    pub fn last_leaves(&self) -> &[Hash] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }

    /// Appends a leaf hash; returns the tiles it completed (full, lowest level first), which
    /// never change again. Refuses a leaf past 2^64 − 1.
    pub fn push(&mut self, leaf: Hash) -> Result<Vec<(TileId, Vec<Hash>)>, LogError> {
        let size = self.size.checked_add(1).ok_or(LogError::Full)?;
        let mut completed = Vec::new();
        let mut hash = leaf;
        let mut level: u8 = 0;
        loop {
            let l = usize::from(level);
            if self.levels.len() <= l {
                self.levels.push(Vec::new());
            }
            let slot = &mut self.levels[l];
            slot.push(hash);
            if slot.len() < usize::from(TILE_WIDTH) {
                break;
            }
            let hashes = core::mem::take(slot);
            hash = root_of(&hashes);
            let count = size >> (u32::from(level) * 8);
            completed.push((
                TileId {
                    level,
                    index: count / u64::from(TILE_WIDTH) - 1,
                    width: TILE_WIDTH,
                },
                hashes,
            ));
            level += 1;
        }
        self.size = size;
        Ok(completed)
    }

    /// The partial tiles of the tree and their hashes, by level.
    pub fn partial_tiles(&self) -> impl Iterator<Item = (TileId, &[Hash])> {
        TileId::partial(self.size).filter_map(|id| {
            self.levels
                .get(usize::from(id.level))
                .map(|h| (id, h.as_slice()))
        })
    }

    /// The root of the tree (RFC 6962; the empty root for no leaves).
    pub fn root(&self) -> Hash {
        // The complete subtrees of the tree, left to right: the highest tile level first,
        // within a level the larger power of two first.
        let mut parts: Vec<Hash> = Vec::new();
        for hashes in self.levels.iter().rev() {
            let mut start = 0;
            for bit in (0..8).rev() {
                let n = 1usize << bit;
                if hashes.len() & n != 0 {
                    parts.push(root_of(&hashes[start..start + n]));
                    start += n;
                }
            }
        }
        let Some((last, rest)) = parts.split_last() else {
            return empty_root();
        };
        rest.iter()
            .rev()
            .fold(*last, |right, left| node_hash(left, &right))
    }
}

/// New entries for a log, turned into files: load the current edge ([`Appender::load`]) or
/// start empty ([`Appender::new`]), [`Appender::append`] entries, then [`Appender::finish`].
#[derive(Clone, Debug, Default)]
pub struct Appender {
    edge: TreeEdge,
    old_size: u64,
    /// The entries of the last, incomplete bundle.
    bundle: Vec<Vec<u8>>,
    /// Tiles completed so far.
    tiles: BTreeMap<TileId, Vec<Hash>>,
    /// Bundles completed so far.
    bundles: Vec<(BundleId, Vec<u8>)>,
}

/// What an append changes: the files to write (new full tiles and bundles, the new partial
/// ones), then the new checkpoint's tree; after the checkpoint, the partial files of the old
/// tree that the new one does not use may be removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// The new tree size.
    pub size: u64,
    /// The new root.
    pub root: Hash,
    /// Files to write before the checkpoint: (path, bytes).
    pub files: Vec<(String, Vec<u8>)>,
    /// Paths of the old tree's partial tiles and bundle that the new tree does not use.
    pub stale: Vec<String>,
}

impl Appender {
    /// An appender to an empty log.
    pub fn new() -> Appender {
        Appender::default()
    }

    /// An appender to the log of `size` entries whose root is `root`: reads the partial tiles
    /// and the partial entry bundle, and checks that they give that root and that the bundle's
    /// entries are the leaves of the partial tile of level 0 (a damaged edge is refused, naming
    /// the file, before anything is appended to it).
    pub fn load<F: LogFiles>(files: &mut F, size: u64, root: &Hash) -> Result<Appender, F::Error> {
        let edge = TreeEdge::load(files, size)?;
        if edge.root() != *root {
            let path = TileId::partial(size)
                .next()
                .map_or_else(|| String::from("tile/"), |t| t.path());
            return Err(LogError::EdgeMismatch {
                path,
                why: "the partial tiles give another root",
            }
            .into());
        }
        let mut bundle = Vec::new();
        if let Some(id) = BundleId::partial(size) {
            let path = id.path();
            let data = files
                .read(&path)?
                .ok_or(LogError::Missing { path: path.clone() })?;
            let entries = id.decode(&data)?;
            let same = entries.len() == edge.last_leaves().len()
                && entries
                    .iter()
                    .zip(edge.last_leaves())
                    .all(|(e, h)| leaf_hash(e) == *h);
            if !same {
                return Err(LogError::EdgeMismatch {
                    path,
                    why: "its entries are not the leaves of the last tile",
                }
                .into());
            }
            bundle = entries.into_iter().map(<[u8]>::to_vec).collect();
        }
        Ok(Appender {
            edge,
            old_size: size,
            bundle,
            tiles: BTreeMap::new(),
            bundles: Vec::new(),
        })
    }

    /// The number of entries, appended ones included.
    pub fn size(&self) -> u64 {
        self.edge.size()
    }

    /// Appends one entry (its encoded bytes, at most 65535). Refuses a longer entry.
    pub fn append(&mut self, entry: Vec<u8>) -> Result<(), LogError> {
        if entry.len() > MAX_ENTRY_LEN {
            return Err(LogError::EntryTooLong { len: entry.len() });
        }
        let completed = self.edge.push(leaf_hash(&entry))?;
        self.tiles.extend(completed);
        self.bundle.push(entry);
        if self.bundle.len() == usize::from(TILE_WIDTH) {
            let index = (self.edge.size() - 1) / u64::from(TILE_WIDTH);
            let data = encode_bundle(&self.bundle)?;
            self.bundle.clear();
            self.bundles.push((
                BundleId {
                    index,
                    width: TILE_WIDTH,
                },
                data,
            ));
        }
        Ok(())
    }

    /// The files of the appended tree, and the old partial files it no longer uses.
    pub fn finish(self) -> Result<Update, LogError> {
        let size = self.edge.size();
        let old_tiles: Vec<TileId> = TileId::partial(self.old_size).collect();
        let new_tiles: Vec<TileId> = TileId::partial(size).collect();
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        for (id, hashes) in &self.tiles {
            files.push((id.path(), encode_tile(hashes)));
        }
        for (id, hashes) in self.edge.partial_tiles() {
            if !old_tiles.contains(&id) {
                files.push((id.path(), encode_tile(hashes)));
            }
        }
        for (id, data) in self.bundles {
            files.push((id.path(), data));
        }
        let (old_bundle, new_bundle) = (BundleId::partial(self.old_size), BundleId::partial(size));
        if let Some(id) = new_bundle.filter(|b| Some(*b) != old_bundle) {
            files.push((id.path(), encode_bundle(&self.bundle)?));
        }
        let mut stale: Vec<String> = old_tiles
            .iter()
            .filter(|t| !new_tiles.contains(t))
            .map(TileId::path)
            .collect();
        if let Some(id) = old_bundle.filter(|b| Some(*b) != new_bundle) {
            stale.push(id.path());
        }
        Ok(Update {
            size,
            root: self.edge.root(),
            files,
            stale,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::merkle::root_of;
    use alloc::string::ToString;
    use alloc::vec;

    /// A log's files in memory.
    #[derive(Default, Clone)]
    struct Files(BTreeMap<String, Vec<u8>>);

    impl LogFiles for Files {
        type Error = LogError;
        fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>, LogError> {
            Ok(self.0.get(path).cloned())
        }
    }

    fn entry(i: u64) -> Vec<u8> {
        let mut e = vec![3u8];
        e.extend_from_slice(&i.to_be_bytes());
        e.extend_from_slice(&[0; 32]);
        e
    }

    /// Applies an update as the generator does: files, then removals.
    fn apply(files: &mut Files, u: &Update) {
        for (p, b) in &u.files {
            files.0.insert(p.clone(), b.clone());
        }
        for p in &u.stale {
            assert!(files.0.remove(p).is_some(), "{p} was not there");
        }
    }

    #[test]
    fn the_edge_gives_the_root_of_every_size() {
        let mut edge = TreeEdge::new();
        let mut leaves = Vec::new();
        assert_eq!(edge.root(), empty_root());
        for i in 0..(256 * 3 + 5) {
            let h = leaf_hash(&entry(i));
            leaves.push(h);
            edge.push(h).unwrap();
            assert_eq!(edge.root(), root_of(&leaves), "size {}", i + 1);
        }
    }

    #[test]
    fn appends_in_batches_give_the_files_of_one_big_append() {
        // One append of everything.
        let total = 256 * 2 + 10;
        let mut all = Appender::new();
        for i in 0..total {
            all.append(entry(i)).unwrap();
        }
        let once = all.finish().unwrap();
        let mut expected = Files::default();
        apply(&mut expected, &once);
        // Batches of various sizes, each from the files the previous one left.
        let mut files = Files::default();
        let mut size = 0;
        let mut root = empty_root();
        for batch in [1u64, 1, 254, 1, 255, 0, 3, 7] {
            let mut a = if size == 0 {
                Appender::new()
            } else {
                Appender::load(&mut files, size, &root).unwrap()
            };
            for i in size..size + batch {
                a.append(entry(i)).unwrap();
            }
            let u = a.finish().unwrap();
            apply(&mut files, &u);
            size = u.size;
            root = u.root;
        }
        assert_eq!(size, total);
        assert_eq!(root, once.root);
        assert_eq!(files.0, expected.0);
        let paths: Vec<&str> = files.0.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            [
                "tile/0/000",
                "tile/0/001",
                "tile/0/002.p/10",
                "tile/1/000.p/2",
                "tile/entries/000",
                "tile/entries/001",
                "tile/entries/002.p/10"
            ]
        );
    }

    #[test]
    fn a_damaged_edge_is_refused_before_appending() {
        let mut a = Appender::new();
        for i in 0..300 {
            a.append(entry(i)).unwrap();
        }
        let u = a.finish().unwrap();
        let mut files = Files::default();
        apply(&mut files, &u);
        assert!(Appender::load(&mut files, u.size, &u.root).is_ok());
        assert_eq!(
            Appender::load(&mut files.clone(), u.size, &[0; 32])
                .unwrap_err()
                .to_string(),
            "tile/0/001.p/44: does not match the checkpoint (the partial tiles give another root)"
        );
        let mut bad_bundle = files.clone();
        let b = bad_bundle.0.get_mut("tile/entries/001.p/44").unwrap();
        let last = b.len() - 1;
        b[last] ^= 1;
        assert_eq!(
            Appender::load(&mut bad_bundle, u.size, &u.root)
                .unwrap_err()
                .to_string(),
            "tile/entries/001.p/44: does not match the checkpoint (its entries are not the leaves of the last tile)"
        );
        let mut missing = files.clone();
        missing.0.remove("tile/0/001.p/44");
        assert_eq!(
            Appender::load(&mut missing, u.size, &u.root).unwrap_err(),
            LogError::Missing {
                path: "tile/0/001.p/44".to_string()
            }
        );
        let mut a = Appender::load(&mut files, u.size, &u.root).unwrap();
        assert_eq!(
            a.append(vec![0; 65536]),
            Err(LogError::EntryTooLong { len: 65536 })
        );
    }
}
