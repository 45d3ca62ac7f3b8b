//! Witnesses in an audit: which of the witnesses the registry lists (`api/v1/witnesses.json`)
//! cosigned the checkpoint, verified here from `log/checkpoint` itself; and cosigning the
//! checkpoint as a witness after a successful audit.

use anyhow::Result;
use serde::Serialize;
use starmark_core::log::cosignature::{self, WitnessKey};
use starmark_core::log::Note;
use starmark_core::SecretKey;

use super::log::{Outcome as Log, Seen, CHECKPOINT_PATH};
use super::target::Target;
use super::{Check, Finding};
use crate::witness::{statuses, Published, Status, WITNESSES_PATH};

/// The largest witness list read.
const MAX_WITNESSES: usize = 1 << 20;

/// What the witness check saw.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Witnesses the registry lists.
    pub known: usize,
    /// Of those, how many cosigned the checkpoint (verified).
    pub cosigned: usize,
    /// Each listed witness, as verified.
    pub witnesses: Vec<Status>,
}

/// Counts the listed witnesses whose cosignature of the served checkpoint verifies; a witness
/// list that claims otherwise, or names another checkpoint, is a finding.
pub fn count(
    target: &dyn Target,
    log: Option<&Log>,
    problems: &mut Vec<Finding>,
) -> Result<Summary> {
    let Some(log) = log else {
        return Ok(Summary::default());
    };
    let mut named = |kind, message: String| {
        problems.push(Finding::at(Check::Witnesses, kind, WITNESSES_PATH, message));
    };
    let bytes = match target.read(WITNESSES_PATH, MAX_WITNESSES) {
        Ok(Some(b)) => b,
        Ok(None) => return Ok(Summary::default()),
        Err(e) => {
            named("unreadable", format!("{e:#}"));
            return Ok(Summary::default());
        }
    };
    let listed: Published = match serde_json::from_slice(&bytes) {
        Ok(p) => p,
        Err(e) => {
            named(
                "malformed",
                format!("{WITNESSES_PATH}: not a witness list: {e}"),
            );
            return Ok(Summary::default());
        }
    };
    let mut keys = Vec::new();
    for w in &listed.witnesses {
        match WitnessKey::from_vkey(&w.vkey) {
            Ok(k) => keys.push(k),
            Err(e) => named(
                "malformed",
                format!("{WITNESSES_PATH}: witness {:?}: {e}", w.name),
            ),
        }
    }
    let cp = &log.seen.checkpoint;
    if listed.size != cp.size || listed.origin != cp.origin {
        named(
            "stale",
            format!(
                "{WITNESSES_PATH}: is of the checkpoint of {} at size {}, {CHECKPOINT_PATH} is of {} at size {}",
                listed.origin, listed.size, cp.origin, cp.size
            ),
        );
    }
    let note = Note::parse(&log.seen.note)?;
    let mut verified = Vec::new();
    for key in keys {
        match statuses(&note, std::slice::from_ref(&key)) {
            Ok(mut s) => verified.append(&mut s),
            Err(e) => named("bad_cosignature", format!("{CHECKPOINT_PATH}: {e:#}")),
        }
    }
    for w in &listed.witnesses {
        let really = verified
            .iter()
            .any(|v| v.vkey == w.vkey && v.cosigned && v.timestamp == w.timestamp);
        if w.cosigned != really {
            named(
                "mismatch",
                format!(
                    "{WITNESSES_PATH}: says witness {:?} {} the checkpoint, but {CHECKPOINT_PATH} {}",
                    w.name,
                    if w.cosigned { "cosigned" } else { "did not cosign" },
                    if really { "carries its cosignature" } else { "carries no cosignature of it that verifies" }
                ),
            );
        }
    }
    Ok(Summary {
        known: listed.witnesses.len(),
        cosigned: verified.iter().filter(|v| v.cosigned).count(),
        witnesses: verified,
    })
}

/// The witness key of `key` under `name` (default `witness-<key id>`).
pub fn witness_key(key: &SecretKey, name: Option<&str>) -> Result<WitnessKey> {
    let name = match name {
        Some(n) => n.to_string(),
        None => format!("witness-{}", key.public_key().key_id()),
    };
    Ok(WitnessKey::new(&name, key.public_key())?)
}

/// The served checkpoint with this witness's cosignature at `now` added (replacing an earlier
/// one of the same witness).
pub fn cosign(seen: &Seen, key: &SecretKey, witness: &WitnessKey, now: u64) -> Result<String> {
    let mut note = Note::parse(&seen.note)?;
    let line = cosignature::cosign(&note.text, now, witness.name(), key)?;
    cosignature::add_line(&mut note, line);
    Ok(note.to_text())
}
