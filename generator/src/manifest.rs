//! The site manifest on disk (format and tree rules: `starmark_core::manifest`): listings read
//! from a site directory, every file of a directory hashed, and the check of a site directory
//! against its manifest (`starmark manifest verify`, later reused by `audit`).

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use starmark_core::manifest::{
    self, node_path, FileMeta, Hash, Root, RootSignature, Source, MANIFEST_DIR, MAX_NODE_BYTES,
    ROOT_PATH, SIGNATURE_PATH,
};
use starmark_core::{to_hex, KeyId, PublicKey, TrustList};

/// Where a site publishes the trust list that the manifest signature is checked with.
pub const TRUST_LIST_PATH: &str = "api/v1/trust-list.bin";

/// Listings read from a site directory (`DIR/manifest/ab/cdef….bin`), each at most
/// [`MAX_NODE_BYTES`]; the walk checks them against their hash.
pub struct DirSource {
    root: PathBuf,
}

impl DirSource {
    /// The listings of the site in `root`.
    pub fn new(root: &Path) -> DirSource {
        DirSource {
            root: root.to_path_buf(),
        }
    }
}

impl Source for DirSource {
    type Error = anyhow::Error;

    fn get(&mut self, node: &Hash) -> Result<Vec<u8>> {
        let path = self.root.join(node_path(node));
        read_limited(&path, MAX_NODE_BYTES)
    }
}

/// Reads a file of at most `max` bytes; a larger one is refused unread.
pub fn read_limited(path: &Path, max: usize) -> Result<Vec<u8>> {
    let file = fs::File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    if bytes.len() > max {
        bail!("{}: larger than {max} bytes", path.display());
    }
    Ok(bytes)
}

/// The root of the site in `dir`: its bytes and what they say; `None` when there is no root
/// file. A root that does not decode is an error naming the file.
pub fn read_root(dir: &Path) -> Result<Option<(Vec<u8>, Root)>> {
    let path = dir.join(ROOT_PATH);
    let bytes = match read_limited(&path, 256) {
        Ok(b) => b,
        Err(_) if !path.exists() => return Ok(None),
        Err(e) => return Err(e),
    };
    let root = Root::decode(&bytes).with_context(|| format!("{}: damaged", path.display()))?;
    Ok(Some((bytes, root)))
}

/// The SHA-256 and size of a file, read in pieces.
pub fn hash_file(path: &Path) -> Result<FileMeta> {
    let mut file =
        fs::File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok(FileMeta {
        size,
        sha256: h.finalize().into(),
    })
}

/// What is in a directory tree, by relative path (names joined by `/`).
#[derive(Debug, Default)]
pub struct Listing {
    /// Regular files.
    pub files: Vec<String>,
    /// Anything else that is not a directory (symbolic links, FIFOs...), and names that are not
    /// UTF-8 (shown lossily).
    pub other: Vec<String>,
}

/// Lists the files under `dir`, leaving out the top-level directories named in `skip`.
pub fn list_files(dir: &Path, skip: &[&str]) -> Result<Listing> {
    let mut out = Listing::default();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, rel)) = stack.pop() {
        let entries = fs::read_dir(&d).with_context(|| format!("{}: cannot list", d.display()))?;
        for e in entries {
            let e = e.with_context(|| format!("{}: cannot list", d.display()))?;
            let name = e.file_name();
            let Some(name) = name.to_str() else {
                out.other.push(join(&rel, &e.file_name().to_string_lossy()));
                continue;
            };
            let path = join(&rel, name);
            if rel.is_empty() && skip.contains(&name) {
                continue;
            }
            let t = e
                .file_type()
                .with_context(|| format!("{}: cannot stat", e.path().display()))?;
            if t.is_dir() {
                stack.push((e.path(), path));
            } else if t.is_file() {
                out.files.push(path);
            } else {
                out.other.push(path);
            }
        }
    }
    out.files.sort_unstable();
    out.other.sort_unstable();
    Ok(out)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Every file under `dir` but its `manifest/`, hashed (in parallel): what a manifest of the
/// directory lists. Anything but regular files and directories is refused.
pub fn hash_site(dir: &Path) -> Result<Vec<(String, FileMeta)>> {
    let listing = list_files(dir, &[MANIFEST_DIR])?;
    if let Some(odd) = listing.other.first() {
        bail!(
            "{}: not a regular file or directory",
            dir.join(odd).display()
        );
    }
    listing
        .files
        .into_par_iter()
        .map(|p| {
            let meta = hash_file(&dir.join(&p))?;
            Ok((p, meta))
        })
        .collect()
}

