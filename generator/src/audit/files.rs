//! Every file of the site against the signed manifest: the root, its signature (an issuer key of
//! the trusted trust list), every listing, every file's size and SHA-256 (in parallel), and the
//! files the manifest does not list when the target can be listed.

use std::collections::{BTreeSet, HashSet};

use anyhow::Result;
use indicatif::ProgressBar;
use rayon::prelude::*;
use serde::Serialize;
use starmark_core::manifest::{
    self, node_path, Contents, FileEntry, Hash, Root, RootSignature, Source, MANIFEST_DIR,
    MAX_NODE_BYTES, ROOT_PATH, SIGNATURE_PATH,
};
use starmark_core::{to_hex, TrustList};

use super::target::Target;
use super::{Check, Finding};
use crate::manifest::{Listing, Problem};

/// What the manifest check saw.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// SHA-256 of `manifest/root.bin`.
    pub root_sha256: Option<String>,
    /// The issuer key whose signature of the root verified.
    pub signed_by: Option<String>,
    /// The log checkpoint's SHA-256 the root names.
    pub checkpoint_sha256: Option<String>,
    /// Files the manifest lists.
    pub files: usize,
    /// Its listings.
    pub listings: usize,
    /// Files whose size and SHA-256 were compared.
    pub checked: usize,
    /// Whether files the manifest does not list were looked for (a directory can be listed, a
    /// web server cannot).
    pub extra_files_checked: bool,
}

/// The manifest root as read.
struct RootSeen {
    /// Its bytes.
    bytes: Vec<u8>,
    /// Decoded.
    root: Root,
}

/// What the later checks need from this one.
pub struct Outcome {
    /// What is reported.
    pub summary: Summary,
    /// Every file of the site: the regular files of a directory, or the manifest's files when
    /// the target cannot be listed.
    pub paths: Vec<String>,
}

/// Listings read from the target, each at most [`MAX_NODE_BYTES`].
struct Listings<'a> {
    target: &'a dyn Target,
}

impl Source for Listings<'_> {
    type Error = anyhow::Error;

    fn get(&mut self, node: &Hash) -> Result<Vec<u8>> {
        read_listing(self.target, node)
    }

    /// A whole level of the tree at once, in parallel (over HTTP, many requests in flight).
    fn get_many(&mut self, nodes: &[Hash]) -> Vec<Result<Vec<u8>>> {
        let target = self.target;
        nodes.par_iter().map(|n| read_listing(target, n)).collect()
    }
}

fn read_listing(target: &dyn Target, node: &Hash) -> Result<Vec<u8>> {
    let path = node_path(node);
    target
        .read(&path, MAX_NODE_BYTES)?
        .ok_or_else(|| anyhow::anyhow!("{path}: missing"))
}

/// The stable word of a manifest problem (its JSON tag).
fn kind(p: &Problem) -> &'static str {
    match p {
        Problem::NoManifest => "no_manifest",
        Problem::Root { .. } => "root",
        Problem::Unsigned => "unsigned",
        Problem::Signature { .. } => "signature",
        Problem::TrustList { .. } => "trust_list",
        Problem::Listing { .. } => "listing",
        Problem::Missing { .. } => "missing",
        Problem::Altered { .. } => "altered",
        Problem::Extra { .. } => "extra",
    }
}

fn finding(p: Problem) -> Finding {
    let path = p.path();
    let message = p.to_string();
    let kind = kind(&p);
    if path.is_empty() {
        Finding::new(Check::Manifest, kind, message)
    } else {
        Finding::at(Check::Manifest, kind, path, message)
    }
}

/// Checks every file against the manifest. `trust` is the trust list verified under the root
/// key (`None` when it was refused: the signature is then not checked, that problem being named
/// already). Fails only when the target cannot be listed.
pub fn check(
    target: &dyn Target,
    trust: Option<&TrustList>,
    bar: ProgressBar,
    problems: &mut Vec<Finding>,
) -> Result<Outcome> {
    let listing = target.list()?;
    let mut summary = Summary {
        extra_files_checked: listing.is_some(),
        ..Summary::default()
    };
    let present_paths = || {
        listing
            .as_ref()
            .map(|l| l.files.clone())
            .unwrap_or_default()
    };
    let root = match read_root(target) {
        Ok(r) => r,
        Err(p) => {
            problems.push(finding(p));
            return Ok(Outcome {
                summary,
                paths: present_paths(),
            });
        }
    };
    summary.root_sha256 = Some(to_hex(&manifest::sha256(&root.bytes)));
    summary.checkpoint_sha256 = root.root.checkpoint.map(|c| to_hex(&c));
    if let Some(trust) = trust {
        match signature(target, &root.bytes, trust) {
            Ok(key) => summary.signed_by = Some(key),
            Err(p) => problems.push(finding(p)),
        }
    }
    let contents = match manifest::files(&root.root, &mut Listings { target }) {
        Ok(c) => c,
        Err(e) => {
            problems.push(finding(Problem::Listing {
                detail: format!("{e:#}"),
            }));
            return Ok(Outcome {
                summary,
                paths: present_paths(),
            });
        }
    };
    summary.files = contents.files.len();
    summary.listings = contents.nodes.len();
    bar.set_length(contents.files.len() as u64);
    bar.set_message("hashing");
    let mut found = compare(target, &contents.files, listing.as_ref(), &bar);
    bar.finish_and_clear();
    summary.checked = contents.files.len();
    if let Some(listing) = &listing {
        found.extend(extras(listing, &contents));
    }
    found.sort_by(|a, b| a.path().cmp(b.path()));
    problems.extend(found.into_iter().map(finding));
    let paths = match listing {
        Some(l) => l.files,
        None => contents.files.into_iter().map(|f| f.path).collect(),
    };
    Ok(Outcome { summary, paths })
}

