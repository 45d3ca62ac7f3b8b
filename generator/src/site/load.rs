//! Loading the registry for a build: every record is parsed, bound to its signature file and
//! verified (signature, digest, catalogue category, trust list, unique serials) before anything is
//! written. All problems are collected, so one build reports every bad record.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};
use rayon::prelude::*;
use starmark_core::verdict::{verify, Context, Verdict};
use starmark_core::{Revocation, RevocationList, TrustList};

use crate::fsutil;
use crate::registry::{Registry, REVOCATION_LIST_FILE, TRUST_LIST_FILE};
use crate::signed::{self, SignedRecord};

/// The status of a certification on the site, as of the build's reference time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Genuine and within its validity period.
    Valid,
    /// Past its validity period.
    Expired,
    /// Validity not started yet.
    NotYetValid,
    /// Revoked.
    Revoked,
    /// Valid, but replaced by a newer certification.
    Superseded,
}

impl Status {
    /// Every status, in display order.
    pub const ALL: [Status; 5] = [
        Status::Valid,
        Status::Superseded,
        Status::Expired,
        Status::NotYetValid,
        Status::Revoked,
    ];

    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Expired => "expired",
            Status::NotYetValid => "not_yet_valid",
            Status::Revoked => "revoked",
            Status::Superseded => "superseded",
        }
    }
}

/// One certification that passed every check.
#[derive(Debug)]
pub struct VerifiedCert {
    /// The signed record.
    pub signed: SignedRecord,
    /// The signature file's digits.
    pub digits: String,
    /// Status as of the reference time.
    pub status: Status,
    /// Revocation, if revoked.
    pub revocation: Option<Revocation>,
    /// The serial of the certification that replaces this one.
    pub superseded_by: Option<u64>,
}

/// Everything a build needs, verified.
#[derive(Debug)]
pub struct Loaded {
    /// Certifications by serial.
    pub certs: BTreeMap<u64, VerifiedCert>,
    /// The trust list.
    pub trust: TrustList,
    /// Its signed bytes.
    pub trust_bytes: Vec<u8>,
    /// The revocation list.
    pub revocations: RevocationList,
    /// Its signed bytes.
    pub revocation_bytes: Vec<u8>,
    /// Reference time of statuses (Unix seconds).
    pub as_of: u64,
}

/// Loads and verifies the whole registry. `at` overrides the reference time, which is otherwise
/// the revocation list's issued-at (so the same registry always builds to the same bytes).
pub fn load(reg: &Registry, at: Option<u64>) -> Result<Loaded> {
    let trust = reg.trust_list()?;
    let trust_bytes = fsutil::read(&reg.path(TRUST_LIST_FILE))?;
    let revocations = reg.revocation_list(&trust)?;
    let revocation_bytes = fsutil::read(&reg.path(REVOCATION_LIST_FILE))?;
    let as_of = at.unwrap_or(revocations.issued_at);
    let files = reg.record_files()?;

    let ctx = Context {
        trust: &trust,
        revocations: Some(&revocations),
        now: as_of,
        highest_seen_sequence: None,
    };
    let results: Vec<Result<VerifiedCert, String>> = files
        .par_iter()
        .map(|path| check_one(reg, &ctx, path))
        .collect();

    let mut errors = Vec::new();
    let mut certs: BTreeMap<u64, VerifiedCert> = BTreeMap::new();
    for r in results {
        match r {
            Err(e) => errors.push(e),
            Ok(c) => {
                let serial = c.signed.record.serial;
                if let Some(first) = certs.get(&serial) {
                    errors.push(format!(
                        "{}: field serial: duplicate serial {serial}, also used by {}",
                        c.signed.path.display(),
                        first.signed.path.display()
                    ));
                } else {
                    certs.insert(serial, c);
                }
            }
        }
    }
    let supersedes: Vec<(u64, u64, PathBuf)> = certs
        .values()
        .filter_map(|c| {
            c.signed
                .record
                .supersedes
                .map(|old| (old, c.signed.record.serial, c.signed.path.clone()))
        })
        .collect();
    for (old, new, path) in supersedes {
        match certs.get_mut(&old) {
            None => errors.push(format!(
                "{}: field supersedes: no record has serial {old}",
                path.display()
            )),
            Some(c) => {
                c.superseded_by = Some(c.superseded_by.map_or(new, |s| s.max(new)));
                if c.status == Status::Valid {
                    c.status = Status::Superseded;
                }
            }
        }
    }
    if !errors.is_empty() {
        errors.sort();
        bail!(
            "{} bad record(s); nothing was written:\n  {}",
            errors.len(),
            errors.join("\n  ")
        );
    }
    Ok(Loaded {
        certs,
        trust,
        trust_bytes,
        revocations,
        revocation_bytes,
        as_of,
    })
}

fn check_one(
    reg: &Registry,
    ctx: &Context<'_>,
    path: &std::path::Path,
) -> Result<VerifiedCert, String> {
    let sr = signed::load(path).map_err(|e| format!("{e:#}"))?;
    signed::check_signature(&sr, ctx.trust).map_err(|e| format!("{e:#}"))?;
    let record = &sr.record;
    if reg.category(&record.category).is_none() {
        return Err(format!(
            "{}: field category: unknown category {:?} (not in the catalogue of starmark.toml)",
            path.display(),
            record.category
        ));
    }
    let v = verify(&sr.signed, ctx);
    let status = match v.verdict {
        Verdict::Valid => Status::Valid,
        Verdict::Expired => Status::Expired,
        Verdict::NotYetValid => Status::NotYetValid,
        Verdict::Revoked => Status::Revoked,
        other => {
            return Err(format!(
                "{}: verdict {}{}",
                path.display(),
                other.name(),
                v.detail.map(|d| format!(": {d}")).unwrap_or_default()
            ))
        }
    };
    let digits = starmark_core::qr::encode_digits(sr.signed.as_bytes());
    Ok(VerifiedCert {
        revocation: v.revocation,
        signed: sr,
        digits,
        status,
        superseded_by: None,
    })
}
