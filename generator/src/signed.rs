//! Signed records: a record file with its `RECORD.sig` (the QR digits of its signed claim), and the
//! checks that bind the two.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use starmark_core::claim::SignedClaim;
use starmark_core::qr::decode_digits;
use starmark_core::record::Record;
use starmark_core::TrustList;

use crate::fsutil;
use crate::registry::{load_record, signature_path};

/// A record whose signature file decodes and matches its exact bytes and fields. The signature's
/// validity under the trust list is decided by the verdict, not here.
#[derive(Debug)]
pub struct SignedRecord {
    /// The record file.
    pub path: PathBuf,
    /// The parsed record.
    pub record: Record,
    /// The signed claim from the .sig file.
    pub signed: SignedClaim,
    /// The record file's exact bytes.
    pub bytes: Vec<u8>,
}

/// Reads the digits of a signature file.
pub fn read_signature(sig_path: &Path) -> Result<SignedClaim> {
    let text = fsutil::read_text(sig_path)?;
    let bytes = decode_digits(text.trim())
        .with_context(|| format!("{}: damaged signature file", sig_path.display()))?;
    SignedClaim::decode(&bytes)
        .with_context(|| format!("{}: damaged signature file", sig_path.display()))
}

/// Loads a record of at most `max_bytes` and its signature; fails when the record was changed
/// after signing or the signature file belongs to other content.
pub fn load(path: &Path, max_bytes: u64) -> Result<SignedRecord> {
    let (record, bytes) = load_record(path, max_bytes)?;
    let sig_path = signature_path(path);
    if !sig_path.exists() {
        bail!(
            "{}: not signed (no {}); run `starmark sign {}`",
            path.display(),
            sig_path.display(),
            path.display()
        );
    }
    let signed = read_signature(&sig_path)?;
    let claim = signed.claim();
    if !claim.matches_record(&bytes) {
        bail!(
            "{}: digest mismatch: the record was changed after signing (signed SHA-256 {}, file SHA-256 {}); if the change is meant, re-sign it: `starmark sign --force {}`, else undo it",
            path.display(),
            starmark_core::to_hex(&claim.record_sha256),
            starmark_core::to_hex(&starmark_core::claim::record_digest(&bytes)),
            path.display(),
        );
    }
    let expected = record.claim(claim.key_id, &bytes);
    if &expected != claim {
        bail!(
            "{}: the signed claim in {} does not match the record's fields; re-sign it: `starmark sign --force {}`",
            path.display(),
            sig_path.display(),
            path.display()
        );
    }
    Ok(SignedRecord {
        path: path.to_path_buf(),
        record,
        signed,
        bytes,
    })
}

/// Checks the signature of a loaded record under the trust list (key known, not compromised,
/// strict signature). Time-independent: validity and revocation are the verdict's business.
pub fn check_signature(sr: &SignedRecord, trust: &TrustList) -> Result<()> {
    let key_id = sr.signed.claim().key_id;
    let Some(issuer) = trust.issuer(key_id) else {
        bail!(
            "{}: signed by key {key_id}, which is not in the trust list",
            sr.path.display()
        );
    };
    if sr.signed.verify_signature(&issuer.public_key).is_err() {
        bail!(
            "{}: bad signature: the signature does not verify under key {key_id}",
            sr.path.display()
        );
    }
    if let Some(since) = issuer.compromised_since {
        bail!(
            "{}: signed by key {key_id}, compromised since {since}; re-sign with a good key",
            sr.path.display()
        );
    }
    Ok(())
}
