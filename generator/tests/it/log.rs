//! The transparency log: made by `init`, appended by `sign`, `revoke` and `trust`, published by
//! `build`, checked by `log verify`, made for older registries by `log backfill`; read by Go's
//! reference implementation (golang.org/x/mod/sumdb/note and sumdb/tlog); appends killed at
//! every step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use starmark_core::log::{
    consistency_proof, inclusion_proof, leaf_hash, verify_consistency, verify_inclusion, BundleId,
    Checkpoint, Entry, LogFiles, Note, TileHashes, TileId,
};

use crate::common::{run_in, s, RecordText, Reg};

/// A log directory, read as the core reads a log.
struct Dir(PathBuf);

impl LogFiles for Dir {
    type Error = starmark_core::error::LogError;
    fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(std::fs::read(self.0.join(path)).ok())
    }
}

/// The checkpoint of the log in `dir` (not verified: `log verify` does that).
fn checkpoint(dir: &Path) -> Checkpoint {
    let text = std::fs::read_to_string(dir.join("checkpoint")).unwrap();
    Checkpoint::parse(&Note::parse(&text).unwrap().text).unwrap()
}

/// Every entry of the log in `dir`, in order.
fn entries(dir: &Path) -> Vec<Vec<u8>> {
    let size = checkpoint(dir).size;
    let mut out = Vec::new();
    for b in BundleId::all(size) {
        let data = std::fs::read(dir.join(b.path())).unwrap();
        out.extend(b.decode(&data).unwrap().into_iter().map(<[u8]>::to_vec));
    }
    out
}

/// Every file under `root` (relative path -> bytes).
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// The paths a log of `size` entries consists of: its checkpoint, tiles and bundles.
fn paths_of(size: u64) -> Vec<String> {
    let mut paths: Vec<String> = TileId::all(size)
        .map(|t| t.path())
        .chain(BundleId::all(size).map(|b| b.path()))
        .collect();
    paths.push("checkpoint".into());
    paths.sort();
    paths
}

/// A record with its own model (so each signs to another claim).
fn record(serial: u64) -> String {
    let mut r = RecordText::new(serial);
    r.model = format!("XL-{serial}");
    r.text()
}

const GO_PROGRAM: &str = r#"// Checks a starmark log with Go's reference implementations of C2SP signed-note and tlog-tiles.
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type tiles struct{ dir string }

func (r *tiles) Height() int { return 8 }

