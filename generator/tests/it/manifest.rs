//! The site manifest end to end: what `starmark build` publishes under `manifest/`, signing
//! (`starmark manifest sign`, `build --sign-manifest`, `REGISTRY/manifest.sig`), the tie to the
//! log checkpoint, and `starmark manifest verify` naming every kind of problem.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use starmark_core::manifest::{
    self, node_of_path, node_path, FileMeta, FnSource, Hash, Root, RootSignature,
};
use starmark_core::SecretKey;

use crate::common::{run_in, s, Out, RecordText, Reg};
use crate::site::{copy_tree, demo_copy};

/// The manifest of the site in `out`, every listing checked: path -> (size, SHA-256).
fn manifest_of(out: &Path) -> BTreeMap<String, FileMeta> {
    let root = Root::decode(&std::fs::read(out.join("manifest/root.bin")).unwrap()).unwrap();
    let mut src = FnSource(|h: &Hash| std::fs::read(out.join(node_path(h))));
    manifest::files(&root, &mut src)
        .unwrap()
        .files
        .into_iter()
        .map(|f| (f.path, f.meta))
        .collect()
}

/// Every file under `dir` (relative path -> bytes).
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The listing files of a site (`manifest/ab/….bin`) with their sizes.
fn listings(out: &Path) -> BTreeMap<String, usize> {
    tree(out)
        .into_iter()
        .filter(|(p, _)| node_of_path(p).is_some())
        .map(|(p, b)| (p, b.len()))
        .collect()
}

fn verify(out: &Path, extra: &[&str]) -> Out {
    let mut args = vec!["manifest", "verify", s(out)];
    args.extend_from_slice(extra);
    run_in(out.parent().unwrap(), &args)
}

/// A registry of `n` signed records, built once (so its spare generation exists too).
fn registry(n: u64) -> Reg {
    let reg = Reg::new();
    for serial in 1..=n {
        let mut r = RecordText::new(serial);
        r.model = format!("XL-{serial:05}");
        reg.signed(&format!("{serial}.md"), &r.text());
    }
    reg.run(&["build", "--quiet"]).ok();
    reg
}

/// Changes record `serial`'s body and signs it again.
fn change(reg: &Reg, serial: u64, body: &str) {
    let mut r = RecordText::new(serial);
    r.model = format!("XL-{serial:05}");
    r.body = format!("## Test results\n\n{body}\n");
    reg.write_record(&format!("{serial}.md"), &r.text());
    reg.run(&["sign", "--force", &format!("records/{serial}.md")])
        .ok();
}

#[test]
fn the_demo_site_has_a_manifest_of_every_file() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = demo_copy(tmp.path());
    let out = tmp.path().join("public");
    let o = run_in(tmp.path(), &["build", "--out", s(&out), s(&reg)]);
    // The demo ships the signature of its build (site/manifest.sig).
    o.ok().stdout_has(&["signed by issuer key 1aa98888"]);
    let listed = manifest_of(&out);
    let on_disk: BTreeMap<String, FileMeta> = tree(&out)
        .into_iter()
        .filter(|(p, _)| !p.starts_with("manifest/"))
        .map(|(p, b)| (p, FileMeta::of(&b)))
        .collect();
    assert!(on_disk.len() > 300, "{} files", on_disk.len());
    assert_eq!(listed, on_disk);
    // manifest/ holds the root and exactly the listings of the tree.
    let root = Root::decode(&std::fs::read(out.join("manifest/root.bin")).unwrap()).unwrap();
    let mut src = FnSource(|h: &Hash| std::fs::read(out.join(node_path(h))));
    let nodes: BTreeSet<String> = manifest::files(&root, &mut src)
        .unwrap()
        .nodes
        .iter()
        .map(node_path)
        .collect();
    let in_dir: BTreeSet<String> = tree(&out)
        .into_keys()
        .filter(|p| {
            p.starts_with("manifest/") && p != "manifest/root.bin" && p != "manifest/root.sig"
        })
        .collect();
    assert_eq!(in_dir, nodes);
    let checkpoint = std::fs::read(out.join("log/checkpoint")).unwrap();
    assert_eq!(
        root.checkpoint,
        Some(FileMeta::of(&checkpoint).sha256),
        "the demo's log checkpoint is tied to the root"
    );
    verify(&out, &["--registry", s(&reg)])
        .ok()
        .stdout_has(&["0 problems"]);
    // Unsigned is a problem unless allowed.
    std::fs::remove_file(out.join("manifest/root.sig")).unwrap();
    verify(&out, &["--registry", s(&reg), "--allow-unsigned"])
        .ok()
        .stdout_has(&["0 problems"]);
    verify(&out, &["--registry", s(&reg)])
        .code(1)
        .stdout_has(&["unsigned manifest: manifest/root.sig is missing"]);
}