/// One thing wrong with a site directory, as `manifest verify` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// `manifest/root.bin` is missing.
    NoManifest,
    /// The root does not decode.
    Root {
        /// Why.
        detail: String,
    },
    /// No signature and none was allowed to be missing.
    Unsigned,
    /// The signature is refused (damaged, unknown key, compromised key, does not verify).
    Signature {
        /// Why.
        detail: String,
    },
    /// The site's trust list, needed to check the signature, is missing or refused.
    TrustList {
        /// Why.
        detail: String,
    },
    /// A listing is missing, damaged or does not belong where it is (the files cannot be
    /// checked against it).
    Listing {
        /// Why, naming the listing file and its directory.
        detail: String,
    },
    /// A file the manifest lists is missing.
    Missing {
        /// The file.
        path: String,
    },
    /// A file whose size or SHA-256 differs from the manifest's.
    Altered {
        /// The file.
        path: String,
        /// What differs.
        detail: String,
    },
    /// A file the manifest does not list.
    Extra {
        /// The file.
        path: String,
    },
}

impl Problem {
    /// The file a problem is about; `""` for the manifest as a whole.
    pub fn path(&self) -> &str {
        match self {
            Problem::Missing { path } | Problem::Altered { path, .. } | Problem::Extra { path } => {
                path
            }
            _ => "",
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NoManifest => write!(f, "no manifest: {ROOT_PATH} is missing"),
            Problem::Root { detail } => write!(f, "damaged manifest root: {detail}"),
            Problem::Unsigned => write!(
                f,
                "unsigned manifest: {SIGNATURE_PATH} is missing (the registry signs it with `starmark manifest sign`)"
            ),
            Problem::Signature { detail } => write!(f, "signature refused: {detail}"),
            Problem::TrustList { detail } => write!(f, "trust list refused: {detail}"),
            Problem::Listing { detail } => write!(f, "bad listing: {detail}"),
            Problem::Missing { path } => write!(f, "missing: {path}"),
            Problem::Altered { path, detail } => write!(f, "altered: {path}: {detail}"),
            Problem::Extra { path } => write!(f, "extra: {path} (not in the manifest)"),
        }
    }
}

/// What [`check_site`] found.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// The site directory.
    pub dir: PathBuf,
    /// The issuer key whose signature verified.
    pub signed_by: Option<KeyId>,
    /// SHA-256 of the root's bytes.
    pub root_sha256: Option<String>,
    /// The log checkpoint's SHA-256 named by the root.
    pub checkpoint_sha256: Option<String>,
    /// Files the manifest lists.
    pub files: usize,
    /// Listings and buckets of the manifest.
    pub listings: usize,
    /// Every problem found, in the order: manifest, signature, listings, files (by path).
    pub problems: Vec<Problem>,
}

/// Checks the site in `dir` against its manifest: the root, the signature (by an issuer key of
/// the site's trust list, which must verify under `root_key`; a missing signature is a problem
/// unless `allow_unsigned`), every listing, and every file's presence, size and SHA-256, and
/// that no other file is there. Fails only when `dir` cannot be read.
pub fn check_site(dir: &Path, root_key: &PublicKey, allow_unsigned: bool) -> Result<Report> {
    if !dir.is_dir() {
        bail!("{}: not a directory", dir.display());
    }
    let mut report = Report {
        dir: dir.to_path_buf(),
        ..Report::default()
    };
    let (root_bytes, root) = match read_root(dir) {
        Ok(Some(r)) => r,
        Ok(None) => {
            report.problems.push(Problem::NoManifest);
            return Ok(report);
        }
        Err(e) => {
            report.problems.push(Problem::Root {
                detail: format!("{e:#}"),
            });
            return Ok(report);
        }
    };
    report.root_sha256 = Some(to_hex(&manifest::sha256(&root_bytes)));
    report.checkpoint_sha256 = root.checkpoint.map(|c| to_hex(&c));
    check_signature(dir, &root_bytes, root_key, allow_unsigned, &mut report);
    let contents = match manifest::files(&root, &mut DirSource::new(dir)) {
        Ok(c) => c,
        Err(e) => {
            report.problems.push(Problem::Listing {
                detail: format!("{e:#}"),
            });
            return Ok(report);
        }
    };
    report.files = contents.files.len();
    report.listings = contents.nodes.len();
    let on_disk = list_files(dir, &[])?;
    let mut expected_manifest: BTreeSet<String> = contents.nodes.iter().map(node_path).collect();
    expected_manifest.insert(ROOT_PATH.to_string());
    expected_manifest.insert(SIGNATURE_PATH.to_string());
    let listed: HashMap<&str, FileMeta> = contents
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.meta))
        .collect();
    let present: BTreeSet<&str> = on_disk.files.iter().map(String::as_str).collect();
    let mut problems: Vec<Problem> = contents
        .files
        .par_iter()
        .filter_map(|f| {
            if !present.contains(f.path.as_str()) {
                return Some(Problem::Missing {
                    path: f.path.clone(),
                });
            }
            let detail = match hash_file(&dir.join(&f.path)) {
                Err(e) => format!("{e:#}"),
                Ok(m) if m.size != f.meta.size => {
                    format!("{} bytes, the manifest says {}", m.size, f.meta.size)
                }
                Ok(m) if m.sha256 != f.meta.sha256 => format!(
                    "SHA-256 {}, the manifest says {}",
                    to_hex(&m.sha256),
                    to_hex(&f.meta.sha256)
                ),
                Ok(_) => return None,
            };
            Some(Problem::Altered {
                path: f.path.clone(),
                detail,
            })
        })
        .collect();
    let expected = |path: &str| {
        if path.starts_with(&format!("{MANIFEST_DIR}/")) {
            expected_manifest.contains(path)
        } else {
            listed.contains_key(path)
        }
    };
    problems.extend(
        on_disk
            .files
            .iter()
            .filter(|p| !expected(p))
            .chain(&on_disk.other)
            .map(|p| Problem::Extra { path: p.clone() }),
    );
    problems.sort_by(|a, b| a.path().cmp(b.path()));
    report.problems.extend(problems);
    Ok(report)
}

