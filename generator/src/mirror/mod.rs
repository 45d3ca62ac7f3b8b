//! `starmark mirror SOURCE DIR --root HEX`: a verified, incremental copy of a published site.
//!
//! In order, stopping at the first step that refuses:
//!
//! 1. **Manifest root and signature** (`manifest/root.bin`, `manifest/root.sig`, small caps);
//!    the same as the mirror's: nothing to do.
//! 2. **Trust list** (`api/v1/trust-list.bin`), verified under the pinned root key, not older
//!    than the mirror's; then the **manifest signature** by one of its issuer keys.
//! 3. **What changed**: the new tree against the mirror's, fetching only the listings that
//!    differ (`starmark_core::manifest::diff`); the trust list must be the manifest's.
//! 4. **Log**: the new checkpoint under a log key of the trust list, consistent with the one
//!    the mirror holds (a shrunk or forked log is refused), every new entry in its tree; on a
//!    first mirror the whole log is recomputed.
//! 5. **Revocation list**: signed, not older than the mirror's.
//! 6. **Files**: every new or changed file, fetched with the manifest's size as its cap, its
//!    size and SHA-256 checked, kept in the partial store (`.DIR.partial/`).
//! 7. **Certifications**: every new or changed claim signed by an issuer key, its record the
//!    one it names; none removed without being revoked. From a directory, no file the manifest
//!    does not list.
//! 8. **Swap** ([`generation`]): the spare brought to the new generation and exchanged with
//!    `DIR` in one step.
//!
//! `DIR` is not written before step 8: a refused or interrupted update leaves it byte for byte
//! as it was, and what was fetched and verified stays in the store for the next run.

mod check;
mod generation;
mod store;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::ProgressBar;
use serde::Serialize;
use starmark_core::log::{Checkpoint, Note};
use starmark_core::manifest::{
    self, node_path, sha256, verify_root, FileMeta, Root, MANIFEST_DIR, ROOT_PATH, SIGNATURE_PATH,
};
use starmark_core::{to_hex, PublicKey, RevocationList, TrustList};

use crate::lock::Lock;
use crate::manifest::{read_root, TRUST_LIST_PATH};
use crate::site::output;
use crate::source::{FetchError, Limits, Site};
use generation::{Current, Generations, Target};
use store::{Listings, Store};

/// The largest manifest root or signature read.
const MAX_ROOT: u64 = 256;
/// The largest trust list read.
const MAX_TRUST_LIST: u64 = 1 << 20;

/// What to mirror, where, trusting which root key.
pub struct Options {
    /// The site: a URL or a directory.
    pub source: String,
    /// The mirror directory.
    pub dir: PathBuf,
    /// The registry's pinned root public key.
    pub root_key: PublicKey,
    /// Network limits.
    pub limits: Limits,
}

/// One reason an update was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// The manifest root is missing or damaged, or a listing is.
    Manifest {
        /// Why.
        detail: String,
    },
    /// The manifest is unsigned or its signature is refused.
    Signature {
        /// Why.
        detail: String,
    },
    /// The trust list is refused (signature, rollback, not the manifest's).
    TrustList {
        /// Why.
        detail: String,
    },
    /// The revocation list is refused (signature, rollback).
    RevocationList {
        /// Why.
        detail: String,
    },
    /// The log is refused (checkpoint, fork, shrink, tiles, entries).
    Log {
        /// Why.
        detail: String,
    },
    /// A file the manifest lists is not on the site.
    Missing {
        /// The file.
        path: String,
        /// Where it was looked for.
        detail: String,
    },
    /// A file whose size or SHA-256 is not the manifest's.
    Altered {
        /// The file.
        path: String,
        /// What differs.
        detail: String,
    },
    /// A file that could not be fetched (timeout, connection, status, redirect, size cap).
    Fetch {
        /// The file.
        path: String,
        /// What went wrong, naming the URL.
        detail: String,
    },
    /// A certification whose claim or record is refused.
    Claim {
        /// The file at fault.
        path: String,
        /// Why.
        detail: String,
    },
    /// A certification removed from the site without being revoked.
    DeletedCertification {
        /// Its serial.
        serial: u64,
        /// What is gone.
        detail: String,
    },
    /// A file of the site (a directory) that its manifest does not list.
    Extra {
        /// The file.
        path: String,
    },
    /// A local file of the store that cannot be written.
    Local {
        /// Why.
        detail: String,
    },
}

