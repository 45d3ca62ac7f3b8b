//! `starmark trust`: adding, retiring and compromising issuer keys; tampered lists; weak keys.

use serde_json::Value;

use crate::common::{flip_byte, s, RecordText, Reg};

/// `keygen` in the temp dir; returns the public key path and the printed key id.
fn keygen(reg: &Reg, name: &str) -> (std::path::PathBuf, String) {
    let base = reg.tmp().join(name);
    let out = reg.run_in_tmp(&["keygen", s(&base)]);
    out.ok();
    let id = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("key id "))
        .expect("keygen prints the key id")
        .to_string();
    assert_eq!(id.len(), 8, "{id}");
    (reg.tmp().join(format!("{name}.pub")), id)
}

fn issuer<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["issuers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key_id"] == id)
        .unwrap_or_else(|| panic!("key {id} not in {list}"))
}

#[test]
fn add_a_key_from_keygen_and_list_it() {
    let reg = Reg::new();
    let (public, id) = keygen(&reg, "issuer-2");
    reg.run(&[
        "trust",
        "add",
        s(&public),
        "--name",
        "Shanghai branch",
        "--valid-from",
        "2026-03-01",
        "--valid-until",
        "2028-02-29",
    ])
    .ok()
    .stdout_has(&[
        &format!("added issuer key {id} (Shanghai branch), valid 2026-03-01 to 2028-02-29"),
        "trust list #2 signed (2 issuer keys, 1 log keys)",
        "transparency log: 1 entry appended, 3 in all",
    ]);
    let list = reg.trust_list();
    assert_eq!(list["sequence"], 2);
    let k = issuer(&list, &id);
    assert_eq!(k["name"], "Shanghai branch");
    assert_eq!(k["valid_from"], "2026-03-01");
    assert_eq!(k["valid_until"], "2028-02-29");
    assert!(k["compromised_since"].is_null());
    let pub_hex = std::fs::read_to_string(&public).unwrap();
    let pub_hex = pub_hex.lines().find(|l| !l.starts_with('#')).unwrap();
    assert_eq!(k["public_key"], pub_hex);
    reg.run(&["trust", "list"]).ok().stdout_has(&[
        "trust list #2 (2 issuer keys, 1 log keys)",
        &format!("{id}  issuer  Shanghai branch  valid 2026-03-01 to 2028-02-29"),
    ]);
    // Default period: five years from --valid-from.
    let (public3, id3) = keygen(&reg, "issuer-3");
    reg.run(&[
        "trust",
        "add",
        s(&public3),
        "--name",
        "Third",
        "--valid-from",
        "2027-01-01",
    ])
    .ok();
    assert_eq!(issuer(&reg.trust_list(), &id3)["valid_until"], "2031-12-31");
}

#[test]
fn a_key_signed_by_an_added_issuer_verifies() {
    let reg = Reg::new();
    reg.run(&["keygen", "keys/issuer-2"]).ok();
    reg.run(&[
        "trust",
        "add",
        "keys/issuer-2.pub",
        "--name",
        "Second",
        "--valid-from",
        "2026-01-01",
    ])
    .ok();
    let config = reg.path("starmark.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("keys/issuer-1.key", "keys/issuer-2.key"),
    )
    .unwrap();
    let url = reg.signed("0001.md", &RecordText::new(1).text());
    let (code, json) = reg.verify(&url, &[]);
    assert_eq!(
        (code, json["verdict"].as_str()),
        (0, Some("valid")),
        "{json}"
    );
    assert_eq!(json["issuer"], "Second");
}

#[test]
fn adding_a_key_twice_or_with_reversed_dates_is_refused() {
    let reg = Reg::new();
    let (public, id) = keygen(&reg, "issuer-2");
    let add = |extra: &[&str]| {
        let mut args = vec!["trust", "add", s(&public), "--name", "Second"];
        args.extend_from_slice(extra);
        reg.run(&args)
    };
    add(&["--valid-from", "2026-05-01", "--valid-until", "2026-04-30"])
        .code(2)
        .stderr_has(&["--valid-until 2026-04-30 is before --valid-from 2026-05-01"]);
    add(&["--valid-from", "2026-05-01"]).ok();
    let before = std::fs::read(reg.path("trust-list.bin")).unwrap();
    add(&["--valid-from", "2026-05-01"])
        .code(2)
        .stderr_has(&[&format!("key {id} is already in the trust list")]);
    assert_eq!(std::fs::read(reg.path("trust-list.bin")).unwrap(), before);
}

#[test]
fn a_weak_public_key_is_refused() {
    let reg = Reg::new();
    let before = std::fs::read(reg.path("trust-list.bin")).unwrap();
    // The identity point: small order.
    let weak = reg.tmp().join("weak.pub");
    std::fs::write(&weak, format!("01{}\n", "00".repeat(31))).unwrap();
    reg.run(&[
        "trust",
        "add",
        s(&weak),
        "--name",
        "Weak",
        "--valid-from",
        "2026-01-01",
    ])
    .code(2)
    .stderr_has(&["weak.pub: public key refused", "weak Ed25519 public key"]);
    // Not hex, and the wrong length.
    let junk = reg.tmp().join("junk.pub");
    std::fs::write(&junk, "hello\n").unwrap();
    reg.run(&[
        "trust",
        "add",
        s(&junk),
        "--name",
        "Junk",
        "--valid-from",
        "2026-01-01",
    ])
    .code(2)
    .stderr_has(&["junk.pub: not a public key (expected 64 hex digits)"]);
    assert_eq!(std::fs::read(reg.path("trust-list.bin")).unwrap(), before);
    assert_eq!(reg.trust_list()["sequence"], 1);
}