/// Each file of the manifest against the target: missing, or altered (size, SHA-256, or a read
/// that failed). `listing`, when the target can be listed, says which files are there.
fn compare(
    target: &dyn Target,
    files: &[FileEntry],
    listing: Option<&Listing>,
    bar: &ProgressBar,
) -> Vec<Problem> {
    let present: Option<HashSet<&str>> =
        listing.map(|l| l.files.iter().map(String::as_str).collect());
    files
        .par_iter()
        .filter_map(|f| {
            bar.inc(1);
            if present
                .as_ref()
                .is_some_and(|p| !p.contains(f.path.as_str()))
            {
                return Some(Problem::Missing {
                    path: f.path.clone(),
                });
            }
            // One byte more than the manifest's size: a larger file shows as larger, and a
            // server that sends without end is cut off there.
            let detail = match target.hash(&f.path, f.meta.size + 1) {
                Err(e) => format!("{e:#}"),
                Ok(None) => {
                    return Some(Problem::Missing {
                        path: f.path.clone(),
                    })
                }
                Ok(Some(m)) if m.size != f.meta.size => {
                    format!("{} bytes, the manifest says {}", m.size, f.meta.size)
                }
                Ok(Some(m)) if m.sha256 != f.meta.sha256 => format!(
                    "SHA-256 {}, the manifest says {}",
                    to_hex(&m.sha256),
                    to_hex(&f.meta.sha256)
                ),
                Ok(Some(_)) => return None,
            };
            Some(Problem::Altered {
                path: f.path.clone(),
                detail,
            })
        })
        .collect()
}

/// The files of a listed target that the manifest does not list (outside `manifest/`: not one
/// of its files; inside: not the root, its signature or a listing of the tree), and anything
/// that is not a regular file.
fn extras(listing: &Listing, contents: &Contents) -> Vec<Problem> {
    let mut expected: BTreeSet<String> = contents.nodes.iter().map(node_path).collect();
    expected.insert(ROOT_PATH.to_string());
    expected.insert(SIGNATURE_PATH.to_string());
    let listed: HashSet<&str> = contents.files.iter().map(|f| f.path.as_str()).collect();
    let manifest_prefix = format!("{MANIFEST_DIR}/");
    listing
        .files
        .iter()
        .filter(|p| {
            if p.starts_with(&manifest_prefix) {
                !expected.contains(p.as_str())
            } else {
                !listed.contains(p.as_str())
            }
        })
        .chain(&listing.other)
        .map(|p| Problem::Extra { path: p.clone() })
        .collect()
}

fn read_root(target: &dyn Target) -> Result<RootSeen, Problem> {
    let bytes = match target.read(ROOT_PATH, 256) {
        Ok(Some(b)) => b,
        Ok(None) => return Err(Problem::NoManifest),
        Err(e) => {
            return Err(Problem::Root {
                detail: format!("{e:#}"),
            })
        }
    };
    let root = Root::decode(&bytes).map_err(|e| Problem::Root {
        detail: format!("{ROOT_PATH}: {e}"),
    })?;
    Ok(RootSeen { bytes, root })
}

/// The issuer key (hex id) whose signature of the root verifies.
fn signature(target: &dyn Target, root: &[u8], trust: &TrustList) -> Result<String, Problem> {
    let refused = |detail: String| Problem::Signature { detail };
    let bytes = match target.read(SIGNATURE_PATH, 256) {
        Ok(Some(b)) => b,
        Ok(None) => return Err(Problem::Unsigned),
        Err(e) => return Err(refused(format!("{e:#}"))),
    };
    let sig =
        RootSignature::decode(&bytes).map_err(|e| refused(format!("{SIGNATURE_PATH}: {e}")))?;
    let key = sig
        .verify(root, trust)
        .map_err(|e| refused(format!("{SIGNATURE_PATH}: {e}")))?;
    Ok(key.key_id.to_string())
}
