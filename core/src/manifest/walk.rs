//! Reading a manifest tree: every file ([`files`]), what changed between two roots ([`diff`]),
//! one path ([`lookup`]). Each listing is fetched by its hash, checked against it, decoded and
//! checked against the position it was reached at and the count its parent bucket gives, so a
//! walk that returns `Ok` read only listings that belong exactly where they were found. Listings
//! are fetched a level of the tree at a time ([`Source::get_many`]).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::lookup::lookup;
use super::{
    node_path, sha256, Entry, FileEntry, FileMeta, Hash, Item, Node, Position, Root, Source,
    CHECKPOINT_PATH, MAX_NODE_BYTES,
};
use crate::error::{DecodeError, ManifestError};
use crate::wire::to_hex;

/// Why a walk stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalkError<E> {
    /// The source could not give a listing.
    Fetch {
        /// The listing's hash.
        node: Hash,
        /// The directory it lists.
        dir: String,
        /// The source's error.
        error: E,
    },
    /// A listing is malformed or does not belong where it was found.
    Invalid {
        /// The listing's hash.
        node: Hash,
        /// The directory it lists.
        dir: String,
        /// What is wrong.
        error: ManifestError,
    },
    /// The tree as a whole breaks a rule (the checkpoint tie, a path given to the builder).
    Tree(ManifestError),
}

impl<E: fmt::Display> fmt::Display for WalkError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalkError::Fetch { node, dir, error } => write!(
                f,
                "{} (listing of directory {:?}): cannot fetch: {error}",
                node_path(node),
                shown(dir)
            ),
            WalkError::Invalid { node, dir, error } => write!(
                f,
                "{} (listing of directory {:?}): {error}",
                node_path(node),
                shown(dir)
            ),
            WalkError::Tree(e) => write!(f, "{e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for WalkError<E> {}

fn shown(dir: &str) -> &str {
    if dir.is_empty() {
        "/"
    } else {
        dir
    }
}

/// Every file of a manifest, and the listings it is made of.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contents {
    /// The files, sorted by path (bytes).
    pub files: Vec<FileEntry>,
    /// Every listing and bucket of the tree, the site root's first.
    pub nodes: Vec<Hash>,
}

/// A file whose size or SHA-256 changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed {
    /// The path.
    pub path: String,
    /// Before.
    pub old: FileMeta,
    /// After.
    pub new: FileMeta,
}

/// What changed from one manifest to another.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Files only in the new manifest, sorted by path.
    pub added: Vec<FileEntry>,
    /// Files only in the old manifest, sorted by path.
    pub removed: Vec<FileEntry>,
    /// Files in both whose size or SHA-256 differs, sorted by path.
    pub changed: Vec<Changed>,
    /// Listings of the new tree that the old one does not have (all that were fetched for it).
    pub new_nodes: Vec<Hash>,
    /// Listings of the old tree that the new one does not have.
    pub gone_nodes: Vec<Hash>,
}

/// A path in a directory.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        String::from(name)
    } else {
        alloc::format!("{dir}/{name}")
    }
}

/// A listing to fetch: its hash, where it must sit, and the count its parent bucket gives.
#[derive(Clone)]
pub(crate) struct Want {
    pub(crate) hash: Hash,
    pub(crate) pos: Position,
    pub(crate) count: Option<u64>,
}

/// Fetches listings, checks each against its hash, size limit, position and count.
pub(crate) fn fetch<S: Source>(
    source: &mut S,
    wants: &[Want],
) -> Result<Vec<Node>, WalkError<S::Error>> {
    let hashes: Vec<Hash> = wants.iter().map(|w| w.hash).collect();
    let got = source.get_many(&hashes);
    let mut nodes = Vec::with_capacity(wants.len());
    for (want, bytes) in wants.iter().zip(got) {
        let bytes = bytes.map_err(|error| WalkError::Fetch {
            node: want.hash,
            dir: want.pos.dir.clone(),
            error,
        })?;
        nodes.push(check(want, &bytes).map_err(|error| WalkError::Invalid {
            node: want.hash,
            dir: want.pos.dir.clone(),
            error,
        })?);
    }
    if nodes.len() != wants.len() {
        // A source that answered fewer listings than asked.
        let missing = &wants[nodes.len()];
        return Err(WalkError::Invalid {
            node: missing.hash,
            dir: missing.pos.dir.clone(),
            error: DecodeError::Truncated { field: "listing" }.into(),
        });
    }
    Ok(nodes)
}