#[test]
fn retire_ends_the_key_period_for_new_certifications() {
    let reg = Reg::new();
    let id = reg.issuer_key_id();
    // One certification starting before, one after the retirement date.
    let early = reg.signed("1.md", &RecordText::new(1).text());
    let mut late = RecordText::new(2);
    late.valid_from = "2026-07-01".into();
    let late_url = reg.signed("2.md", &late.text());

    reg.run(&["trust", "retire", &id, "--date", "2026-06-30"])
        .ok()
        .stdout_has(&[&format!(
            "retired issuer key {id}: it signs nothing that starts after 2026-06-30"
        )]);
    let list = reg.trust_list();
    assert_eq!(list["sequence"], 2);
    assert_eq!(issuer(&list, &id)["valid_until"], "2026-06-30");

    let (code, json) = reg.verify(&early, &[]);
    assert_eq!(
        (code, json["verdict"].as_str()),
        (0, Some("valid")),
        "{json}"
    );
    let (code, json) = reg.verify(&late_url, &[]);
    assert_eq!(
        (code, json["verdict"].as_str()),
        (1, Some("unknown_issuer")),
        "{json}"
    );
    assert_eq!(
        json["detail"],
        format!("key {id} was authorised only from 2026-01-01 to 2026-06-30")
    );
    // And sign refuses new records that start after it.
    let mut later = RecordText::new(3);
    later.valid_from = "2026-08-01".into();
    reg.write_record("3.md", &later.text());
    reg.run(&["sign", "records/3.md"]).code(2).stderr_has(&[
        "records/3.md: line 10: field valid_from: 2026-08-01 is outside the issuer key's period",
    ]);
}

#[test]
fn retire_before_the_first_day_and_unknown_key_ids_are_refused() {
    let reg = Reg::new();
    let id = reg.issuer_key_id();
    reg.run(&["trust", "retire", &id, "--date", "2025-12-31"])
        .code(2)
        .stderr_has(&["--date 2025-12-31 is before the key's first day 2026-01-01"]);
    reg.run(&["trust", "retire", "deadbeef", "--date", "2026-06-30"])
        .code(2)
        .stderr_has(&["key deadbeef is not in the trust list"]);
    reg.run(&["trust", "compromised", "xyz", "--since", "2026-06-30"])
        .code(2)
        .stderr_has(&["key id \"xyz\" is not 8 hex digits"]);
    assert_eq!(reg.trust_list()["sequence"], 1);
}

#[test]
fn compromised_is_recorded_in_the_trust_list_and_stops_signing() {
    let reg = Reg::new();
    let id = reg.issuer_key_id();
    reg.run(&["trust", "compromised", &id, "--since", "2026-05-01"])
        .ok()
        .stdout_has(&["trust list #2 signed (1 issuer keys, 1 log keys)"]);
    let list = reg.trust_list();
    assert_eq!(issuer(&list, &id)["compromised_since"], "2026-05-01");
    reg.run(&["trust", "list"]).ok().stdout_has(&[&format!(
        "{id}  issuer  Certification authority  COMPROMISED since 2026-05-01"
    )]);
    reg.write_record("0001.md", &RecordText::new(1).text());
    reg.run(&["sign", "records/0001.md"])
        .code(2)
        .stderr_has(&[&format!(
            "the issuer key {id} is marked compromised since 2026-05-01"
        )]);
    assert!(!reg.path("records/0001.sig").exists());
}

#[test]
fn a_tampered_trust_list_is_refused_naming_the_file() {
    let reg = Reg::new();
    let url = reg.signed("0001.md", &RecordText::new(1).text());
    let path = reg.path("trust-list.bin");
    let good = std::fs::read(&path).unwrap();
    // A byte of the body (the sequence), then a byte of the signature.
    for index in [3, -1] {
        flip_byte(&path, index);
        let out = reg.run(&["verify", &url, "--json"]);
        out.code(2)
            .stderr_has(&["trust-list.bin: trust list refused"]);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        reg.run(&["trust", "list"])
            .code(2)
            .stderr_has(&["trust-list.bin: trust list refused"]);
        std::fs::write(&path, &good).unwrap();
        reg.run(&["verify", &url]).ok();
    }
}

#[test]
fn a_root_key_that_does_not_match_the_pinned_one_is_refused() {
    let reg = Reg::new();
    let (public, _) = keygen(&reg, "issuer-2");
    let (_, _) = keygen(&reg, "not-root");
    let before = std::fs::read(reg.path("trust-list.bin")).unwrap();
    reg.run(&[
        "trust",
        "add",
        s(&public),
        "--name",
        "Second",
        "--valid-from",
        "2026-01-01",
        "--root-key",
        s(&reg.tmp().join("not-root.key")),
    ])
    .code(2)
    .stderr_has(&["the root secret key does not match the pinned root public key"]);
    assert_eq!(std::fs::read(reg.path("trust-list.bin")).unwrap(), before);
}
