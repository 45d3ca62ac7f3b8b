//! Listings and buckets: their encoding, and every rule a single one must follow.
//!
//! ```text
//! position = dir (varint length ≤ 4096, UTF-8: names joined by '/', "" for the site root)
//!          | depth u8 (0..=64) | prefix [ceil(depth / 2)] (nibbles, high first; spare nibble 0)
//! leaf     = version u8 = 1 | kind u8 = 1 | position | count varint (≤ 128)
//!          | count × ( name (u8 length, 1..=255) | type u8
//!                      | type 0: size varint | sha256 [32]   (a file)
//!                      | type 1: node [32] )                 (a directory: its listing's hash)
//! bucket   = version u8 = 1 | kind u8 = 2 | position | bitmap u16
//!          | for each set bit i, from 0 up: node [32] | count varint (≥ 1)
//! ```
//! Entries are sorted by name (bytes), without duplicates. Bit i of the bitmap (the value
//! `1 << i`) stands for the child whose names' SHA-256 has nibble `i` at position `depth`.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::{
    sha256, FileMeta, Hash, FANOUT, KIND_BUCKET, KIND_LEAF, MANIFEST_VERSION, MAX_DEPTH, MAX_DIR,
    MAX_ENTRIES, MAX_NAME,
};
use crate::error::{DecodeError, ManifestError};
use crate::wire::{check_text, put_text, put_varint, Reader};

/// Where a listing or bucket sits: its directory, and the bucket it holds (the first `depth`
/// nibbles of SHA-256 of every name in it). A directory's top listing has depth 0.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    /// The directory's path from the site root; `""` for the root.
    pub dir: String,
    /// Nibbles of the prefix.
    pub depth: u8,
    /// The prefix's nibbles, high nibble first; every nibble past `depth` is zero.
    pub prefix: Hash,
}

impl Position {
    /// The top of a directory (depth 0).
    pub fn top(dir: &str) -> Position {
        Position {
            dir: String::from(dir),
            depth: 0,
            prefix: [0; 32],
        }
    }

    /// The position of child `nibble` of a bucket here; `None` at the deepest depth.
    pub fn child(&self, nibble: u8) -> Option<Position> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        let mut prefix = self.prefix;
        let i = usize::from(self.depth / 2);
        let n = nibble & 15;
        prefix[i] |= if self.depth.is_multiple_of(2) {
            n << 4
        } else {
            n
        };
        Some(Position {
            dir: self.dir.clone(),
            depth: self.depth + 1,
            prefix,
        })
    }

    /// Whether a name whose SHA-256 is `name_hash` belongs here.
    pub fn holds(&self, name_hash: &Hash) -> bool {
        (0..self.depth).all(|i| nibble(name_hash, i) == nibble(&self.prefix, i))
    }

    fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.dir.len() as u64);
        out.extend_from_slice(self.dir.as_bytes());
        out.push(self.depth);
        out.extend_from_slice(&self.prefix[..usize::from(self.depth).div_ceil(2)]);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Position, ManifestError> {
        let len = r.varint("dir")?;
        let len = usize::try_from(len).ok().filter(|l| *l <= MAX_DIR).ok_or(
            DecodeError::LengthTooLarge {
                field: "dir",
                len: usize::try_from(len).unwrap_or(usize::MAX),
                max: MAX_DIR,
            },
        )?;
        let raw = r.bytes(len, "dir")?;
        let dir =
            core::str::from_utf8(raw).map_err(|_| DecodeError::InvalidUtf8 { field: "dir" })?;
        check_dir(dir)?;
        let depth = r.u8("depth")?;
        if depth > MAX_DEPTH {
            return Err(DecodeError::OutOfRange { field: "depth" }.into());
        }
        let n = usize::from(depth).div_ceil(2);
        let mut prefix = [0u8; 32];
        prefix[..n].copy_from_slice(r.bytes(n, "prefix")?);
        if depth % 2 == 1 && prefix[n - 1] & 0x0f != 0 {
            return Err(ManifestError::PrefixPadding);
        }
        Ok(Position {
            dir: String::from(dir),
            depth,
            prefix,
        })
    }
}

/// Nibble `i` (0 = the high nibble of the first byte) of a hash.
pub(crate) fn nibble(hash: &Hash, i: u8) -> u8 {
    let byte = hash[usize::from(i / 2) % 32];
    if i.is_multiple_of(2) {
        byte >> 4
    } else {
        byte & 15
    }
}

