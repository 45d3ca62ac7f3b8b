//! The manifest of a build (format: `starmark_core::manifest`, docs/FORMAT.md section 11).
//!
//! The spare generation keeps the manifest of what it held: its listings are files in it. A
//! build brings that tree up to date with the files it changed in the spare: the rendered ones,
//! hashed from the bytes in memory as they are written; the ones linked from the published
//! generation, whose size and SHA-256 its manifest holds; and the ones removed. Only the
//! listings on the way from a changed file to the root are written, and those they replace are
//! removed; nothing is hashed again from disk, unless the spare's listings turn out to be damaged
//! (then the whole spare is, once, and a warning says so).
//!
//! The root is signed when `REGISTRY/manifest.sig` is a valid signature of exactly this root by
//! an issuer key of the trust list (`starmark manifest sign` writes it), or when the build signs
//! it itself (`--sign-manifest`). Otherwise it is published unsigned and the summary says so.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};
use rayon::prelude::*;
use starmark_core::manifest::{
    self, node_path, FileMeta, Hash, Root, RootSignature, CHECKPOINT_PATH, MANIFEST_DIR, ROOT_PATH,
    SIGNATURE_PATH,
};
use starmark_core::{KeyId, SecretKey, TrustList};

use super::output;
use crate::manifest::{hash_site, read_limited, read_root, DirSource};
use crate::registry::Registry;

/// The signature of the manifest root in the registry, published when it signs the root built.
pub const SIGNATURE_FILE: &str = "manifest.sig";

/// Whether and how the published manifest is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signing {
    /// Signed by this issuer key.
    Signed(KeyId),
    /// No `REGISTRY/manifest.sig`.
    Unsigned,
    /// `REGISTRY/manifest.sig` signs another root (an earlier build).
    Stale,
    /// `REGISTRY/manifest.sig` is damaged or its key is not (or no longer) trusted.
    Refused(String),
}

/// The manifest of a build.
#[derive(Debug, Clone)]
pub struct Published {
    /// The root's bytes.
    pub root: Vec<u8>,
    /// How it is signed.
    pub signing: Signing,
    /// Listings written in this build.
    pub listings_written: usize,
}

impl Published {
    /// The line the build prints about the manifest; `registry` names the registry in advice.
    pub fn describe(&self, registry: &Path) -> String {
        let sign = format!("`starmark manifest sign {}`", registry.display());
        let hash = starmark_core::to_hex(&manifest::sha256(&self.root));
        match &self.signing {
            Signing::Signed(k) => format!("manifest {hash} signed by issuer key {k}"),
            Signing::Unsigned => {
                format!("manifest {hash} published unsigned; sign it with {sign}")
            }
            Signing::Stale => format!(
                "manifest {hash} published unsigned: {SIGNATURE_FILE} signs an earlier build; sign this one with {sign}"
            ),
            Signing::Refused(why) => format!(
                "manifest {hash} published unsigned: {SIGNATURE_FILE} refused ({why}); sign it with {sign}"
            ),
        }
    }
}

/// How to sign: with the issuer key now, or with the registry's signature when it matches.
pub enum SignWith<'a> {
    /// Sign with this key (checked against the trust list before the build).
    Key(&'a SecretKey),
    /// Use `REGISTRY/manifest.sig` if it signs the root.
    Registry,
}

/// The signature of `root` and how it is signed; with a key, the registry's copy is written.
pub fn signature(
    reg: &Registry,
    root: &[u8],
    trust: &TrustList,
    with: &SignWith<'_>,
) -> Result<(Option<Vec<u8>>, Signing)> {
    let path = reg.path(SIGNATURE_FILE);
    if let SignWith::Key(key) = with {
        let sig = RootSignature::sign(root, key).encode().to_vec();
        if std::fs::read(&path).ok().as_deref() != Some(sig.as_slice()) {
            crate::fsutil::write_atomic(&path, &sig)?;
        }
        return Ok((Some(sig), Signing::Signed(key.public_key().key_id())));
    }
    let bytes = match read_limited(&path, 256) {
        Ok(b) => b,
        Err(_) if !path.exists() => return Ok((None, Signing::Unsigned)),
        Err(e) => return Ok((None, Signing::Refused(format!("{e:#}")))),
    };
    let sig = match RootSignature::decode(&bytes) {
        Ok(s) => s,
        Err(e) => return Ok((None, Signing::Refused(format!("damaged: {e}")))),
    };
    Ok(match sig.verify(root, trust) {
        Ok(k) => (Some(bytes), Signing::Signed(k.key_id)),
        Err(starmark_core::error::ManifestError::BadSignature { .. }) => (None, Signing::Stale),
        Err(e) => (None, Signing::Refused(e.to_string())),
    })
}

/// The published manifest of the generation in `dir` when it is current: its root is there and
/// its signature file is exactly the one this build would publish.
pub fn current(
    dir: &Path,
    reg: &Registry,
    trust: &TrustList,
    with: &SignWith<'_>,
) -> Option<Published> {
    let (root, _) = read_root(dir).ok().flatten()?;
    let (signature, signing) = self::signature(reg, &root, trust, with).ok()?;
    let published = std::fs::read(dir.join(SIGNATURE_PATH)).ok();
    (published == signature).then_some(Published {
        root,
        signing,
        listings_written: 0,
    })
}

/// What a build changed in the spare generation.
pub struct Changes {
    /// Whether the spare was emptied first (then every file of it is in `rendered` or `linked`).
    pub fresh: bool,
    /// Files written, with their size and SHA-256.
    pub rendered: Vec<(String, FileMeta)>,
    /// Files linked from the published generation.
    pub linked: Vec<String>,
    /// Files removed.
    pub removed: Vec<String>,
}