#[test]
fn manifest_sign_then_rebuilds_keep_the_signature_until_the_site_changes() {
    let reg = registry(3);
    let out = reg.path("public");
    assert!(!out.join("manifest/root.sig").exists());
    let signed = reg.run(&["manifest", "sign", "."]);
    signed.ok().stdout_has(&["signed by issuer key"]);
    let sig = std::fs::read(out.join("manifest/root.sig")).unwrap();
    assert_eq!(std::fs::read(reg.path("manifest.sig")).unwrap(), sig);
    verify(&out, &[]).ok().stdout_has(&["signed by issuer key"]);
    // Rebuilds of the same site, incremental and full, publish the same signature.
    for args in [&["build"][..], &["build", "--full"]] {
        reg.run(args).ok().stdout_has(&["signed by issuer key"]);
        assert_eq!(std::fs::read(out.join("manifest/root.sig")).unwrap(), sig);
    }
    let key_id = reg.issuer_key_id();
    let root = std::fs::read(out.join("manifest/root.bin")).unwrap();
    let decoded = RootSignature::decode(&sig).unwrap();
    assert_eq!(decoded.key_id.to_string(), key_id);
    // A change: the registry's signature is of an earlier root, so the new one is unsigned.
    change(&reg, 2, "Retested.");
    reg.run(&["build"]).ok().stdout_has(&[
        "published unsigned: manifest.sig signs an earlier build",
        "starmark manifest sign",
    ]);
    assert!(!out.join("manifest/root.sig").exists());
    assert_ne!(std::fs::read(out.join("manifest/root.bin")).unwrap(), root);
    verify(&out, &[]).code(1).stdout_has(&["unsigned manifest"]);
    // `build --sign-manifest` signs in the same step.
    reg.run(&["build", "--sign-manifest"])
        .ok()
        .stdout_has(&[&format!("signed by issuer key {key_id}")]);
    verify(&out, &[]).ok();
    // A signature the registry holds that is damaged, or by a key the trust list lacks: the
    // build publishes the manifest unsigned and says why.
    std::fs::write(reg.path("manifest.sig"), b"damaged").unwrap();
    reg.run(&["build"])
        .ok()
        .stdout_has(&["published unsigned: manifest.sig refused (damaged"]);
    let root = std::fs::read(out.join("manifest/root.bin")).unwrap();
    let stranger = SecretKey::from_seed(&[0x5a; 32]);
    std::fs::write(
        reg.path("manifest.sig"),
        RootSignature::sign(&root, &stranger).encode(),
    )
    .unwrap();
    reg.run(&["build"]).ok().stdout_has(&[
        "published unsigned: manifest.sig refused",
        "which is not in the trust list",
    ]);
    assert!(!out.join("manifest/root.sig").exists());
    // Signing needs an issuer key of the trust list.
    reg.run(&["keygen", "keys/other"]).ok();
    let config = std::fs::read_to_string(reg.path("starmark.toml")).unwrap();
    let moved = config.replace("keys/issuer-1.key", "keys/other.key");
    assert_ne!(moved, config);
    std::fs::write(reg.path("starmark.toml"), moved).unwrap();
    reg.run(&["manifest", "sign", "."])
        .code(2)
        .stderr_has(&["is not in the trust list"]);
    reg.run(&["build", "--sign-manifest"])
        .code(2)
        .stderr_has(&["is not in the trust list"]);
}