/// Checks a file or directory name: 1..=255 bytes, no control character, no `/`, not `.` or
/// `..`.
pub(crate) fn check_name(field: &'static str, name: &str) -> Result<(), ManifestError> {
    check_text(field, name, MAX_NAME)?;
    if name.contains('/') || name == "." || name == ".." {
        return Err(ManifestError::InvalidName {
            field,
            name: String::from(name),
        });
    }
    Ok(())
}

/// Checks a directory path: `""`, or valid names joined by `/`, at most 4096 bytes.
pub(crate) fn check_dir(dir: &str) -> Result<(), ManifestError> {
    if dir.len() > MAX_DIR {
        return Err(DecodeError::LengthTooLarge {
            field: "dir",
            len: dir.len(),
            max: MAX_DIR,
        }
        .into());
    }
    if dir.is_empty() {
        return Ok(());
    }
    for part in dir.split('/') {
        check_name("dir", part).map_err(|_| ManifestError::InvalidDir {
            dir: String::from(dir),
        })?;
    }
    Ok(())
}

/// What a listing entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// A file: size and SHA-256.
    File(FileMeta),
    /// A directory: the hash of its top listing or bucket.
    Dir(Hash),
}

/// One entry of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The file or directory name.
    pub name: String,
    /// What it is.
    pub item: Item,
}

/// A listing: the entries of a directory, or of one bucket of a large directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// Where it sits.
    pub position: Position,
    /// At most [`MAX_ENTRIES`], sorted by name.
    pub entries: Vec<Entry>,
}

/// One child of a bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Child {
    /// The hash of the child listing or bucket.
    pub node: Hash,
    /// How many entries it holds (at this directory's level).
    pub count: u64,
}

/// A bucket: a directory (or a bucket of one) with more than [`MAX_ENTRIES`] entries, split by
/// the next nibble of SHA-256(name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// Where it sits.
    pub position: Position,
    /// Child `i` holds the names whose SHA-256 has nibble `i` at `position.depth`.
    pub children: [Option<Child>; FANOUT],
}

impl Bucket {
    /// Entries under the bucket; `None` on overflow.
    pub fn total(&self) -> Option<u64> {
        self.children
            .iter()
            .flatten()
            .try_fold(0u64, |t, c| t.checked_add(c.count))
    }
}

/// A listing or a bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// A listing.
    Leaf(Leaf),
    /// A bucket.
    Bucket(Box<Bucket>),
}

impl Node {
    /// Where it sits.
    pub fn position(&self) -> &Position {
        match self {
            Node::Leaf(l) => &l.position,
            Node::Bucket(b) => &b.position,
        }
    }

    /// The entries it holds (a bucket: the sum of its children's counts).
    pub fn count(&self) -> u64 {
        match self {
            Node::Leaf(l) => l.entries.len() as u64,
            Node::Bucket(b) => b.total().unwrap_or(u64::MAX),
        }
    }

