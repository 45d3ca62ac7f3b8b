//! `starmark sign` and `starmark qr` on signed and edited records.

use std::os::unix::fs::PermissionsExt;

use crate::common::{assert_verify_url, digits, s, RecordText, Reg};

#[test]
fn sign_writes_the_sig_beside_the_record_and_prints_the_verify_url() {
    let reg = Reg::new();
    let url = reg.signed("0001.md", &RecordText::new(1).text());
    assert_verify_url(&url);
    let sig = std::fs::read_to_string(reg.path("records/0001.sig")).unwrap();
    assert_eq!(
        sig,
        format!("{}\n", digits(&url)),
        "the .sig holds the URL's digits"
    );
    // `qr` prints the same URL.
    let out = reg.run(&["qr", "records/0001.md"]);
    out.ok();
    assert_eq!(out.stdout, format!("{url}\n"));
}

#[test]
fn resigning_an_unchanged_record_leaves_the_sig_identical() {
    let reg = Reg::new();
    let url = reg.signed("0001.md", &RecordText::new(1).text());
    let before = std::fs::read(reg.path("records/0001.sig")).unwrap();
    let out = reg.run(&["sign", "records/0001.md"]);
    out.ok();
    assert_eq!(out.stdout, format!("records/0001.md\t{url}\n"));
    assert_eq!(std::fs::read(reg.path("records/0001.sig")).unwrap(), before);
}

#[test]
fn sign_refuses_to_replace_a_different_signature_unless_forced() {
    let reg = Reg::new();
    let rec = RecordText::new(1);
    let old_url = reg.signed("0001.md", &rec.text());
    let sig_path = reg.path("records/0001.sig");
    let before = std::fs::read(&sig_path).unwrap();

    let mut edited = rec.clone();
    edited.body.push_str("\nFirmware 1.2.1 retested.\n");
    reg.write_record("0001.md", &edited.text());
    reg.run(&["sign", "records/0001.md"]).code(2).stderr_has(&[
        "records/0001.sig: a different signature exists",
        "the record changed since it was signed",
        "--force",
    ]);
    assert_eq!(std::fs::read(&sig_path).unwrap(), before, ".sig replaced");

    let out = reg.run(&["sign", "--force", "records/0001.md"]);
    out.ok();
    let new_url = out
        .stdout
        .trim_end()
        .split_once('\t')
        .unwrap()
        .1
        .to_string();
    assert_verify_url(&new_url);
    assert_ne!(new_url, old_url);
    assert_eq!(
        std::fs::read_to_string(&sig_path).unwrap(),
        format!("{}\n", digits(&new_url))
    );
    reg.run(&["qr", "records/0001.md"]).ok();
}

#[test]
fn qr_refuses_a_record_edited_after_signing() {
    let reg = Reg::new();
    let rec = RecordText::new(1);
    reg.signed("0001.md", &rec.text());
    // One byte of the body changes: the signature covers the whole file.
    reg.write_record("0001.md", &rec.text().replace("met.", "met!"));
    let png = reg.tmp().join("label.png");
    let out = reg.run(&["qr", "records/0001.md", "--png", s(&png)]);
    out.code(2)
        .stderr_has(&["records/0001.md: digest mismatch", "changed after signing"]);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(!png.exists(), "a PNG was written for an edited record");
}

#[test]
fn qr_refuses_an_unsigned_record() {
    let reg = Reg::new();
    reg.write_record("0001.md", &RecordText::new(1).text());
    reg.run(&["qr", "records/0001.md"])
        .code(2)
        .stderr_has(&["records/0001.md: not signed", "0001.sig"]);
}

#[test]
fn sign_signs_the_good_records_and_reports_each_bad_one() {
    let reg = Reg::new();
    reg.write_record("1.md", &RecordText::new(1).text());
    let mut bad = RecordText::new(2);
    bad.tier = 0;
    reg.write_record("2.md", &bad.text());
    let out = reg.run(&["sign", "records/1.md", "records/2.md"]);
    out.code(2).stderr_has(&[
        "1 record not signed",
        "records/2.md: line 8: field tier: 0 is not a tier (1, 2 or 3)",
    ]);
    assert!(out
        .stdout
        .starts_with("records/1.md\thttps://label.example.cn/verify/#"));
    assert!(reg.path("records/1.sig").is_file());
    assert!(!reg.path("records/2.sig").exists());
}

#[test]
fn sign_finds_the_registry_from_the_record_path() {
    let reg = Reg::new();
    let path = reg.write_record("sub/0007.md", &RecordText::new(7).text());
    // Run outside the registry: the registry is found from the record's directory upwards.
    let out = reg.run_in_tmp(&["sign", s(&path)]);
    out.ok();
    assert!(out.stdout.contains("\thttps://label.example.cn/verify/#"));
    assert!(reg.path("records/sub/0007.sig").is_file());
}

#[test]
fn sign_outside_any_registry_says_how_to_find_one() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("0001.md");
    std::fs::write(&path, RecordText::new(1).text()).unwrap();
    crate::common::run_in(tmp.path(), &["sign", s(&path)])
        .code(2)
        .stderr_has(&["no starmark.toml found", "--registry"]);
}

#[test]
fn sign_refuses_a_secret_key_readable_by_others() {
    let reg = Reg::new();
    reg.write_record("0001.md", &RecordText::new(1).text());
    let key = reg.path("keys/issuer-1.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    reg.run(&["sign", "records/0001.md"]).code(2).stderr_has(&[
        "keys/issuer-1.key: secret key is readable by others",
        "chmod 600",
    ]);
    assert!(!reg.path("records/0001.sig").exists());
}

#[test]
fn sign_refuses_a_record_starting_outside_the_issuer_key_period() {
    let reg = Reg::new();
    let mut rec = RecordText::new(1);
    rec.valid_from = "2031-01-01".into();
    rec.valid_until = "2033-12-31".into();
    reg.write_record("0001.md", &rec.text());
    reg.run(&["sign", "records/0001.md"]).code(2).stderr_has(&[
        "records/0001.md: line 10: field valid_from: 2031-01-01 is outside the issuer key's period \
         2026-01-01 to 2030-12-31",
    ]);
}

#[test]
fn sign_refuses_supersedes_of_an_unknown_serial() {
    let reg = Reg::new();
    let text = RecordText::new(2)
        .text()
        .replace("lab = \"CCRC\"\n", "lab = \"CCRC\"\nsupersedes = 1\n");
    reg.write_record("0002.md", &text);
    reg.run(&["sign", "records/0002.md"])
        .code(2)
        .stderr_has(&["records/0002.md: line 13: field supersedes: no record has serial 1"]);
    reg.write_record("0001.md", &RecordText::new(1).text());
    reg.run(&["sign", "records/0001.md", "records/0002.md"])
        .ok();
}