#[test]
fn verify_names_every_kind_of_problem() {
    let reg = registry(3);
    reg.run(&["manifest", "sign", ".", "--quiet"]).ok();
    let good = reg.path("public");
    verify(&good, &[]).ok().stdout_has(&["0 problems"]);
    let case = |name: &str, spoil: &dyn Fn(&Path), code: i32, needles: &[&str]| {
        let dir = reg.tmp().join(name);
        copy_tree(&good, &dir, &|_| true);
        spoil(&dir);
        verify(&dir, &["--registry", s(&reg.dir)])
            .code(code)
            .stdout_has(needles);
    };
    case(
        "altered",
        &|d| {
            let p = d.join("cert/2.html");
            let mut b = std::fs::read(&p).unwrap();
            b[100] ^= 1;
            std::fs::write(&p, b).unwrap();
        },
        1,
        &["altered: cert/2.html: SHA-256", "1 problem"],
    );
    case(
        "longer",
        &|d| {
            let p = d.join("records/1.md");
            let mut b = std::fs::read(&p).unwrap();
            b.push(b'\n');
            std::fs::write(&p, b).unwrap();
        },
        1,
        &["altered: records/1.md: ", "bytes, the manifest says"],
    );
    case(
        "missing",
        &|d| std::fs::remove_file(d.join("en/cert/3.html")).unwrap(),
        1,
        &["missing: en/cert/3.html"],
    );
    case(
        "extra",
        &|d| {
            std::fs::create_dir_all(d.join("cert/sub")).unwrap();
            std::fs::write(d.join("cert/sub/4.html"), "x").unwrap();
            std::fs::write(d.join("manifest/stray.bin"), "x").unwrap();
        },
        1,
        &[
            "extra: cert/sub/4.html (not in the manifest)",
            "extra: manifest/stray.bin",
            "2 problems",
        ],
    );
    let a_listing = |d: &Path| -> PathBuf {
        let name = listings(d).into_keys().next().unwrap();
        d.join(name)
    };
    case(
        "tampered-listing",
        &|d| {
            let p = a_listing(d);
            let mut b = std::fs::read(&p).unwrap();
            let last = b.len() - 1;
            b[last] ^= 1;
            std::fs::write(&p, b).unwrap();
        },
        1,
        &["bad listing: manifest/", "its bytes hash to"],
    );
    case(
        "missing-listing",
        &|d| std::fs::remove_file(a_listing(d)).unwrap(),
        1,
        &["bad listing: manifest/", "cannot fetch"],
    );
    case(
        "bad-signature",
        &|d| {
            let p = d.join("manifest/root.sig");
            let mut b = std::fs::read(&p).unwrap();
            b[10] ^= 1;
            std::fs::write(&p, b).unwrap();
        },
        1,
        &["signature refused", "does not verify under key"],
    );
    case(
        "unknown-key",
        &|d| {
            let root = std::fs::read(d.join("manifest/root.bin")).unwrap();
            let stranger = SecretKey::from_seed(&[0x5a; 32]);
            let sig = RootSignature::sign(&root, &stranger).encode();
            std::fs::write(d.join("manifest/root.sig"), sig).unwrap();
        },
        1,
        &["signature refused", "which is not in the trust list"],
    );
    case(
        "damaged-signature",
        &|d| std::fs::write(d.join("manifest/root.sig"), b"short").unwrap(),
        1,
        &["signature refused", "damaged"],
    );
    case(
        "no-manifest",
        &|d| std::fs::remove_file(d.join("manifest/root.bin")).unwrap(),
        1,
        &["no manifest: manifest/root.bin is missing"],
    );
    case(
        "other-root",
        &|d| {
            // A root of another (valid, signed) tree: every file is then missing or extra.
            let root = Root {
                tree: [7; 32],
                checkpoint: None,
            };
            std::fs::write(d.join("manifest/root.bin"), root.encode()).unwrap();
        },
        1,
        &["signature refused", "bad listing", "cannot fetch"],
    );
    case(
        "json",
        &|d| std::fs::remove_file(d.join("index.html")).unwrap(),
        1,
        &["missing: index.html"],
    );
    let dir = reg.tmp().join("json");
    let o = verify(&dir, &["--registry", s(&reg.dir), "--json"]);
    o.code(1);
    let v = o.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"][0]["kind"], "missing");
    assert_eq!(v["problems"][0]["path"], "index.html");
    assert_eq!(v["signed_by"], reg.issuer_key_id());
    // No root key: a usage error.
    let lone = reg.tmp().join("lone");
    copy_tree(&good, &lone, &|_| true);
    verify(&lone, &[])
        .code(2)
        .stderr_has(&["no root key: pass --root HEX"]);
    // --root with the pinned key works from anywhere.
    let root_pub = std::fs::read_to_string(reg.path("keys/root.pub")).unwrap();
    let hex = root_pub
        .lines()
        .find(|l| !l.starts_with('#'))
        .unwrap()
        .trim()
        .to_string();
    verify(&lone, &["--root", &hex]).ok();
    verify(&lone, &["--root", &"ab".repeat(32)]).code(2);
    // Under another root key the site's trust list is refused, so the signature cannot verify.
    let other = SecretKey::from_seed(&[9; 32]).public_key().to_bytes();
    verify(&lone, &["--root", &starmark_core::to_hex(&other)])
        .code(1)
        .stdout_has(&["trust list refused", "does not verify under the root key"]);
}

