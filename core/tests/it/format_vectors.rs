//! Golden format vectors: `tests/vectors/*.json` (claims, lists, digits, pasted targets, display
//! text, codes); the log's in the submodule `log`, the manifest's (`manifest.json`,
//! `manifest_refused.json`) in the submodule `manifest`.
//!
//! Each file holds cases of inputs and expected outputs (hex, digits, URL). The test recomputes
//! every output from the inputs and compares it byte for byte, and checks that the outputs decode
//! back to the inputs. After a deliberate format change, `UPDATE_VECTORS=1 cargo test -p
//! starmark-core --test it format_vectors` rewrites the outputs (and docs/FORMAT.md must follow).

use std::fmt::Debug;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use starmark_core::claim::record_digest;
use starmark_core::keys::{REVOCATION_LIST_CONTEXT, SIGNATURE_LEN, TRUST_LIST_CONTEXT};
use starmark_core::qr;
use starmark_core::{
    Claim, Day, IssuerKey, Reason, Revocation, RevocationList, SecretKey, SignedClaim, Tier,
    TrustList,
};

mod log;
mod manifest;

/// A file of vectors: what it is, then the cases.
#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct File<C> {
    description: String,
    cases: Vec<C>,
}

fn updating() -> bool {
    std::env::var("UPDATE_VECTORS").is_ok_and(|v| v == "1")
}

/// Loads `tests/vectors/<name>`, recomputes every case and compares, or rewrites the file when
/// `UPDATE_VECTORS=1`.
fn check<C>(name: &str, recompute: impl Fn(&C) -> C)
where
    C: Serialize + DeserializeOwned + PartialEq + Debug + Clone,
{
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let stored: File<C> = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{}: not a vector file: {e}", path.display()));
    assert!(!stored.cases.is_empty(), "{}: no cases", path.display());
    let fresh = File {
        description: stored.description.clone(),
        cases: stored.cases.iter().map(&recompute).collect(),
    };
    let mut pretty = serde_json::to_string_pretty(&fresh).unwrap();
    pretty.push('\n');
    if updating() {
        if pretty != text {
            std::fs::write(&path, &pretty).unwrap();
            eprintln!("rewrote {}", path.display());
        }
        return;
    }
    for (i, (s, f)) in stored.cases.iter().zip(&fresh.cases).enumerate() {
        if s != f {
            let s = serde_json::to_string_pretty(s).unwrap();
            let f = serde_json::to_string_pretty(f).unwrap();
            let diff: Vec<String> = s
                .lines()
                .zip(f.lines())
                .filter(|(a, b)| a != b)
                .map(|(a, b)| format!("  stored:     {}\n  recomputed: {}", a.trim(), b.trim()))
                .collect();
            panic!(
                "{} case {i}: stored outputs differ from the recomputed ones \
                 (UPDATE_VECTORS=1 rewrites them after a deliberate format change):\n{}",
                path.display(),
                diff.join("\n")
            );
        }
    }
    assert_eq!(
        pretty,
        text,
        "{}: not in canonical form (UPDATE_VECTORS=1 rewrites it)",
        path.display()
    );
}

fn secret(seed_hex: &str) -> SecretKey {
    let seed: [u8; 32] = hex::decode(seed_hex)
        .unwrap()
        .try_into()
        .expect("a seed is 32 bytes");
    SecretKey::from_seed(&seed)
}

fn day(s: &str) -> Day {
    Day::parse(s).unwrap_or_else(|| panic!("{s:?} is not a date"))
}

fn split_signature(bytes: &[u8]) -> (String, String) {
    let (body, sig) = bytes.split_at(bytes.len() - SIGNATURE_LEN);
    (hex::encode(body), hex::encode(sig))
}

