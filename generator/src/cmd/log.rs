//! `starmark log backfill | verify | key`.

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use starmark_core::log::{origin_of, Checkpoint, Entry, NoteKey};
use starmark_core::{to_hex, SignedClaim};

use crate::cli::{LogArgs, LogCommand};
use crate::lock::Lock;
use crate::registry::{Registry, RECORDS_DIR, REVOCATION_LIST_FILE, TRUST_LIST_FILE};
use crate::{fsutil, log, signed};

pub fn run(cmd: LogCommand) -> Result<u8> {
    match cmd {
        LogCommand::Backfill(a) => backfill(&a),
        LogCommand::Verify(a) => verify(&a),
        LogCommand::Key(a) => key(&a),
    }
}

fn backfill(args: &LogArgs) -> Result<u8> {
    let reg = Registry::locate(args.registry.registry.as_deref(), None)?;
    let _lock = Lock::registry(&reg.dir, "log backfill")?;
    if log::exists(&reg) {
        bail!(
            "{}: the registry has a log already; backfill only makes the log of a registry that has none",
            log::dir(&reg).display()
        );
    }
    let trust = reg.trust_list()?;
    let trust_bytes = fsutil::read(&reg.path(TRUST_LIST_FILE))?;
    let revocation_sequence = reg.revocation_list_for_resigning(&trust)?.sequence;
    let revocation_bytes = fsutil::read(&reg.path(REVOCATION_LIST_FILE))?;
    let claims = signed_claims(&reg)?;
    let mut entries: Vec<Entry> = claims.into_iter().map(Entry::Claim).collect();
    let claim_count = entries.len();
    entries.push(Entry::trust_list(trust.sequence, &trust_bytes));
    entries.push(Entry::revocation_list(
        revocation_sequence,
        &revocation_bytes,
    ));
    let checkpoint = log::create(&reg, &trust, &entries)?;
    outln!(
        "made the log {}: {} ({} in serial order, then trust list #{} and revocation list #{revocation_sequence})",
        log::dir(&reg).display(),
        crate::plural::count(checkpoint.size, "entry", "entries"),
        crate::plural::count(claim_count, "claim", "claims"),
        trust.sequence
    );
    print_checkpoint(&checkpoint);
    Ok(crate::EXIT_OK)
}

/// The signed claim of every record, in serial order; the same checks as `build` (signature file
/// present and matching the record, signed by a good key of the trust list), every problem
/// listed.
fn signed_claims(reg: &Registry) -> Result<Vec<SignedClaim>> {
    let trust = reg.trust_list()?;
    let scan = reg.scan_records()?;
    scan.check(&reg.path(RECORDS_DIR))?;
    // Read and checked in parallel, like `build`.
    let checked: Vec<Result<(u64, SignedClaim)>> = scan
        .files
        .par_iter()
        .map(|file| {
            let sr = signed::load(&file.path, reg.config.max_record_bytes)?;
            crate::registry::check_file_name(&sr.path, sr.record.serial)?;
            signed::check_signature(&sr, &trust)?;
            Ok((sr.record.serial, sr.signed))
        })
        .collect();
    let mut claims = Vec::new();
    let mut errors = Vec::new();
    for c in checked {
        match c {
            Ok(claim) => claims.push(claim),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    if !errors.is_empty() {
        bail!(
            "{} cannot be logged; nothing was written:\n  {}",
            crate::plural::count(errors.len(), "record", "records"),
            errors.join("\n  ")
        );
    }
    claims.sort_by_key(|(serial, _)| *serial);
    if let Some(w) = claims.windows(2).find(|w| w[0].0 == w[1].0) {
        bail!(
            "serial {} is used by two records; nothing was written",
            w[0].0
        );
    }
    Ok(claims.into_iter().map(|(_, c)| c).collect())
}

fn verify(args: &LogArgs) -> Result<u8> {
    let reg = Registry::locate(args.registry.registry.as_deref(), None)?;
    let _lock = Lock::registry(&reg.dir, "log verify")?;
    if !log::exists(&reg) {
        bail!(log::missing_hint(&reg));
    }
    let trust = reg.trust_list()?;
    let report = log::verify(&reg, &trust)?;
    let cp = &report.checkpoint.checkpoint;
    for p in &report.problems {
        outln!("{}/{p}", log::dir(&reg).display());
    }
    if !report.problems.is_empty() {
        outln!(
            "the log does NOT verify: {} (checkpoint: {}, signed by log key {})",
            crate::plural::count(report.problems.len(), "problem", "problems"),
            crate::plural::count(cp.size, "entry", "entries"),
            report.checkpoint.log_key
        );
        return Ok(crate::EXIT_NOT_VALID);
    }
    outln!(
        "the log verifies: {} ({}, {}, {}), every tile and bundle recomputed; checkpoint signed by log key {}",
        crate::plural::count(cp.size, "entry", "entries"),
        crate::plural::count(report.claims, "claim", "claims"),
        crate::plural::count(report.revocation_lists, "revocation list", "revocation lists"),
        crate::plural::count(report.trust_lists, "trust list", "trust lists"),
        report.checkpoint.log_key
    );
    print_checkpoint(cp);
    Ok(crate::EXIT_OK)
}

fn key(args: &LogArgs) -> Result<u8> {
    let reg = Registry::locate(args.registry.registry.as_deref(), None)?;
    let trust = reg.trust_list()?;
    // The key name is the log's origin: the checkpoint's, or the one the base URL gives.
    let origin = if log::exists(&reg) {
        let path = log::dir(&reg).join(log::CHECKPOINT);
        let text = fsutil::read_text(&path)?;
        let note = starmark_core::log::Note::parse(&text)
            .with_context(|| format!("{}: damaged", path.display()))?;
        Checkpoint::parse(&note.text)
            .with_context(|| format!("{}: damaged", path.display()))?
            .origin
    } else {
        origin_of(&reg.config.base_url)?
    };
    let keys: Vec<_> = trust
        .log_keys
        .iter()
        .filter(|k| k.compromised_since.is_none())
        .collect();
    if keys.is_empty() {
        bail!("the trust list has no log key that is not compromised; add one with `starmark trust add KEY.pub --purpose log --name NAME`");
    }
    for k in keys {
        outln!("{}", NoteKey::new(&origin, k.public_key)?.to_vkey());
    }
    Ok(crate::EXIT_OK)
}

fn print_checkpoint(cp: &Checkpoint) {
    outln!(
        "checkpoint: origin {}, {}, root {}",
        cp.origin,
        crate::plural::count(cp.size, "entry", "entries"),
        to_hex(&cp.root)
    );
}