#[test]
fn an_incremental_rebuild_gives_the_manifest_of_a_full_build() {
    let reg = registry(4);
    reg.run(&["build", "--quiet"]).ok();
    change(&reg, 3, "Retested once.");
    reg.run(&["build", "--quiet"]).ok();
    std::fs::remove_file(reg.path("records/4.md")).unwrap();
    std::fs::remove_file(reg.path("records/4.sig")).unwrap();
    reg.run(&["build", "--quiet"]).ok();
    let incremental = reg.path("public");
    let full = reg.tmp().join("full");
    reg.run_in_tmp(&["build", "--quiet", "--out", s(&full), s(&reg.dir)])
        .ok();
    assert_eq!(tree(&incremental), tree(&full));
    assert!(!manifest_of(&incremental).contains_key("cert/4.html"));
    // And the spare generation's manifest is its own, whole and right.
    let spare = reg.path(".public.spare");
    let on_disk: BTreeMap<String, FileMeta> = tree(&spare)
        .into_iter()
        .filter(|(p, _)| !p.starts_with("manifest/"))
        .map(|(p, b)| (p, FileMeta::of(&b)))
        .collect();
    assert_eq!(manifest_of(&spare), on_disk);
}

#[test]
fn a_one_record_change_rewrites_a_few_small_listings() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = tmp.path().join("syn");
    run_in(
        tmp.path(),
        &["demo", "--synthetic", "300", "--out", s(&reg)],
    )
    .ok();
    let out = reg.join("public");
    for _ in 0..2 {
        // Twice, so that the spare generation exists and is brought up to date, not refilled.
        run_in(tmp.path(), &["build", "--quiet", s(&reg)]).ok();
    }
    let before = listings(&out);
    let root_before = std::fs::read(out.join("manifest/root.bin")).unwrap();
    let record = reg.join("records/000/20260150.md");
    let text = std::fs::read_to_string(&record).unwrap();
    std::fs::write(&record, text.replace("- 数据加密", "- 数据加密（复测）")).unwrap();
    run_in(tmp.path(), &["sign", "--force", "-r", s(&reg), s(&record)]).ok();
    let o = run_in(tmp.path(), &["build", s(&reg)]);
    o.ok();
    let after = listings(&out);
    let new: Vec<(&String, &usize)> = after
        .iter()
        .filter(|(p, _)| !before.contains_key(*p))
        .collect();
    let gone = before.keys().filter(|p| !after.contains_key(*p)).count();
    let bytes: usize = new.iter().map(|(_, n)| **n).sum();
    // 300 certifications: cert/, en/cert/, records/, labels/ and api/v1/certificates/ are
    // buckets; the change touches one or two of their listings each, plus the small
    // directories above and the pages that list the certification.
    assert!(before.len() > 60, "{} listings", before.len());
    assert!(
        (5..=30).contains(&new.len()),
        "{} listings written: {new:?}",
        new.len()
    );
    assert_eq!(gone, new.len(), "each new listing replaces one");
    assert!(bytes < 40_000, "{bytes} bytes of new listings");
    // What a mirror one record behind learns from the diff: exactly the files that changed.
    let old_root = Root::decode(&root_before).unwrap();
    let new_root = Root::decode(&std::fs::read(out.join("manifest/root.bin")).unwrap()).unwrap();
    let spare = reg.join(".public.spare");
    let mut src = FnSource(|h: &Hash| {
        std::fs::read(out.join(node_path(h))).or_else(|_| std::fs::read(spare.join(node_path(h))))
    });
    let d = manifest::diff(&old_root, &new_root, &mut src).unwrap();
    let changed: BTreeSet<&str> = d.changed.iter().map(|c| c.path.as_str()).collect();
    for p in [
        "cert/20260150.html",
        "en/cert/20260150.html",
        "records/20260150.md",
        "records/20260150.sig",
        "labels/20260150.svg",
        "labels/20260150.png",
    ] {
        assert!(changed.contains(p), "{p} not in the diff: {changed:?}");
    }
    // Only the log gains and drops files: the signing appended one entry (new partial tiles).
    for f in d.added.iter().chain(&d.removed) {
        assert!(f.path.starts_with("log/"), "{} added or removed", f.path);
    }
    assert!(changed.contains("log/checkpoint"));
    assert_eq!(d.new_nodes.len(), new.len());
}

