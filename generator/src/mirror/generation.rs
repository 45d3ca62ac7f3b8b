//! The mirror's two generations, as `build` keeps its output: the mirror `DIR`, served as it is,
//! and a spare beside it (`.DIR.spare`) holding the generation before. An update brings the
//! spare to the new generation (hard links to the unchanged files of `DIR` and to the verified
//! files of the partial store; the changed paths only) and exchanges the two directories in one
//! step (`site::output::publish`). Until that step `DIR` is not touched: killed or refused
//! anywhere before, `DIR` is byte for byte the previous mirror; after, it is the whole new one.
//!
//! The state file beside them (`.DIR.mirror-state`) says where the spare may differ from the
//! tree of `DIR`'s manifest: a set of paths, valid while `DIR`'s manifest root is one of those
//! it names. It is written before the spare is touched (naming every path the update will
//! touch, valid for the old root and the new), so a killed update leaves a spare whose
//! differences are known, and the next run fixes exactly those. Without a valid state the spare
//! is made again from nothing (every file linked).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use starmark_core::manifest::{
    self, node_of_path, node_path, FileMeta, Hash, Root, ROOT_PATH, SIGNATURE_PATH,
};
use starmark_core::to_hex;

use super::store::{Listings, Store};
use crate::site::output;

/// Version of the state file.
const STATE_VERSION: u32 = 1;

/// Where the spare may differ from the tree of the mirror's manifest.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    version: u32,
    /// The mirror manifest roots (hex SHA-256 of `manifest/root.bin`; `""` for no mirror yet)
    /// for which `paths` holds.
    roots: Vec<String>,
    /// Files in the manifest of each root, when known.
    files: BTreeMap<String, u64>,
    /// Site paths where the spare may differ.
    paths: BTreeSet<String>,
}

/// The mirror directory, its spare and the state file.
pub struct Generations {
    dir: PathBuf,
    spare: PathBuf,
    state: PathBuf,
}

/// The mirror's manifest root: its bytes and what they say.
pub struct Current {
    /// `manifest/root.bin` of the mirror.
    pub bytes: Vec<u8>,
    /// Decoded.
    pub root: Root,
}

impl Current {
    fn key(current: Option<&Current>) -> String {
        current.map_or_else(String::new, |c| to_hex(&manifest::sha256(&c.bytes)))
    }
}

/// The new generation, as an update found it.
pub struct Target<'p> {
    /// `manifest/root.bin`.
    pub root: &'p [u8],
    /// `manifest/root.sig`.
    pub signature: &'p [u8],
    /// Files whose content differs from the mirror's: the new size and SHA-256, `None` for a
    /// file removed. Every new content is in the store.
    pub changes: &'p BTreeMap<String, Option<FileMeta>>,
    /// Listings of the new tree the mirror's does not have (in the store).
    pub new_nodes: &'p HashSet<Hash>,
    /// Listings of the mirror's tree the new one does not have.
    pub gone_nodes: &'p HashSet<Hash>,
    /// Files of the new manifest.
    pub files: u64,
}

impl Target<'_> {
    fn key(&self) -> String {
        to_hex(&manifest::sha256(self.root))
    }

    /// Every path the update itself changes: its files, its listings, the root and signature.
    fn paths(&self) -> BTreeSet<String> {
        let mut p: BTreeSet<String> = self.changes.keys().cloned().collect();
        p.extend(self.new_nodes.iter().chain(self.gone_nodes).map(node_path));
        p.insert(ROOT_PATH.to_string());
        p.insert(SIGNATURE_PATH.to_string());
        p
    }
}

impl Generations {
    /// The generations of the mirror `dir`.
    pub fn new(dir: &Path) -> Generations {
        Generations {
            dir: dir.to_path_buf(),
            spare: output::sibling(dir, "spare"),
            state: output::sibling(dir, "mirror-state"),
        }
    }

    fn read_state(&self) -> Option<State> {
        let bytes = fs::read(&self.state).ok()?;
        serde_json::from_slice::<State>(&bytes)
            .ok()
            .filter(|s| s.version == STATE_VERSION)
    }

    fn write_state(&self, state: &State) -> Result<()> {
        crate::fsutil::write_atomic(&self.state, &serde_json::to_vec(state)?)
    }

    /// Files in the mirror's manifest, when a state file knows it.
    pub fn file_count(&self, current: Option<&Current>) -> Option<u64> {
        if current.is_none() {
            return Some(0);
        }
        self.read_state()?
            .files
            .get(&Current::key(current))
            .copied()
    }

    /// Brings the spare to the new generation. `listings` reads the mirror's listings.
    pub fn prepare(
        &self,
        current: Option<&Current>,
        target: &Target<'_>,
        store: &Store<'_>,
        listings: &mut Listings<'_>,
    ) -> Result<()> {
        let old_key = Current::key(current);
        let state = self
            .read_state()
            .filter(|s| s.roots.contains(&old_key) && self.spare.is_dir());
        // Where the spare may differ from the mirror's tree.
        let differ = match state {
            Some(s) => s.paths,
            None => self.fresh_spare(current, listings)?,
        };
        let mut touched = differ;
        touched.extend(target.paths());
        let mut files = BTreeMap::new();
        files.insert(target.key(), target.files);
        self.write_state(&State {
            version: STATE_VERSION,
            roots: vec![old_key, target.key()],
            files,
            paths: touched.clone(),
        })?;
        let touched: Vec<&String> = touched.iter().collect();
        touched
            .par_iter()
            .try_for_each(|p| self.place(p, current.is_some(), target, store))?;
        let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
        for p in &touched {
            let mut d = Path::new(p.as_str()).parent();
            while let Some(x) = d.filter(|x| !x.as_os_str().is_empty()) {
                dirs.insert(x.to_path_buf());
                d = x.parent();
            }
        }
        // Deepest first; a directory still holding files stays.
        for d in dirs.iter().rev() {
            let _ = fs::remove_dir(self.spare.join(d));
        }
        Ok(())
    }

