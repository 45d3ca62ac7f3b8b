//! `starmark verify`: every verdict, reached through the CLI, with its exit code and JSON.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::{digits, now, s, RecordText, Reg, DAY, URL_PREFIX};
use crate::qr::{decode_png, zbarimg};

/// The fields of `verify --json`, in order.
const JSON_FIELDS: [&str; 17] = [
    "verdict",
    "stale",
    "rollback",
    "serial",
    "manufacturer",
    "model",
    "tier",
    "category",
    "valid_from",
    "valid_until",
    "key_id",
    "issuer",
    "record_sha256",
    "revocation",
    "revocation_sequence",
    "detail",
    "superseded_by",
];

/// A registry with one signed default record (serial 20260001); returns it and the URL.
fn one_label() -> (Reg, String) {
    let reg = Reg::new();
    let url = reg.signed("20260001.md", &RecordText::new(20_260_001).text());
    (reg, url)
}

#[track_caller]
fn assert_verdict(got: &(i32, Value), verdict: &str, stale: bool, code: i32) {
    let (c, json) = got;
    assert_eq!(json["verdict"], verdict, "{json}");
    assert_eq!(json["stale"], stale, "{json}");
    assert_eq!(*c, code, "exit code; {json}");
}

/// A signed claim's fields are absent: a bad label never shows what it claims as if true.
#[track_caller]
fn assert_no_claim(json: &Value) {
    for f in [
        "serial",
        "manufacturer",
        "model",
        "tier",
        "valid_from",
        "valid_until",
    ] {
        assert!(json[f].is_null(), "{f} shown: {json}");
    }
}

#[test]
fn valid_label_by_url_json_has_the_signed_fields() {
    let (reg, url) = one_label();
    let got = reg.verify(&url, &[]);
    assert_verdict(&got, "valid", false, 0);
    let json = &got.1;
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = JSON_FIELDS.to_vec();
    expected.sort_unstable();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort_unstable();
    assert_eq!(keys_sorted, expected, "{json}");
    assert_eq!(json["rollback"], false);
    assert_eq!(json["serial"], 20_260_001);
    assert_eq!(json["manufacturer"], "深圳市星联科技有限公司");
    assert_eq!(json["model"], "XL-AX3000");
    assert_eq!(json["tier"], 2);
    assert_eq!(json["category"], "router");
    assert_eq!(json["valid_from"], "2026-01-01");
    assert_eq!(json["valid_until"], "2035-12-31");
    assert_eq!(json["key_id"], reg.issuer_key_id().as_str());
    assert_eq!(json["issuer"], "Certification authority");
    assert_eq!(json["revocation"], Value::Null);
    assert_eq!(json["revocation_sequence"], 1);
    assert_eq!(json["detail"], Value::Null);
    assert_eq!(json["superseded_by"], Value::Null);
    let file = std::fs::read(reg.path("records/20260001.md")).unwrap();
    assert_eq!(json["record_sha256"], hex::encode(Sha256::digest(&file)));
}

#[test]
fn valid_label_by_digits_alone_and_by_hash_digits() {
    let (reg, url) = one_label();
    let d = digits(&url);
    assert_verdict(&reg.verify(d, &[]), "valid", false, 0);
    assert_verdict(&reg.verify(&format!("#{d}"), &[]), "valid", false, 0);
    assert_verdict(&reg.verify(&format!("  {url}\n"), &[]), "valid", false, 0);
}

