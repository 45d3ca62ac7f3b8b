//! The README walkthrough: init, sign, qr, verify, revoke, trust, keygen; the registry layout
//! and key file modes; no secret key is ever printed.

use std::os::unix::fs::PermissionsExt;

use crate::common::{assert_verify_url, digits, s, RecordText, Reg};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn init_creates_config_keys_lists_and_records_dir() {
    let reg = Reg::new();
    for f in ["starmark.toml", "trust-list.bin", "revocation-list.bin"] {
        assert!(reg.path(f).is_file(), "{f} missing");
    }
    assert!(reg.path("records").is_dir());
    assert!(reg.path("log/checkpoint").is_file());
    for name in ["root", "issuer-1", "log"] {
        let secret = reg.path(&format!("keys/{name}.key"));
        let public = reg.path(&format!("keys/{name}.pub"));
        assert_eq!(mode(&secret), 0o600, "{}", secret.display());
        assert!(public.is_file(), "{} missing", public.display());
        assert_eq!(
            mode(&public) & 0o077,
            0o044,
            "{} not world-readable",
            public.display()
        );
    }
    let config = std::fs::read_to_string(reg.path("starmark.toml")).unwrap();
    for needle in [
        "base_url = \"https://label.example.cn\"",
        "root_public = \"keys/root.pub\"",
        "issuer_secret = \"keys/issuer-1.key\"",
        "log_secret = \"keys/log.key\"",
        "validity_days = 7",
        "code = \"router\"",
    ] {
        assert!(
            config.contains(needle),
            "starmark.toml lacks {needle:?}:\n{config}"
        );
    }
    let list = reg.trust_list();
    assert_eq!(list["sequence"], 1);
    assert_eq!(list["issuers"][0]["valid_from"], "2026-01-01");
    assert_eq!(list["issuers"][0]["valid_until"], "2030-12-31");
    assert!(list["issuers"][0]["compromised_since"].is_null());
    // The log key, in the list with purpose log.
    assert_eq!(list["log_keys"].as_array().unwrap().len(), 1);
    let log_pub = std::fs::read_to_string(reg.path("keys/log.pub")).unwrap();
    assert!(log_pub.contains(list["log_keys"][0]["public_key"].as_str().unwrap()));
}

#[test]
fn init_refuses_an_existing_registry() {
    let reg = Reg::new();
    let before = std::fs::read(reg.path("keys/issuer-1.key")).unwrap();
    reg.run_in_tmp(&["init", s(&reg.dir), "--issuer-valid-from", "2026-01-01"])
        .code(2)
        .stderr_has(&["already a registry", "starmark.toml"]);
    assert_eq!(
        std::fs::read(reg.path("keys/issuer-1.key")).unwrap(),
        before
    );
}

#[test]
fn init_refuses_a_base_url_without_scheme() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reg");
    crate::common::run_in(
        tmp.path(),
        &["init", s(&dir), "--base-url", "label.example.cn"],
    )
    .code(2)
    .stderr_has(&["--base-url", "https://"]);
    assert!(!dir.join("starmark.toml").exists());
}

#[test]
fn keygen_writes_a_private_secret_and_a_public_key_and_refuses_to_overwrite() {
    let reg = Reg::new();
    let base = reg.tmp().join("issuer-2");
    let out = reg.run_in_tmp(&["keygen", s(&base)]);
    out.ok()
        .stdout_has(&["key id ", "issuer-2.key", "issuer-2.pub"]);
    let key = reg.tmp().join("issuer-2.key");
    let public = reg.tmp().join("issuer-2.pub");
    assert_eq!(mode(&key), 0o600);
    assert!(public.is_file());
    let before = std::fs::read(&key).unwrap();
    reg.run_in_tmp(&["keygen", s(&base)])
        .code(2)
        .stderr_has(&["issuer-2.key", "already exists"]);
    assert_eq!(
        std::fs::read(&key).unwrap(),
        before,
        "keygen overwrote a key"
    );
}

/// The whole issuer workflow, asserting after every step that no command printed a secret key.
#[test]
fn walkthrough_never_prints_a_secret_key() {
    let reg = Reg::new();
    let url = reg.signed("20260001.md", &RecordText::new(20_260_001).text());
    assert_verify_url(&url);
    let png = reg.tmp().join("label.png");
    reg.run(&["qr", "records/20260001.md", "--png", s(&png)])
        .ok();
    reg.run(&["verify", &url]).ok();
    reg.run(&["verify", digits(&url), "--json"]).ok();
    reg.run(&["verify", s(&png)]).ok();
    reg.run(&[
        "revoke",
        "20260001",
        "--reason",
        "withdrawn",
        "--date",
        "2026-03-01",
    ])
    .ok();
    reg.run(&["revoke", "--refresh"]).ok();
    reg.run(&["verify", &url, "--at", "2026-03-02"]).code(1);
    reg.run_in_tmp(&["keygen", s(&reg.tmp().join("issuer-2"))])
        .ok();
    reg.run(&[
        "trust",
        "add",
        s(&reg.tmp().join("issuer-2.pub")),
        "--name",
        "Second issuer",
        "--valid-from",
        "2026-01-01",
    ])
    .ok();
    reg.run(&["trust", "list"]).ok();
    reg.run(&["trust", "list", "--json"]).ok();
    let id = reg.trust_list()["issuers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "Second issuer")
        .unwrap()["key_id"]
        .as_str()
        .unwrap()
        .to_string();
    reg.run(&["trust", "retire", &id, "--date", "2026-06-01"])
        .ok();
    reg.run(&["trust", "compromised", &id, "--since", "2026-05-01"])
        .ok();
    reg.run(&["log", "verify"]).ok();
    reg.run(&["log", "key"]).ok();
    // Failing commands must not leak either.
    reg.run(&["sign", "records/missing.md"]).code(2);
    reg.run(&["revoke", "1", "--reason", "nope"]).code(2);
    reg.run(&["log", "backfill"]).code(2);

    let (secrets, outputs) = reg.assert_no_secret_printed();
    assert_eq!(secrets, 4, "root, issuer-1, log and issuer-2 secret keys");
    assert!(outputs >= 30, "only {outputs} outputs captured");
}

/// The check above is not vacuous: a printed secret key is caught.
#[test]
#[should_panic(expected = "a secret key was printed")]
fn the_secret_check_catches_a_printed_key() {
    let reg = Reg::new();
    let text = std::fs::read_to_string(reg.path("keys/issuer-1.key")).unwrap();
    reg.log_output(&format!("debug: {}", text.to_uppercase()));
    reg.assert_no_secret_printed();
}