    /// Exchanges the spare (the new generation) with the mirror, and records that the spare
    /// (now the previous generation) differs from it only where this update changed it. After a
    /// first mirror (no previous generation) the spare is made as a copy of the mirror in hard
    /// links, so that the next update changes only what changed.
    pub fn publish(
        &self,
        current: Option<&Current>,
        target: &Target<'_>,
        listings: &mut Listings<'_>,
    ) -> Result<()> {
        output::publish(&self.spare, &self.dir)?;
        let mut files = BTreeMap::new();
        files.insert(target.key(), target.files);
        if current.is_some() {
            return self.write_state(&State {
                version: STATE_VERSION,
                roots: vec![target.key()],
                files,
                paths: target.paths(),
            });
        }
        let now = Current {
            bytes: target.root.to_vec(),
            root: Root::decode(target.root)
                .with_context(|| format!("{}: damaged", self.dir.join(ROOT_PATH).display()))?,
        };
        let paths = self.fresh_spare(Some(&now), listings)?;
        let paths: Vec<&String> = paths.iter().collect();
        paths
            .par_iter()
            .try_for_each(|p| link(&self.dir.join(p.as_str()), &self.spare, p))?;
        self.write_state(&State {
            version: STATE_VERSION,
            roots: vec![target.key()],
            files,
            paths: BTreeSet::new(),
        })
    }

    /// Makes the spare an empty directory; every file of the mirror's tree then differs.
    fn fresh_spare(
        &self,
        current: Option<&Current>,
        listings: &mut Listings<'_>,
    ) -> Result<BTreeSet<String>> {
        let _ = output::remove_if_there(&self.state);
        output::clear_dir(&self.spare)?;
        let Some(c) = current else {
            return Ok(BTreeSet::new());
        };
        let all = manifest::files(&c.root, listings).map_err(|e| {
            anyhow::anyhow!("{}: the mirror's own manifest: {e}", self.dir.display())
        })?;
        let mut paths: BTreeSet<String> = all.nodes.iter().map(node_path).collect();
        paths.insert(ROOT_PATH.to_string());
        paths.insert(SIGNATURE_PATH.to_string());
        paths.extend(all.files.into_iter().map(|f| f.path));
        Ok(paths)
    }

    /// Makes `rel` in the spare what the new generation has there.
    fn place(
        &self,
        rel: &str,
        has_mirror: bool,
        target: &Target<'_>,
        store: &Store<'_>,
    ) -> Result<()> {
        let to = self.spare.join(rel);
        if rel == ROOT_PATH || rel == SIGNATURE_PATH {
            let bytes = if rel == ROOT_PATH {
                target.root
            } else {
                target.signature
            };
            ensure_parent(&self.spare, rel)?;
            return crate::fsutil::write_atomic(&to, bytes);
        }
        // The mirror holds exactly its tree: a path the update does not change is what the
        // mirror has there.
        let in_mirror = || Some(self.dir.join(rel)).filter(|p| has_mirror && p.is_file());
        let from: Option<PathBuf> = if let Some(h) = node_of_path(rel) {
            if target.new_nodes.contains(&h) {
                Some(store.path_of(&h))
            } else if target.gone_nodes.contains(&h) {
                None
            } else {
                in_mirror()
            }
        } else {
            match target.changes.get(rel) {
                Some(Some(meta)) => Some(store.path_of(&meta.sha256)),
                Some(None) => None,
                None => in_mirror(),
            }
        };
        match from {
            Some(from) => link(&from, &self.spare, rel),
            None => remove(&to),
        }
    }
}

/// Makes the directories above `rel` in `root`, removing a file that stands where one must be.
fn ensure_parent(root: &Path, rel: &str) -> Result<()> {
    let Some(parent) = Path::new(rel)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    else {
        return Ok(());
    };
    let full = root.join(parent);
    if fs::create_dir_all(&full).is_ok() {
        return Ok(());
    }
    let mut at = root.to_path_buf();
    for c in parent.components() {
        at.push(c);
        if fs::symlink_metadata(&at).is_ok_and(|m| !m.is_dir()) {
            output::remove_if_there(&at)?;
        }
    }
    fs::create_dir_all(&full).with_context(|| format!("{}: cannot create", full.display()))
}

/// Hard-links `from` to `rel` in `root` (copies where it cannot link), unless it is that file
/// already. Never writes into an existing file: it may be shared with the mirror.
fn link(from: &Path, root: &Path, rel: &str) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let to = root.join(rel);
    let src = fs::metadata(from).with_context(|| format!("{}: cannot read", from.display()))?;
    match fs::symlink_metadata(&to) {
        Ok(m) if m.is_file() && m.ino() == src.ino() && m.dev() == src.dev() => return Ok(()),
        Ok(m) if m.is_dir() => {
            fs::remove_dir_all(&to).with_context(|| format!("{}: cannot remove", to.display()))?
        }
        Ok(_) => output::remove_if_there(&to)?,
        Err(_) => ensure_parent(root, rel)?,
    }
    if fs::hard_link(from, &to).is_err() {
        let tmp = to.with_file_name(format!(
            ".{}.copy",
            to.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        ));
        fs::copy(from, &tmp)
            .with_context(|| format!("{}: cannot copy to {}", from.display(), tmp.display()))?;
        fs::rename(&tmp, &to).with_context(|| format!("{}: cannot replace", to.display()))?;
    }
    Ok(())
}

fn remove(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => output::remove_if_there(path),
        Err(_) => Ok(()),
    }
}
