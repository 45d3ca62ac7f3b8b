//! Making a manifest tree: from a list of files ([`build`]), or from an earlier tree and the
//! files that changed ([`update`]), re-encoding only the listings on the way from a changed file
//! to the root. The tree is a function of the files alone, so both give the same bytes.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

use super::node::{check_name, nibble};
use super::walk::{fetch, join, WalkError, Want};
use super::{
    sha256, Bucket, Child, Entry, FileMeta, Hash, Item, Leaf, Node, Position, Source, FANOUT,
    MAX_ENTRIES,
};
use crate::error::ManifestError;

/// What [`build`] or [`update`] made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Built {
    /// The hash of the site root directory's listing: [`super::Root::tree`].
    pub tree: Hash,
    /// The listings and buckets that are new in this tree, with their bytes, sorted by hash.
    pub nodes: Vec<(Hash, Vec<u8>)>,
    /// The listings and buckets of the earlier tree that this one no longer has, sorted.
    pub gone: Vec<Hash>,
}

/// The tree of these files (paths are names joined by `/`; a path given twice counts once, the
/// last time). Fails on a path that is not names joined by `/`, and on a path that is both a
/// file and a directory.
pub fn build(files: impl IntoIterator<Item = (String, FileMeta)>) -> Result<Built, ManifestError> {
    // Without an earlier tree nothing is ever fetched.
    let mut nothing =
        super::FnSource(|_: &Hash| Ok::<Vec<u8>, core::convert::Infallible>(Vec::new()));
    update(
        None,
        files.into_iter().map(|(p, m)| (p, Some(m))),
        &mut nothing,
    )
    .map_err(|e| match e {
        WalkError::Tree(e) | WalkError::Invalid { error: e, .. } => e,
        WalkError::Fetch { error, .. } => match error {},
    })
}

/// The tree `base` (the hash of a site root's listing; `None`: an empty site) with these
/// changes: a path with `Some(file)` is set (added or changed), with `None` removed. Only the
/// listings on the way from a changed path to the root are fetched from `source`, checked like
/// any walk, and re-encoded. Fails on a bad path, on a path that would be both a file and a
/// directory, and on removing a path that is not a file of the tree.
pub fn update<S: Source>(
    base: Option<&Hash>,
    changes: impl IntoIterator<Item = (String, Option<FileMeta>)>,
    source: &mut S,
) -> Result<Built, WalkError<S::Error>> {
    let mut dirs: BTreeMap<String, Vec<Op>> = BTreeMap::new();
    let mut removed_files = BTreeSet::new();
    for (path, file) in changes {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        let valid = path.split('/').all(|n| check_name("name", n).is_ok());
        if !valid {
            return Err(WalkError::Tree(ManifestError::InvalidPath { path }));
        }
        let op = Op {
            name_hash: sha256(name.as_bytes()),
            name: String::from(name),
            kind: file.map_or(Kind::RemoveFile, Kind::SetFile),
        };
        dirs.entry(String::from(dir)).or_default().push(op);
        if file.is_none() {
            removed_files.insert(path);
        }
    }
    let mut editor = Editor {
        source,
        base: base.copied(),
        loaded: BTreeMap::new(),
        made: BTreeMap::new(),
        gone: BTreeSet::new(),
        emptied: BTreeSet::new(),
        replaced: BTreeSet::new(),
        removed_files,
    };
    match base {
        Some(b) if dirs.is_empty() => {
            return Ok(Built {
                tree: *b,
                ..Built::default()
            })
        }
        _ => {
            dirs.entry(String::new()).or_default();
        }
    }
    // Every ancestor of a changed directory gets its new listing hash.
    let changed: Vec<String> = dirs.keys().cloned().collect();
    for d in changed {
        let mut d = d.as_str();
        while let Some((parent, _)) = d.rsplit_once('/') {
            dirs.entry(String::from(parent)).or_default();
            d = parent;
        }
        dirs.entry(String::new()).or_default();
    }
    // Deepest directories first, so a parent sees its children's new hashes.
    let mut order: Vec<String> = dirs.keys().cloned().collect();
    order.sort_by_key(|d| core::cmp::Reverse(depth_of(d)));
    let mut tree = None;
    for dir in order {
        let ops = dirs.remove(&dir).unwrap_or_default();
        let old = editor.find_dir(&dir)?;
        let existed = old.is_some();
        let result = editor.edit(Position::top(&dir), old, ops)?;
        if dir.is_empty() {
            tree = Some(match result {
                Some(c) => c.node,
                None => editor
                    .make(Position::top(""), Vec::new())?
                    .map_or([0; 32], |c| c.node),
            });
            continue;
        }
        let (parent, name) = dir.rsplit_once('/').unwrap_or(("", dir.as_str()));
        let kind = match (result, existed) {
            (Some(c), _) => Kind::SetDir(c.node),
            (None, true) => {
                editor.emptied.insert(dir.clone());
                Kind::RemoveDir
            }
            (None, false) => continue,
        };
        let ops = dirs.entry(String::from(parent)).or_default();
        match ops.iter_mut().find(|o| o.name == name) {
            None => ops.push(Op {
                name_hash: sha256(name.as_bytes()),
                name: String::from(name),
                kind,
            }),
            // A directory emptied here gives way to a file of its name...
            Some(Op {
                kind: Kind::SetFile(_),
                ..
            }) if matches!(kind, Kind::RemoveDir) => {}
            // ...and a file removed here to a directory.
            Some(
                op @ Op {
                    kind: Kind::RemoveFile,
                    ..
                },
            ) if matches!(kind, Kind::SetDir(_)) => {
                op.kind = kind;
                editor.replaced.insert(dir);
            }
            Some(_) => return Err(WalkError::Tree(ManifestError::PathConflict { path: dir })),
        }
    }
    let tree = tree.unwrap_or([0; 32]);
    let gone: Vec<Hash> = editor
        .gone
        .iter()
        .filter(|h| !editor.made.contains_key(*h))
        .copied()
        .collect();
    Ok(Built {
        tree,
        nodes: editor.made.into_iter().collect(),
        gone,
    })
}