impl Problem {
    /// A failed fetch of `path`, as a problem.
    pub fn fetch(path: &str, e: FetchError) -> Problem {
        if e.is_not_found() {
            Problem::Missing {
                path: path.to_string(),
                detail: e.to_string(),
            }
        } else {
            Problem::Fetch {
                path: path.to_string(),
                detail: e.to_string(),
            }
        }
    }

    /// The file a problem is about, `""` for none.
    pub fn path(&self) -> &str {
        match self {
            Problem::Missing { path, .. }
            | Problem::Altered { path, .. }
            | Problem::Fetch { path, .. }
            | Problem::Claim { path, .. }
            | Problem::Extra { path } => path,
            _ => "",
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Manifest { detail } => write!(f, "manifest: {detail}"),
            Problem::Signature { detail } => write!(f, "manifest signature: {detail}"),
            Problem::TrustList { detail } => write!(f, "trust list: {detail}"),
            Problem::RevocationList { detail } => write!(f, "revocation list: {detail}"),
            Problem::Log { detail } => write!(f, "log: {detail}"),
            Problem::Missing { path, detail } => write!(f, "missing: {path}: {detail}"),
            Problem::Altered { path, detail } => write!(f, "altered: {path}: {detail}"),
            Problem::Fetch { path, detail } => write!(f, "cannot fetch {path}: {detail}"),
            Problem::Claim { path, detail } => write!(f, "certification: {path}: {detail}"),
            Problem::DeletedCertification { serial, detail } => {
                write!(f, "deleted certification {serial}: {detail}")
            }
            Problem::Extra { path } => write!(f, "extra: {path} (not in the manifest)"),
            Problem::Local { detail } => write!(f, "{detail}"),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The mirror is now the site's new generation.
    Updated,
    /// The site has not changed since the mirror was made.
    UpToDate,
    /// The update was refused; the mirror is as it was.
    Refused,
}

/// A value before and after.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Change {
    /// In the mirror before.
    pub old: Option<u64>,
    /// On the site (and in the mirror, when updated).
    pub new: Option<u64>,
}

/// What a run did, for people and (as JSON) for machines.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The site.
    pub source: String,
    /// The mirror directory.
    pub dir: PathBuf,
    /// How it ended.
    pub status: Status,
    /// SHA-256 of the site's manifest root.
    pub manifest: Option<String>,
    /// The issuer key that signed it.
    pub signed_by: Option<String>,
    /// Files the site's manifest lists.
    pub files: Option<u64>,
    /// Files the mirror already had, unchanged.
    pub unchanged: Option<u64>,
    /// Files added or changed.
    pub changed: u64,
    /// Files removed.
    pub removed: u64,
    /// Files fetched in this run.
    pub files_fetched: u64,
    /// Files an earlier, interrupted or refused run had fetched and verified.
    pub files_resumed: u64,
    /// Manifest listings fetched.
    pub listings_fetched: u64,
    /// Bytes received in all (root, signature, trust list, listings, files).
    pub bytes_fetched: u64,
    /// Entries of the log.
    pub checkpoint: Change,
    /// Sequence of the trust list.
    pub trust_list: Change,
    /// Sequence of the revocation list.
    pub revocation_list: Change,
    /// Wall time.
    pub seconds: f64,
    /// Why the update was refused; empty otherwise. Each with its `message` as printed.
    #[serde(serialize_with = "with_messages")]
    pub problems: Vec<Problem>,
}

/// Problems as JSON: their fields and the line printed for people.
fn with_messages<S: serde::Serializer>(problems: &[Problem], s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Shown<'a> {
        #[serde(flatten)]
        problem: &'a Problem,
        message: String,
    }
    s.collect_seq(problems.iter().map(|problem| Shown {
        problem,
        message: problem.to_string(),
    }))
}

