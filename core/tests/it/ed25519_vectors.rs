//! Public Ed25519 edge-case vectors (RFC 8032, Wycheproof, C2SP CCTV, ed25519-speccheck and the
//! dalek `sign.input` set) against `PublicKey::from_bytes` + `PublicKey::verify_raw`.
//!
//! Each JSONL line gives the verdict of a strict verifier (ed25519-dalek 2.x `verify_strict`).
//! Our verdict: a key that is not 32 bytes or a signature that is not 64 bytes is invalid; a key
//! that `PublicKey::from_bytes` refuses is invalid; otherwise `verify_raw` decides. Provenance and
//! the strict mapping are in `tests/vectors/ed25519/SOURCES.md`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use starmark_core::error::KeyError;
use starmark_core::PublicKey;

#[derive(Deserialize)]
struct Case {
    source: String,
    id: String,
    public_key_hex: String,
    message_hex: String,
    signature_hex: String,
    expected: String,
    note: String,
}

/// The in-repository copy (what CI, in a fresh clone, has); else the shared copy beside the
/// workspace, as the vectors were first delivered.
fn cases_file() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        dir.join("tests/vectors/ed25519/ed25519_cases.jsonl"),
        dir.join("../../shared/vectors/ed25519_cases.jsonl"),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "Ed25519 vector file not found; looked at {} and {}",
                candidates[0].display(),
                candidates[1].display()
            )
        })
}

/// Our verdict for one case: `Ok` when the signature is accepted, else the stage that refused it.
fn verdict(public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), &'static str> {
    let pk = <[u8; 32]>::try_from(public_key).map_err(|_| "key length")?;
    let sig = <[u8; 64]>::try_from(signature).map_err(|_| "signature length")?;
    let key = PublicKey::from_bytes(&pk).map_err(|e| match e {
        KeyError::Weak => "weak key",
        KeyError::NonCanonical => "non-canonical key",
        KeyError::NotAPoint => "key not a point",
        _ => "key refused",
    })?;
    key.verify_raw(message, &sig)
        .map_err(|_| "signature does not verify")
}

#[derive(Default, Debug, PartialEq, Eq)]
struct Counts {
    valid: usize,
    invalid: usize,
    either: usize,
}

#[test]
fn public_ed25519_vectors_match_a_strict_verifier() {
    let path = cases_file();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    let mut refusals: BTreeMap<&str, usize> = BTreeMap::new();
    let mut disagreements = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let case: Case = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), n + 1));
        let bytes = |field: &str, h: &str| {
            hex::decode(h).unwrap_or_else(|e| panic!("{}:{}: {field}: {e}", path.display(), n + 1))
        };
        let pk = bytes("public_key_hex", &case.public_key_hex);
        let msg = bytes("message_hex", &case.message_hex);
        let sig = bytes("signature_hex", &case.signature_hex);
        let c = counts.entry(case.source.clone()).or_default();
        let expected = match case.expected.as_str() {
            "valid" => true,
            "invalid" => false,
            "either" => {
                c.either += 1;
                continue;
            }
            other => panic!("{}:{}: unknown expected {other:?}", path.display(), n + 1),
        };
        if expected {
            c.valid += 1;
        } else {
            c.invalid += 1;
        }
        let outcome = verdict(&pk, &msg, &sig);
        if let Err(stage) = outcome {
            *refusals.entry(stage).or_default() += 1;
        }
        let ours = outcome.is_ok();
        if ours != expected {
            disagreements.push(format!(
                "{} {}: expected {}, we say {} ({})",
                case.source,
                case.id,
                case.expected,
                if ours { "valid" } else { "invalid" },
                case.note
            ));
        }
    }
    let checked: usize = counts.values().map(|c| c.valid + c.invalid).sum();
    for (source, c) in &counts {
        println!(
            "{source}: {} valid, {} invalid, {} either",
            c.valid, c.invalid, c.either
        );
    }
    println!("refused by stage: {refusals:?}");
    println!("{checked} cases checked, {} disagree", disagreements.len());
    assert!(
        disagreements.is_empty(),
        "{} of {checked} cases disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    assert!(checked > 1000, "only {checked} cases checked");
    // The file as delivered, so a truncated or swapped file cannot pass.
    let expect = |source: &str, valid: usize, invalid: usize| {
        assert_eq!(
            counts.get(source),
            Some(&Counts {
                valid,
                invalid,
                either: 0
            }),
            "{source}"
        );
    };
    expect("cctv", 43, 871);
    expect("wycheproof", 88, 63);
    expect("rfc8032", 5, 0);
    expect("sign.input", 128, 0);
    expect("speccheck", 1, 11);
    assert_eq!(counts.len(), 5, "sources: {:?}", counts.keys());
    assert_eq!(checked, 1210);
}
