//! The transparency log under `log/`: the checkpoint's signature by a log key of the trust list,
//! then the whole tree recomputed from the entry bundles and compared with every tile and with
//! the checkpoint's root (`starmark_core::log::check_log`), so every entry is shown to be in the
//! tree the checkpoint signs. The entries are kept for the completeness checks.

use anyhow::Result;
use base64::Engine;
use serde::Serialize;
use starmark_core::log::merkle::Hash;
use starmark_core::log::{check_log, verify_checkpoint, Checkpoint, Entry, Problem};
use starmark_core::{SignedClaim, TrustList};

use super::target::{Target, TargetLog};
use super::{Check, Finding};

/// The checkpoint's path in the site.
pub const CHECKPOINT_PATH: &str = "log/checkpoint";
/// The largest checkpoint read (a note holds at most 100 signatures).
pub const MAX_CHECKPOINT: usize = 64 * 1024;

/// The checkpoint as served and verified.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The whole file: text and signature lines (other witnesses' included).
    pub note: String,
    /// Its body.
    pub checkpoint: Checkpoint,
}

/// What the log holds.
pub struct Outcome {
    /// The checkpoint.
    pub seen: Seen,
    /// Every claim entry: (log index, signed claim).
    pub claims: Vec<(u64, SignedClaim)>,
    /// Every trust list entry: (log index, sequence, SHA-256).
    pub trust_lists: Vec<(u64, u64, Hash)>,
    /// Every revocation list entry: (log index, sequence, SHA-256).
    pub revocation_lists: Vec<(u64, u64, Hash)>,
    /// Whether every entry of the tree was read (none of its bundles missing or damaged), so
    /// that what the log holds is known.
    pub entries_complete: bool,
    /// Whether the tree matched its tiles and the checkpoint.
    pub whole: bool,
    /// The trust list key id of the log key that signed the checkpoint.
    pub log_key: String,
}

/// What the log check saw.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// The log's origin.
    pub origin: Option<String>,
    /// Entries in the tree.
    pub size: u64,
    /// The root hash, base64 as in the checkpoint.
    pub root: Option<String>,
    /// The log key (trust list key id) whose signature of the checkpoint verified.
    pub log_key: Option<String>,
    /// Claim entries.
    pub claims: usize,
    /// Trust list entries.
    pub trust_lists: usize,
    /// Revocation list entries.
    pub revocation_lists: usize,
    /// Whether the tree recomputed from the entries matched every tile and the checkpoint.
    pub whole: bool,
}

impl Summary {
    /// The summary of a checked log.
    pub fn of(log: &Outcome) -> Summary {
        let cp = &log.seen.checkpoint;
        Summary {
            origin: Some(cp.origin.clone()),
            size: cp.size,
            root: Some(base64::engine::general_purpose::STANDARD.encode(cp.root)),
            log_key: Some(log.log_key.clone()),
            claims: log.claims.len(),
            trust_lists: log.trust_lists.len(),
            revocation_lists: log.revocation_lists.len(),
            whole: log.whole,
        }
    }
}

/// Verifies the checkpoint under the trust list's log keys and recomputes the tree. A missing or
/// refused checkpoint is a finding and `None`; each damaged file is a finding.
pub fn check(
    target: &dyn Target,
    trust: &TrustList,
    problems: &mut Vec<Finding>,
) -> Result<Option<Outcome>> {
    let note = match target.read(CHECKPOINT_PATH, MAX_CHECKPOINT) {
        Ok(Some(bytes)) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                problems.push(Finding::at(
                    Check::Log,
                    "checkpoint",
                    CHECKPOINT_PATH,
                    format!("{CHECKPOINT_PATH}: not UTF-8"),
                ));
                return Ok(None);
            }
        },
        Ok(None) => {
            problems.push(Finding::at(
                Check::Log,
                "missing",
                CHECKPOINT_PATH,
                format!("{CHECKPOINT_PATH}: missing: the site publishes no transparency log"),
            ));
            return Ok(None);
        }
        Err(e) => {
            problems.push(Finding::at(
                Check::Log,
                "unreadable",
                CHECKPOINT_PATH,
                format!("{e:#}"),
            ));
            return Ok(None);
        }
    };
    let verified = match verify_checkpoint(&note, trust, None) {
        Ok(v) => v,
        Err(e) => {
            problems.push(Finding::at(
                Check::Log,
                "checkpoint",
                CHECKPOINT_PATH,
                format!("{CHECKPOINT_PATH}: refused: {e}"),
            ));
            return Ok(None);
        }
    };
    let cp = verified.checkpoint.clone();
    let mut out = Outcome {
        seen: Seen {
            note,
            checkpoint: cp.clone(),
        },
        claims: Vec::new(),
        trust_lists: Vec::new(),
        revocation_lists: Vec::new(),
        entries_complete: false,
        whole: false,
        log_key: verified.log_key.to_string(),
    };
    let mut read = 0u64;
    let checked = check_log(&mut TargetLog { target }, cp.size, &cp.root, |i, e| {
        read += 1;
        match e {
            Entry::Claim(c) => out.claims.push((i, c.clone())),
            Entry::TrustList { sequence, sha256 } => out.trust_lists.push((i, *sequence, *sha256)),
            Entry::RevocationList { sequence, sha256 } => {
                out.revocation_lists.push((i, *sequence, *sha256));
            }
        }
    });
    let found = match checked {
        Ok(found) => found,
        Err(e) => {
            problems.push(Finding::new(
                Check::Log,
                "unreadable",
                format!("the log cannot be read to the end: {e:#}"),
            ));
            return Ok(Some(out));
        }
    };
    let bad_entries = found
        .iter()
        .filter(|p| matches!(p, Problem::BadEntry { .. }))
        .count() as u64;
    out.entries_complete = read + bad_entries == cp.size;
    out.whole = found.is_empty();
    problems.extend(found.iter().map(finding));
    Ok(Some(out))
}

fn finding(p: &Problem) -> Finding {
    let message = format!("log/{p}");
    let site = |path: &str| format!("log/{path}");
    match p {
        Problem::Missing { path } => Finding::at(Check::Log, "missing", site(path), message),
        Problem::Malformed { .. } => Finding::new(Check::Log, "malformed", message),
        Problem::BadEntry { path, .. } => Finding::at(Check::Log, "bad_entry", site(path), message),
        Problem::Mismatch { path } => Finding::at(Check::Log, "tile_mismatch", site(path), message),
        Problem::Root { .. } => Finding::at(
            Check::Log,
            "root_mismatch",
            CHECKPOINT_PATH,
            format!("log/{p}"),
        ),
    }
}