#[test]
fn builds_publish_the_log_checkpoint_and_tie_the_root_to_it() {
    let reg = registry(2);
    let out = reg.path("public");
    // `init` made the log: the site publishes its checkpoint as it is and the root names it.
    let checkpoint = std::fs::read(reg.path("log/checkpoint")).unwrap();
    assert_eq!(
        std::fs::read(out.join("log/checkpoint")).unwrap(),
        checkpoint
    );
    let tied = Root::decode(&std::fs::read(out.join("manifest/root.bin")).unwrap()).unwrap();
    assert_eq!(tied.checkpoint, Some(FileMeta::of(&checkpoint).sha256));
    assert_eq!(
        manifest_of(&out)["log/checkpoint"],
        FileMeta::of(&checkpoint)
    );
    verify(&out, &["--allow-unsigned"])
        .ok()
        .stdout_has(&[&format!(
            "log checkpoint {}",
            starmark_core::to_hex(&FileMeta::of(&checkpoint).sha256)
        )]);
    // A checkpoint altered in the site is named.
    let spoiled = reg.tmp().join("spoiled");
    copy_tree(&out, &spoiled, &|_| true);
    std::fs::write(spoiled.join("log/checkpoint"), "another log\n").unwrap();
    verify(&spoiled, &["--registry", s(&reg.dir), "--allow-unsigned"])
        .code(1)
        .stdout_has(&["altered: log/checkpoint"]);
    // The registry's log gone: so is the published checkpoint, and the root names none.
    std::fs::remove_dir_all(reg.path("log")).unwrap();
    reg.run(&["build", "--quiet"]).ok();
    assert!(!out.join("log/checkpoint").exists());
    let root = Root::decode(&std::fs::read(out.join("manifest/root.bin")).unwrap()).unwrap();
    assert_eq!(root.checkpoint, None);
    assert!(manifest_of(&out).keys().all(|p| !p.starts_with("log/")));
}

#[test]
fn the_manifest_is_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = demo_copy(tmp.path());
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_in(tmp.path(), &["build", "--quiet", "--out", s(&a), s(&reg)]).ok();
    run_in(
        tmp.path(),
        &["build", "--quiet", "--full", "--out", s(&b), s(&reg)],
    )
    .ok();
    let manifest_files = |d: &Path| -> BTreeMap<String, Vec<u8>> {
        tree(d)
            .into_iter()
            .filter(|(p, _)| p.starts_with("manifest/"))
            .collect()
    };
    assert!(manifest_files(&a).len() > 5);
    assert_eq!(manifest_files(&a), manifest_files(&b));
}

#[test]
fn damaged_listings_of_either_generation_are_made_again() {
    let reg = registry(3);
    change(
        &reg,
        3,
        "Retested, so that the next build has a spare generation to bring up to date.",
    );
    reg.run(&["build", "--quiet"]).ok();
    let out = reg.path("public");
    let spare = reg.path(".public.spare");
    let full = reg.tmp().join("full");
    // The spare's top listing (the base of the next build, on the way to any change) is
    // damaged: the build says so and makes the manifest again from the spare's files.
    let base = Root::decode(&std::fs::read(spare.join("manifest/root.bin")).unwrap()).unwrap();
    std::fs::write(spare.join(node_path(&base.tree)), b"damaged").unwrap();
    change(&reg, 1, "Retested after a damaged listing.");
    reg.run(&["build"])
        .ok()
        .stderr_has(&["warning", "is made again from every file"]);
    reg.run_in_tmp(&["build", "--quiet", "--out", s(&full), s(&reg.dir)])
        .ok();
    assert_eq!(tree(&out), tree(&full));
    // A listing of the published generation (where linked files' hashes come from) is gone:
    // the linked files are hashed instead, and the manifest is still right.
    for (p, _) in listings(&out) {
        std::fs::remove_file(out.join(p)).unwrap();
    }
    change(&reg, 2, "Retested after lost listings.");
    reg.run(&["build", "--quiet"]).ok();
    std::fs::remove_dir_all(&full).unwrap();
    reg.run_in_tmp(&["build", "--quiet", "--out", s(&full), s(&reg.dir)])
        .ok();
    assert_eq!(tree(&out), tree(&full));
    verify(&out, &["--allow-unsigned"]).ok();
}
