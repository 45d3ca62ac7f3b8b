//! `starmark revoke`: the signed revocation list, its sequence, reasons, refresh, tampering.

use crate::common::{flip_byte, now, RecordText, Reg, DAY};

const REASONS: [&str; 6] = [
    "false_claim",
    "unreported_change",
    "security_flaw",
    "withdrawn",
    "key_compromise",
    "other",
];

fn two_labels() -> (Reg, String, String) {
    let reg = Reg::new();
    let a = reg.signed("1.md", &RecordText::new(1).text());
    let b = reg.signed("2.md", &RecordText::new(2).text());
    (reg, a, b)
}

fn sequence(reg: &Reg, url: &str) -> u64 {
    reg.verify(url, &[]).1["revocation_sequence"]
        .as_u64()
        .expect("revocation_sequence")
}

#[test]
fn each_revocation_increases_the_sequence() {
    let (reg, a, b) = two_labels();
    let key = reg.issuer_key_id();
    assert_eq!(sequence(&reg, &a), 1);
    reg.run(&[
        "revoke",
        "1",
        "--reason",
        "false_claim",
        "--date",
        "2026-02-01",
    ])
    .ok()
    .stdout_has(&[
        "revoked serial 1: false_claim on 2026-02-01",
        &format!("revocation list #2 signed by key {key}"),
    ]);
    assert_eq!(sequence(&reg, &a), 2);
    reg.run(&[
        "revoke",
        "2",
        "--reason",
        "withdrawn",
        "--date",
        "2026-03-01",
    ])
    .ok()
    .stdout_has(&["revocation list #3"]);
    let (code, json) = reg.verify(&b, &[]);
    assert_eq!((code, json["verdict"].as_str()), (1, Some("revoked")));
    assert_eq!(json["revocation_sequence"], 3);
    assert_eq!(json["revocation"]["reason"], "withdrawn");
    // The first revocation is still there.
    let (_, json) = reg.verify(&a, &[]);
    assert_eq!(json["revocation"]["reason"], "false_claim");
    assert_eq!(json["revocation"]["date"], "2026-02-01");
}

#[test]
fn every_reason_is_accepted() {
    let reg = Reg::new();
    for (i, reason) in REASONS.iter().enumerate() {
        let serial = i as u64 + 1;
        let url = reg.signed(&format!("{serial}.md"), &RecordText::new(serial).text());
        reg.run(&[
            "revoke",
            &serial.to_string(),
            "--reason",
            reason,
            "--date",
            "2026-04-01",
        ])
        .ok();
        let (_, json) = reg.verify(&url, &[]);
        assert_eq!(json["revocation"]["reason"], *reason, "{json}");
    }
}

#[test]
fn revoking_again_replaces_reason_and_date() {
    let (reg, a, _) = two_labels();
    reg.run(&["revoke", "1", "--reason", "other", "--date", "2026-02-01"])
        .ok();
    reg.run(&[
        "revoke",
        "1",
        "--reason",
        "false_claim",
        "--date",
        "2026-02-03",
    ])
    .ok()
    .stdout_has(&[
        "serial 1 was revoked already (other on 2026-02-01); now false_claim on 2026-02-03",
    ]);
    let (_, json) = reg.verify(&a, &[]);
    assert_eq!(json["revocation"]["reason"], "false_claim");
    assert_eq!(json["revocation"]["date"], "2026-02-03");
    assert_eq!(json["revocation_sequence"], 3);
}

#[test]
fn unknown_reason_lists_the_valid_reasons_and_changes_nothing() {
    let (reg, _, _) = two_labels();
    let before = std::fs::read(reg.path("revocation-list.bin")).unwrap();
    let out = reg.run(&["revoke", "1", "--reason", "bad_vibes"]);
    out.code(2)
        .stderr_has(&["--reason: unknown reason \"bad_vibes\""]);
    let listed = format!("(one of: {})", REASONS.join(", "));
    out.stderr_has(&[&listed]);
    assert_eq!(
        std::fs::read(reg.path("revocation-list.bin")).unwrap(),
        before
    );
}

#[test]
fn unknown_serial_is_refused_and_changes_nothing() {
    let (reg, _, _) = two_labels();
    let before = std::fs::read(reg.path("revocation-list.bin")).unwrap();
    reg.run(&["revoke", "999", "--reason", "other"])
        .code(2)
        .stderr_has(&["serial 999: no record in", "has this serial"]);
    assert_eq!(
        std::fs::read(reg.path("revocation-list.bin")).unwrap(),
        before
    );
}

#[test]
fn bad_revocation_date_is_refused() {
    let (reg, _, _) = two_labels();
    reg.run(&["revoke", "1", "--reason", "other", "--date", "2026-02-30"])
        .code(2)
        .stderr_has(&["--date: \"2026-02-30\" is not a date"]);
}

#[test]
fn missing_reason_and_refresh_with_serial_are_usage_errors() {
    let (reg, _, _) = two_labels();
    reg.run(&["revoke", "1"]).code(2).stderr_has(&["--reason"]);
    reg.run(&["revoke", "--refresh", "1"])
        .code(2)
        .stderr_has(&["cannot be used with"]);
}

