//! `starmark audit` end to end: the demo build passes; each fault of a served site is named with
//! exit 1 (altered page, record and signature, deleted certification, extra and missing file,
//! unsigned or badly signed manifest, older revocation list, a forked or shrunk log with
//! `--state`, a checkpoint signed by an unknown key, a truncated tile, a certification missing
//! from the log, a log claim missing from the site); the state file moves only when everything
//! held; a witness cosigns, the registry adds the cosignature, and the next audit counts it;
//! `--rebuild` compares the site with the build of its published inputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use starmark_core::log::{sign_checkpoint, Checkpoint, Note};
use starmark_core::SecretKey;

use crate::common::{run_in, s, Out, RecordText};
use crate::site::{copy_tree, demo_copy};

/// The demo registry copied into a temp dir and built into `reg/public`.
struct Demo {
    tmp: tempfile::TempDir,
    reg: PathBuf,
    out: PathBuf,
    root: String,
}

impl Demo {
    /// Built as the README's first command builds it (`serve site` runs this build).
    fn new() -> Demo {
        let tmp = tempfile::tempdir().unwrap();
        let reg = demo_copy(tmp.path());
        run_in(tmp.path(), &["build", "--quiet", s(&reg)]).ok();
        let root = std::fs::read_to_string(reg.join("keys/DEMO-ONLY-root.pub"))
            .unwrap()
            .lines()
            .find(|l| !l.starts_with('#'))
            .unwrap()
            .trim()
            .to_string();
        Demo {
            out: reg.join("public"),
            reg,
            tmp,
            root,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// Runs starmark in the temp dir.
    fn run(&self, args: &[&str]) -> Out {
        run_in(self.tmp.path(), args)
    }

    /// Runs starmark in the registry (which it then finds by itself).
    fn in_reg(&self, args: &[&str]) -> Out {
        run_in(&self.reg, args)
    }

    /// `audit SITE --root <demo root> EXTRA...`.
    fn audit(&self, site: &Path, extra: &[&str]) -> Out {
        let mut args = vec!["audit", s(site), "--root", &self.root];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// A copy of the published site, to tamper with as a host could.
    fn mirror(&self, name: &str) -> PathBuf {
        let dir = self.path(name);
        copy_tree(&self.out, &dir, &|_| true);
        dir
    }

    /// Builds the registry again and signs the manifest with its issuer key: what a registry
    /// that itself misbehaves publishes.
    fn publish(&self) {
        self.run(&["manifest", "sign", "--quiet", s(&self.reg)])
            .ok();
    }
}

/// The findings of a `--json` report, as (check, kind, message).
fn findings(out: &Out) -> Vec<(String, String, String)> {
    out.json()["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["check"].as_str().unwrap().to_string(),
                p["kind"].as_str().unwrap().to_string(),
                p["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Asserts exit 1 and that the report names each `(check, kind, message part)`.
#[track_caller]
fn names(out: &Out, expected: &[(&str, &str, &str)]) {
    out.code(1);
    let found = findings(out);
    for (check, kind, part) in expected {
        assert!(
            found
                .iter()
                .any(|(c, k, m)| c == check && k == kind && m.contains(part)),
            "no {check}/{kind} finding with {part:?} in {found:#?}"
        );
    }
}

#[test]
fn the_demo_build_passes_and_rebuilds_to_the_same_bytes() {
    let d = Demo::new();
    // The shipped manifest.sig signs the demo's build: if this fails after a change to
    // templates or the build, sign it again: chmod 600 site/keys/*.key; starmark manifest sign site
    let out = d.audit(&d.out, &[]);
    out.ok().stdout_has(&[
        "signed by issuer key 1aa98888",
        "30 on the site; 30 signatures and 30 records verified",
        "label.example.cn/log, 32 entries (30 claims, 1 trust list, 1 revocation list)",
        "tree recomputed from the entries: whole",
        "30 of 30 certifications on the site are in the log",
        "everything held",
    ]);
    let json = d.audit(&d.out, &["--json"]);
    let v = json.ok().json();
    assert_eq!(v["ok"], Value::Bool(true));
    assert_eq!(v["log"]["size"], 32);
    assert_eq!(v["completeness"]["log_on_site"], 30);
    assert_eq!(v["problems"].as_array().unwrap().len(), 0);
    // The root key is found from the registry whose output the site is.
    d.run(&["audit", s(&d.out)]).ok();
    // The rebuild from the published inputs alone (api/v1/build.json) is the same site.
    d.audit(&d.out, &["--rebuild"])
        .ok()
        .stdout_has(&["configuration from api/v1/build.json", "0 different"]);
}

#[test]
fn altered_page_record_and_signature_are_named() {
    let d = Demo::new();
    let m = d.mirror("m");
    let page = m.join("cert/1.html");
    let text = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, text.replacen("XL-AX3000", "XL-AX3001", 1)).unwrap();
    let record = m.join("records/2.md");
    let text = std::fs::read_to_string(&record).unwrap();
    std::fs::write(&record, text.replacen("tier = 2", "tier = 3", 1)).unwrap();
    // One digit of the signature changed.
    let sig = m.join("records/3.sig");
    let mut digits = std::fs::read(&sig).unwrap();
    digits[200] = if digits[200] == b'1' { b'2' } else { b'1' };
    std::fs::write(&sig, digits).unwrap();
    let out = d.audit(&m, &["--json"]);
    names(
        &out,
        &[
            ("manifest", "altered", "altered: cert/1.html"),
            ("manifest", "altered", "altered: records/2.md"),
            (
                "certifications",
                "digest_mismatch",
                "records/2.md: digest mismatch",
            ),
            ("manifest", "altered", "altered: records/3.sig"),
        ],
    );
    let found = findings(&out);
    assert!(
        found
            .iter()
            .any(|(c, _, m)| c == "certifications" && m.starts_with("records/3.sig:")),
        "{found:#?}"
    );
    // The altered signature's claim is in no log entry either.
    assert!(
        found.iter().any(|(c, k, m)| c == "completeness"
            && k == "not_in_log"
            && m.contains("records/3.sig")),
        "{found:#?}"
    );
    // In text, each is named.
    d.audit(&m, &[]).code(1).stdout_has(&[
        "manifest: altered: cert/1.html: SHA-256",
        "certifications: records/2.md: digest mismatch",
    ]);
}

#[test]
fn a_deleted_certification_an_extra_and_a_missing_file_are_named() {
    let d = Demo::new();
    let m = d.mirror("m");
    for f in [
        "records/5.md",
        "records/5.sig",
        "cert/5.html",
        "en/cert/5.html",
        "api/v1/certificates/5.json",
        "labels/5.svg",
        "labels/5.png",
    ] {
        std::fs::remove_file(m.join(f)).unwrap();
    }
    std::fs::write(m.join("extra.html"), "<p>not published</p>").unwrap();
    std::fs::remove_file(m.join("about.html")).unwrap();
    names(
        &d.audit(&m, &["--json"]),
        &[
            ("manifest", "missing", "missing: records/5.sig"),
            ("manifest", "missing", "missing: cert/5.html"),
            (
                "completeness",
                "not_on_site",
                "certification 5 (log entry 4) is in the log but not on the site",
            ),
            ("manifest", "extra", "extra: extra.html"),
            ("manifest", "missing", "missing: about.html"),
        ],
    );
}

#[test]
fn an_unsigned_or_badly_signed_manifest_is_named() {
    let d = Demo::new();
    let m = d.mirror("m");
    std::fs::remove_file(m.join("manifest/root.sig")).unwrap();
    names(
        &d.audit(&m, &["--json"]),
        &[(
            "manifest",
            "unsigned",
            "unsigned manifest: manifest/root.sig is missing",
        )],
    );
    let m = d.mirror("m2");
    crate::common::flip_byte(&m.join("manifest/root.sig"), -1);
    names(
        &d.audit(&m, &["--json"]),
        &[(
            "manifest",
            "signature",
            "manifest/root.sig: manifest signature: does not verify under key 1aa98888",
        )],
    );
}

#[test]
fn an_older_revocation_list_is_named_against_the_log_and_the_state() {
    let d = Demo::new();
    let state = d.path("state.json");
    d.audit(&d.out, &["--state", s(&state)]).ok();
    let old = std::fs::read(d.out.join("api/v1/revocation-list.bin")).unwrap();
    d.in_reg(&["revoke", "--refresh"]).ok();
    d.publish();
    d.audit(&d.out, &["--state", s(&state)]).ok();
    // The host serves the list before (sequence 5), with its JSON form as it was.
    let m = d.mirror("m");
    std::fs::write(m.join("api/v1/revocation-list.bin"), &old).unwrap();
    let before = std::fs::read(&state).unwrap();
    let out = d.audit(&m, &["--state", s(&state), "--json"]);
    names(
        &out,
        &[
            ("lists", "older_list", "api/v1/revocation-list.bin: older revocation list: #5 (log entry 31) is served, but the log holds #6 (log entry 32)"),
            ("state", "older_list", "older revocation list: #5 is served, #6 was seen before"),
            ("manifest", "altered", "altered: api/v1/revocation-list.bin"),
        ],
    );
    assert_eq!(
        std::fs::read(&state).unwrap(),
        before,
        "state file not updated"
    );
}

/// Remakes the demo registry's log without the claim of serial 30 (record removed), then
/// appends `refreshes` revocation lists: a log of the same origin and log key, re-signed.
fn rewrite_log(d: &Demo, refreshes: usize) {
    std::fs::remove_dir_all(d.reg.join("log")).unwrap();
    std::fs::remove_file(d.reg.join("records/0030.md")).unwrap();
    std::fs::remove_file(d.reg.join("records/0030.sig")).unwrap();
    d.in_reg(&["log", "backfill"]).ok();
    for _ in 0..refreshes {
        d.in_reg(&["revoke", "--refresh"]).ok();
    }
    d.publish();
}

#[test]
fn a_forked_log_is_named_with_the_state_and_the_state_is_kept() {
    let d = Demo::new();
    let state = d.path("state.json");
    d.audit(&d.out, &["--state", s(&state)])
        .ok()
        .stdout_has(&["state: first audit with", "state written to"]);
    let seen = std::fs::read(&state).unwrap();
    let v: Value = serde_json::from_slice(&seen).unwrap();
    assert_eq!(v["format"], "starmark-audit-state-v1");
    assert!(v["checkpoint"]
        .as_str()
        .unwrap()
        .starts_with("label.example.cn/log\n32\n"));
    // Without the state the rewritten site is whole: only the state shows the fork.
    rewrite_log(&d, 2);
    d.audit(&d.out, &[]).ok();
    let out = d.audit(&d.out, &["--state", s(&state), "--json"]);
    names(
        &out,
        &[(
            "state",
            "fork",
            "log/checkpoint: fork: the log of 33 entries",
        )],
    );
    assert_eq!(findings(&out).len(), 1, "{:#?}", findings(&out));
    d.audit(&d.out, &["--state", s(&state)])
        .code(1)
        .stdout_has(&["state file", "not updated"]);
    assert_eq!(
        std::fs::read(&state).unwrap(),
        seen,
        "state file not updated"
    );
}

#[test]
fn a_shrunk_log_is_named_with_the_state() {
    let d = Demo::new();
    let state = d.path("state.json");
    d.audit(&d.out, &["--state", s(&state)]).ok();
    rewrite_log(&d, 0);
    let out = d.audit(&d.out, &["--state", s(&state), "--json"]);
    names(
        &out,
        &[("state", "shrunk", "the log shrank from 32 to 31 entries")],
    );
}

#[test]
fn a_log_that_grew_is_consistent_with_the_state() {
    let d = Demo::new();
    let state = d.path("state.json");
    d.audit(&d.out, &["--state", s(&state)]).ok();
    std::fs::write(d.reg.join("records/0031.md"), RecordText::new(31).text()).unwrap();
    d.in_reg(&["sign", "records/0031.md"]).ok();
    d.in_reg(&["revoke", "--refresh"]).ok();
    d.publish();
    d.audit(&d.out, &["--state", s(&state)]).ok().stdout_has(&[
        "state: consistent with the checkpoint seen before",
        "(size 32)",
    ]);
    let v: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert!(v["checkpoint"]
        .as_str()
        .unwrap()
        .starts_with("label.example.cn/log\n34\n"));
    assert_eq!(v["revocation_list_sequence"], 6);
}

#[test]
fn a_checkpoint_by_an_unknown_key_and_a_truncated_tile_are_named() {
    let d = Demo::new();
    let m = d.mirror("m");
    let note = Note::parse(&std::fs::read_to_string(m.join("log/checkpoint")).unwrap()).unwrap();
    let cp = Checkpoint::parse(&note.text).unwrap();
    let forged = sign_checkpoint(&cp, &SecretKey::from_seed(&[9; 32])).unwrap();
    std::fs::write(m.join("log/checkpoint"), forged).unwrap();
    names(
        &d.audit(&m, &["--json"]),
        &[(
            "log",
            "checkpoint",
            "log/checkpoint: refused: checkpoint: no signature by a log key of the trust list",
        )],
    );
    let m = d.mirror("m2");
    let tile = m.join("log/tile/0/000.p/32");
    let bytes = std::fs::read(&tile).unwrap();
    std::fs::write(&tile, &bytes[..bytes.len() - 7]).unwrap();
    names(
        &d.audit(&m, &["--json"]),
        &[
            (
                "log",
                "tile_mismatch",
                "log/tile/0/000.p/32: differs from the hashes of the entries",
            ),
            ("manifest", "altered", "altered: log/tile/0/000.p/32"),
        ],
    );
}

#[test]
fn a_certification_missing_from_the_log_is_named() {
    let d = Demo::new();
    // Signed while the log was moved away: `sign` warns and appends nothing.
    std::fs::rename(d.reg.join("log"), d.reg.join("log.away")).unwrap();
    std::fs::write(d.reg.join("records/0031.md"), RecordText::new(31).text()).unwrap();
    d.in_reg(&["sign", "records/0031.md"])
        .ok()
        .stderr_has(&["no transparency log"]);
    std::fs::rename(d.reg.join("log.away"), d.reg.join("log")).unwrap();
    d.publish();
    let out = d.audit(&d.out, &["--json"]);
    names(
        &out,
        &[("completeness", "not_in_log", "records/31.sig: certification 31 is on the site but its signed claim is in no entry of the log")],
    );
    assert_eq!(findings(&out).len(), 1, "{:#?}", findings(&out));
}

#[test]
fn a_log_claim_missing_from_the_site_is_named_unless_revoked() {
    let d = Demo::new();
    for serial in [31u64, 32] {
        let name = format!("records/00{serial}.md");
        std::fs::write(d.reg.join(&name), RecordText::new(serial).text()).unwrap();
        d.in_reg(&["sign", &name]).ok();
    }
    d.in_reg(&["revoke", "32", "--reason", "withdrawn"]).ok();
    for f in ["0031.md", "0031.sig", "0032.md", "0032.sig"] {
        std::fs::remove_file(d.reg.join("records").join(f)).unwrap();
    }
    d.publish();
    let out = d.audit(&d.out, &["--json"]);
    names(
        &out,
        &[("completeness", "not_on_site", "certification 31 (log entry 32) is in the log but not on the site (no records/31.sig) and not revoked")],
    );
    // Serial 32 is revoked: its absence is not a problem.
    assert_eq!(findings(&out).len(), 1, "{:#?}", findings(&out));
    assert_eq!(out.json()["completeness"]["revoked_not_on_site"], 1);
}

#[test]
fn a_re_signed_record_supersedes_its_earlier_claim() {
    let d = Demo::new();
    let old_sig = std::fs::read(d.out.join("records/7.sig")).unwrap();
    let old_md = std::fs::read(d.out.join("records/7.md")).unwrap();
    let record = d.reg.join("records/0007.md");
    let text = std::fs::read_to_string(&record).unwrap();
    std::fs::write(&record, format!("{text}\nRetested.\n")).unwrap();
    d.in_reg(&["sign", "--force", "records/0007.md"]).ok();
    d.publish();
    let out = d.audit(&d.out, &["--json"]);
    let v = out.ok().json();
    assert_eq!(v["completeness"]["superseded_claims"], 1);
    assert_eq!(v["log"]["claims"], 31);
    // A host serving the earlier record and claim (both in the log) is named.
    let m = d.mirror("m");
    std::fs::write(m.join("records/7.sig"), old_sig).unwrap();
    std::fs::write(m.join("records/7.md"), old_md).unwrap();
    names(
        &d.audit(&m, &["--json"]),
        &[("completeness", "superseded_on_site", "records/7.sig: serves the claim of log entry 6, which log entry 32 (a later signature of serial 7) superseded")],
    );
}

#[test]
fn the_state_file_is_written_only_when_everything_held() {
    let d = Demo::new();
    let state = d.path("state.json");
    let m = d.mirror("m");
    std::fs::write(m.join("extra.txt"), "x").unwrap();
    d.audit(&m, &["--state", s(&state)]).code(1);
    assert!(!state.exists(), "a failed first audit writes no state");
    d.audit(&d.out, &["--state", s(&state)]).ok();
    let seen = std::fs::read(&state).unwrap();
    d.audit(&m, &["--state", s(&state)]).code(1);
    assert_eq!(std::fs::read(&state).unwrap(), seen);
    // The state of another registry's audit is refused, as is a file that is not a state.
    let other = "0".repeat(63) + "1";
    let out = d.run(&["audit", s(&d.out), "--root", &other, "--state", s(&state)]);
    out.code(2);
    std::fs::write(d.path("bad.json"), "{}").unwrap();
    d.audit(&d.out, &["--state", s(&d.path("bad.json"))])
        .code(2)
        .stderr_has(&["bad.json: not an audit state file"]);
}

#[test]
fn usage_and_input_errors_exit_2() {
    let d = Demo::new();
    d.run(&["audit", s(&d.path("nowhere"))]).code(2);
    d.run(&["audit", s(&d.out), "--root", "abc"])
        .code(2)
        .stderr_has(&["--root \"abc\" is not 64 hex digits"]);
    d.run(&["audit", s(&d.path("nowhere")), "--root", &d.root])
        .code(2)
        .stderr_has(&["not a directory"]);
    // A witness cosigns only with a state to check consistency against.
    d.audit(&d.out, &["--cosign", "k.key"]).code(2);
}

/// The Go program: opens the cosigned checkpoint with sumdb/note under the log's key (which
/// must ignore the cosignature), then checks the witness's cosignature from the C2SP text with
/// crypto/ed25519: key id SHA-256(name ‖ 0x0A ‖ 0x04 ‖ key)[:4], message "cosignature/v1\ntime
/// T\n" ‖ checkpoint text, signature bytes key id ‖ u64 big-endian T ‖ Ed25519 signature.
const GO_COSIGNATURE: &str = r#"package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func main() {
	msg, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("%v", err)
	}
	logKey, witness := os.Args[2], os.Args[3]
	v, err := note.NewVerifier(logKey)
	if err != nil {
		fail("NewVerifier: %v", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fail("note.Open: %v", err)
	}
	parts := strings.SplitN(witness, "+", 3)
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 0x04 {
		fail("witness key %q", witness)
	}
	pub := ed25519.PublicKey(raw[1:])
	h := sha256.Sum256(append([]byte(parts[0]+"\n\x04"), pub...))
	found := 0
	for _, s := range n.UnverifiedSigs {
		sig, _ := base64.StdEncoding.DecodeString(s.Base64)
		if s.Name != parts[0] || !bytes.Equal(sig[:4], h[:4]) {
			continue
		}
		t := binary.BigEndian.Uint64(sig[4:12])
		m := fmt.Sprintf("cosignature/v1\ntime %d\n%s", t, n.Text)
		if !ed25519.Verify(pub, []byte(m), sig[12:]) {
			fail("the cosignature does not verify")
		}
		found++
	}
	fmt.Printf("ok %d verified, %d cosigned\n", len(n.Sigs), found)
}
"#;

fn go_cosignature(tmp: &Path, checkpoint: &Path, log_vkey: &str, witness_vkey: &str) -> String {
    let prog = tmp.join("gocosig");
    std::fs::create_dir_all(&prog).unwrap();
    std::fs::write(prog.join("main.go"), GO_COSIGNATURE).unwrap();
    let out = Command::new("/usr/bin/go")
        .args(["run", "main.go"])
        .arg(checkpoint)
        .arg(log_vkey)
        .arg(witness_vkey)
        .current_dir(&prog)
        .env("GO111MODULE", "off")
        .env("GOPATH", "/usr/share/gocode")
        .env("GOCACHE", tmp.join("gocache"))
        .env("GOFLAGS", "")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn a_witness_cosigns_the_registry_publishes_it_and_audit_counts_it() {
    let d = Demo::new();
    let state = d.path("witness/state.json");
    std::fs::create_dir_all(d.path("witness")).unwrap();
    d.run(&["keygen", s(&d.path("witness/w"))]).ok();
    let cosigned = d.path("witness/checkpoint.cosigned");
    let out = d.audit(
        &d.out,
        &[
            "--state",
            s(&state),
            "--cosign",
            s(&d.path("witness/w.key")),
            "--witness-name",
            "witness.example.org/w1",
            "--cosignature",
            s(&cosigned),
            "--json",
        ],
    );
    let v = out.ok().json();
    let vkey = v["written"]["witness_vkey"].as_str().unwrap().to_string();
    assert!(vkey.starts_with("witness.example.org/w1+"), "{vkey}");
    let note = std::fs::read_to_string(&cosigned).unwrap();
    assert!(note.starts_with("label.example.cn/log\n32\n"));
    assert_eq!(note.matches("\n\u{2014} ").count(), 2, "{note}");

    // The registry: not yet a known witness, then listed and added.
    d.in_reg(&["witness", "add", s(&cosigned)])
        .code(2)
        .stderr_has(&["no [[witness]] is listed"]);
    let config = d.reg.join("starmark.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("\n[[witness]]\nvkey = \"{vkey}\"\n"));
    std::fs::write(&config, text).unwrap();
    // Only the cosignature line, as a C2SP witness answers.
    let line = note.lines().last().unwrap();
    std::fs::write(d.path("witness/lines.txt"), format!("{line}\n")).unwrap();
    d.in_reg(&["witness", "add", s(&d.path("witness/lines.txt"))])
        .ok()
        .stdout_has(&["added the cosignature of witness.example.org/w1 to the checkpoint of size 32: 1 of 1 known witness cosigned it"]);
    assert_eq!(
        std::fs::read_to_string(d.reg.join("log/checkpoint")).unwrap(),
        note
    );
    // The whole cosigned checkpoint again: the witness's line is replaced, not repeated.
    d.in_reg(&["witness", "add", s(&cosigned)]).ok();
    assert_eq!(
        std::fs::read_to_string(d.reg.join("log/checkpoint")).unwrap(),
        note
    );
    // Go's sumdb/note still opens the checkpoint; the cosignature verifies from the C2SP text.
    let log_vkey = d.in_reg(&["log", "key"]).ok().stdout.trim().to_string();
    let go = go_cosignature(
        d.tmp.path(),
        &d.reg.join("log/checkpoint"),
        &log_vkey,
        &vkey,
    );
    assert_eq!(go.trim(), "ok 1 verified, 1 cosigned");

    d.publish();
    let published: Value =
        serde_json::from_slice(&std::fs::read(d.out.join("api/v1/witnesses.json")).unwrap())
            .unwrap();
    assert_eq!(published["cosigned"], 1);
    assert_eq!(published["known"], 1);
    assert_eq!(published["witnesses"][0]["name"], "witness.example.org/w1");
    d.audit(&d.out, &["--state", s(&state)]).ok().stdout_has(&[
        "witnesses: 1 of 1 known witness cosigned this checkpoint: witness.example.org/w1",
    ]);
    // The verify page shows the count from api/v1/witnesses.json, which its worker precaches.
    let page = std::fs::read_to_string(d.out.join("en/verify/index.html")).unwrap();
    assert!(page.contains(r#"<p id="witnesses" class="witnesses muted" hidden></p>"#));
    assert!(page.contains("is cosigned by {count} of its {known} independent witnesses"));
    let worker = std::fs::read_to_string(d.out.join("verify-sw.js")).unwrap();
    let precache = worker
        .lines()
        .find(|l| l.starts_with("const PRECACHE"))
        .unwrap();
    assert!(precache.contains("\"api/v1/witnesses.json\""), "{precache}");
    // A cosignature of another checkpoint is refused by the registry.
    d.in_reg(&["revoke", "--refresh"]).ok();
    d.in_reg(&["witness", "add", s(&cosigned)])
        .code(2)
        .stderr_has(&["cosigns the checkpoint of size 32, but the log's checkpoint is of size 33"]);
    // After the append, the new checkpoint carries no cosignature until the witness audits it.
    d.publish();
    d.audit(&d.out, &["--state", s(&state)])
        .ok()
        .stdout_has(&["witnesses: 0 of 1 known witness cosigned this checkpoint"]);
    // A witness list that claims a cosignature the checkpoint does not carry is named.
    let m = d.mirror("m");
    let path = m.join("api/v1/witnesses.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("\"cosigned\": false", "\"cosigned\": true"),
    )
    .unwrap();
    names(
        &d.audit(&m, &["--json"]),
        &[(
            "witnesses",
            "mismatch",
            "says witness \"witness.example.org/w1\" cosigned the checkpoint",
        )],
    );
}

#[test]
fn the_rebuild_uses_the_registrys_templates_and_names_every_difference() {
    let d = Demo::new();
    // A registry with its own template.
    let templates = d.reg.join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    let about = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/about.html"),
    )
    .unwrap();
    let own = |mark: &str| about.replacen("</h1>", &format!("</h1>\n<p>{mark}</p>"), 1);
    std::fs::write(templates.join("about.html"), own("own")).unwrap();
    d.publish();
    d.audit(&d.out, &[]).ok();
    // Starmark's own templates do not give this site: the auditor needs the registry's.
    d.audit(&d.out, &["--rebuild"]).code(2).stderr_has(&[
        "the site was built with templates other than starmark",
        "pass --registry DIR",
    ]);
    d.audit(&d.out, &["--rebuild", "--registry", s(&d.reg)])
        .ok()
        .stdout_has(&["0 different"]);
    // Templates that do not give the published pages: each page that differs is named.
    std::fs::write(templates.join("about.html"), own("other")).unwrap();
    let out = d.audit(&d.out, &["--rebuild", "--registry", s(&d.reg), "--json"]);
    names(
        &out,
        &[
            ("rebuild", "differs", "about.html: differs from its rebuild"),
            (
                "rebuild",
                "differs",
                "en/about.html: differs from its rebuild",
            ),
        ],
    );
}

/// `starmark serve` of a registry on 127.0.0.1 under a path prefix; stopped when dropped.
struct Served {
    child: std::process::Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(reg: &Path) -> Served {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_starmark"))
        .args(["serve", "--port", "0", "--prefix", "/registry/", s(reg)])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break format!("http://{}", rest.split_whitespace().next().unwrap());
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Served { child, url }
}

#[test]
fn a_site_served_over_http_is_audited_from_its_url() {
    let d = Demo::new();
    let served = serve(&d.reg);
    assert!(served.url.ends_with("/registry/"), "{}", served.url);
    let state = d.path("state.json");
    let url_audit = |extra: &[&str]| {
        let mut args = vec!["audit", served.url.as_str(), "--root", &d.root];
        args.extend_from_slice(extra);
        d.run(&args)
    };
    let v = url_audit(&["--state", s(&state), "--json"]).ok().json();
    assert_eq!(v["target"], served.url.as_str());
    assert_eq!(v["manifest"]["extra_files_checked"], false);
    assert_eq!(v["manifest"]["checked"], v["manifest"]["files"]);
    assert_eq!(v["certifications"]["signatures_verified"], 30);
    assert_eq!(v["log"]["size"], 32);
    assert_eq!(v["completeness"]["log_on_site"], 30);
    assert!(state.exists());
    url_audit(&["--rebuild"]).ok().stdout_has(&[
        "a URL cannot be listed",
        "0 different",
        "everything held",
    ]);
    // The registry appends (the served site is rebuilt): consistent with the state, over HTTP.
    d.in_reg(&["revoke", "--refresh"]).ok();
    d.publish();
    url_audit(&["--state", s(&state)]).ok().stdout_has(&[
        "state: consistent with the checkpoint seen before",
        "(size 32)",
    ]);
    // Files altered where they are served: a page, a record and a tile.
    let page = d.out.join("cert/2.html");
    let text = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, text.replacen("</h1>", "</h1><p>!</p>", 1)).unwrap();
    crate::common::flip_byte(&d.out.join("records/4.md"), 40);
    let seen = std::fs::read(&state).unwrap();
    let out = url_audit(&["--state", s(&state), "--json"]);
    names(
        &out,
        &[
            ("manifest", "altered", "altered: cert/2.html: "),
            (
                "certifications",
                "digest_mismatch",
                "records/4.md: digest mismatch",
            ),
        ],
    );
    let cut = findings(&out)
        .into_iter()
        .find(|(_, _, m)| m.starts_with("altered: cert/2.html: "))
        .unwrap();
    assert!(
        cut.2.contains("/registry/cert/2.html: larger than") && cut.2.contains("cut off"),
        "{cut:?}"
    );
    assert_eq!(
        std::fs::read(&state).unwrap(),
        seen,
        "state file not updated"
    );
}

#[test]
fn the_rebuild_uses_the_registrys_label_font() {
    let d = Demo::new();
    // A font file of the registry's own (a copy of the built-in one: the tests need no system
    // font).
    let font = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/fonts/StarmarkLabelSansSC.otf");
    std::fs::create_dir_all(d.reg.join("fonts")).unwrap();
    std::fs::copy(font, d.reg.join("fonts/label.otf")).unwrap();
    let config = d.reg.join("starmark.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replacen(
        "\n[keys]",
        "\nlabel_font = \"fonts/label.otf\"\n\n[keys]",
        1,
    );
    std::fs::write(&config, text).unwrap();
    d.publish();
    d.audit(&d.out, &["--rebuild"]).code(2).stderr_has(&[
        "built with the label font fonts/label.otf",
        "pass --registry DIR",
    ]);
    // The registry given by a relative path: its font is found from there.
    let v = run_in(
        d.tmp.path(),
        &[
            "audit",
            s(&d.out),
            "--root",
            &d.root,
            "--rebuild",
            "--registry",
            "demo",
            "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(v["rebuild"]["differences"], 0);
    assert_eq!(v["rebuild"]["config_from"], "demo");
}

/// A static server of `root` on 127.0.0.1 that answers `endless` with a body without end (a
/// 1 GB response, and more) and `elsewhere` with a redirect to another host.
fn faulty_origin(root: PathBuf, endless: &'static str, elsewhere: &'static str) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let root = root.clone();
            std::thread::spawn(move || -> std::io::Result<()> {
                let mut reader = BufReader::new(stream.try_clone()?);
                let mut request = String::new();
                reader.read_line(&mut request)?;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line)? == 0 || line == "\r\n" {
                        break;
                    }
                }
                let path = request
                    .split(' ')
                    .nth(1)
                    .unwrap_or("/")
                    .trim_start_matches('/');
                if path == endless {
                    stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")?;
                    let chunk = vec![b'x'; 64 * 1024];
                    loop {
                        stream.write_all(&chunk)?;
                    }
                }
                if path == elsewhere {
                    return stream.write_all(
                        b"HTTP/1.1 302 Found\r\nLocation: http://localhost:9/x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                }
                match std::fs::read(root.join(path)) {
                    Ok(body) => {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        stream.write_all(head.as_bytes())?;
                        stream.write_all(&body)
                    }
                    Err(_) => stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    ),
                }
            });
        }
    });
    format!("http://127.0.0.1:{port}/")
}

#[test]
fn an_endless_response_and_a_redirect_elsewhere_are_named() {
    let d = Demo::new();
    let url = faulty_origin(d.out.clone(), "labels/3.png", "about.html");
    let out = d.run(&["audit", &url, "--root", &d.root, "--json"]);
    names(
        &out,
        &[
            ("manifest", "altered", "altered: labels/3.png: "),
            ("manifest", "altered", "altered: about.html: "),
        ],
    );
    let found = findings(&out);
    let message = |p: &str| {
        found
            .iter()
            .find(|(_, _, m)| m.starts_with(&format!("altered: {p}: ")))
            .map(|f| f.2.clone())
            .unwrap()
    };
    assert!(message("labels/3.png").contains("cut off"), "{found:#?}");
    assert!(
        message("about.html").contains("another origin"),
        "{found:#?}"
    );
    assert_eq!(found.len(), 2, "{found:#?}");
}