fn check(want: &Want, bytes: &[u8]) -> Result<Node, ManifestError> {
    if bytes.len() > MAX_NODE_BYTES {
        return Err(DecodeError::LengthTooLarge {
            field: "listing",
            len: bytes.len(),
            max: MAX_NODE_BYTES,
        }
        .into());
    }
    let found = sha256(bytes);
    if found != want.hash {
        return Err(ManifestError::HashMismatch {
            expected: to_hex(&want.hash),
            found: to_hex(&found),
        });
    }
    let node = Node::decode(bytes)?;
    let at = node.position();
    if at.dir != want.pos.dir || at.depth != want.pos.depth {
        return Err(ManifestError::WrongPosition {
            dir: want.pos.dir.clone(),
            depth: want.pos.depth,
            found_dir: at.dir.clone(),
            found_depth: at.depth,
        });
    }
    if at.prefix != want.pos.prefix {
        return Err(ManifestError::WrongPrefix {
            dir: want.pos.dir.clone(),
        });
    }
    if let Some(stated) = want.count {
        if node.count() != stated {
            return Err(ManifestError::CountMismatch {
                stated,
                found: node.count(),
            });
        }
    }
    Ok(node)
}

/// The listings a node points to: a bucket's children, a listing's subdirectories.
fn children(node: &Node, into: &mut Vec<Want>) {
    match node {
        Node::Bucket(b) => {
            for (i, c) in b.children.iter().enumerate() {
                if let (Some(c), Some(pos)) = (c, b.position.child(i as u8)) {
                    into.push(Want {
                        hash: c.node,
                        pos,
                        count: Some(c.count),
                    });
                }
            }
        }
        Node::Leaf(l) => {
            for e in &l.entries {
                if let Item::Dir(h) = e.item {
                    into.push(Want {
                        hash: h,
                        pos: Position::top(&join(&l.position.dir, &e.name)),
                        count: None,
                    });
                }
            }
        }
    }
}

/// Every file of the manifest, each listing checked, and the tie to the log checkpoint: the
/// tree holds `log/checkpoint` exactly when the root names a checkpoint, with that SHA-256.
pub fn files<S: Source>(root: &Root, source: &mut S) -> Result<Contents, WalkError<S::Error>> {
    let mut out = Contents::default();
    let mut frontier = alloc::vec![Want {
        hash: root.tree,
        pos: Position::top(""),
        count: None,
    }];
    while !frontier.is_empty() {
        let nodes = fetch(source, &frontier)?;
        let mut next = Vec::new();
        for (want, node) in frontier.iter().zip(&nodes) {
            out.nodes.push(want.hash);
            if let Node::Leaf(l) = node {
                for e in &l.entries {
                    if let Item::File(meta) = e.item {
                        out.files.push(FileEntry {
                            path: join(&l.position.dir, &e.name),
                            meta,
                        });
                    }
                }
            }
            children(node, &mut next);
        }
        frontier = next;
    }
    out.files
        .sort_unstable_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    let checkpoint = out
        .files
        .binary_search_by(|f| f.path.as_bytes().cmp(CHECKPOINT_PATH.as_bytes()))
        .ok()
        .and_then(|i| out.files.get(i))
        .map(|f| f.meta);
    check_checkpoint(root, checkpoint).map_err(WalkError::Tree)?;
    Ok(out)
}