fn depth_of(dir: &str) -> usize {
    if dir.is_empty() {
        0
    } else {
        dir.matches('/').count() + 1
    }
}

/// One change to a directory's entries.
struct Op {
    name: String,
    name_hash: Hash,
    kind: Kind,
}

enum Kind {
    SetFile(FileMeta),
    RemoveFile,
    SetDir(Hash),
    RemoveDir,
}

/// An entry with the SHA-256 of its name (which decides its bucket).
type Hashed = (Entry, Hash);

struct Editor<'s, S: Source> {
    source: &'s mut S,
    base: Option<Hash>,
    /// Listings of the earlier tree read so far, checked.
    loaded: BTreeMap<Hash, Node>,
    /// Listings made, with their bytes.
    made: BTreeMap<Hash, Vec<u8>>,
    /// Listings of the earlier tree replaced.
    gone: BTreeSet<Hash>,
    /// Directories of the earlier tree that this update empties.
    emptied: BTreeSet<String>,
    /// Files of the earlier tree that this update replaces with a directory.
    replaced: BTreeSet<String>,
    /// Paths this update removes.
    removed_files: BTreeSet<String>,
}

impl<S: Source> Editor<'_, S> {
    /// A listing, made here or from the earlier tree (fetched once, checked).
    fn load(&mut self, want: Want) -> Result<Node, WalkError<S::Error>> {
        if let Some(n) = self.loaded.get(&want.hash) {
            return Ok(n.clone());
        }
        if let Some(bytes) = self.made.get(&want.hash) {
            return Node::decode(bytes).map_err(|error| WalkError::Invalid {
                node: want.hash,
                dir: want.pos.dir.clone(),
                error,
            });
        }
        let hash = want.hash;
        let node = fetch(self.source, core::slice::from_ref(&want))?
            .into_iter()
            .next()
            .ok_or(WalkError::Tree(ManifestError::EmptyDirectory {
                dir: want.pos.dir.clone(),
            }))?;
        self.loaded.insert(hash, node.clone());
        Ok(node)
    }

    /// The top listing of `dir` in the earlier tree, if it has that directory.
    fn find_dir(&mut self, dir: &str) -> Result<Option<Want>, WalkError<S::Error>> {
        let Some(base) = self.base else {
            return Ok(None);
        };
        let mut want = Want {
            hash: base,
            pos: Position::top(""),
            count: None,
        };
        if dir.is_empty() {
            return Ok(Some(want));
        }
        let names: Vec<&str> = dir.split('/').collect();
        for (i, name) in names.iter().enumerate() {
            let name_hash = sha256(name.as_bytes());
            let item = loop {
                match self.load(want.clone())? {
                    Node::Bucket(b) => {
                        let n = nibble(&name_hash, b.position.depth);
                        let (Some(c), Some(pos)) =
                            (b.children[usize::from(n)], b.position.child(n))
                        else {
                            return Ok(None);
                        };
                        want = Want {
                            hash: c.node,
                            pos,
                            count: Some(c.count),
                        };
                    }
                    Node::Leaf(l) => {
                        match l
                            .entries
                            .binary_search_by(|e| e.name.as_bytes().cmp(name.as_bytes()))
                        {
                            Ok(at) => break l.entries[at].item,
                            Err(_) => return Ok(None),
                        }
                    }
                }
            };
            let path = names[..=i].join("/");
            match item {
                Item::Dir(h) => {
                    want = Want {
                        hash: h,
                        pos: Position::top(&path),
                        count: None,
                    }
                }
                // A file that this update removes: the directory is new.
                Item::File(_) if self.removed_files.contains(&path) => return Ok(None),
                Item::File(_) => {
                    return Err(WalkError::Tree(ManifestError::PathConflict { path }));
                }
            }
        }
        Ok(Some(want))
    }

    /// The node at `pos` after `ops`, from the earlier node `old` there; `None` when empty.
    fn edit(
        &mut self,
        pos: Position,
        old: Option<Want>,
        ops: Vec<Op>,
    ) -> Result<Option<Child>, WalkError<S::Error>> {
        let Some(old) = old else {
            let entries = self.apply(&pos, Vec::new(), ops)?;
            return self.make(pos, entries);
        };
        let old_hash = old.hash;
        match self.load(old)? {
            Node::Leaf(l) => {
                let entries = self.apply(&pos, l.entries, ops)?;
                let made = self.make(pos, entries)?;
                if made.map(|c| c.node) == Some(old_hash) {
                    self.made.remove(&old_hash);
                } else {
                    self.gone.insert(old_hash);
                }
                Ok(made)
            }
            Node::Bucket(b) => {
                let mut groups: [Vec<Op>; FANOUT] = Default::default();
                for op in ops {
                    groups[usize::from(nibble(&op.name_hash, pos.depth))].push(op);
                }
                let mut children = b.children;
                for (i, group) in groups.into_iter().enumerate() {
                    if group.is_empty() {
                        continue;
                    }
                    let Some(child_pos) = pos.child(i as u8) else {
                        continue;
                    };
                    let old_child = children[i].map(|c| Want {
                        hash: c.node,
                        pos: child_pos.clone(),
                        count: Some(c.count),
                    });
                    children[i] = self.edit(child_pos, old_child, group)?;
                }
                if children == b.children {
                    return Ok(Some(Child {
                        node: old_hash,
                        count: b.total().unwrap_or(0),
                    }));
                }
                self.gone.insert(old_hash);
                let total: u64 = children.iter().flatten().map(|c| c.count).sum();
                if total == 0 {
                    return Ok(None);
                }
                if total > MAX_ENTRIES as u64 {
                    return self.store(
                        Node::Bucket(Box::new(Bucket {
                            position: pos,
                            children,
                        })),
                        total,
                    );
                }
                // Few enough entries for one listing again.
                let mut entries = Vec::new();
                for (i, c) in children.iter().enumerate() {
                    if let (Some(c), Some(p)) = (c, pos.child(i as u8)) {
                        self.gather(c.node, p, &mut entries)?;
                    }
                }
                entries.sort_unstable_by(|a, b| a.0.name.as_bytes().cmp(b.0.name.as_bytes()));
                self.make(pos, entries)
            }
        }
    }

    /// The entries under a node that is being merged into one listing; the node is dropped.
    fn gather(
        &mut self,
        hash: Hash,
        pos: Position,
        into: &mut Vec<Hashed>,
    ) -> Result<(), WalkError<S::Error>> {
        let node = self.load(Want {
            hash,
            pos: pos.clone(),
            count: None,
        })?;
        if self.made.remove(&hash).is_none() {
            self.gone.insert(hash);
        }
        match node {
            Node::Leaf(l) => {
                into.extend(l.entries.into_iter().map(|e| {
                    let h = sha256(e.name.as_bytes());
                    (e, h)
                }));
            }
            Node::Bucket(b) => {
                for (i, c) in b.children.iter().enumerate() {
                    if let (Some(c), Some(p)) = (c, pos.child(i as u8)) {
                        self.gather(c.node, p, into)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A directory level's entries after the changes, sorted by name.
    fn apply(
        &self,
        pos: &Position,
        old: Vec<Entry>,
        mut ops: Vec<Op>,
    ) -> Result<Vec<Hashed>, WalkError<S::Error>> {
        // Stable: of a name given twice, the later change is applied last.
        ops.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        let mut out: Vec<Hashed> = Vec::with_capacity(old.len() + ops.len());
        let mut old = old.into_iter().peekable();
        let mut ops = ops.into_iter().peekable();
        loop {
            let take_old = match (old.peek(), ops.peek()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(e), Some(op)) => e.name.as_bytes() < op.name.as_bytes(),
            };
            if take_old {
                if let Some(e) = old.next() {
                    let h = sha256(e.name.as_bytes());
                    out.push((e, h));
                }
                continue;
            }
            let Some(op) = ops.next() else { break };
            // The entry this op changes: the old one, or what an earlier op of the name made.
            let current: Option<Item> = match out.last() {
                Some((e, _)) if e.name == op.name => out.pop().map(|(e, _)| e.item),
                _ => match old.peek() {
                    Some(e) if e.name == op.name => old.next().map(|e| e.item),
                    _ => None,
                },
            };
            let path = || join(&pos.dir, &op.name);
            let item = match (op.kind, current) {
                (Kind::SetFile(_), Some(Item::Dir(_))) if !self.emptied.contains(&path()) => {
                    return Err(WalkError::Tree(ManifestError::PathConflict {
                        path: path(),
                    }));
                }
                (Kind::SetFile(m), _) => Some(Item::File(m)),
                (Kind::RemoveFile, Some(Item::File(_))) => None,
                (Kind::RemoveFile, _) => {
                    return Err(WalkError::Tree(ManifestError::NotAFile { path: path() }));
                }
                (Kind::SetDir(_), Some(Item::File(_))) if !self.replaced.contains(&path()) => {
                    return Err(WalkError::Tree(ManifestError::PathConflict {
                        path: path(),
                    }));
                }
                (Kind::SetDir(h), _) => Some(Item::Dir(h)),
                (Kind::RemoveDir, _) => None,
            };
            if let Some(item) = item {
                out.push((
                    Entry {
                        name: op.name,
                        item,
                    },
                    op.name_hash,
                ));
            }
        }
        Ok(out)
    }

    /// Encodes the node for these entries at `pos` (a listing, or a bucket of listings when
    /// there are more than [`MAX_ENTRIES`]); `None` when there are none, except for the site
    /// root, which is an empty listing.
    fn make(
        &mut self,
        pos: Position,
        entries: Vec<Hashed>,
    ) -> Result<Option<Child>, WalkError<S::Error>> {
        let count = entries.len() as u64;
        if entries.is_empty() && !(pos.dir.is_empty() && pos.depth == 0) {
            return Ok(None);
        }
        if entries.len() <= MAX_ENTRIES {
            let leaf = Leaf {
                position: pos,
                entries: entries.into_iter().map(|(e, _)| e).collect(),
            };
            return self.store(Node::Leaf(leaf), count);
        }
        if pos.child(0).is_none() {
            return Err(WalkError::Tree(ManifestError::TooDeep { dir: pos.dir }));
        }
        let mut groups: [Vec<Hashed>; FANOUT] = Default::default();
        for e in entries {
            groups[usize::from(nibble(&e.1, pos.depth))].push(e);
        }
        let mut children = [None; FANOUT];
        for (i, group) in groups.into_iter().enumerate() {
            if let Some(child_pos) = pos.child(i as u8) {
                children[i] = self.make(child_pos, group)?;
            }
        }
        self.store(
            Node::Bucket(Box::new(Bucket {
                position: pos,
                children,
            })),
            count,
        )
    }

    fn store(&mut self, node: Node, count: u64) -> Result<Option<Child>, WalkError<S::Error>> {
        let bytes = node.encode().map_err(|error| WalkError::Invalid {
            node: [0; 32],
            dir: node.position().dir.clone(),
            error,
        })?;
        let hash = sha256(&bytes);
        self.made.insert(hash, bytes);
        Ok(Some(Child { node: hash, count }))
    }
}