/// What the mirror holds now.
struct Mirror {
    current: Current,
    signature: Option<Vec<u8>>,
    trust: Option<TrustList>,
    revocation_sequence: Option<u64>,
    checkpoint: Option<Checkpoint>,
}

impl Mirror {
    /// The mirror in `dir`; `None` when there is none yet (no directory, or an empty one).
    fn read(dir: &Path, root_key: &PublicKey) -> Result<Option<Mirror>> {
        if !dir.exists() {
            return Ok(None);
        }
        let mut entries = fs::read_dir(dir)
            .with_context(|| format!("{}: cannot list (the mirror directory)", dir.display()))?;
        if entries.next().is_none() {
            return Ok(None);
        }
        let Some((bytes, root)) = read_root(dir)? else {
            bail!(
                "{}: not a mirror (no {ROOT_PATH}); give a new or empty directory",
                dir.display()
            );
        };
        let read_opt = |rel: &str| -> Result<Option<Vec<u8>>> {
            let p = dir.join(rel);
            match fs::read(&p) {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e).with_context(|| format!("{}: cannot read", p.display())),
            }
        };
        let trust = match read_opt(TRUST_LIST_PATH)? {
            Some(b) => Some(TrustList::decode_verified(&b, root_key).with_context(|| {
                format!(
                    "{}: does not verify under the root key given: is {} a mirror of another registry?",
                    dir.join(TRUST_LIST_PATH).display(),
                    dir.display()
                )
            })?),
            None => None,
        };
        let revocation_sequence = read_opt(check::REVOCATION_LIST_PATH)?
            .and_then(|b| RevocationList::decode_unverified(&b).ok())
            .map(|l| l.sequence);
        let checkpoint = match read_opt(check::CHECKPOINT_PATH)? {
            Some(b) => {
                let at = dir.join(check::CHECKPOINT_PATH);
                let text =
                    String::from_utf8(b).with_context(|| format!("{}: not UTF-8", at.display()))?;
                let note =
                    Note::parse(&text).with_context(|| format!("{}: damaged", at.display()))?;
                Some(
                    Checkpoint::parse(&note.text)
                        .with_context(|| format!("{}: damaged", at.display()))?,
                )
            }
            None => None,
        };
        Ok(Some(Mirror {
            current: Current { bytes, root },
            signature: read_opt(SIGNATURE_PATH)?,
            trust,
            revocation_sequence,
            checkpoint,
        }))
    }
}

/// The new generation as the checks read it: changed files from the store (fetched and
/// verified as needed), the others from the mirror.
pub struct NewGeneration<'a> {
    mirror: Option<&'a Path>,
    changes: &'a BTreeMap<String, Option<FileMeta>>,
    store: &'a Store<'a>,
}

impl NewGeneration<'_> {
    /// The bytes of `path` in the new generation, `None` when it has no such file. With `max`,
    /// a file the manifest gives as larger is refused.
    pub fn read(&self, path: &str, max: Option<u64>) -> Result<Option<Vec<u8>>, Problem> {
        let file = match self.changes.get(path) {
            Some(Some(meta)) => {
                if let Some(max) = max.filter(|m| meta.size > *m) {
                    return Err(Problem::Fetch {
                        path: path.to_string(),
                        detail: format!(
                            "the manifest gives {} bytes, more than the {max} allowed",
                            meta.size
                        ),
                    });
                }
                self.store.file(path, meta)?
            }
            Some(None) => return Ok(None),
            None => match self.mirror.map(|d| d.join(path)).filter(|p| p.is_file()) {
                Some(p) => p,
                None => return Ok(None),
            },
        };
        fs::read(&file).map(Some).map_err(|e| Problem::Local {
            detail: format!("{}: cannot read: {e}", file.display()),
        })
    }
}