/// The tie between the root and the tree's `log/checkpoint`.
fn check_checkpoint(root: &Root, file: Option<FileMeta>) -> Result<(), ManifestError> {
    match (root.checkpoint, file) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(ManifestError::CheckpointMissing),
        (None, Some(_)) => Err(ManifestError::CheckpointUndeclared),
        (Some(expected), Some(f)) if f.sha256 != expected => {
            Err(ManifestError::CheckpointMismatch {
                expected: to_hex(&expected),
                found: to_hex(&f.sha256),
            })
        }
        (Some(_), Some(_)) => Ok(()),
    }
}

/// What to compare or list in [`diff`].
enum Task {
    /// The same position in both trees, with different hashes.
    Both { old: Want, new: Want },
    /// A subtree only in the new tree.
    Added(Want),
    /// A subtree only in the old tree.
    Removed(Want),
}

/// What changed from the manifest `old` to `new`, fetching only the listings whose hash differs
/// (and, where a directory crossed the size of one listing, that directory's other listings).
/// Every fetched listing is checked; the old tree is taken as checked before. The new root's tie
/// to its checkpoint is checked.
pub fn diff<S: Source>(
    old: &Root,
    new: &Root,
    source: &mut S,
) -> Result<Diff, WalkError<S::Error>> {
    let mut d = Diff::default();
    let mut frontier = Vec::new();
    if old.tree != new.tree {
        frontier.push(Task::Both {
            old: Want {
                hash: old.tree,
                pos: Position::top(""),
                count: None,
            },
            new: Want {
                hash: new.tree,
                pos: Position::top(""),
                count: None,
            },
        });
    }
    while !frontier.is_empty() {
        let mut wants = Vec::new();
        for t in &frontier {
            match t {
                Task::Both { old, new } => {
                    wants.push(old.clone());
                    wants.push(new.clone());
                }
                Task::Added(w) | Task::Removed(w) => wants.push(w.clone()),
            }
        }
        let mut nodes = fetch(source, &wants)?.into_iter();
        let mut next = Vec::new();
        for task in frontier {
            match task {
                Task::Both { old, new } => {
                    let (Some(a), Some(b)) = (nodes.next(), nodes.next()) else {
                        break;
                    };
                    d.gone_nodes.push(old.hash);
                    d.new_nodes.push(new.hash);
                    compare(&mut d, &mut next, source, a, (new.hash, b))?;
                }
                Task::Added(w) => {
                    let Some(node) = nodes.next() else { break };
                    d.new_nodes.push(w.hash);
                    list(&node, &mut d.added, &mut next, Task::Added);
                }
                Task::Removed(w) => {
                    let Some(node) = nodes.next() else { break };
                    d.gone_nodes.push(w.hash);
                    list(&node, &mut d.removed, &mut next, Task::Removed);
                }
            }
        }
        frontier = next;
    }
    d.added
        .sort_unstable_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    d.removed
        .sort_unstable_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    d.changed
        .sort_unstable_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    let checkpoint = lookup(&new.tree, CHECKPOINT_PATH, source)?;
    check_checkpoint(new, checkpoint).map_err(WalkError::Tree)?;
    Ok(d)
}

/// The files of a node of a subtree that is all added (or all removed), and its children.
fn list(node: &Node, files: &mut Vec<FileEntry>, next: &mut Vec<Task>, task: fn(Want) -> Task) {
    if let Node::Leaf(l) = node {
        for e in &l.entries {
            if let Item::File(meta) = e.item {
                files.push(FileEntry {
                    path: join(&l.position.dir, &e.name),
                    meta,
                });
            }
        }
    }
    let mut wants = Vec::new();
    children(node, &mut wants);
    next.extend(wants.into_iter().map(task));
}