// ReadTiles maps Go's sumdb paths (tile/8/L/N[.p/W]) to C2SP's (tile/L/N[.p/W]).
func (r *tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, t := range ts {
		p := "tile/" + strings.TrimPrefix(t.Path(), "tile/8/")
		data, err := os.ReadFile(filepath.Join(r.dir, filepath.FromSlash(p)))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (r *tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func main() {
	dir, vkey := os.Args[1], os.Args[2]
	msg, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		fail("%v", err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		fail("note.NewVerifier: %v", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		fail("checkpoint: %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("tree size: %v", err)
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("root: %v", err)
	}
	hr := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, &tiles{dir})
	th, err := tlog.TreeHash(size, hr)
	if err != nil {
		fail("TreeHash: %v", err)
	}
	if th != root {
		fail("TreeHash %v, checkpoint %v", th, root)
	}
	var index int64
	for start := int64(0); start < size; start += 256 {
		w := size - start
		if w > 256 {
			w = 256
		}
		t := tlog.Tile{H: 8, L: -1, N: start / 256, W: int(w)}
		p := "tile/entries/" + strings.TrimPrefix(t.Path(), "tile/8/data/")
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			fail("%v", err)
		}
		for k := int64(0); k < w; k++ {
			if len(data) < 2 || len(data) < 2+int(binary.BigEndian.Uint16(data)) {
				fail("%s: truncated", p)
			}
			l := int(binary.BigEndian.Uint16(data))
			entry := data[2 : 2+l]
			data = data[2+l:]
			proof, err := tlog.ProveRecord(size, index, hr)
			if err != nil {
				fail("ProveRecord %d: %v", index, err)
			}
			if err := tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(entry)); err != nil {
				fail("CheckRecord %d: %v", index, err)
			}
			index++
		}
		if len(data) != 0 {
			fail("%s: %d bytes after its entries", p, len(data))
		}
	}
	for old := int64(1); old < size; old = old*2 + 1 {
		oh, err := tlog.TreeHash(old, hr)
		if err != nil {
			fail("TreeHash %d: %v", old, err)
		}
		proof, err := tlog.ProveTree(size, old, hr)
		if err != nil {
			fail("ProveTree %d: %v", old, err)
		}
		if err := tlog.CheckTree(proof, size, root, old, oh); err != nil {
			fail("CheckTree %d: %v", old, err)
		}
	}
	fmt.Printf("ok %s %d\n", n.Sigs[0].Name, index)
}
"#;

/// Runs the Go program on the log in `dir` with the verifier key `vkey`: (exit success, stdout
/// and stderr).
fn go_check(tmp: &Path, dir: &Path, vkey: &str) -> (bool, String) {
    assert!(
        Path::new("/usr/bin/go").exists()
            && Path::new("/usr/share/gocode/src/golang.org/x/mod/sumdb/tlog").is_dir(),
        "the Go interoperability test needs Go and golang.org/x/mod (Debian packages golang-go \
         and golang-golang-x-mod-dev; .ci/run installs them)"
    );
    let prog = tmp.join("gocheck");
    std::fs::create_dir_all(&prog).unwrap();
    std::fs::write(prog.join("main.go"), GO_PROGRAM).unwrap();
    let out = Command::new("/usr/bin/go")
        .args(["run", "main.go"])
        .arg(dir)
        .arg(vkey)
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
    (out.status.success(), text)
}

#[test]
fn go_opens_the_checkpoint_and_checks_every_entry_of_the_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reg");
    // 700 claims: full tiles and bundles, a partial tile at levels 0 and 1.
    run_in(
        tmp.path(),
        &["demo", "--synthetic", "700", "--out", s(&dir)],
    )
    .ok();
    // Appended by revoke, trust and sign.
    run_in(&dir, &["revoke", "--refresh"]).ok();
    run_in(tmp.path(), &["keygen", s(&tmp.path().join("issuer-2"))]).ok();
    let public = tmp.path().join("issuer-2.pub");
    run_in(&dir, &["trust", "add", s(&public), "--name", "Second"]).ok();
    std::fs::write(dir.join("records/1.md"), record(1)).unwrap();
    run_in(&dir, &["sign", "records/1.md"]).ok();
    let log = dir.join("log");
    assert_eq!(checkpoint(&log).size, 2 + 700 + 1 + 1 + 1 + 1);
    let vkey = run_in(&dir, &["log", "key"]).ok().stdout.trim().to_string();
    assert!(vkey.starts_with("label.example.cn/log+"), "{vkey}");
    let (ok, text) = go_check(tmp.path(), &log, &vkey);
    assert!(ok, "{text}");
    assert_eq!(text.trim(), "ok label.example.cn/log 706");

    // The Go program does check: a forged tree size, a wrong key and a changed entry fail.
    let bad = tmp.path().join("bad");
    let copy = |to: &Path| {
        for (rel, bytes) in tree(&log) {
            let p = to.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
    };
    copy(&bad);
    let cp = std::fs::read_to_string(bad.join("checkpoint")).unwrap();
    std::fs::write(bad.join("checkpoint"), cp.replacen("\n706\n", "\n705\n", 1)).unwrap();
    let (ok, text) = go_check(tmp.path(), &bad, &vkey);
    assert!(!ok && text.contains("note.Open"), "{text}");
    let other_key = vkey.replacen("label.example.cn/log", "other.example/log", 1);
    let (ok, _) = go_check(tmp.path(), &log, &other_key);
    assert!(!ok);
    let bad2 = tmp.path().join("bad2");
    copy(&bad2);
    let bundle = bad2.join("tile/entries/001");
    let mut bytes = std::fs::read(&bundle).unwrap();
    bytes[20] ^= 1;
    std::fs::write(&bundle, bytes).unwrap();
    let (ok, text) = go_check(tmp.path(), &bad2, &vkey);
    assert!(!ok && text.contains("CheckRecord 256"), "{text}");
}

#[test]
fn the_published_log_is_the_registrys_and_go_checks_it() {
    let reg = Reg::new();
    for serial in [1, 2, 3] {
        reg.signed(&format!("{serial}.md"), &record(serial));
    }
    reg.run(&["revoke", "2", "--reason", "other"]).ok();
    let out = reg.run(&["build", "-q"]);
    out.ok();
    let published = tree(&reg.path("public/log"));
    let log = tree(&reg.path("log"));
    assert_eq!(published, log);
    let paths: Vec<String> = published.keys().cloned().collect();
    assert_eq!(paths, paths_of(6));
    let vkey = reg.run(&["log", "key"]).ok().stdout.trim().to_string();
    let (ok, text) = go_check(reg.tmp(), &reg.path("public/log"), &vkey);
    assert!(ok, "{text}");
    // One more append: the build publishes the new checkpoint and the new partial files, and
    // no file of the previous tree remains.
    reg.signed("4.md", &record(4));
    reg.run(&["build", "-q"]).ok();
    let published = tree(&reg.path("public/log"));
    assert_eq!(published.keys().cloned().collect::<Vec<_>>(), paths_of(7));
    assert_eq!(published, tree(&reg.path("log")));
}

#[test]
fn appending_keeps_earlier_entries_included_and_every_tree_consistent() {
    let reg = Reg::new();
    let log = reg.path("log");
    let mut trees: Vec<Checkpoint> = vec![checkpoint(&log)];
    for serial in 1..=5 {
        reg.signed(&format!("{serial}.md"), &record(serial));
        trees.push(checkpoint(&log));
    }
    // More than one entry at once: a batch of records in one `sign`.
    for serial in 6..=9 {
        reg.write_record(&format!("{serial}.md"), &record(serial));
    }
    reg.run(&[
        "sign",
        "records/6.md",
        "records/7.md",
        "records/8.md",
        "records/9.md",
    ])
    .ok();
    trees.push(checkpoint(&log));
    reg.run(&["revoke", "3", "--reason", "withdrawn"]).ok();
    trees.push(checkpoint(&log));
    let sizes: Vec<u64> = trees.iter().map(|c| c.size).collect();
    assert_eq!(sizes, [2, 3, 4, 5, 6, 7, 11, 12]);
    // Every earlier entry is in the newest tree, and every earlier tree is a prefix of it.
    let all = entries(&log);
    let newest = trees.last().unwrap().clone();
    let mut files = Dir(log.clone());
    let mut hashes = TileHashes::new(&mut files, newest.size);
    for (i, e) in all.iter().enumerate() {
        let proof = inclusion_proof(&mut hashes, i as u64, newest.size).unwrap();
        verify_inclusion(&leaf_hash(e), i as u64, newest.size, &proof, &newest.root).unwrap();
    }
    for old in &trees {
        let proof = consistency_proof(&mut hashes, old.size, newest.size).unwrap();
        verify_consistency(old.size, newest.size, &old.root, &newest.root, &proof).unwrap();
    }
    // The entries, in order: what init signed, then each claim, then the revocation list.
    let kinds: Vec<String> = all
        .iter()
        .map(|e| match Entry::decode(e).unwrap() {
            Entry::Claim(c) => format!("claim {}", c.claim().serial),
            Entry::RevocationList { sequence, .. } => format!("revocation list {sequence}"),
            Entry::TrustList { sequence, .. } => format!("trust list {sequence}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "trust list 1",
            "revocation list 1",
            "claim 1",
            "claim 2",
            "claim 3",
            "claim 4",
            "claim 5",
            "claim 6",
            "claim 7",
            "claim 8",
            "claim 9",
            "revocation list 2"
        ]
    );
    // The log's files are exactly the newest tree's.
    assert_eq!(tree(&log).keys().cloned().collect::<Vec<_>>(), paths_of(12));
    reg.run(&["log", "verify"])
        .ok()
        .stdout_has(&["the log verifies: 12 entries (9 claims, 2 revocation lists, 1 trust list)"]);
}

#[test]
fn a_new_signature_is_logged_once_and_a_forced_re_sign_again() {
    let reg = Reg::new();
    let log = reg.path("log");
    reg.signed("1.md", &record(1));
    assert_eq!(checkpoint(&log).size, 3);
    // Signing the unchanged record again writes the same signature: nothing new to log.
    reg.run(&["sign", "records/1.md"]).ok();
    assert_eq!(checkpoint(&log).size, 3);
    // A changed record, signed with --force: its new claim is logged.
    let mut r = RecordText::new(1);
    r.model = "XL-1".into();
    r.body = "## Test results\n\nRe-tested.\n".into();
    reg.write_record("1.md", &r.text());
    reg.run(&["sign", "records/1.md"]).code(2);
    assert_eq!(checkpoint(&log).size, 3);
    reg.run(&["sign", "--force", "records/1.md"]).ok();
    assert_eq!(checkpoint(&log).size, 4);
    let sig = std::fs::read_to_string(reg.path("records/1.sig")).unwrap();
    let signed = starmark_core::qr::decode_digits(sig.trim()).unwrap();
    let last = entries(&log).pop().unwrap();
    assert_eq!(last[0], 1);
    assert_eq!(&last[1..], &signed[..]);
}

#[test]
fn log_verify_and_build_find_a_tampered_tile_bundle_or_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reg");
    run_in(
        tmp.path(),
        &["demo", "--synthetic", "300", "--out", s(&dir)],
    )
    .ok();
    run_in(&dir, &["log", "verify"]).ok().stdout_has(&[
        "the log verifies: 303 entries (300 claims, 2 revocation lists, 1 trust list)",
    ]);
    let log = dir.join("log");
    let damage = |rel: &str, index: usize| {
        let p = log.join(rel);
        let original = std::fs::read(&p).unwrap();
        let mut bytes = original.clone();
        bytes[index] ^= 1;
        std::fs::write(&p, bytes).unwrap();
        original
    };
    let restore = |rel: &str, bytes: &[u8]| std::fs::write(log.join(rel), bytes).unwrap();
    // A tile: named.
    let tile = damage("tile/0/000", 100);
    let out = run_in(&dir, &["log", "verify"]);
    out.code(1).stdout_has(&[
        "log/tile/0/000: differs from the hashes of the entries",
        "the log does NOT verify: 1 problem",
    ]);
    run_in(&dir, &["build", "-q"]).code(2).stderr_has(&[
        "the transparency log does not verify",
        "tile/0/000: differs",
    ]);
    assert!(!dir.join("public").exists(), "nothing is published");
    restore("tile/0/000", &tile);
    // An entry in a bundle: the tiles above it and the root differ.
    let bundle = damage("tile/entries/001.p/47", 30);
    run_in(&dir, &["log", "check"]).code(1).stdout_has(&[
        "log/tile/0/001.p/47: differs from the hashes of the entries",
        "log/checkpoint: the entries give the root ",
    ]);
    restore("tile/entries/001.p/47", &bundle);
    // A missing file.
    std::fs::rename(log.join("tile/1/000.p/1"), tmp.path().join("aside")).unwrap();
    run_in(&dir, &["log", "verify"])
        .code(1)
        .stdout_has(&["log/tile/1/000.p/1: missing"]);
    std::fs::rename(tmp.path().join("aside"), log.join("tile/1/000.p/1")).unwrap();
    // A checkpoint whose size was changed: its signature no longer verifies.
    let cp = std::fs::read_to_string(log.join("checkpoint")).unwrap();
    std::fs::write(log.join("checkpoint"), cp.replacen("\n303\n", "\n302\n", 1)).unwrap();
    run_in(&dir, &["log", "verify"]).code(2).stderr_has(&[
        "log/checkpoint: checkpoint refused",
        "the signature of log key",
    ]);
    run_in(&dir, &["revoke", "--refresh"])
        .code(2)
        .stderr_has(&["log/checkpoint: checkpoint refused"]);
    std::fs::write(log.join("checkpoint"), &cp).unwrap();
    // A damaged right edge stops an append before anything is written.
    let before = tree(&dir.join("log"));
    let rev = std::fs::read(dir.join("revocation-list.bin")).unwrap();
    let _edge = damage("tile/0/001.p/47", 5);
    run_in(&dir, &["revoke", "--refresh"]).code(2).stderr_has(&[
        "cannot append",
        "tile/0/001.p/47: does not match the checkpoint",
    ]);
    let mut after = tree(&dir.join("log"));
    after.insert("tile/0/001.p/47".into(), before["tile/0/001.p/47"].clone());
    assert_eq!(after, before);
    assert_eq!(std::fs::read(dir.join("revocation-list.bin")).unwrap(), rev);
}

#[test]
fn backfill_makes_the_log_of_an_older_registry_and_is_refused_when_there_is_one() {
    let reg = Reg::new();
    // Signed out of serial order.
    for serial in [3, 1, 2] {
        reg.signed(&format!("{serial}.md"), &record(serial));
    }
    reg.run(&["log", "backfill"]).code(2).stderr_has(&[
        "the registry has a log already; backfill only makes the log of a registry that has none",
    ]);
    // A registry from before the log: no log/, no log key, no log_secret.
    std::fs::remove_dir_all(reg.path("log")).unwrap();
    let config = std::fs::read_to_string(reg.path("starmark.toml")).unwrap();
    let old_config = config.replace("log_secret = \"keys/log.key\"\n", "");
    assert_ne!(config, old_config);
    std::fs::write(reg.path("starmark.toml"), &old_config).unwrap();
    // It still signs and builds, saying how to make the log.
    reg.signed("4.md", &record(4));
    let out = reg.run(&["build", "-q"]);
    out.ok().stderr_has(&[
        "no transparency log; make it with `starmark log backfill`",
        "the site is built without log/",
    ]);
    assert!(!reg.path("public/log").exists());
    reg.run(&["log", "backfill"])
        .code(2)
        .stderr_has(&["[keys] log_secret is not set"]);
    // The documented steps: a log key in the trust list, log_secret, backfill.
    let key = reg.tmp().join("log-2");
    reg.run_in_tmp(&["keygen", s(&key)]).ok();
    let public = reg.tmp().join("log-2.pub");
    reg.run(&[
        "trust",
        "add",
        s(&public),
        "--purpose",
        "log",
        "--name",
        "Log",
    ])
    .ok()
    .stderr_has(&["no transparency log"]);
    let with_key = old_config.replace(
        "[keys]\n",
        &format!(
            "[keys]\nlog_secret = \"{}\"\n",
            s(&reg.tmp().join("log-2.key"))
        ),
    );
    std::fs::write(reg.path("starmark.toml"), with_key).unwrap();
    reg.run(&["log", "backfill"]).ok().stdout_has(&[
        "6 entries (4 claims in serial order, then trust list #2 and revocation list #1)",
    ]);
    let kinds: Vec<u8> = entries(&reg.path("log")).iter().map(|e| e[0]).collect();
    assert_eq!(kinds, [1, 1, 1, 1, 3, 2]);
    let serials: Vec<u64> = entries(&reg.path("log"))[..4]
        .iter()
        .map(|e| match Entry::decode(e).unwrap() {
            Entry::Claim(c) => c.claim().serial,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(serials, [1, 2, 3, 4]);
    reg.run(&["log", "verify"]).ok();
    reg.run(&["build", "-q"]).ok();
    assert_eq!(tree(&reg.path("public/log")), tree(&reg.path("log")));
    // From now on, commands append.
    reg.signed("5.md", &record(5));
    assert_eq!(checkpoint(&reg.path("log")).size, 7);
    // A backfill that cannot log a record writes nothing.
    std::fs::remove_dir_all(reg.path("log")).unwrap();
    std::fs::write(reg.path("records/2.md"), record(2) + "changed\n").unwrap();
    reg.run(&["log", "backfill"])
        .code(2)
        .stderr_has(&["cannot be logged; nothing was written", "digest mismatch"]);
    assert!(!reg.path("log").exists());
}

#[test]
fn log_keys_sign_checkpoints_only_and_the_configured_one_cannot_be_lost() {
    let reg = Reg::new();
    let list = reg.trust_list();
    let log_keys = list["log_keys"].as_array().unwrap();
    assert_eq!(log_keys.len(), 1);
    let log_id = log_keys[0]["key_id"].as_str().unwrap().to_string();
    // The log key is no issuer: a claim it signs is refused.
    let config = std::fs::read_to_string(reg.path("starmark.toml")).unwrap();
    std::fs::write(
        reg.path("starmark.toml"),
        config.replace("keys/issuer-1.key", "keys/log.key"),
    )
    .unwrap();
    reg.write_record("1.md", &record(1));
    reg.run(&["sign", "records/1.md"])
        .code(2)
        .stderr_has(&[&format!("the issuer key {log_id} is not in the trust list")]);
    std::fs::write(reg.path("starmark.toml"), &config).unwrap();
    // The configured log key cannot be marked compromised while it signs the log: the trust
    // list is left as it was.
    let before = std::fs::read(reg.path("trust-list.bin")).unwrap();
    reg.run(&["trust", "compromised", &log_id])
        .code(2)
        .stderr_has(&[&format!("the log key {log_id} is marked compromised")]);
    assert_eq!(std::fs::read(reg.path("trust-list.bin")).unwrap(), before);
    // With a second log key configured first, it can.
    let key = reg.tmp().join("log-2");
    reg.run_in_tmp(&["keygen", s(&key)]).ok();
    reg.run(&[
        "trust",
        "add",
        s(&reg.tmp().join("log-2.pub")),
        "--purpose",
        "log",
        "--name",
        "Log 2",
    ])
    .ok()
    .stdout_has(&[
        "added log key",
        "transparency log: 1 entry appended, 3 in all",
    ]);
    std::fs::write(
        reg.path("starmark.toml"),
        config.replace("keys/log.key", s(&reg.tmp().join("log-2.key"))),
    )
    .unwrap();
    reg.run(&["trust", "compromised", &log_id])
        .ok()
        .stdout_has(&[&format!("marked log key {log_id} compromised")]);
    reg.run(&["log", "verify"]).ok().stdout_has(&["4 entries"]);
    let vkeys = reg.run(&["log", "key"]).ok().stdout.clone();
    assert_eq!(vkeys.lines().count(), 1, "only the good log key: {vkeys}");
    reg.run(&["trust", "list"])
        .ok()
        .stdout_has(&[&format!("{log_id}  log     ")]);
}

/// System calls by which an append changes files.
const CHANGING: [&str; 8] = [
    "write", "fsync", "rename", "renameat", "unlink", "unlinkat", "mkdir", "rmdir",
];

/// Runs `starmark ARGS` in `dir` under strace, killed at the `n`-th call of `syscall`; returns
/// whether it got through (exit 0) instead.
fn killed_at(dir: &Path, args: &[&str], syscall: &str, n: usize) -> bool {
    let status = Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e"])
        .arg(format!("trace={syscall}"))
        .arg("-e")
        .arg(format!("inject={syscall}:signal=KILL:when={n}"))
        .arg(env!("CARGO_BIN_EXE_starmark"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("these tests need strace (Debian package strace)");
    if status.success() {
        return true;
    }
    use std::os::unix::process::ExitStatusExt;
    assert!(
        status.signal() == Some(9) || status.code() == Some(137),
        "{syscall} #{n}: failed without being killed: {status:?}"
    );
    false
}

#[test]
fn an_append_killed_at_any_step_leaves_the_previous_checkpoint_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let pristine = tmp.path().join("pristine");
    // 2 + 252 + 1 = 255 entries: the next append completes the first tile and bundle, adds a
    // tile at level 1 and removes the partial files of the previous tree.
    run_in(
        tmp.path(),
        &["demo", "--synthetic", "252", "--out", s(&pristine)],
    )
    .ok();
    assert_eq!(checkpoint(&pristine.join("log")).size, 255);
    let old_list = std::fs::read(pristine.join("revocation-list.bin")).unwrap();
    let copy = |to: &Path| {
        let _ = std::fs::remove_dir_all(to);
        for (rel, bytes) in tree(&pristine) {
            let p = to.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, bytes).unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        for k in ["keys/issuer-1.key", "keys/log.key", "keys/root.key"] {
            std::fs::set_permissions(to.join(k), std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    };
    let reg = tmp.path().join("reg");
    let mut kills = 0;
    for syscall in CHANGING {
        for n in 1.. {
            copy(&reg);
            let through = killed_at(&reg, &["revoke", "--refresh"], syscall, n);
            // The log is whole: the previous tree or the new one.
            let out = run_in(&reg, &["log", "verify"]);
            out.ok();
            let size = checkpoint(&reg.join("log")).size;
            assert!(size == 255 || size == 256, "{syscall} #{n}: size {size}");
            // Never a list published that the log misses.
            let list = std::fs::read(reg.join("revocation-list.bin")).unwrap();
            assert!(
                list == old_list || size == 256,
                "{syscall} #{n}: a new revocation list outside the log"
            );
            // The next run completes, and leaves exactly the files of its tree.
            run_in(&reg, &["revoke", "--refresh"]).ok();
            run_in(&reg, &["log", "verify"]).ok();
            let size = checkpoint(&reg.join("log")).size;
            let files: Vec<String> = tree(&reg.join("log")).keys().cloned().collect();
            assert_eq!(files, paths_of(size), "{syscall} #{n}: leftovers");
            if through {
                eprintln!("{syscall}: {} kills", n - 1);
                break;
            }
            kills += 1;
        }
    }
    assert!(kills >= 20, "only {kills} kills");
}

#[test]
fn a_partial_tile_made_full_leaves_no_directory_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reg");
    // 250 claims with init's two entries and the revocation list: 253 entries, tile 0 partial.
    run_in(
        tmp.path(),
        &["demo", "--synthetic", "250", "--out", s(&dir)],
    )
    .ok();
    run_in(&dir, &["build", "--quiet"]).ok();
    let tiles = dir.join("public/log/tile");
    assert!(tiles.join("0/000.p/253").is_file());
    // Three more entries fill tile 0 (256): its partial tile and directory go, in every build.
    for serial in 1..=3 {
        std::fs::write(dir.join(format!("records/{serial}.md")), record(serial)).unwrap();
        run_in(&dir, &["sign", &format!("records/{serial}.md")]).ok();
        run_in(&dir, &["build", "--quiet"]).ok();
    }
    assert!(tiles.join("0/000").is_file());
    for level in ["0", "entries"] {
        assert!(
            !tiles.join(level).join("000.p").exists(),
            "log/tile/{level}/000.p left behind"
        );
    }
    let root = std::fs::read_to_string(dir.join("keys/root.pub")).unwrap();
    let root: String = root
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<String>()
        .split_whitespace()
        .collect();
    run_in(&dir, &["manifest", "sign", "--quiet"]).ok();
    run_in(
        tmp.path(),
        &["audit", s(&dir.join("public")), "--root", &root],
    )
    .ok();
}