#[test]
fn valid_label_human_output() {
    let (reg, url) = one_label();
    let out = reg.run(&["verify", &url]);
    out.ok().stdout_has(&[
        "VALID: genuine and valid",
        "serial        20260001",
        "manufacturer  深圳市星联科技有限公司",
        "model         XL-AX3000",
        "tier          ★★☆ (2)",
        "valid         2026-01-01 to 2035-12-31",
    ]);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

/// A certification that a newer record `supersedes` stays valid (exit 0) and says by which one,
/// as the site and the verify page do; the newer one is not superseded.
#[test]
fn superseded_stays_valid_and_names_the_newer_certification() {
    let (reg, url) = one_label();
    let newer =
        RecordText::new(20_260_002)
            .text()
            .replacen("+++\n", "+++\nsupersedes = 20260001\n", 1);
    let newer_url = reg.signed("20260002.md", &newer);
    let got = reg.verify(&url, &[]);
    assert_verdict(&got, "valid", false, 0);
    assert_eq!(got.1["superseded_by"], 20_260_002, "{}", got.1);
    let (code, json) = reg.verify(&newer_url, &[]);
    assert_eq!((code, &json["superseded_by"]), (0, &Value::Null), "{json}");
    reg.run(&["verify", &url]).ok().stdout_has(&[
        "VALID, SUPERSEDED: genuine and valid for the product versions it names",
        "superseded    by 20260002",
    ]);
    // A label that does not verify names no successor.
    let d = digits(&url);
    let (_, bad) = reg.verify(&tamper_bytes(d, byte_len(d) - 64..byte_len(d)), &[]);
    assert_eq!(bad["verdict"], "counterfeit", "{bad}");
    assert_eq!(bad["superseded_by"], Value::Null, "{bad}");
}

/// `api/v1/superseded.json`, which the verify page reads whole, lists every superseded
/// certification with the newest that supersedes it, in serial order, as the CLI reports it.
#[test]
fn the_site_lists_superseded_certifications_for_the_verify_page() {
    let (reg, url) = one_label();
    let with = |serial: u64, old: u64| {
        RecordText::new(serial)
            .text()
            .replacen("+++\n", &format!("+++\nsupersedes = {old}\n"), 1)
    };
    reg.signed("20260002.md", &with(20_260_002, 20_260_001));
    let nine = reg.signed("9.md", &RecordText::new(9).text());
    reg.signed("20260003.md", &with(20_260_003, 9));
    reg.signed("20260004.md", &with(20_260_004, 9));
    let out = reg.tmp().join("public");
    reg.run(&["build", s(&reg.dir), "--out", s(&out), "--quiet"])
        .ok();
    let text = std::fs::read_to_string(out.join("api/v1/superseded.json")).unwrap();
    assert_eq!(
        text,
        "{\"superseded_by\":{\"9\":20260004,\"20260001\":20260002}}\n"
    );
    assert_eq!(reg.verify(&nine, &[]).1["superseded_by"], 20_260_004);
    assert_eq!(reg.verify(&url, &[]).1["superseded_by"], 20_260_002);
    let cert: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("api/v1/certificates/9.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(cert["superseded_by"], 20_260_004);
}

#[test]
fn valid_label_from_a_png_written_by_qr() {
    let (reg, url) = one_label();
    let png = reg.tmp().join("label.png");
    let out = reg.run(&["qr", "records/20260001.md", "--png", s(&png)]);
    out.ok()
        .stderr_has(&["label.png", "serial 20260001", "error correction M"]);
    assert_eq!(out.stdout, format!("{url}\n"));

    assert_eq!(decode_png(&png), url, "the PNG decodes (rqrr) to the URL");
    match zbarimg(&png) {
        Some(text) => assert_eq!(text, url, "zbarimg reads the URL"),
        None => println!("note: zbarimg not on PATH; skipped the zbarimg check"),
    }
    let got = reg.verify(s(&png), &[]);
    assert_verdict(&got, "valid", false, 0);
    assert_eq!(got.1["serial"], 20_260_001);
}

#[test]
fn an_image_without_a_qr_code_is_an_error_naming_the_file() {
    let (reg, _) = one_label();
    let blank = reg.tmp().join("blank.png");
    image::GrayImage::from_pixel(64, 64, image::Luma([255]))
        .save(&blank)
        .unwrap();
    reg.run(&["verify", s(&blank)])
        .code(2)
        .stderr_has(&["blank.png: no readable QR code found"]);
    let junk = reg.tmp().join("junk.png");
    std::fs::write(&junk, b"not a png").unwrap();
    reg.run(&["verify", s(&junk)])
        .code(2)
        .stderr_has(&["junk.png: not a readable PNG or JPEG image"]);
}

#[test]
fn expired_and_not_yet_valid_by_calendar_day_inclusive() {
    let (reg, url) = one_label();
    // Keep the revocation data fresh for a century, so only the validity window decides.
    reg.fresh_for_days(36_500);
    assert_verdict(
        &reg.verify(&url, &["--at", "2025-12-31"]),
        "not_yet_valid",
        false,
        1,
    );
    assert_verdict(
        &reg.verify(&url, &["--at", "2026-01-01"]),
        "valid",
        false,
        0,
    );
    assert_verdict(
        &reg.verify(&url, &["--at", "2035-12-31"]),
        "valid",
        false,
        0,
    );
    assert_verdict(
        &reg.verify(&url, &["--at", "2036-01-01"]),
        "expired",
        false,
        1,
    );
    // Unix seconds: the last second of 2035-12-31 and the first of 2036-01-01 (UTC).
    assert_verdict(
        &reg.verify(&url, &["--at", "2082758399"]),
        "valid",
        false,
        0,
    );
    assert_verdict(
        &reg.verify(&url, &["--at", "2082758400"]),
        "expired",
        false,
        1,
    );
    let got = reg.verify(&url, &["--at", "2036-01-01"]);
    assert_eq!(
        got.1["manufacturer"], "深圳市星联科技有限公司",
        "expired shows the claim"
    );
    reg.run(&["verify", &url, "--at", "2036-01-01"])
        .code(1)
        .stdout_has(&["EXPIRED"]);
    reg.run(&["verify", &url, "--at", "2025-12-31"])
        .code(1)
        .stdout_has(&["NOT YET VALID"]);
}

#[test]
fn expired_with_the_default_revocation_list_is_also_stale() {
    let (reg, url) = one_label();
    assert_verdict(
        &reg.verify(&url, &["--at", "2036-01-01"]),
        "expired",
        true,
        1,
    );
}

/// Day 65535 (2149-06-06) is the last a claim can name: valid through its last second, and any
/// later time, up to the largest `--at`, is after the validity period.
#[test]
fn a_time_after_the_last_representable_day_is_expired() {
    let reg = Reg::new();
    let mut record = RecordText::new(20_260_001);
    record.valid_until = "2149-06-06".into();
    let url = reg.signed("20260001.md", &record.text());
    // The revocation list is long past its next update then: stale in every case.
    for (at, verdict) in [
        ("2149-06-06", "valid"),
        ("5662310399", "valid"),
        ("5662310400", "expired"),
        ("18446744073709551615", "expired"),
    ] {
        let got = reg.verify(&url, &["--at", at]);
        assert_verdict(&got, verdict, true, 1);
        assert_eq!(got.1["valid_until"], "2149-06-06", "{}", got.1);
    }
}

#[test]
fn bad_at_is_an_error() {
    let (reg, url) = one_label();
    reg.run(&["verify", &url, "--at", "2026-13-01"])
        .code(2)
        .stderr_has(&["--at: \"2026-13-01\" is not a date"]);
}

#[test]
fn revoked_shows_date_and_reason() {
    let (reg, url) = one_label();
    reg.run(&[
        "revoke",
        "20260001",
        "--reason",
        "security_flaw",
        "--date",
        "2026-08-01",
    ])
    .ok()
    .stdout_has(&["revoked serial 20260001: security_flaw on 2026-08-01"]);
    let got = reg.verify(&url, &[]);
    assert_verdict(&got, "revoked", false, 1);
    let json = &got.1;
    assert_eq!(json["revocation"]["date"], "2026-08-01", "{json}");
    assert_eq!(json["revocation"]["reason"], "security_flaw", "{json}");
    assert_eq!(json["revocation"]["serial"], 20_260_001, "{json}");
    assert_eq!(json["revocation_sequence"], 2);
    assert_eq!(json["manufacturer"], "深圳市星联科技有限公司");
    reg.run(&["verify", &url])
        .code(1)
        .stdout_has(&["REVOKED", "revoked       2026-08-01 (security_flaw)"]);
}

/// Bytes encoded by a digit string (groups of 7 bytes as 17 digits; see core/src/qr.rs).
fn byte_len(d: &str) -> usize {
    let tail = [0, 3, 5, 8, 10, 13, 15]
        .iter()
        .position(|&n| n == d.len() % 17)
        .expect("valid length");
    d.len() / 17 * 7 + tail
}

/// Lowers one digit of the first full 7-byte group that lies inside `bytes`: the digits still
/// decode (a smaller group value stays in range) and only those bytes change.
fn tamper_bytes(d: &str, bytes: std::ops::Range<usize>) -> String {
    let group = bytes.start.div_ceil(7);
    assert!(group * 7 + 7 <= bytes.end, "no full group inside {bytes:?}");
    let mut b = d.as_bytes().to_vec();
    let i = (group * 17..group * 17 + 17)
        .rev()
        .find(|&i| b[i] != b'0')
        .expect("a non-zero digit");
    b[i] -= 1;
    String::from_utf8(b).unwrap()
}

#[test]
fn counterfeit_when_one_signature_digit_changes() {
    let (reg, url) = one_label();
    let d = digits(&url);
    let n = byte_len(d);
    // The signature is the last 64 bytes.
    let fake = format!("{URL_PREFIX}{}", tamper_bytes(d, n - 64..n));
    assert_ne!(fake, url);
    assert_eq!(fake.len(), url.len());
    let got = reg.verify(&fake, &[]);
    assert_verdict(&got, "counterfeit", false, 1);
    assert_no_claim(&got.1);
    assert!(got.1["issuer"].is_null(), "{}", got.1);
    reg.run(&["verify", &fake])
        .code(1)
        .stdout_has(&["COUNTERFEIT"]);
}

#[test]
fn counterfeit_when_a_signed_byte_of_the_claim_changes() {
    let (reg, url) = one_label();
    let d = digits(&url);
    let n = byte_len(d);
    // The record's SHA-256 is the 32 bytes before the signature.
    let fake = tamper_bytes(d, n - 96..n - 64);
    let got = reg.verify(&fake, &[]);
    assert_verdict(&got, "counterfeit", false, 1);
    assert_no_claim(&got.1);
}

#[test]
fn malformed_codes() {
    let (reg, url) = one_label();
    let d = digits(&url);
    let cases: [(String, &str); 5] = [
        (format!("{URL_PREFIX}{}x", &d[..d.len() - 1]), "not a digit"),
        (
            format!("{URL_PREFIX}{}", &d[..d.len() - 1]),
            "not a valid length",
        ),
        (URL_PREFIX.to_string(), "no digits"),
        (
            "https://label.example.cn/verify/".to_string(),
            "no #fragment",
        ),
        ("1234".to_string(), "4 digits is not a valid length"),
    ];
    for (target, detail) in &cases {
        let got = reg.verify(target, &[]);
        assert_verdict(&got, "malformed", false, 1);
        let got_detail = got.1["detail"].as_str().unwrap_or_default();
        assert!(
            got_detail.contains(detail),
            "{target:?}: detail {got_detail:?}"
        );
        assert_no_claim(&got.1);
    }
    reg.run(&["verify", &cases[0].0])
        .code(1)
        .stdout_has(&["MALFORMED"]);
}

#[test]
fn unknown_issuer_for_a_label_of_another_registry() {
    let (first, _) = one_label();
    let other = Reg::new();
    let url = other.signed("20260001.md", &RecordText::new(20_260_001).text());
    // The other registry says valid; the first does not know its issuer key.
    assert_verdict(&other.verify(&url, &[]), "valid", false, 0);
    let out = other.run_in_tmp(&["verify", &url, "--json", "--registry", s(&first.dir)]);
    out.code(1);
    let json = out.json();
    assert_eq!(json["verdict"], "unknown_issuer", "{json}");
    let other_key = other.issuer_key_id();
    assert_eq!(
        json["detail"],
        format!("key {other_key} is not in the trust list"),
        "{json}"
    );
    assert_no_claim(&json);
    first
        .run(&["verify", &url])
        .code(1)
        .stdout_has(&["UNKNOWN ISSUER"]);
}

/// The path that works with this CLI: the revocation list is first re-signed by a second issuer
/// key, then the first key is marked compromised.
#[test]
fn issuer_compromised_after_rotating_the_revocation_signer() {
    let (reg, url) = one_label();
    let old_id = reg.issuer_key_id();
    reg.run(&["keygen", "keys/issuer-2"]).ok();
    reg.run(&[
        "trust",
        "add",
        "keys/issuer-2.pub",
        "--name",
        "Second issuer",
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
    reg.run(&["revoke", "--refresh"]).ok();
    reg.run(&["trust", "compromised", &old_id, "--since", "2026-09-01"])
        .ok()
        .stdout_has(&[&format!(
            "marked issuer key {old_id} compromised since 2026-09-01"
        )]);

    let got = reg.verify(&url, &[]);
    assert_verdict(&got, "issuer_compromised", false, 1);
    assert_eq!(
        got.1["detail"],
        format!("key {old_id} compromised since 2026-09-01")
    );
    reg.run(&["verify", &url])
        .code(1)
        .stdout_has(&["ISSUER KEY COMPROMISED"]);
    // `qr` refuses to print a label of a compromised key.
    reg.run(&["qr", "records/20260001.md"])
        .code(2)
        .stderr_has(&["records/20260001.md", "compromised since 2026-09-01"]);
}

/// `trust compromised` promises "every label it signed now verifies as ISSUER KEY COMPROMISED",
/// but when the compromised key also signed the current revocation list (the only issuer key of
/// a fresh registry), `verify` fails with exit 2 instead of giving the verdict.
#[test]
fn issuer_compromised_when_the_key_also_signed_the_revocation_list() {
    let (reg, url) = one_label();
    let id = reg.issuer_key_id();
    reg.run(&["trust", "compromised", &id, "--since", "2026-09-01"])
        .ok();
    let got = reg.verify(&url, &[]);
    assert_eq!(got.1["verdict"], "issuer_compromised", "{}", got.1);
    assert_eq!(got.0, 1);
}

#[test]
fn stale_after_the_revocation_list_next_update() {
    let (reg, url) = one_label();
    // init signs the revocation list with next-update = then + 7 days.
    let at = (now() + 8 * DAY).to_string();
    let got = reg.verify(&url, &["--at", &at]);
    assert_verdict(&got, "valid", true, 1);
    assert_eq!(got.1["rollback"], false);
    assert_eq!(got.1["manufacturer"], "深圳市星联科技有限公司");
    let out = reg.run(&["verify", &url, "--at", &at]);
    out.code(1).stdout_has(&[
        "VALID, BUT REVOCATION DATA IS STALE",
        "the revocation list is past its next-update date",
    ]);
    assert!(!out.stdout.contains("VALID: genuine and valid"));
    // Six days on, the data is still fresh.
    let at = (now() + 6 * DAY).to_string();
    assert_verdict(&reg.verify(&url, &["--at", &at]), "valid", false, 0);
}

#[test]
fn rollback_when_a_higher_sequence_was_seen() {
    let (reg, url) = one_label();
    let got = reg.verify(&url, &["--seen-sequence", "99"]);
    assert_verdict(&got, "valid", true, 1);
    assert_eq!(got.1["rollback"], true, "{}", got.1);
    assert_eq!(got.1["revocation_sequence"], Value::Null, "{}", got.1);
    reg.run(&["verify", &url, "--seen-sequence", "99"])
        .code(1)
        .stdout_has(&["rollback"]);
    // The current sequence (1) and lower are accepted.
    let got = reg.verify(&url, &["--seen-sequence", "1"]);
    assert_verdict(&got, "valid", false, 0);
    assert_eq!(got.1["rollback"], false);
}

#[test]
fn rollback_hides_a_revocation_only_with_a_warning() {
    // An attacker serving the old list (sequence 1) to a verifier that saw sequence 2: the
    // revoked label must not come out plainly valid.
    let (reg, url) = one_label();
    let old_list = std::fs::read(reg.path("revocation-list.bin")).unwrap();
    reg.run(&[
        "revoke",
        "20260001",
        "--reason",
        "false_claim",
        "--date",
        "2026-02-01",
    ])
    .ok();
    assert_eq!(reg.verify(&url, &[]).1["revocation_sequence"], 2);
    std::fs::write(reg.path("revocation-list.bin"), old_list).unwrap();
    let got = reg.verify(&url, &["--seen-sequence", "2"]);
    assert_verdict(&got, "valid", true, 1);
    assert_eq!(got.1["rollback"], true);
}