    /// The encoding, after checking every rule that [`Node::decode`] checks.
    pub fn encode(&self) -> Result<Vec<u8>, ManifestError> {
        self.validate()?;
        let mut out = Vec::new();
        out.push(MANIFEST_VERSION);
        match self {
            Node::Leaf(l) => {
                out.push(KIND_LEAF);
                l.position.encode(&mut out);
                put_varint(&mut out, l.entries.len() as u64);
                for e in &l.entries {
                    put_text(&mut out, &e.name);
                    match &e.item {
                        Item::File(m) => {
                            out.push(0);
                            put_varint(&mut out, m.size);
                            out.extend_from_slice(&m.sha256);
                        }
                        Item::Dir(h) => {
                            out.push(1);
                            out.extend_from_slice(h);
                        }
                    }
                }
            }
            Node::Bucket(b) => {
                out.push(KIND_BUCKET);
                b.position.encode(&mut out);
                let bitmap = b
                    .children
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.is_some())
                    .fold(0u16, |m, (i, _)| m | (1 << i));
                out.extend_from_slice(&bitmap.to_be_bytes());
                for c in b.children.iter().flatten() {
                    out.extend_from_slice(&c.node);
                    put_varint(&mut out, c.count);
                }
            }
        }
        Ok(out)
    }

    /// Decodes a listing or bucket. Never panics; rejects trailing bytes, other versions and
    /// kinds, bad names, unsorted or duplicate entries, more than 128 entries in a listing, an
    /// empty listing anywhere but the site root's top, names outside the listing's bucket, a
    /// bucket of 128 entries or fewer, and a bucket at the deepest depth.
    pub fn decode(bytes: &[u8]) -> Result<Node, ManifestError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("version")?;
        if version != MANIFEST_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                found: version,
                expected: MANIFEST_VERSION,
            }
            .into());
        }
        let node = match r.u8("kind")? {
            KIND_LEAF => Node::Leaf(decode_leaf(&mut r)?),
            KIND_BUCKET => Node::Bucket(Box::new(decode_bucket(&mut r)?)),
            found => {
                return Err(ManifestError::WrongKind {
                    expected: "1 (listing) or 2 (bucket)",
                    found,
                })
            }
        };
        r.finish()?;
        node.validate()?;
        Ok(node)
    }

    /// The rules of a single listing or bucket (the encoder's and the decoder's).
    fn validate(&self) -> Result<(), ManifestError> {
        check_dir(&self.position().dir)?;
        let pos = self.position();
        if pos.depth > MAX_DEPTH {
            return Err(DecodeError::OutOfRange { field: "depth" }.into());
        }
        let spare = (usize::from(pos.depth)..64).all(|i| nibble(&pos.prefix, i as u8) == 0);
        if !spare {
            return Err(ManifestError::PrefixPadding);
        }
        match self {
            Node::Leaf(l) => {
                if l.entries.len() > MAX_ENTRIES {
                    return Err(DecodeError::LengthTooLarge {
                        field: "count",
                        len: l.entries.len(),
                        max: MAX_ENTRIES,
                    }
                    .into());
                }
                if l.entries.is_empty() && !(pos.dir.is_empty() && pos.depth == 0) {
                    return Err(ManifestError::EmptyDirectory {
                        dir: pos.dir.clone(),
                    });
                }
                for (i, e) in l.entries.iter().enumerate() {
                    check_name("name", &e.name)?;
                    if i > 0 && l.entries[i - 1].name.as_bytes() >= e.name.as_bytes() {
                        return Err(DecodeError::NotSorted { field: "entries" }.into());
                    }
                    if pos.depth > 0 && !pos.holds(&sha256(e.name.as_bytes())) {
                        return Err(ManifestError::WrongBucket {
                            name: e.name.clone(),
                        });
                    }
                }
            }
            Node::Bucket(b) => {
                if pos.depth >= MAX_DEPTH {
                    return Err(DecodeError::OutOfRange { field: "depth" }.into());
                }
                if b.children.iter().all(Option::is_none) {
                    return Err(ManifestError::EmptyBucket);
                }
                if b.children.iter().flatten().any(|c| c.count == 0) {
                    return Err(DecodeError::OutOfRange { field: "count" }.into());
                }
                let total = b
                    .total()
                    .ok_or(DecodeError::OutOfRange { field: "count" })?;
                if total <= MAX_ENTRIES as u64 {
                    return Err(ManifestError::BucketTooSmall {
                        total,
                        max: MAX_ENTRIES,
                    });
                }
            }
        }
        Ok(())
    }
}

fn decode_leaf(r: &mut Reader<'_>) -> Result<Leaf, ManifestError> {
    let position = Position::decode(r)?;
    let count = r.varint("count")?;
    if count > MAX_ENTRIES as u64 {
        return Err(DecodeError::LengthTooLarge {
            field: "count",
            len: usize::try_from(count).unwrap_or(usize::MAX),
            max: MAX_ENTRIES,
        }
        .into());
    }
    let mut entries = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let name = r.text("name", MAX_NAME)?;
        let item = match r.u8("type")? {
            0 => {
                let size = r.varint("size")?;
                Item::File(FileMeta {
                    size,
                    sha256: r.array("sha256")?,
                })
            }
            1 => Item::Dir(r.array("node")?),
            value => return Err(ManifestError::InvalidEntryType { value }),
        };
        entries.push(Entry { name, item });
    }
    Ok(Leaf { position, entries })
}

fn decode_bucket(r: &mut Reader<'_>) -> Result<Bucket, ManifestError> {
    let position = Position::decode(r)?;
    let bitmap = r.u16("bitmap")?;
    let mut children = [None; FANOUT];
    for (i, slot) in children.iter_mut().enumerate() {
        if bitmap & (1 << i) != 0 {
            let node = r.array("node")?;
            let count = r.varint("count")?;
            *slot = Some(Child { node, count });
        }
    }
    Ok(Bucket { position, children })
}