fn check_signature(
    dir: &Path,
    root_bytes: &[u8],
    root_key: &PublicKey,
    allow_unsigned: bool,
    report: &mut Report,
) {
    let sig_path = dir.join(SIGNATURE_PATH);
    if !sig_path.exists() {
        if !allow_unsigned {
            report.problems.push(Problem::Unsigned);
        }
        return;
    }
    let sig = match read_limited(&sig_path, 256).and_then(|b| {
        RootSignature::decode(&b).with_context(|| format!("{}: damaged", sig_path.display()))
    }) {
        Ok(s) => s,
        Err(e) => {
            report.problems.push(Problem::Signature {
                detail: format!("{e:#}"),
            });
            return;
        }
    };
    let trust_path = dir.join(TRUST_LIST_PATH);
    let trust = match fs::read(&trust_path)
        .with_context(|| format!("{}: cannot read", trust_path.display()))
        .and_then(|b| {
            TrustList::decode_verified(&b, root_key).with_context(|| {
                format!(
                    "{}: does not verify under the root key {}",
                    trust_path.display(),
                    to_hex(&root_key.to_bytes())
                )
            })
        }) {
        Ok(t) => t,
        Err(e) => {
            report.problems.push(Problem::TrustList {
                detail: format!("{e:#}"),
            });
            return;
        }
    };
    match sig.verify(root_bytes, &trust) {
        Ok(issuer) => report.signed_by = Some(issuer.key_id),
        Err(e) => report.problems.push(Problem::Signature {
            detail: format!("{}: {e}", sig_path.display()),
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn listing_skips_and_names_what_is_not_a_file() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        fs::create_dir_all(d.join("a/b")).unwrap();
        fs::create_dir_all(d.join("manifest/ab")).unwrap();
        fs::write(d.join("a/b/c.html"), "x").unwrap();
        fs::write(d.join("top.html"), "y").unwrap();
        fs::write(d.join("manifest/ab/x.bin"), "z").unwrap();
        std::os::unix::fs::symlink("top.html", d.join("link.html")).unwrap();
        let l = list_files(d, &["manifest"]).unwrap();
        assert_eq!(l.files, ["a/b/c.html", "top.html"]);
        assert_eq!(l.other, ["link.html"]);
        assert!(hash_site(d).is_err());
        fs::remove_file(d.join("link.html")).unwrap();
        let hashed = hash_site(d).unwrap();
        assert_eq!(hashed.len(), 2);
        assert_eq!(hashed[1].1, FileMeta::of(b"y"));
    }

    #[test]
    fn large_files_are_refused_unread() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("big");
        fs::write(&p, vec![0u8; 100]).unwrap();
        assert!(read_limited(&p, 100).is_ok());
        let e = read_limited(&p, 99).unwrap_err();
        assert!(format!("{e:#}").contains("larger than 99 bytes"));
    }
}
