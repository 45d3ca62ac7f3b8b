//! Golden format vectors: `tests/vectors/{claim,trust_list,revocation_list,digits,text,uscc}.json`.
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
use starmark_core::keys::SIGNATURE_LEN;
use starmark_core::qr;
use starmark_core::{
    Claim, Day, IssuerKey, Reason, Revocation, RevocationList, SecretKey, SignedClaim, Tier,
    TrustList,
};

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
    body_hex: String,
    signature_hex: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct IssuerOutput {
    key_id_hex: String,
    public_key_hex: String,
}

fn trust_list_case(case: &TrustListCase) -> TrustListCase {
    let i = &case.inputs;
    let root = secret(&i.root_seed_hex);
    let issuers: Vec<IssuerKey> = i
        .issuers
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
        .collect();
    let list = TrustList {
        sequence: i.sequence,
        issued_at: i.issued_at,
        issuers: issuers.clone(),
    };
    let bytes = list.sign(&root).unwrap();

    let back = TrustList::decode_verified(&bytes, &root.public_key()).unwrap();
    let mut sorted = list.clone();
    sorted.issuers.sort_by_key(|k| k.key_id);
    assert_eq!(back, sorted);

    let (body_hex, signature_hex) = split_signature(&bytes);
    TrustListCase {
        description: case.description.clone(),
        inputs: i.clone(),
        outputs: TrustListOutputs {
            root_public_key_hex: hex::encode(root.public_key().to_bytes()),
            issuers: issuers
                .iter()
                .map(|k| IssuerOutput {
                    key_id_hex: hex::encode(k.key_id.0),
                    public_key_hex: hex::encode(k.public_key.to_bytes()),
                })
                .collect(),
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

    let trust = TrustList {
        sequence: 1,
        issued_at: 0,
        issuers: vec![IssuerKey::new(
            issuer.public_key(),
            "vector issuer".into(),
            Day(0),
            Day::MAX,
        )],
    };
    assert_eq!(
        RevocationList::decode_verified(&bytes, &trust).unwrap(),
        list
    );
    assert_eq!(RevocationList::decode_unverified(&bytes).unwrap(), list);

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