#[test]
fn refresh_keeps_the_entries_and_moves_next_update() {
    let (reg, a, b) = two_labels();
    reg.run(&[
        "revoke",
        "1",
        "--reason",
        "security_flaw",
        "--date",
        "2026-02-01",
    ])
    .ok();
    let in_20_days = (now() + 20 * DAY).to_string();
    assert_eq!(reg.verify(&b, &["--at", &in_20_days]).1["stale"], true);

    // With 30-day lists, a refresh makes the data fresh for 20 days from now.
    let config = reg.path("starmark.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("validity_days = 7", "validity_days = 30"),
    )
    .unwrap();
    reg.run(&["revoke", "--refresh"])
        .ok()
        .stdout_has(&["refreshed, 1 revoked", "revocation list #3"]);

    let (code, json) = reg.verify(&b, &["--at", &in_20_days]);
    assert_eq!(
        (code, &json["verdict"], &json["stale"]),
        (0, &"valid".into(), &false.into())
    );
    assert_eq!(json["revocation_sequence"], 3);
    let (code, json) = reg.verify(&a, &["--at", &in_20_days]);
    assert_eq!(code, 1);
    assert_eq!(json["verdict"], "revoked");
    assert_eq!(json["revocation"]["reason"], "security_flaw");
}

#[test]
fn a_tampered_revocation_list_is_refused_naming_the_file() {
    let (reg, a, _) = two_labels();
    // Flip a byte of the body (the sequence) and, separately, of the signature.
    for index in [3, -1] {
        let path = reg.path("revocation-list.bin");
        let good = std::fs::read(&path).unwrap();
        flip_byte(&path, index);
        let out = reg.run(&["verify", &a, "--json"]);
        out.code(2)
            .stderr_has(&["revocation-list.bin: revocation list refused"]);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        // revoke refuses to build on it, and leaves it as it is.
        let tampered = std::fs::read(&path).unwrap();
        reg.run(&["revoke", "2", "--reason", "other"])
            .code(2)
            .stderr_has(&["revocation-list.bin"]);
        assert_eq!(std::fs::read(&path).unwrap(), tampered);
        std::fs::write(&path, good).unwrap();
        reg.verify(&a, &[]);
    }
}

/// Without a revocation list the verdict is still computed, marked stale (exit 1), with a
/// warning naming the missing file; nothing is known revoked then.
#[test]
fn a_missing_revocation_list_gives_the_verdict_marked_stale() {
    let (reg, a, b) = two_labels();
    reg.run(&["revoke", "2", "--reason", "other"]).ok();
    std::fs::remove_file(reg.path("revocation-list.bin")).unwrap();
    let warning = "revocation-list.bin: no revocation list; the verdict is computed without revocation data and marked stale";
    let out = reg.run(&["verify", &a, "--json"]);
    out.code(1).stderr_has(&["starmark: warning: ", warning]);
    let json = out.json();
    assert_eq!(json["verdict"], "valid", "{json}");
    assert_eq!(json["stale"], true, "{json}");
    assert_eq!(json["rollback"], false, "{json}");
    assert_eq!(
        json["revocation_sequence"],
        serde_json::Value::Null,
        "{json}"
    );
    assert_eq!(json["serial"], 1, "{json}");
    // The revoked label: without the list, nothing is known revoked; never plainly valid.
    let (code, json) = reg.verify(&b, &[]);
    assert_eq!(
        (code, &json["verdict"], &json["stale"]),
        (1, &"valid".into(), &true.into())
    );
    let (code, json) = reg.verify(&a, &["--at", "2036-01-01"]);
    assert_eq!(
        (code, &json["verdict"], &json["stale"]),
        (1, &"expired".into(), &true.into())
    );
    let out = reg.run(&["verify", &a]);
    out.code(1)
        .stdout_has(&[
            "VALID, BUT REVOCATION DATA IS STALE",
            "no revocation list was used: whether the label is revoked is unknown",
        ])
        .stderr_has(&[warning]);
    assert!(!out.stdout.contains("next-update"), "{}", out.stdout);
}

/// A revocation list file that is there but cannot be read is an input error, as a damaged one.
#[test]
fn an_unreadable_revocation_list_is_an_error_naming_the_file() {
    let (reg, a, _) = two_labels();
    let path = reg.path("revocation-list.bin");
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    reg.run(&["verify", &a])
        .code(2)
        .stderr_has(&["revocation-list.bin: cannot read"]);
    std::fs::remove_dir(&path).unwrap();
    std::os::unix::fs::symlink(reg.path("nowhere.bin"), &path).unwrap();
    reg.run(&["verify", &a])
        .code(2)
        .stderr_has(&["revocation-list.bin: cannot read"]);
}

/// An emergency revocation must not wait for an unrelated record to be fixed.
#[test]
fn revoke_is_not_blocked_by_an_unrelated_bad_record() {
    let (reg, a, _) = two_labels();
    let mut bad = RecordText::new(3);
    bad.tier = 4;
    reg.write_record("draft.md", &bad.text());
    reg.run(&[
        "revoke",
        "1",
        "--reason",
        "security_flaw",
        "--date",
        "2026-02-01",
    ])
    .ok();
    assert_eq!(reg.verify(&a, &[]).1["verdict"], "revoked");
}
