//! Every certification the site publishes: `records/<serial>.sig` (the QR digits of its signed
//! claim) and `records/<serial>.md` (the record file). Each claim's signature is checked under
//! the trust list (a known issuer key, strict Ed25519), its serial against the file name, and
//! the record file's SHA-256 and fields against the claim. In parallel.

use std::collections::BTreeMap;

use anyhow::Result;
use rayon::prelude::*;
use serde::Serialize;
use starmark_core::claim::{record_digest, SignedClaim};
use starmark_core::qr::decode_digits;
use starmark_core::record::Record;
use starmark_core::{to_hex, TrustList};

use super::target::Target;
use super::{Check, Finding};

/// The largest signature file read.
const MAX_SIG: usize = 64 * 1024;
/// The largest record file read.
const MAX_RECORD: usize = 16 << 20;

/// What the certifications check saw.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Certifications on the site (serials with a record or signature file).
    pub on_site: usize,
    /// Claims whose signature verified.
    pub signatures_verified: usize,
    /// Record files whose SHA-256 and fields match their claim.
    pub records_verified: usize,
    /// Claims signed by a key the trust list now marks compromised (verifiers refuse them; the
    /// site shows them as such).
    pub by_compromised_keys: usize,
}

/// A certification of the site whose claim decoded: for the completeness checks.
pub struct SiteClaim {
    /// The serial (of the file name).
    pub serial: u64,
    /// The signed claim's bytes.
    pub signed: SignedClaim,
}

/// The serial of `records/<digits>.md|.sig`, and which of the two it is.
pub(super) fn record_name(path: &str) -> Option<(u64, bool)> {
    let name = path.strip_prefix("records/")?;
    let (stem, is_sig) = match name.strip_suffix(".sig") {
        Some(s) => (s, true),
        None => (name.strip_suffix(".md")?, false),
    };
    if stem.is_empty() || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((stem.parse().ok()?, is_sig))
}

/// Checks every certification among `paths` (the site's files); returns the summary and the
/// claims that decoded, with their serials.
pub fn check(
    target: &dyn Target,
    trust: &TrustList,
    paths: &[String],
    problems: &mut Vec<Finding>,
) -> Result<(Summary, Vec<SiteClaim>)> {
    // serial -> (record path, signature path)
    let mut certs: BTreeMap<u64, (Option<&str>, Option<&str>)> = BTreeMap::new();
    for p in paths.iter().filter(|p| p.starts_with("records/")) {
        match record_name(p) {
            Some((serial, true)) => certs.entry(serial).or_default().1 = Some(p),
            Some((serial, false)) => certs.entry(serial).or_default().0 = Some(p),
            None => problems.push(Finding::at(
                Check::Certifications,
                "unexpected_file",
                p.as_str(),
                format!("{p}: not a record (<serial>.md) or signature (<serial>.sig) file"),
            )),
        }
    }
    let results: Vec<(Option<SiteClaim>, Vec<Finding>, [bool; 3])> = certs
        .par_iter()
        .map(|(serial, (md, sig))| one(target, trust, *serial, *md, *sig))
        .collect();
    let mut summary = Summary {
        on_site: certs.len(),
        ..Summary::default()
    };
    let mut claims = Vec::new();
    for (claim, found, [sig_ok, record_ok, compromised]) in results {
        summary.signatures_verified += usize::from(sig_ok);
        summary.records_verified += usize::from(record_ok);
        summary.by_compromised_keys += usize::from(compromised);
        claims.extend(claim);
        problems.extend(found);
    }
    Ok((summary, claims))
}

