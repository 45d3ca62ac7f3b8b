//! The auditor's state file (`--state FILE`): what the last successful audit saw, so the next
//! one can check that the log only grew and that no list went back.
//!
//! JSON: `format` (`starmark-audit-state-v1`), `root_key` (hex), `target`, `checkpoint` (the
//! signed checkpoint as served, its signature lines included), `trust_list_sequence`,
//! `revocation_list_sequence` and `audited_at` (Unix seconds). It is written atomically and only
//! when everything held, so a failed audit leaves it as it was.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use starmark_core::log::merkle::{consistency_proof, verify_consistency};
use starmark_core::log::{Checkpoint, Note, TileHashes};
use starmark_core::to_hex;

use super::lists::{RevocationSeen, TrustSeen, REVOCATION_LIST_PATH, TRUST_LIST_PATH};
use super::log::{Outcome as Log, CHECKPOINT_PATH};
use super::target::{Target, TargetLog};
use super::{Check, Finding};
use crate::fsutil;

/// The `format` of a state file.
pub const FORMAT: &str = "starmark-audit-state-v1";
/// The largest state file read.
const MAX_STATE: u64 = 1 << 20;

/// What the last successful audit saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Always [`FORMAT`].
    pub format: String,
    /// The root key the audit pinned, hex.
    pub root_key: String,
    /// The site audited.
    pub target: String,
    /// The signed checkpoint as served.
    pub checkpoint: String,
    /// The trust list's sequence.
    pub trust_list_sequence: u64,
    /// The revocation list's sequence.
    pub revocation_list_sequence: u64,
    /// When (Unix seconds).
    pub audited_at: u64,
}

impl State {
    /// Reads a state file: `None` when it does not exist; a file that is not a state file is an
    /// error naming it and what is wrong.
    pub fn load(path: &Path) -> Result<Option<State>> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
        };
        if meta.len() > MAX_STATE {
            bail!(
                "{}: larger than {MAX_STATE} bytes: not a state file",
                path.display()
            );
        }
        let text = fsutil::read_text(path)?;
        let state: State = serde_json::from_str(&text)
            .with_context(|| format!("{}: not an audit state file", path.display()))?;
        if state.format != FORMAT {
            bail!(
                "{}: field format: {:?}, expected {FORMAT:?}",
                path.display(),
                state.format
            );
        }
        state
            .body()
            .with_context(|| format!("{}: field checkpoint", path.display()))?;
        Ok(Some(state))
    }

    /// The checkpoint body.
    pub fn body(&self) -> Result<Checkpoint> {
        let note = Note::parse(&self.checkpoint)?;
        Ok(Checkpoint::parse(&note.text)?)
    }

    /// Writes the state atomically, unless the file changed since `loaded` was read from it
    /// (another audit with the same file finished meanwhile): then it is an error and the file
    /// is left to that audit.
    pub fn save(&self, path: &Path, loaded: Option<&State>) -> Result<()> {
        if State::load(path)?.as_ref() != loaded {
            bail!(
                "{}: changed by another audit while this one ran; not updated (run the audit again)",
                path.display()
            );
        }
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        fsutil::write_atomic(path, text.as_bytes())
    }
}

/// What the audit remembers.
#[derive(Clone, Copy)]
pub enum Remembered<'a> {
    /// No state file.
    Off,
    /// A state file that does not exist yet: this audit is the first.
    First,
    /// What the last successful audit saw.
    Seen(&'a State),
}

/// What the state check saw.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Whether a state file was given.
    pub used: bool,
    /// Whether it is the first audit with it (nothing to compare with).
    pub first: bool,
    /// The tree size seen last time.
    pub previous_size: Option<u64>,
    /// Whether the checkpoint extends the one seen last time (a verified consistency proof).
    pub consistent: bool,
    /// The trust list sequence seen last time.
    pub previous_trust_list_sequence: Option<u64>,
    /// The revocation list sequence seen last time.
    pub previous_revocation_list_sequence: Option<u64>,
}

/// Compares what the site serves now with what the last audit saw.
pub fn check(
    remembered: Remembered<'_>,
    target: &dyn Target,
    log: Option<&Log>,
    trust: Option<&TrustSeen>,
    revocation: Option<&RevocationSeen>,
    problems: &mut Vec<Finding>,
) -> Summary {
    let state = match remembered {
        Remembered::Off => return Summary::default(),
        Remembered::First => {
            return Summary {
                used: true,
                first: true,
                ..Summary::default()
            }
        }
        Remembered::Seen(s) => s,
    };
    let mut summary = Summary {
        used: true,
        previous_trust_list_sequence: Some(state.trust_list_sequence),
        previous_revocation_list_sequence: Some(state.revocation_list_sequence),
        ..Summary::default()
    };
    if let Some(t) = trust {
        rollback(
            "trust list",
            TRUST_LIST_PATH,
            t.list.sequence,
            state.trust_list_sequence,
            problems,
        );
    }
    if let Some(r) = revocation {
        rollback(
            "revocation list",
            REVOCATION_LIST_PATH,
            r.list.sequence,
            state.revocation_list_sequence,
            problems,
        );
    }
    let Ok(old) = state.body() else {
        return summary;
    };
    summary.previous_size = Some(old.size);
    let Some(log) = log else {
        return summary;
    };
    let new = &log.seen.checkpoint;
    let mut named = |kind, message: String| {
        problems.push(Finding::at(Check::State, kind, CHECKPOINT_PATH, message));
    };
    if new.origin != old.origin {
        named(
            "origin_changed",
            format!(
                "{CHECKPOINT_PATH}: the log is {:?}, the one seen before was {:?}",
                new.origin, old.origin
            ),
        );
        return summary;
    }
    if new.size < old.size {
        named(
            "shrunk",
            format!(
                "{CHECKPOINT_PATH}: the log shrank from {} to {} entries: entries seen before were removed (the log was rewritten)",
                old.size, new.size
            ),
        );
        return summary;
    }
    let proof = consistency_proof(
        &mut TileHashes::new(&mut TargetLog { target }, new.size),
        old.size,
        new.size,
    );
    let proof = match proof {
        Ok(p) => p,
        Err(e) => {
            named(
                "consistency_unchecked",
                format!(
                    "{CHECKPOINT_PATH}: consistency with the checkpoint seen before (size {}) cannot be checked: {e:#}",
                    old.size
                ),
            );
            return summary;
        }
    };
    match verify_consistency(old.size, new.size, &old.root, &new.root, &proof) {
        Ok(()) => summary.consistent = true,
        Err(_) => named(
            "fork",
            format!(
                "{CHECKPOINT_PATH}: fork: the log of {} entries (root {}) does not extend the one seen before ({} entries, root {}): its history was rewritten",
                new.size,
                to_hex(&new.root),
                old.size,
                to_hex(&old.root)
            ),
        ),
    }
    summary
}

fn rollback(what: &str, path: &str, served: u64, seen: u64, problems: &mut Vec<Finding>) {
    if served < seen {
        problems.push(Finding::at(
            Check::State,
            "older_list",
            path,
            format!(
                "{path}: older {what}: #{served} is served, #{seen} was seen before (a rollback)"
            ),
        ));
    }
}
