//! Witnesses of the registry's log (the cosignature format: `starmark_core::log::cosignature`).
//!
//! A witness audits the published site, checks that the log's checkpoint extends the one it saw
//! before, and cosigns it (`starmark audit --cosign`). The registry publishes the cosignatures it
//! receives as extra signature lines of its checkpoint (`starmark witness add`: in
//! `REGISTRY/log/checkpoint`, so `log/checkpoint` of the site carries them), lists the witnesses
//! it knows in `starmark.toml` (`[[witness]] vkey = "…"`), and the build publishes which of them
//! cosigned the current checkpoint in `api/v1/witnesses.json`, read by the verify page and by
//! `audit`. The next append to the log writes a checkpoint without cosignatures: witnesses cosign
//! each new one.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use starmark_core::log::cosignature::{self, WitnessKey};
use starmark_core::log::{Checkpoint, Note};
use starmark_core::Day;

use crate::lock::Lock;
use crate::registry::{Registry, CONFIG_FILE};
use crate::{fsutil, log};

/// Where the build publishes the witnesses' status, relative to the site.
pub const WITNESSES_PATH: &str = "api/v1/witnesses.json";

/// `api/v1/witnesses.json`: the checkpoint of the published log and, for each witness the
/// registry knows, whether its cosignature of that checkpoint is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// The log's origin.
    pub origin: String,
    /// The checkpoint's tree size.
    pub size: u64,
    /// Witnesses the registry knows (`[[witness]]`).
    pub known: usize,
    /// Of those, how many cosigned this checkpoint.
    pub cosigned: usize,
    /// Each known witness, in the order of `starmark.toml`.
    pub witnesses: Vec<Status>,
}

/// One known witness and its cosignature of the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Its name (the key name of its cosignatures).
    pub name: String,
    /// Its verifier key.
    pub vkey: String,
    /// Whether the checkpoint carries its cosignature, verified.
    pub cosigned: bool,
    /// When it cosigned (Unix seconds), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    /// That day (UTC), `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// The status of each of `keys` in the checkpoint's note; a line of a known witness that does not
/// verify is an error naming it.
pub fn statuses(note: &Note, keys: &[WitnessKey]) -> Result<Vec<Status>> {
    keys.iter()
        .map(|k| {
            let timestamp = k.verify(note)?;
            Ok(Status {
                name: k.name().to_string(),
                vkey: k.to_vkey(),
                cosigned: timestamp.is_some(),
                timestamp,
                date: timestamp.map(|t| Day::from_unix(t).to_string()),
            })
        })
        .collect()
}

/// The published witness status of a verified checkpoint.
pub fn published(checkpoint: &Checkpoint, note: &Note, keys: &[WitnessKey]) -> Result<Published> {
    let witnesses = statuses(note, keys)?;
    Ok(Published {
        origin: checkpoint.origin.clone(),
        size: checkpoint.size,
        known: witnesses.len(),
        cosigned: witnesses.iter().filter(|w| w.cosigned).count(),
        witnesses,
    })
}

/// What `witness add` did.
pub struct Added {
    /// The witnesses whose cosignature was added (or replaced by a newer one).
    pub names: Vec<String>,
    /// The checkpoint's tree size.
    pub size: u64,
    /// Known witnesses that have now cosigned it.
    pub cosigned: usize,
    /// Known witnesses.
    pub known: usize,
}

/// Adds the cosignatures in `file` to the registry's checkpoint. The file holds a cosigned
/// checkpoint (as `audit --cosign` writes it) or only the cosignature lines (as a C2SP witness
/// answers). Only lines of witnesses of `[[witness]]` that verify over the registry's current
/// checkpoint are added; a line of a known witness that does not verify, a file of another
/// checkpoint, or a file with no line of a known witness is refused. The checkpoint is replaced
/// atomically while the registry lock is held.
pub fn add(reg: &Registry, file: &Path) -> Result<Added> {
    let keys = reg.witness_keys()?;
    if keys.is_empty() {
        bail!(
            "{}: no [[witness]] is listed; add the witness's key first ([[witness]] vkey = \"…\", as `starmark audit --cosign` prints it)",
            reg.path(CONFIG_FILE).display()
        );
    }
    let _lock = Lock::registry(&reg.dir, "witness add")?;
    let trust = reg.trust_list()?;
    let current = log::checkpoint(reg, &trust)?;
    let received = fsutil::read_text(file)?;
    let lines = if received.starts_with(starmark_core::log::note::SIGNATURE_PREFIX) {
        // Only signature lines: read them as the signatures of the current checkpoint.
        Note::parse(&format!("{}\n{received}", current.note.text))
    } else {
        Note::parse(&received)
    }
    .with_context(|| format!("{}: not a cosigned checkpoint", file.display()))?;
    if lines.text != current.note.text {
        let theirs = Checkpoint::parse(&lines.text)
            .map(|c| format!("the checkpoint of size {}", c.size))
            .unwrap_or_else(|_| "another text".to_string());
        bail!(
            "{}: cosigns {theirs}, but the log's checkpoint is of size {} (another checkpoint): the witness must audit the site again",
            file.display(),
            current.checkpoint.size
        );
    }
    let mut note = current.note.clone();
    let mut names = Vec::new();
    for key in &keys {
        let found = key
            .verify(&lines)
            .with_context(|| format!("{}", file.display()))?;
        if found.is_none() {
            continue;
        }
        if let Some(line) = lines
            .signatures
            .iter()
            .find(|s| s.name == key.name() && s.key_id == key.id())
        {
            cosignature::add_line(&mut note, line.clone());
            names.push(key.name().to_string());
        }
    }
    if names.is_empty() {
        bail!(
            "{}: no cosignature of a witness listed in [[witness]] of {} (its lines are of other keys)",
            file.display(),
            reg.path(CONFIG_FILE).display()
        );
    }
    let path = log::dir(reg).join(log::CHECKPOINT);
    fsutil::write_atomic(&path, note.to_text().as_bytes())?;
    let cosigned = statuses(&note, &keys)?
        .iter()
        .filter(|s| s.cosigned)
        .count();
    Ok(Added {
        names,
        size: current.checkpoint.size,
        cosigned,
        known: keys.len(),
    })
}
