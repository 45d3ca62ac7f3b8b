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
mod report;
mod store;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::ProgressBar;
use starmark_core::log::{Checkpoint, Note};
use starmark_core::manifest::{
    self, node_path, sha256, verify_root, FileMeta, Root, MANIFEST_DIR, ROOT_PATH, SIGNATURE_PATH,
};
use starmark_core::{to_hex, PublicKey, RevocationList, TrustList};

use crate::lock::Lock;
use crate::manifest::{read_root, TRUST_LIST_PATH};
use crate::site::output;
use crate::source::{Limits, Site};
use generation::{Current, Generations, Target};
pub use report::{Change, Problem, Report, Status};
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

/// A new manifest whose signature verified, with the trust list that verified it.
struct Signed {
    root_bytes: Vec<u8>,
    root: Root,
    signature: Vec<u8>,
    trust: TrustList,
    trust_bytes: Vec<u8>,
}

/// What steps 1 and 2 found.
enum Head {
    /// The site's manifest is the mirror's.
    UpToDate,
    /// A new manifest, signed.
    New(Box<Signed>),
}

/// Steps 1 to 8. The outer error is local (exit 2); the inner, the problems of a refusal.
fn update(
    opts: &Options,
    mirror: Option<&Mirror>,
    store: &Store<'_>,
    report: &mut Report,
) -> Result<Outcome> {
    let set_stage = |s: &'static str| store.progress.set_message(s);
    set_stage("manifest");
    let signed = match head(opts, mirror, store, report) {
        Ok(Head::UpToDate) => return Ok(Ok(Status::UpToDate)),
        Ok(Head::New(s)) => *s,
        Err(p) => return Ok(Err(vec![p])),
    };
    // 3. What changed.
    let gens = Generations::new(&opts.dir);
    let mirror_dir = mirror.map(|_| opts.dir.as_path());
    let mut listings = Listings::new(mirror_dir, store);
    let changes = match what_changed(mirror, &signed.root, &gens, &mut listings, report) {
        Ok(c) => c,
        Err(p) => return Ok(Err(vec![p])),
    };
    let gen = NewGeneration {
        mirror: mirror_dir,
        changes: &changes.files,
        store,
    };
    match gen.read(TRUST_LIST_PATH, None) {
        Ok(Some(b)) if b == signed.trust_bytes => {}
        Ok(_) => {
            return Ok(Err(vec![Problem::TrustList {
                detail: format!(
                    "{TRUST_LIST_PATH}: the site serves another trust list than its manifest lists"
                ),
            }]))
        }
        Err(p) => return Ok(Err(vec![p])),
    }
    // 4 and 5. Log and revocation list.
    set_stage("log");
    let revocations = match lists(&gen, mirror, &signed.trust, report) {
        Ok(r) => r,
        Err(problems) => return Ok(Err(problems)),
    };
    // 6. The other files.
    set_stage("files");
    let wanted: Vec<(&str, FileMeta)> = changes
        .files
        .iter()
        .filter(|(p, _)| !p.starts_with("log/"))
        .filter_map(|(p, m)| m.map(|m| (p.as_str(), m)))
        .collect();
    let mut problems = store.files(&wanted);
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    // 7. Certifications, and a directory's extra files.
    set_stage("certifications");
    problems.extend(check::certifications(
        &gen,
        &signed.trust,
        revocations.as_ref(),
    ));
    if let Some(dir) = store.site().dir() {
        problems.extend(extras(dir, &signed.root, &mut listings));
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    // 8. Swap.
    set_stage("swap");
    let target = Target {
        root: &signed.root_bytes,
        signature: &signed.signature,
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

/// Steps 1 and 2: the root and its signature, the trust list, the signature verified.
fn head(
    opts: &Options,
    mirror: Option<&Mirror>,
    store: &Store<'_>,
    report: &mut Report,
) -> Result<Head, Problem> {
    let root_bytes = store.small(ROOT_PATH, MAX_ROOT, "the largest manifest root")?;
    let root = Root::decode(&root_bytes).map_err(|e| Problem::Manifest {
        detail: format!("{ROOT_PATH}: damaged: {e}"),
    })?;
    report.manifest = Some(to_hex(&sha256(&root_bytes)));
    let signature = match store.small(SIGNATURE_PATH, MAX_ROOT, "the largest manifest signature")
    {
        Ok(b) => b,
        Err(Problem::Missing { .. }) => {
            return Err(Problem::Signature {
                detail: format!(
                    "unsigned manifest: {} is missing (the registry signs it with `starmark manifest sign`)",
                    store.site().locate(SIGNATURE_PATH)
                ),
            })
        }
        Err(p) => return Err(p),
    };
    if let Some(m) = mirror {
        if m.current.bytes == root_bytes && m.signature.as_deref() == Some(&signature[..]) {
            report.files = Generations::new(&opts.dir).file_count(Some(&m.current));
            report.unchanged = report.files;
            report.checkpoint.new = report.checkpoint.old;
            report.trust_list.new = report.trust_list.old;
            report.revocation_list.new = report.revocation_list.old;
            return Ok(Head::UpToDate);
        }
    }
    let trust_bytes = store.small(TRUST_LIST_PATH, MAX_TRUST_LIST, "the largest trust list")?;
    let trust = TrustList::decode_verified(&trust_bytes, &opts.root_key).map_err(|e| {
        Problem::TrustList {
            detail: format!(
                "{TRUST_LIST_PATH}: does not verify under the root key {}: {e}",
                to_hex(&opts.root_key.to_bytes())
            ),
        }
    })?;
    report.trust_list.new = Some(trust.sequence);
    store.put(&trust_bytes)?;
    store.stats.files.fetch_add(1, Ordering::Relaxed);
    if let Some(old) = mirror.and_then(|m| m.trust.as_ref()) {
        if trust.sequence < old.sequence {
            return Err(Problem::TrustList {
                detail: format!(
                    "{TRUST_LIST_PATH}: sequence {}, older than the mirror's {}: refused (a rollback)",
                    trust.sequence, old.sequence
                ),
            });
        }
    }
    let (_, key) =
        verify_root(&root_bytes, &signature, &trust).map_err(|e| Problem::Signature {
            detail: format!("{SIGNATURE_PATH}: {e}"),
        })?;
    report.signed_by = Some(key.key_id.to_string());
    Ok(Head::New(Box::new(Signed {
        root_bytes,
        root,
        signature,
        trust,
        trust_bytes,
    })))
}

/// Steps 4 and 5: the log (its new files fetched first, all at once: on a first mirror, the
/// whole log) and the revocation list.
fn lists(
    gen: &NewGeneration<'_>,
    mirror: Option<&Mirror>,
    trust: &TrustList,
    report: &mut Report,
) -> Result<Option<RevocationList>, Vec<Problem>> {
    let log_files: Vec<(&str, FileMeta)> = gen
        .changes
        .iter()
        .filter(|(p, _)| p.starts_with("log/"))
        .filter_map(|(p, m)| m.map(|m| (p.as_str(), m)))
        .collect();
    let mut problems = gen.store.files(&log_files);
    if !problems.is_empty() {
        return Err(problems);
    }
    match check::log(gen, trust, mirror.and_then(|m| m.checkpoint.as_ref())) {
        Ok(c) => report.checkpoint.new = c.map(|c| c.size),
        Err(p) => problems.extend(p),
    }
    let revocations =
        match check::revocation_list(gen, trust, mirror.and_then(|m| m.revocation_sequence)) {
            Ok(r) => r,
            Err(p) => {
                problems.push(p);
                None
            }
        };
    report.revocation_list.new = revocations.as_ref().map(|r| r.sequence);
    if problems.is_empty() {
        Ok(revocations)
    } else {
        Err(problems)
    }
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
