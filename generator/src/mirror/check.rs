//! The signed objects of a new generation, checked before it is published: the transparency log
//! (its checkpoint under a log key of the trust list, consistent with the checkpoint the mirror
//! holds, every new entry in the tree), the revocation list (signed, not older than the
//! mirror's), and every new or changed certification (its claim signed by an issuer key of the
//! trust list, its record file the one the claim names; none removed unless revoked).

use std::collections::BTreeSet;

use rayon::prelude::*;
use starmark_core::claim::SignedClaim;
use starmark_core::log::{
    check_log, consistency_proof, inclusion_proof, leaf_hash, verify_checkpoint,
    verify_consistency, verify_inclusion, BundleId, Checkpoint, Entry, LogFiles, TileHashes,
};
use starmark_core::qr::decode_digits;
use starmark_core::{to_hex, RevocationList, TrustList};

use super::{NewGeneration, Problem};

/// Where the site publishes the revocation list.
pub const REVOCATION_LIST_PATH: &str = "api/v1/revocation-list.bin";
/// Where the site publishes its log checkpoint.
pub const CHECKPOINT_PATH: &str = "log/checkpoint";
/// The largest checkpoint read.
const MAX_CHECKPOINT: u64 = 64 * 1024;

/// The log of the new generation, as the core reads a log.
struct LogView<'g, 'a>(&'g NewGeneration<'a>);

impl LogFiles for LogView<'_, '_> {
    type Error = anyhow::Error;

    fn read(&mut self, path: &str) -> anyhow::Result<Option<Vec<u8>>> {
        self.0
            .read(&format!("log/{path}"), None)
            .map_err(|p| anyhow::anyhow!("{p}"))
    }
}

fn log_problem(detail: impl Into<String>) -> Problem {
    Problem::Log {
        detail: detail.into(),
    }
}

/// The new checkpoint, after checking it and the log against the mirror's checkpoint `old`
/// (none on a first mirror: then the whole log is recomputed).
pub fn log(
    gen: &NewGeneration<'_>,
    trust: &TrustList,
    old: Option<&Checkpoint>,
) -> Result<Option<Checkpoint>, Vec<Problem>> {
    let text = match gen.read(CHECKPOINT_PATH, Some(MAX_CHECKPOINT)) {
        Ok(Some(b)) => b,
        Ok(None) if old.is_none() => return Ok(None),
        Ok(None) => {
            return Err(vec![log_problem(format!(
                "{CHECKPOINT_PATH} is gone from the site: the mirror holds a log of {} entries",
                old.map_or(0, |c| c.size)
            ))])
        }
        Err(p) => return Err(vec![p]),
    };
    let text = String::from_utf8(text)
        .map_err(|_| vec![log_problem(format!("{CHECKPOINT_PATH}: not UTF-8"))])?;
    let verified = verify_checkpoint(&text, trust, old.map(|c| c.origin.as_str()))
        .map_err(|e| vec![log_problem(format!("{CHECKPOINT_PATH}: refused: {e}"))])?;
    let new = verified.checkpoint;
    let problems = match old {
        None => {
            let mut view = LogView(gen);
            match check_log(&mut view, new.size, &new.root, |_, _| {}) {
                Ok(found) => found
                    .into_iter()
                    .map(|p| log_problem(format!("log/{p}")))
                    .collect(),
                Err(e) => vec![log_problem(format!("{e:#}"))],
            }
        }
        Some(o) => extends(gen, o, &new),
    };
    if problems.is_empty() {
        Ok(Some(new))
    } else {
        Err(problems)
    }
}

/// Checks that `new` extends `old` (a consistency proof from the new tiles) and that every
/// entry after `old` is in the new tree (an inclusion proof each).
fn extends(gen: &NewGeneration<'_>, old: &Checkpoint, new: &Checkpoint) -> Vec<Problem> {
    if new.size < old.size {
        return vec![log_problem(format!(
            "the log shrank from {} to {} entries: refused (a rollback or a fork)",
            old.size, new.size
        ))];
    }
    let fork = |why: String| {
        log_problem(format!(
            "the checkpoint of {} entries does not extend the mirror's of {} entries ({why}): refused (a fork)",
            new.size, old.size
        ))
    };
    let mut view = LogView(gen);
    let proof = match consistency_proof(
        &mut TileHashes::new(&mut view, new.size),
        old.size,
        new.size,
    ) {
        Ok(p) => p,
        Err(e) => return vec![log_problem(format!("consistency proof: {e:#}"))],
    };
    if let Err(e) = verify_consistency(old.size, new.size, &old.root, &new.root, &proof) {
        return vec![fork(e.to_string())];
    }
    let mut problems = Vec::new();
    let mut view = LogView(gen);
    for bundle in BundleId::all(new.size) {
        let first = bundle.index * 256;
        if first + u64::from(bundle.width) <= old.size {
            continue;
        }
        let path = bundle.path();
        let data = match view.read(&path) {
            Ok(Some(d)) => d,
            Ok(None) => {
                problems.push(log_problem(format!("log/{path}: missing")));
                break;
            }
            Err(e) => {
                problems.push(log_problem(format!("{e:#}")));
                break;
            }
        };
        let entries = match bundle.decode(&data) {
            Ok(e) => e,
            Err(e) => {
                problems.push(log_problem(format!("log/{e}")));
                break;
            }
        };
        for (i, bytes) in entries.into_iter().enumerate() {
            let index = first + i as u64;
            if index < old.size {
                continue;
            }
            if let Err(e) = Entry::decode(bytes) {
                problems.push(log_problem(format!("log/{path}: entry {index}: {e}")));
            }
            let mut tiles = LogView(gen);
            let included =
                inclusion_proof(&mut TileHashes::new(&mut tiles, new.size), index, new.size)
                    .map_err(|e| format!("{e:#}"))
                    .and_then(|p| {
                        verify_inclusion(&leaf_hash(bytes), index, new.size, &p, &new.root)
                            .map_err(|e| e.to_string())
                    });
            if let Err(e) = included {
                problems.push(log_problem(format!(
                    "log/{path}: entry {index} is not in the checkpoint's tree ({e})"
                )));
            }
        }
    }
    problems
}