/// Brings the spare's manifest up to date with `changes`, writes its root and signature, and
/// returns them. `out` is the published generation (where linked files come from).
pub fn update(
    reg: &Registry,
    spare: &Path,
    out: &Path,
    changes: Changes,
    trust: &TrustList,
    with: &SignWith<'_>,
) -> Result<Published> {
    let fresh = changes.fresh;
    let built = match tree_of(spare, out, changes) {
        Ok(b) => b,
        Err(e) => {
            errln!(
                "starmark: warning: {e:#}; the manifest of {} is made again from every file",
                spare.display()
            );
            let all = hash_site(spare)?;
            output::clear_dir(&spare.join(MANIFEST_DIR))?;
            let built = manifest::build(all)
                .with_context(|| format!("{}: cannot make the manifest", spare.display()))?;
            Update { built, fresh: true }
        }
    };
    let replace = !(fresh || built.fresh);
    write_nodes(spare, &built.built.nodes, replace)?;
    let checkpoint = manifest::lookup(
        &built.built.tree,
        CHECKPOINT_PATH,
        &mut DirSource::new(spare),
    )
    .map_err(|e| anyhow::anyhow!("{}: {e:#}", spare.display()))?;
    let root = Root {
        tree: built.built.tree,
        checkpoint: checkpoint.map(|c| c.sha256),
    }
    .encode();
    output::put_in(spare, ROOT_PATH, &root, !fresh)?;
    let (signature, signing) = self::signature(reg, &root, trust, with)?;
    match &signature {
        Some(sig) => output::put_in(spare, SIGNATURE_PATH, sig, !fresh)?,
        None => output::remove_if_there(&spare.join(SIGNATURE_PATH))?,
    }
    remove_nodes(spare, &built.built.gone)?;
    Ok(Published {
        root,
        signing,
        listings_written: built.built.nodes.len(),
    })
}

struct Update {
    built: manifest::Built,
    /// Made from nothing (the spare's listings were all written again).
    fresh: bool,
}

/// The spare's new tree: its earlier tree (none when fresh) with the changes.
fn tree_of(spare: &Path, out: &Path, changes: Changes) -> Result<Update> {
    let base = if changes.fresh {
        None
    } else {
        let (_, root) =
            read_root(spare)?.with_context(|| format!("{}: no {ROOT_PATH}", spare.display()))?;
        Some(root.tree)
    };
    let mut all: Vec<(String, Option<FileMeta>)> =
        Vec::with_capacity(changes.rendered.len() + changes.linked.len() + changes.removed.len());
    all.extend(changes.removed.into_iter().map(|p| (p, None)));
    all.extend(linked_hashes(spare, out, changes.linked)?);
    all.extend(changes.rendered.into_iter().map(|(p, m)| (p, Some(m))));
    let built = manifest::update(base.as_ref(), all, &mut DirSource::new(spare))
        .map_err(|e| anyhow::anyhow!("{}: {e:#}", spare.display()))?;
    Ok(Update {
        built,
        fresh: base.is_none(),
    })
}

/// Sizes and SHA-256 of files linked from the published generation, from its manifest; a file
/// it does not list (or a damaged manifest) is hashed from disk.
fn linked_hashes(
    spare: &Path,
    out: &Path,
    linked: Vec<String>,
) -> Result<Vec<(String, Option<FileMeta>)>> {
    if linked.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<Option<FileMeta>> = match read_root(out).ok().flatten() {
        Some((_, root)) => manifest::lookup_many(&root.tree, &linked, &mut DirSource::new(out))
            .unwrap_or_else(|_| vec![None; linked.len()]),
        None => vec![None; linked.len()],
    };
    linked
        .into_par_iter()
        .zip(found)
        .map(|(path, meta)| {
            let meta = match meta {
                Some(m) => m,
                None => crate::manifest::hash_file(&spare.join(&path))?,
            };
            Ok((path, Some(meta)))
        })
        .collect()
}

/// Writes listings into the generation `dir` (`manifest/ab/cdef….bin`).
fn write_nodes(dir: &Path, nodes: &[(Hash, Vec<u8>)], replace: bool) -> Result<()> {
    let mut subdirs: Vec<String> = nodes
        .iter()
        .filter_map(|(h, _)| {
            let p = node_path(h);
            p.rsplit_once('/').map(|(d, _)| d.to_string())
        })
        .collect();
    subdirs.sort_unstable();
    subdirs.dedup();
    for d in subdirs {
        let path = dir.join(&d);
        std::fs::create_dir_all(&path)
            .with_context(|| format!("{}: cannot create", path.display()))?;
    }
    nodes
        .par_iter()
        .try_for_each(|(h, bytes)| output::put_in(dir, &node_path(h), bytes, replace))
}

/// Removes listings from the generation `dir`, and their `manifest/ab/` directories once empty.
fn remove_nodes(dir: &Path, nodes: &[Hash]) -> Result<()> {
    let mut emptied: BTreeSet<String> = BTreeSet::new();
    for h in nodes {
        let rel = node_path(h);
        output::remove_if_there(&dir.join(&rel))?;
        if let Some((d, _)) = rel.rsplit_once('/') {
            emptied.insert(d.to_string());
        }
    }
    for d in &emptied {
        // Fails (and is left) while the directory still holds listings.
        let _ = std::fs::remove_dir(dir.join(d));
    }
    Ok(())
}