/// One certification: (its claim, its findings, [signature verified, record verified, by a
/// compromised key]).
fn one(
    target: &dyn Target,
    trust: &TrustList,
    serial: u64,
    md: Option<&str>,
    sig: Option<&str>,
) -> (Option<SiteClaim>, Vec<Finding>, [bool; 3]) {
    let mut found = Vec::new();
    let mut flags = [false; 3];
    let bad =
        |kind, path: &str, message: String| Finding::at(Check::Certifications, kind, path, message);
    let (Some(md), Some(sig)) = (md, sig) else {
        let (have, lacks) = match (md, sig) {
            (Some(m), None) => (m.to_string(), format!("records/{serial}.sig")),
            (None, Some(s)) => (s.to_string(), format!("records/{serial}.md")),
            _ => return (None, found, flags),
        };
        found.push(bad(
            "incomplete",
            &have,
            format!("{have}: {lacks} is missing (a certification is a record and its signature)"),
        ));
        return (None, found, flags);
    };
    let signed = match read_claim(target, sig) {
        Ok(s) => s,
        Err(message) => {
            found.push(bad("damaged_signature", sig, message));
            return (None, found, flags);
        }
    };
    let claim = signed.claim();
    if claim.serial != serial {
        found.push(bad(
            "wrong_serial",
            sig,
            format!(
                "{sig}: the claim is of serial {}, not {serial}",
                claim.serial
            ),
        ));
    }
    match trust.issuer(claim.key_id) {
        None => found.push(bad(
            "unknown_issuer",
            sig,
            format!(
                "{sig}: signed by key {}, which is not an issuer key of the trust list",
                claim.key_id
            ),
        )),
        Some(issuer) => match signed.verify_signature(&issuer.public_key) {
            Ok(()) => {
                flags[0] = true;
                flags[2] = issuer.compromised_since.is_some();
            }
            Err(_) => found.push(bad(
                "bad_signature",
                sig,
                format!(
                    "{sig}: bad signature: does not verify under issuer key {}",
                    claim.key_id
                ),
            )),
        },
    }
    match target.read(md, MAX_RECORD) {
        Ok(Some(bytes)) => match check_record(&bytes, &signed) {
            Ok(()) => flags[1] = true,
            Err((kind, why)) => found.push(bad(kind, md, format!("{md}: {why}"))),
        },
        Ok(None) => found.push(bad("missing", md, format!("{md}: missing"))),
        Err(e) => found.push(bad("unreadable", md, format!("{e:#}"))),
    }
    (Some(SiteClaim { serial, signed }), found, flags)
}

/// The signed claim of a signature file (its QR digits), or why not.
fn read_claim(target: &dyn Target, path: &str) -> Result<SignedClaim, String> {
    let bytes = match target.read(path, MAX_SIG) {
        Ok(Some(b)) => b,
        Ok(None) => return Err(format!("{path}: missing")),
        Err(e) => return Err(format!("{e:#}")),
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| format!("{path}: not UTF-8"))?;
    let raw = decode_digits(text.trim()).map_err(|e| format!("{path}: damaged: {e}"))?;
    SignedClaim::decode(&raw).map_err(|e| format!("{path}: damaged: {e}"))
}

/// The record file against its claim: the SHA-256 of its exact bytes, then its fields.
fn check_record(bytes: &[u8], signed: &SignedClaim) -> Result<(), (&'static str, String)> {
    let claim = signed.claim();
    if !claim.matches_record(bytes) {
        return Err((
            "digest_mismatch",
            format!(
                "digest mismatch: SHA-256 {}, the signed claim says {}",
                to_hex(&record_digest(bytes)),
                to_hex(&claim.record_sha256)
            ),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| ("record", "not UTF-8".to_string()))?;
    let record = Record::parse(text).map_err(|e| ("record", e.to_string()))?;
    if &record.claim(claim.key_id, bytes) != claim {
        return Err((
            "fields_mismatch",
            "the signed claim does not match the record's fields".to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_names_are_serials() {
        assert_eq!(record_name("records/15.md"), Some((15, false)));
        assert_eq!(record_name("records/0015.sig"), Some((15, true)));
        assert_eq!(record_name("records/x.md"), None);
        assert_eq!(record_name("records/.md"), None);
        assert_eq!(record_name("records/1.txt"), None);
        assert_eq!(record_name("records/a/1.md"), None);
        assert_eq!(record_name("records/99999999999999999999999.md"), None);
    }
}