/// The new revocation list's sequence, after checking its signature and that it is not older
/// than the mirror's (`old`).
pub fn revocation_list(
    gen: &NewGeneration<'_>,
    trust: &TrustList,
    old: Option<u64>,
) -> Result<Option<RevocationList>, Problem> {
    let bad = |detail: String| Problem::RevocationList { detail };
    let Some(bytes) = gen.read(REVOCATION_LIST_PATH, None)? else {
        return match old {
            Some(seq) => Err(bad(format!(
                "{REVOCATION_LIST_PATH} is gone from the site; the mirror holds sequence {seq}"
            ))),
            None => Ok(None),
        };
    };
    let list = RevocationList::decode_verified(&bytes, trust)
        .map_err(|e| bad(format!("{REVOCATION_LIST_PATH}: refused: {e}")))?;
    if let Some(seq) = old.filter(|s| list.sequence < *s) {
        return Err(bad(format!(
            "{REVOCATION_LIST_PATH}: sequence {}, older than the mirror's {seq}: refused (a rollback)",
            list.sequence
        )));
    }
    Ok(Some(list))
}

/// The serial of `records/SERIAL.md` or `records/SERIAL.sig`.
pub fn record_serial(path: &str) -> Option<u64> {
    let name = path.strip_prefix("records/")?;
    let serial = name
        .strip_suffix(".md")
        .or_else(|| name.strip_suffix(".sig"))?;
    if serial.is_empty() || !serial.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    serial.parse().ok()
}

/// Checks the certification `serial` of the new generation: `records/SERIAL.sig` is a claim for
/// it, signed by an issuer key of the trust list, and `records/SERIAL.md` is the record it
/// names.
fn certification(gen: &NewGeneration<'_>, trust: &TrustList, serial: u64) -> Option<Problem> {
    let sig_path = format!("records/{serial}.sig");
    let bad = |detail: String| {
        Some(Problem::Claim {
            path: sig_path.clone(),
            detail,
        })
    };
    let text = match gen.read(&sig_path, None) {
        Ok(Some(t)) => t,
        Ok(None) => return bad("missing: the site has the record but not its signature".into()),
        Err(p) => return Some(p),
    };
    let signed = match std::str::from_utf8(&text)
        .map_err(|_| "not UTF-8".to_string())
        .and_then(|t| decode_digits(t.trim()).map_err(|e| e.to_string()))
        .and_then(|b| SignedClaim::decode(&b).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => return bad(format!("damaged: {e}")),
    };
    let claim = signed.claim();
    if claim.serial != serial {
        return bad(format!("a claim for serial {}, not {serial}", claim.serial));
    }
    let Some(issuer) = trust.issuer(claim.key_id) else {
        return bad(format!(
            "signed by key {}, which is not an issuer key of the trust list",
            claim.key_id
        ));
    };
    if signed.verify_signature(&issuer.public_key).is_err() {
        return bad(format!(
            "the signature does not verify under issuer key {}",
            claim.key_id
        ));
    }
    let record_path = format!("records/{serial}.md");
    match gen.read(&record_path, None) {
        Ok(Some(record)) if claim.matches_record(&record) => None,
        Ok(Some(record)) => Some(Problem::Claim {
            path: record_path,
            detail: format!(
                "SHA-256 {}, the signed claim names {}",
                to_hex(&starmark_core::claim::record_digest(&record)),
                to_hex(&claim.record_sha256)
            ),
        }),
        Ok(None) => bad(format!("its record {record_path} is missing")),
        Err(p) => Some(p),
    }
}

/// Checks every certification whose record or signature is new or changed, and that none was
/// removed without being revoked.
pub fn certifications(
    gen: &NewGeneration<'_>,
    trust: &TrustList,
    revocations: Option<&RevocationList>,
) -> Vec<Problem> {
    let mut changed = BTreeSet::new();
    let mut removed = BTreeSet::new();
    for (path, meta) in gen.changes {
        let Some(serial) = record_serial(path) else {
            continue;
        };
        if meta.is_some() {
            changed.insert(serial);
        } else {
            removed.insert(serial);
        }
    }
    let mut problems = Vec::new();
    for serial in removed {
        let left = ["md", "sig"].iter().any(|ext| {
            gen.read(&format!("records/{serial}.{ext}"), None)
                .map_or(true, |b| b.is_some())
        });
        if left {
            // One of the two files is gone: the check names it.
            changed.insert(serial);
        } else if revocations.is_none_or(|r| r.lookup(serial).is_none()) {
            problems.push(Problem::DeletedCertification {
                serial,
                detail: format!(
                    "records/{serial}.md and records/{serial}.sig are gone from the site and the revocation list does not revoke it"
                ),
            });
        }
    }
    let changed: Vec<u64> = changed.into_iter().collect();
    problems.extend(
        changed
            .par_iter()
            .filter_map(|s| certification(gen, trust, *s))
            .collect::<Vec<_>>(),
    );
    problems.sort_by(|a, b| a.path().cmp(b.path()));
    problems
}