/// Mirrors `opts.source` into `opts.dir`. An error is a usage or local error (the mirror is
/// left as it was); a refused update is a report with problems.
pub fn run(opts: &Options, progress: ProgressBar) -> Result<Report> {
    let start = Instant::now();
    let site = Site::open(&opts.source, opts.limits)?;
    let _lock = Lock::output(&opts.dir, "mirror")?;
    output::recover(&opts.dir)?;
    let mirror = Mirror::read(&opts.dir, &opts.root_key)?;
    let partial = output::sibling(&opts.dir, "partial");
    let store = Store::open(&site, &partial, progress)?;
    let mut report = Report {
        source: site.name(),
        dir: opts.dir.clone(),
        status: Status::Refused,
        manifest: None,
        signed_by: None,
        files: None,
        unchanged: None,
        changed: 0,
        removed: 0,
        files_fetched: 0,
        files_resumed: 0,
        listings_fetched: 0,
        bytes_fetched: 0,
        checkpoint: Change {
            old: mirror
                .as_ref()
                .and_then(|m| m.checkpoint.as_ref())
                .map(|c| c.size),
            new: None,
        },
        trust_list: Change {
            old: mirror
                .as_ref()
                .and_then(|m| m.trust.as_ref())
                .map(|t| t.sequence),
            new: None,
        },
        revocation_list: Change {
            old: mirror.as_ref().and_then(|m| m.revocation_sequence),
            new: None,
        },
        seconds: 0.0,
        problems: Vec::new(),
    };
    let outcome = update(opts, mirror.as_ref(), &store, &mut report);
    let stats = &store.stats;
    report.files_fetched = stats.files.load(Ordering::Relaxed);
    report.files_resumed = stats.resumed.load(Ordering::Relaxed);
    report.listings_fetched = stats.listings.load(Ordering::Relaxed);
    report.bytes_fetched = stats.bytes.load(Ordering::Relaxed);
    store.progress.finish_and_clear();
    match outcome? {
        Ok(status) => {
            report.status = status;
            drop(store);
            if partial.exists() {
                fs::remove_dir_all(&partial)
                    .with_context(|| format!("{}: cannot remove", partial.display()))?;
            }
        }
        Err(problems) => {
            // A store that cannot be written is a local error, not the site's.
            if let Some(detail) = store.local_error() {
                bail!("{detail}; {} is as it was", opts.dir.display());
            }
            report.problems = problems;
        }
    }
    report.seconds = start.elapsed().as_secs_f64();
    Ok(report)
}

type Outcome = Result<Status, Vec<Problem>>;