// ---------------------------------------------------------------------------------------------
// claim.json

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct ClaimCase {
    description: String,
    inputs: ClaimInputs,
    #[serde(default)]
    outputs: ClaimOutputs,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct ClaimInputs {
    issuer_seed_hex: String,
    serial: u64,
    tier: u8,
    category: String,
    valid_from: String,
    valid_until: String,
    manufacturer: String,
    model: String,
    /// The record file's bytes (as UTF-8); the claim carries their SHA-256.
    record_file: String,
    base_url: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
struct ClaimOutputs {
    issuer_public_key_hex: String,
    key_id_hex: String,
    record_sha256_hex: String,
    claim_hex: String,
    signature_hex: String,
    payload_digits: String,
    verify_url: String,
}

fn claim_case(case: &ClaimCase) -> ClaimCase {
    let i = &case.inputs;
    let sk = secret(&i.issuer_seed_hex);
    let pk = sk.public_key();
    let claim = Claim {
        key_id: pk.key_id(),
        serial: i.serial,
        tier: Tier::from_stars(i.tier).expect("tier 1..=3"),
        category: i.category.clone(),
        valid_from: day(&i.valid_from),
        valid_until: day(&i.valid_until),
        manufacturer: i.manufacturer.clone(),
        model: i.model.clone(),
        record_sha256: record_digest(i.record_file.as_bytes()),
    };
    let signed = claim.sign(&sk).unwrap();
    let payload = signed.as_bytes();
    let digits = qr::encode_digits(payload);
    let url = qr::verify_url(&i.base_url, payload);

    // Back again: digits -> bytes -> signed claim -> claim, and the signature verifies.
    assert_eq!(Claim::decode(signed.claim_bytes()).unwrap(), claim);
    let back = SignedClaim::decode(&qr::decode_digits(&digits).unwrap()).unwrap();
    assert_eq!(back, signed);
    assert_eq!(back.claim(), &claim);
    back.verify_signature(&pk).unwrap();
    assert_eq!(qr::digits_of(&url).unwrap(), digits);

    ClaimCase {
        description: case.description.clone(),
        inputs: i.clone(),
        outputs: ClaimOutputs {
            issuer_public_key_hex: hex::encode(pk.to_bytes()),
            key_id_hex: hex::encode(pk.key_id().0),
            record_sha256_hex: hex::encode(claim.record_sha256),
            claim_hex: hex::encode(signed.claim_bytes()),
            signature_hex: hex::encode(signed.signature()),
            payload_digits: digits,
            verify_url: url,
        },
    }
}

#[test]
fn claim_vectors() {
    check("claim.json", claim_case);
}

// ---------------------------------------------------------------------------------------------
// trust_list.json

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct TrustListCase {
    description: String,
    inputs: TrustListInputs,
    #[serde(default)]
    outputs: TrustListOutputs,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct TrustListInputs {
    root_seed_hex: String,
    sequence: u64,
    issued_at: u64,
    issuers: Vec<IssuerInput>,
    /// Keys of purpose log (a list with any is written in version 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    log_keys: Vec<IssuerInput>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct IssuerInput {
    seed_hex: String,
    name: String,
    valid_from: String,
    valid_until: String,
    compromised_since: Option<String>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
struct TrustListOutputs {
    root_public_key_hex: String,
    /// Per input issuer, in input order (the list itself is sorted by key id).
    issuers: Vec<IssuerOutput>,
    /// Per input log key, in input order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    log_keys: Vec<IssuerOutput>,
    body_hex: String,
    signature_hex: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct IssuerOutput {
    key_id_hex: String,
    public_key_hex: String,
}

/// The root key and the trust list of the inputs (issuers in input order).
fn trust_list_of(i: &TrustListInputs) -> (SecretKey, TrustList) {
    let root = secret(&i.root_seed_hex);
    let keys = |inputs: &[IssuerInput]| -> Vec<IssuerKey> {
        inputs
            .iter()
            .map(|k| {
                let mut key = IssuerKey::new(
                    secret(&k.seed_hex).public_key(),
                    k.name.clone(),
                    day(&k.valid_from),
                    day(&k.valid_until),
                );
                key.compromised_since = k.compromised_since.as_deref().map(day);
                key
            })
            .collect()
    };
    let list = TrustList {
        sequence: i.sequence,
        issued_at: i.issued_at,
        issuers: keys(&i.issuers),
        log_keys: keys(&i.log_keys),
    };
    (root, list)
}

fn key_outputs(keys: &[IssuerKey]) -> Vec<IssuerOutput> {
    keys.iter()
        .map(|k| IssuerOutput {
            key_id_hex: hex::encode(k.key_id.0),
            public_key_hex: hex::encode(k.public_key.to_bytes()),
        })
        .collect()
}

fn trust_list_case(case: &TrustListCase) -> TrustListCase {
    let i = &case.inputs;
    let (root, list) = trust_list_of(i);
    let bytes = list.sign(&root).unwrap();

    let back = TrustList::decode_verified(&bytes, &root.public_key()).unwrap();
    let mut sorted = list.clone();
    sorted.issuers.sort_by_key(|k| k.key_id);
    sorted.log_keys.sort_by_key(|k| k.key_id);
    assert_eq!(back, sorted);
    assert_eq!(bytes[0], if list.log_keys.is_empty() { 1 } else { 2 });

    let (body_hex, signature_hex) = split_signature(&bytes);
    TrustListCase {
        description: case.description.clone(),
        inputs: i.clone(),
        outputs: TrustListOutputs {
            root_public_key_hex: hex::encode(root.public_key().to_bytes()),
            issuers: key_outputs(&list.issuers),
            log_keys: key_outputs(&list.log_keys),
            body_hex,
            signature_hex,
        },
    }
}

#[test]
fn trust_list_vectors() {
    check("trust_list.json", trust_list_case);
}

// ---------------------------------------------------------------------------------------------
// revocation_list.json

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct RevocationListCase {
    description: String,
    inputs: RevocationListInputs,
    #[serde(default)]
    outputs: RevocationListOutputs,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct RevocationListInputs {
    issuer_seed_hex: String,
    sequence: u64,
    issued_at: u64,
    next_update: u64,
    entries: Vec<EntryInput>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct EntryInput {
    serial: u64,
    date: String,
    reason: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
struct RevocationListOutputs {
    key_id_hex: String,
    body_hex: String,
    signature_hex: String,
}

fn revocation_list_case(case: &RevocationListCase) -> RevocationListCase {
    let i = &case.inputs;
    let issuer = secret(&i.issuer_seed_hex);
    let list = RevocationList {
        key_id: issuer.public_key().key_id(),
        sequence: i.sequence,
        issued_at: i.issued_at,
        next_update: i.next_update,
        entries: i
            .entries
            .iter()
            .map(|e| Revocation {
                serial: e.serial,
                date: day(&e.date),
                reason: Reason::from_name(&e.reason)
                    .unwrap_or_else(|| panic!("unknown reason {:?}", e.reason)),
            })
            .collect(),
    };
    let bytes = list.sign(&issuer).unwrap();

    let back = RevocationList::decode_verified(&bytes, &vector_trust(&issuer)).unwrap();
    assert_eq!(back, list);
    assert_eq!(RevocationList::decode_unverified(&bytes).unwrap(), list);
    // The one encoding: the decoded list encodes to the same bytes, which are also what a writer
    // following docs/FORMAT.md (below, independent of the core) makes of the inputs.
    assert_eq!(back.sign(&issuer).unwrap(), bytes);
    let written = write_revocation_body(&RefusedRevocationListInputs {
        issuer_seed_hex: i.issuer_seed_hex.clone(),
        sequence: i.sequence,
        issued_at: i.issued_at,
        next_update: i.next_update,
        entries: i.entries.clone(),
        count: None,
        date_base: None,
        date_bits: None,
        rice_k: None,
        padding_bits: String::new(),
    });
    assert_eq!(
        hex::encode(written),
        hex::encode(&bytes[..bytes.len() - 64])
    );

    let (body_hex, signature_hex) = split_signature(&bytes);
    RevocationListCase {
        description: case.description.clone(),
        inputs: i.clone(),
        outputs: RevocationListOutputs {
            key_id_hex: hex::encode(list.key_id.0),
            body_hex,
            signature_hex,
        },
    }
}

#[test]
fn revocation_list_vectors() {
    check("revocation_list.json", revocation_list_case);
}

// ---------------------------------------------------------------------------------------------
// digits.json

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct DigitsCase {
    bytes_hex: String,
    #[serde(default)]
    digits: String,
}

fn digits_case(case: &DigitsCase) -> DigitsCase {
    let bytes = hex::decode(&case.bytes_hex).unwrap();
    let digits = qr::encode_digits(&bytes);
    assert_eq!(qr::decode_digits(&digits).unwrap(), bytes);
    DigitsCase {
        bytes_hex: case.bytes_hex.clone(),
        digits,
    }
}

#[test]
fn digits_vectors() {
    check("digits.json", digits_case);
}

// ---------------------------------------------------------------------------------------------
// targets.json

/// What a user pastes or a scanner reads: `leading`, then `text`, then `trailing`, where the two
/// ends are code points written `U+XXXX`, separated by spaces (so that every white space is
/// visible in the file).
#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct TargetCase {
    description: String,
    #[serde(default)]
    leading: String,
    text: String,
    #[serde(default)]
    trailing: String,
    #[serde(default)]
    outputs: TargetOutputs,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
struct TargetOutputs {
    /// The whole input, as UTF-8 bytes.
    input_utf8_hex: String,
    /// The payload the input decodes to, when it is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bytes_hex: Option<String>,
    /// Why the input is refused (the verdict is then `malformed` with this detail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn code_points(s: &str) -> String {
    s.split_whitespace()
        .map(|cp| {
            let hex = cp
                .strip_prefix("U+")
                .unwrap_or_else(|| panic!("{cp:?} is not U+XXXX"));
            let n = u32::from_str_radix(hex, 16).unwrap();
            char::from_u32(n).unwrap_or_else(|| panic!("{cp} is not a character"))
        })
        .collect()
}

fn target_case(case: &TargetCase) -> TargetCase {
    let input = format!(
        "{}{}{}",
        code_points(&case.leading),
        case.text,
        code_points(&case.trailing)
    );
    let decoded = qr::digits_of(&input).and_then(qr::decode_digits);
    TargetCase {
        outputs: TargetOutputs {
            input_utf8_hex: hex::encode(input.as_bytes()),
            bytes_hex: decoded.as_ref().ok().map(hex::encode),
            error: decoded.err().map(|e| e.to_string()),
        },
        ..case.clone()
    }
}

#[test]
fn target_vectors() {
    check("targets.json", target_case);
}

// ---------------------------------------------------------------------------------------------
// revocation_list_refused.json

/// A list body written with chosen stream parameters, so that a vector can hold what the encoder
/// never writes. Unset fields take the encoder's (canonical) choice, computed here independently
/// of `starmark-core` from docs/FORMAT.md.
#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct RefusedRevocationListCase {
    description: String,
    inputs: RefusedRevocationListInputs,
    #[serde(default)]
    outputs: RefusedOutputs,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct RefusedRevocationListInputs {
    issuer_seed_hex: String,
    sequence: u64,
    issued_at: u64,
    next_update: u64,
    entries: Vec<EntryInput>,
    /// The count written, when not the number of entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    date_base: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    date_bits: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rice_k: Option<u8>,
    /// Bits written after the last entry, before the zero bits that complete the last byte.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    padding_bits: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
struct RefusedOutputs {
    body_hex: String,
    /// A valid signature over the body, so that only the structure is at fault.
    signature_hex: String,
    /// Why a decoder refuses it.
    error: String,
}

/// The canonical Rice parameter, from its definition: the k in 0..=63 with the fewest bits,
/// the smallest on ties.
fn canonical_rice_k(gaps: &[u64]) -> u8 {
    let bits = |k: u8| -> u128 {
        gaps.iter()
            .map(|g| u128::from(g >> k) + 1 + u128::from(k))
            .sum()
    };
    let mut best = 0;
    for k in 1..=63 {
        if bits(k) < bits(best) {
            best = k;
        }
    }
    best
}

/// The body of a revocation list, written bit by bit from docs/FORMAT.md.
fn write_revocation_body(i: &RefusedRevocationListInputs) -> Vec<u8> {
    let issuer = secret(&i.issuer_seed_hex);
    let entries: Vec<(u64, u16, u8)> = i
        .entries
        .iter()
        .map(|e| {
            let reason = Reason::from_name(&e.reason).expect("a reason name") as u8;
            (e.serial, day(&e.date).0, reason)
        })
        .collect();
    let count = i.count.unwrap_or(entries.len() as u32);
    let mut out = vec![1u8];
    out.extend_from_slice(&issuer.public_key().key_id().0);
    out.extend_from_slice(&i.sequence.to_be_bytes());
    out.extend_from_slice(&i.issued_at.to_be_bytes());
    out.extend_from_slice(&i.next_update.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    if count == 0 {
        return out;
    }
    let gaps: Vec<u64> = entries
        .iter()
        .enumerate()
        .map(|(n, e)| {
            if n == 0 {
                e.0
            } else {
                e.0 - entries[n - 1].0 - 1
            }
        })
        .collect();
    let min = entries.iter().map(|e| e.1).min().unwrap_or(0);
    let base = i.date_base.as_deref().map_or(min, |d| day(d).0);
    let max = entries.iter().map(|e| e.1).max().unwrap_or(0);
    let date_bits = i
        .date_bits
        .unwrap_or((16 - (max - base).leading_zeros()) as u8);
    let k = i.rice_k.unwrap_or_else(|| canonical_rice_k(&gaps));
    out.extend_from_slice(&base.to_be_bytes());
    out.push(date_bits);
    out.push(k);
    let mut bits: Vec<bool> = Vec::new();
    // The n low bits of value, most significant first (bits above 63 are zero).
    let mut put = |value: u64, n: u8| {
        for b in (0..u32::from(n)).rev() {
            bits.push(value.checked_shr(b).unwrap_or(0) & 1 == 1);
        }
    };
    for (e, gap) in entries.iter().zip(&gaps) {
        for _ in 0..gap.checked_shr(u32::from(k)).unwrap_or(0) {
            put(1, 1);
        }
        put(0, 1);
        put(*gap, k);
        put(u64::from(e.2), 3);
        put(u64::from(e.1 - base), date_bits);
    }
    for c in i.padding_bits.chars() {
        put(u64::from(c == '1'), 1);
    }
    out.extend(bits.chunks(8).map(|byte| {
        (0..8).fold(0u8, |acc, n| {
            (acc << 1) | u8::from(byte.get(n) == Some(&true))
        })
    }));
    out
}

fn vector_trust(issuer: &SecretKey) -> TrustList {
    TrustList {
        log_keys: Vec::new(),
        sequence: 1,
        issued_at: 0,
        issuers: vec![IssuerKey::new(
            issuer.public_key(),
            "vector issuer".into(),
            Day(0),
            Day::MAX,
        )],
    }
}

fn refused_revocation_list_case(case: &RefusedRevocationListCase) -> RefusedRevocationListCase {
    let i = &case.inputs;
    let issuer = secret(&i.issuer_seed_hex);
    let mut bytes = write_revocation_body(i);
    let body_hex = hex::encode(&bytes);
    let signature = issuer.sign_in_context(REVOCATION_LIST_CONTEXT, &bytes);
    bytes.extend_from_slice(&signature);
    let error = RevocationList::decode_verified(&bytes, &vector_trust(&issuer))
        .expect_err("a refused vector must be refused");
    assert_eq!(
        RevocationList::decode_unverified(&bytes).map_err(starmark_core::Error::from),
        Err(error.clone()),
        "{}: the structure, not the signature, is at fault",
        case.description
    );
    RefusedRevocationListCase {
        description: case.description.clone(),
        inputs: i.clone(),
        outputs: RefusedOutputs {
            body_hex,
            signature_hex: hex::encode(signature),
            error: error.to_string(),
        },
    }
}

#[test]
fn refused_revocation_list_vectors() {
    check("revocation_list_refused.json", refused_revocation_list_case);
}

// ---------------------------------------------------------------------------------------------
// trust_list_refused.json

/// A trust list whose `count` field is written as `count`, with a valid root signature.
#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct RefusedTrustListCase {
    description: String,
    inputs: RefusedTrustListInputs,
    #[serde(default)]
    outputs: RefusedOutputs,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct RefusedTrustListInputs {
    #[serde(flatten)]
    list: TrustListInputs,
    /// The count written instead of the number of issuers.
    count: u16,
    /// The purpose byte written instead of 1 in the entries of the log keys (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    log_purpose: Option<u8>,
}

/// Writes `purpose` in the purpose byte of every log key entry of a version 2 list body.
fn rewrite_log_purposes(body: &mut [u8], purpose: u8) {
    assert_eq!(body[0], 2, "a version 2 list");
    // version | sequence | issued_at | count, then per entry: key, purpose, name (length byte
    // and text), two days, the flag and, when it is 1, a third day.
    let mut at = 19;
    while at < body.len() {
        let p = at + 32;
        let name_len = usize::from(body[p + 1]);
        let flag = p + 2 + name_len + 4;
        if body[p] == 1 {
            body[p] = purpose;
        }
        at = flag + 1 + if body[flag] == 1 { 2 } else { 0 };
    }
}

fn refused_trust_list_case(case: &RefusedTrustListCase) -> RefusedTrustListCase {
    let i = &case.inputs;
    let (root, list) = trust_list_of(&i.list);
    let signed = list.sign(&root).unwrap();
    let mut bytes = signed[..signed.len() - SIGNATURE_LEN].to_vec();
    // version (1) | sequence (8) | issued_at (8) | count (2)
    bytes[17..19].copy_from_slice(&i.count.to_be_bytes());
    if let Some(purpose) = i.log_purpose {
        rewrite_log_purposes(&mut bytes, purpose);
    }
    let body_hex = hex::encode(&bytes);
    let signature = root.sign_in_context(TRUST_LIST_CONTEXT, &bytes);
    bytes.extend_from_slice(&signature);
    let error = TrustList::decode_verified(&bytes, &root.public_key())
        .expect_err("a refused vector must be refused");
    RefusedTrustListCase {
        description: case.description.clone(),
        inputs: i.clone(),
        outputs: RefusedOutputs {
            body_hex,
            signature_hex: hex::encode(signature),
            error: error.to_string(),
        },
    }
}

#[test]
fn refused_trust_list_vectors() {
    check("trust_list_refused.json", refused_trust_list_case);
}

// ---------------------------------------------------------------------------------------------
// text.json: the display-text rules (docs/FORMAT.md, display text)

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct TextCase {
    description: String,
    /// The field the text is checked for (it only changes the message).
    field: String,
    /// The text's code points, hex, space-separated (the file stays ASCII: no bidi control in
    /// it can reorder what a reader sees).
    code_points: String,
    #[serde(default)]
    outputs: TextOutputs,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
struct TextOutputs {
    /// The text's UTF-8 bytes, hex: what a claim carries.
    utf8_hex: String,
    /// Whether `sign` and `build` accept it as a name in a record (rules 1 to 5).
    accepted_in_records: bool,
    /// Whether a verifier accepts it as a claim's manufacturer or model (rules 1 and 2); when
    /// not, the claim is malformed.
    accepted_in_claims: bool,
    /// The message of the first rule the text breaks; empty when accepted in records.
    error: String,
}

fn text_case(case: &TextCase) -> TextCase {
    let text: String = case
        .code_points
        .split_whitespace()
        .map(|h| {
            let v = u32::from_str_radix(h, 16).unwrap_or_else(|e| panic!("{h:?}: {e}"));
            char::from_u32(v).unwrap_or_else(|| panic!("{h} is not a character"))
        })
        .collect();
    let field: &'static str = match case.field.as_str() {
        "manufacturer" => "manufacturer",
        "model" => "model",
        other => panic!("unexpected field {other:?}"),
    };
    let result = starmark_core::text::check_display_text(field, &text);
    let claim = starmark_core::text::check_claim_text(field, &text);
    if let Err(e) = &claim {
        assert_eq!(
            result.as_ref().err(),
            Some(e),
            "a claim fails the first rule a record does"
        );
    }
    TextCase {
        outputs: TextOutputs {
            utf8_hex: hex::encode(text.as_bytes()),
            accepted_in_records: result.is_ok(),
            accepted_in_claims: claim.is_ok(),
            error: result.err().map(|e| e.to_string()).unwrap_or_default(),
        },
        ..case.clone()
    }
}

#[test]
fn text_vectors() {
    check("text.json", text_case);
}

// ---------------------------------------------------------------------------------------------
// uscc.json: unified social credit codes (docs/FORMAT.md, record)

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct UsccCase {
    description: String,
    code: String,
    #[serde(default)]
    outputs: UsccOutputs,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
struct UsccOutputs {
    /// The check character of the first 17 characters, when they are 17 of the alphabet.
    check_character: String,
    accepted: bool,
    error: String,
}

fn uscc_case(case: &UsccCase) -> UsccCase {
    use starmark_core::uscc;
    let first17: String = case.code.chars().take(uscc::LEN - 1).collect();
    let result = uscc::check_uscc(&case.code);
    UsccCase {
        outputs: UsccOutputs {
            check_character: uscc::check_character(&first17)
                .map(String::from)
                .unwrap_or_default(),
            accepted: result.is_ok(),
            error: result.err().map(|e| e.to_string()).unwrap_or_default(),
        },
        ..case.clone()
    }
}

#[test]
fn uscc_vectors() {
    check("uscc.json", uscc_case);
}