/// Compares the nodes at one position of the two trees.
fn compare<S: Source>(
    d: &mut Diff,
    next: &mut Vec<Task>,
    source: &mut S,
    old: Node,
    (new_hash, new): (Hash, Node),
) -> Result<(), WalkError<S::Error>> {
    match (old, new) {
        (Node::Bucket(a), Node::Bucket(b)) => {
            for i in 0..16u8 {
                let Some(pos) = b.position.child(i) else {
                    continue;
                };
                let want = |c: super::Child| Want {
                    hash: c.node,
                    pos: pos.clone(),
                    count: Some(c.count),
                };
                match (a.children[usize::from(i)], b.children[usize::from(i)]) {
                    (Some(x), Some(y)) if x.node == y.node => {
                        if x.count != y.count {
                            return Err(WalkError::Invalid {
                                node: new_hash,
                                dir: pos.dir.clone(),
                                error: ManifestError::CountMismatch {
                                    stated: y.count,
                                    found: x.count,
                                },
                            });
                        }
                    }
                    (Some(x), Some(y)) => next.push(Task::Both {
                        old: want(x),
                        new: want(y),
                    }),
                    (Some(x), None) => next.push(Task::Removed(want(x))),
                    (None, Some(y)) => next.push(Task::Added(want(y))),
                    (None, None) => {}
                }
            }
            Ok(())
        }
        (a, b) => {
            let dir = b.position().dir.clone();
            let old_entries = level(source, a, &mut d.gone_nodes)?;
            let new_entries = level(source, b, &mut d.new_nodes)?;
            merge(d, next, &dir, old_entries, new_entries);
            Ok(())
        }
    }
}

/// Every entry at one directory level under a node (a listing's entries, or all the entries of
/// a bucket's listings), sorted by name; the listings fetched below it are added to `nodes`.
fn level<S: Source>(
    source: &mut S,
    node: Node,
    nodes: &mut Vec<Hash>,
) -> Result<Vec<Entry>, WalkError<S::Error>> {
    let mut entries = Vec::new();
    let mut frontier = alloc::vec![node];
    while !frontier.is_empty() {
        let mut wants = Vec::new();
        for node in frontier {
            match node {
                Node::Leaf(l) => entries.extend(l.entries),
                b @ Node::Bucket(_) => children(&b, &mut wants),
            }
        }
        nodes.extend(wants.iter().map(|w| w.hash));
        frontier = if wants.is_empty() {
            Vec::new()
        } else {
            fetch(source, &wants)?
        };
    }
    entries.sort_unstable_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    Ok(entries)
}

/// Compares two sorted entry lists of the directory `dir`.
fn merge(d: &mut Diff, next: &mut Vec<Task>, dir: &str, old: Vec<Entry>, new: Vec<Entry>) {
    let mut by_name: BTreeMap<String, (Option<Item>, Option<Item>)> = BTreeMap::new();
    for e in old {
        by_name.entry(e.name).or_default().0 = Some(e.item);
    }
    for e in new {
        by_name.entry(e.name).or_default().1 = Some(e.item);
    }
    for (name, (a, b)) in by_name {
        let path = join(dir, &name);
        let top = |h: Hash| Want {
            hash: h,
            pos: Position::top(&path),
            count: None,
        };
        match (a, b) {
            (Some(Item::File(x)), Some(Item::File(y))) => {
                if x != y {
                    d.changed.push(Changed {
                        path: path.clone(),
                        old: x,
                        new: y,
                    });
                }
            }
            (Some(Item::Dir(x)), Some(Item::Dir(y))) => {
                if x != y {
                    next.push(Task::Both {
                        old: top(x),
                        new: top(y),
                    });
                }
            }
            (a, b) => {
                match a {
                    Some(Item::File(meta)) => d.removed.push(FileEntry {
                        path: path.clone(),
                        meta,
                    }),
                    Some(Item::Dir(h)) => next.push(Task::Removed(top(h))),
                    None => {}
                }
                match b {
                    Some(Item::File(meta)) => d.added.push(FileEntry {
                        path: path.clone(),
                        meta,
                    }),
                    Some(Item::Dir(h)) => next.push(Task::Added(top(h))),
                    None => {}
                }
            }
        }
    }
}