/// Steps 1 to 8. The outer error is local (exit 2); the inner, the problems of a refusal.
fn update(
    opts: &Options,
    mirror: Option<&Mirror>,
    store: &Store<'_>,
    report: &mut Report,
) -> Result<Outcome> {
    let set_stage = |s: &'static str| store.progress.set_message(s);
    set_stage("manifest");
    // 1. Root and signature.
    let root_bytes = match store.small(ROOT_PATH, MAX_ROOT, "the largest manifest root") {
        Ok(b) => b,
        Err(p) => return Ok(Err(vec![p])),
    };
    let root = match Root::decode(&root_bytes) {
        Ok(r) => r,
        Err(e) => {
            return Ok(Err(vec![Problem::Manifest {
                detail: format!("{ROOT_PATH}: damaged: {e}"),
            }]))
        }
    };
    report.manifest = Some(to_hex(&sha256(&root_bytes)));
    let signature = match store.small(SIGNATURE_PATH, MAX_ROOT, "the largest manifest signature")
    {
        Ok(b) => b,
        Err(Problem::Missing { .. }) => {
            return Ok(Err(vec![Problem::Signature {
                detail: format!(
                    "unsigned manifest: {} is missing (the registry signs it with `starmark manifest sign`)",
                    store.site().locate(SIGNATURE_PATH)
                ),
            }]))
        }
        Err(p) => return Ok(Err(vec![p])),
    };
    if let Some(m) = mirror {
        if m.current.bytes == root_bytes && m.signature.as_deref() == Some(&signature[..]) {
            report.files = Generations::new(&opts.dir).file_count(Some(&m.current));
            report.unchanged = report.files;
            report.checkpoint.new = report.checkpoint.old;
            report.trust_list.new = report.trust_list.old;
            report.revocation_list.new = report.revocation_list.old;
            return Ok(Ok(Status::UpToDate));
        }
    }
    // 2. Trust list, then the manifest's signature.
    let trust_bytes = match store.small(TRUST_LIST_PATH, MAX_TRUST_LIST, "the largest trust list") {
        Ok(b) => b,
        Err(p) => return Ok(Err(vec![p])),
    };
    let trust = match TrustList::decode_verified(&trust_bytes, &opts.root_key) {
        Ok(t) => t,
        Err(e) => {
            return Ok(Err(vec![Problem::TrustList {
                detail: format!(
                    "{TRUST_LIST_PATH}: does not verify under the root key {}: {e}",
                    to_hex(&opts.root_key.to_bytes())
                ),
            }]))
        }
    };
    report.trust_list.new = Some(trust.sequence);
    if let Err(p) = store.put(&trust_bytes) {
        return Ok(Err(vec![p]));
    }
    store.stats.files.fetch_add(1, Ordering::Relaxed);
    if let Some(old) = mirror.and_then(|m| m.trust.as_ref()) {
        if trust.sequence < old.sequence {
            return Ok(Err(vec![Problem::TrustList {
                detail: format!(
                    "{TRUST_LIST_PATH}: sequence {}, older than the mirror's {}: refused (a rollback)",
                    trust.sequence, old.sequence
                ),
            }]));
        }
    }
    match verify_root(&root_bytes, &signature, &trust) {
        Ok((_, key)) => report.signed_by = Some(key.key_id.to_string()),
        Err(e) => {
            return Ok(Err(vec![Problem::Signature {
                detail: format!("{SIGNATURE_PATH}: {e}"),
            }]))
        }
    }
    // 3. What changed.
    let gens = Generations::new(&opts.dir);
    let mirror_dir = mirror.map(|_| opts.dir.as_path());
    let mut listings = Listings::new(mirror_dir, store);
    let changes = match what_changed(mirror, &root, &gens, &mut listings, report) {
        Ok(c) => c,
        Err(p) => return Ok(Err(vec![p])),
    };
    let gen = NewGeneration {
        mirror: mirror_dir,
        changes: &changes.files,
        store,
    };
    let mut problems = Vec::new();
    match gen.read(TRUST_LIST_PATH, None) {
        Ok(Some(b)) if b == trust_bytes => {}
        Ok(Some(_)) | Ok(None) => problems.push(Problem::TrustList {
            detail: format!(
                "{TRUST_LIST_PATH}: the site serves another trust list than its manifest lists"
            ),
        }),
        Err(p) => problems.push(p),
    }
    // 4. Log: its new files first, all at once (on a first mirror, the whole log).
    set_stage("log");
    let log_files: Vec<(&str, FileMeta)> = changes
        .files
        .iter()
        .filter(|(p, _)| p.starts_with("log/"))
        .filter_map(|(p, m)| m.map(|m| (p.as_str(), m)))
        .collect();
    problems.extend(store.files(&log_files));
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    match check::log(&gen, &trust, mirror.and_then(|m| m.checkpoint.as_ref())) {
        Ok(c) => report.checkpoint.new = c.map(|c| c.size),
        Err(p) => problems.extend(p),
    }
    // 5. Revocation list.
    let revocations =
        match check::revocation_list(&gen, &trust, mirror.and_then(|m| m.revocation_sequence)) {
            Ok(r) => r,
            Err(p) => {
                problems.push(p);
                None
            }
        };
    report.revocation_list.new = revocations.as_ref().map(|r| r.sequence);
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    // 6. The other files.
    set_stage("files");
    let wanted: Vec<(&str, FileMeta)> = changes
        .files
        .iter()
        .filter(|(p, _)| !p.starts_with("log/"))
        .filter_map(|(p, m)| m.map(|m| (p.as_str(), m)))
        .collect();
    problems.extend(store.files(&wanted));
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    // 7. Certifications, and a directory's extra files.
    set_stage("certifications");
    problems.extend(check::certifications(&gen, &trust, revocations.as_ref()));
    if let Some(dir) = store.site().dir() {
        problems.extend(extras(dir, &root, &mut listings));
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    // 8. Swap.
    set_stage("swap");
    let target = Target {
        root: &root_bytes,
        signature: &signature,
        changes: &changes.files,
        new_nodes: &changes.new_nodes,
        gone_nodes: &changes.gone_nodes,
        files: report.files.unwrap_or(0),
    };
    let current = mirror.map(|m| &m.current);
    gens.prepare(current, &target, store, &mut listings)?;
    gens.publish(current, &target, &mut listings)?;
    Ok(Ok(Status::Updated))
}

/// The difference between the mirror's tree and the site's.
struct Changes {
    files: BTreeMap<String, Option<FileMeta>>,
    new_nodes: HashSet<manifest::Hash>,
    gone_nodes: HashSet<manifest::Hash>,
}

fn what_changed(
    mirror: Option<&Mirror>,
    root: &Root,
    gens: &Generations,
    listings: &mut Listings<'_>,
    report: &mut Report,
) -> Result<Changes, Problem> {
    let bad = |e: &dyn std::fmt::Display| Problem::Manifest {
        detail: e.to_string(),
    };
    let Some(m) = mirror else {
        let all = manifest::files(root, listings).map_err(|e| bad(&e))?;
        report.files = Some(all.files.len() as u64);
        report.unchanged = Some(0);
        report.changed = all.files.len() as u64;
        return Ok(Changes {
            files: all
                .files
                .into_iter()
                .map(|f| (f.path, Some(f.meta)))
                .collect(),
            new_nodes: all.nodes.into_iter().collect(),
            gone_nodes: HashSet::new(),
        });
    };
    let d = manifest::diff(&m.current.root, root, listings).map_err(|e| bad(&e))?;
    let before = match gens.file_count(Some(&m.current)) {
        Some(n) => Some(n),
        None => manifest::files(&m.current.root, listings)
            .ok()
            .map(|c| c.files.len() as u64),
    };
    let changed = (d.added.len() + d.changed.len()) as u64;
    report.changed = changed;
    report.removed = d.removed.len() as u64;
    report.files = before.map(|n| (n + d.added.len() as u64).saturating_sub(report.removed));
    report.unchanged = report.files.map(|n| n.saturating_sub(changed));
    let mut files = BTreeMap::new();
    files.extend(d.removed.into_iter().map(|f| (f.path, None)));
    files.extend(d.added.into_iter().map(|f| (f.path, Some(f.meta))));
    files.extend(d.changed.into_iter().map(|c| (c.path, Some(c.new))));
    Ok(Changes {
        files,
        new_nodes: d.new_nodes.into_iter().collect(),
        gone_nodes: d.gone_nodes.into_iter().collect(),
    })
}

/// Files of a site directory that its manifest does not list (nor are its own listings).
fn extras(dir: &Path, root: &Root, listings: &mut Listings<'_>) -> Vec<Problem> {
    let all = match manifest::files(root, listings) {
        Ok(a) => a,
        Err(e) => {
            return vec![Problem::Manifest {
                detail: e.to_string(),
            }]
        }
    };
    let mut expected: BTreeSet<String> = all.files.into_iter().map(|f| f.path).collect();
    expected.extend(all.nodes.iter().map(node_path));
    expected.insert(ROOT_PATH.to_string());
    expected.insert(SIGNATURE_PATH.to_string());
    let on_disk = match crate::manifest::list_files(dir, &[]) {
        Ok(l) => l,
        Err(e) => {
            return vec![Problem::Local {
                detail: format!("{e:#}"),
            }]
        }
    };
    on_disk
        .files
        .into_iter()
        .filter(|p| !expected.contains(p))
        .chain(on_disk.other)
        .filter(|p| p != MANIFEST_DIR)
        .map(|path| Problem::Extra { path })
        .collect()
}
