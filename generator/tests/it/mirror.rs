//! `starmark mirror` end to end: origins served on 127.0.0.1 (`starmark serve`, or a small
//! server here that misbehaves on request), a first mirror, an update that fetches only what
//! changed, every fault named with the previous mirror byte for byte as it was, and kills at
//! random points.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use starmark_core::log::{note, Note};
use starmark_core::manifest::{self, FileMeta, Root, RootSignature};
use starmark_core::{RevocationList, SecretKey};

use crate::common::{run_in, s, Out};

/// Every file under `dir` with its bytes.
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

/// `cp -a` (hard links within the copy kept).
fn copy(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .args(["-a", s(from), s(to)])
        .status()
        .unwrap();
    assert!(st.success());
}

fn key_file(path: &Path) -> SecretKey {
    let text = std::fs::read_to_string(path).unwrap();
    let line = text.lines().find(|l| !l.starts_with('#')).unwrap();
    SecretKey::from_seed(&starmark_core::from_hex::<32>(line.trim()).unwrap())
}

fn public_hex(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .find(|l| !l.starts_with('#'))
        .unwrap()
        .trim()
        .to_string()
}

/// A synthetic registry of `n` certifications, its site built and signed (state A), then one
/// record changed and signed again (state B).
struct Fixture {
    base: PathBuf,
    root: String,
    /// The registry at state A (for forks).
    reg_a: PathBuf,
    site_a: PathBuf,
    site_b: PathBuf,
    /// The certification changed from A to B.
    changed: u64,
}

impl Fixture {
    fn make(n: u64, name: &str) -> Fixture {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        // What earlier test runs left.
        for e in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with(&format!("mirror-{name}-"))
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let base = tmp.join(format!("mirror-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&base).unwrap();
        let reg = base.join("reg");
        run_in(
            &base,
            &["demo", "--synthetic", &n.to_string(), "--out", s(&reg)],
        )
        .ok();
        run_in(&base, &["manifest", "sign", "--quiet", s(&reg)]).ok();
        let (reg_a, site_a, site_b) =
            (base.join("reg-a"), base.join("site-a"), base.join("site-b"));
        copy(&reg, &reg_a);
        copy(&reg.join("public"), &site_a);
        let changed = 20260000 + n / 2;
        change(&reg, changed, "（复测）");
        run_in(&base, &["manifest", "sign", "--quiet", s(&reg)]).ok();
        copy(&reg.join("public"), &site_b);
        Fixture {
            root: public_hex(&reg.join("keys/root.pub")),
            base,
            reg_a,
            site_a,
            site_b,
            changed,
        }
    }

    fn issuer(&self) -> SecretKey {
        key_file(&self.reg_a.join("keys/issuer-1.key"))
    }

    /// A new directory for one test.
    fn scratch(&self, name: &str) -> PathBuf {
        let d = self.base.join(format!("{name}-{}", rand_u64()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}

/// Changes the record of `serial` in the registry `reg` and signs it again.
fn change(reg: &Path, serial: u64, mark: &str) {
    let record = reg.join(format!(
        "records/{:03}/{serial}.md",
        (serial - 20260000) / 1000
    ));
    let text = std::fs::read_to_string(&record).unwrap();
    let changed = text.replacen("- 数据加密", &format!("- 数据加密{mark}"), 1);
    assert_ne!(changed, text, "{}", record.display());
    std::fs::write(&record, changed).unwrap();
    run_in(reg, &["sign", "--force", "-r", s(reg), s(&record)]).ok();
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture::make(40, "small"))
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish()
}

/// `starmark mirror SOURCE DIR --root HEX --json`, with short timeouts.
fn mirror(source: &str, dir: &Path, root: &str) -> Out {
    mirror_env(source, dir, root, &[])
}

fn mirror_env(source: &str, dir: &Path, root: &str, env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_starmark"));
    cmd.args(["mirror", source, s(dir), "--root", root, "--json"])
        .env("STARMARK_HTTP_TIMEOUT", "2");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Out {
        what: format!("starmark mirror {source} {}", dir.display()),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The problems of a report, as lines.
fn problems(report: &Value) -> Vec<String> {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"].as_str().unwrap().to_string())
        .collect()
}

#[track_caller]
fn assert_named(out: &Out, needles: &[&str]) -> Value {
    out.code(1);
    let report = out.json();
    assert_eq!(report["status"], "refused");
    let all = problems(&report).join("\n");
    for n in needles {
        assert!(all.contains(n), "no problem names {n:?}:\n{all}");
    }
    report
}

// ---------------------------------------------------------------------------------------------
// A static server for the tests, which misbehaves on the paths it is told to.

/// How the test server answers one path.
#[derive(Clone, Debug)]
enum Fault {
    /// 200 without a length, then bytes for as long as the client reads (a 1 GB response).
    Endless,
    /// Reads the request and says nothing.
    Silent,
    /// Announces the file's length, sends half of it, closes.
    Dropped,
    /// A redirect to this location.
    Redirect(String),
}

struct Origin {
    url: String,
    port: u16,
}

/// Serves `root` under `/base/` on 127.0.0.1, with `faults` by site path.
fn origin(root: &Path, faults: HashMap<String, Fault>) -> Origin {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (root, faults) = (Arc::new(root.to_path_buf()), Arc::new(faults));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (root, faults) = (root.clone(), faults.clone());
            std::thread::spawn(move || {
                let _ = answer(stream, &root, &faults);
            });
        }
    });
    Origin {
        url: format!("http://127.0.0.1:{port}/base/"),
        port,
    }
}

fn percent_decode(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            if let Ok(v) = u8::from_str_radix(&p[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn answer(
    mut stream: TcpStream,
    root: &Path,
    faults: &HashMap<String, Fault>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
    }
    let target = line.split(' ').nth(1).unwrap_or("/");
    let Some(path) = target.strip_prefix("/base/").map(percent_decode) else {
        return stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    };
    let file = root.join(&path);
    let body = std::fs::read(&file).ok().filter(|_| !path.contains(".."));
    match (faults.get(&path), body) {
        (Some(Fault::Endless), _) => {
            stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")?;
            let chunk = vec![b'x'; 64 * 1024];
            // Up to 1 GB, for as long as the client reads.
            for _ in 0..(1 << 30) / chunk.len() {
                stream.write_all(&chunk)?;
            }
            Ok(())
        }
        (Some(Fault::Silent), _) => {
            std::thread::sleep(Duration::from_secs(30));
            Ok(())
        }
        (Some(Fault::Dropped), Some(body)) => {
            stream.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            )?;
            stream.write_all(&body[..body.len() / 2])
        }
        (Some(Fault::Redirect(to)), _) => stream.write_all(
            format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        ),
        (_, Some(body)) => {
            stream.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            )?;
            stream.write_all(&body)
        }
        (_, None) => stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    }
}

/// The body of a 200 answer to a GET of `url` (`http://HOST:PORT/PATH`), `None` otherwise.
fn http_get(url: &str) -> Option<Vec<u8>> {
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/')?;
    let mut stream = TcpStream::connect(host).ok()?;
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut all = Vec::new();
    stream.read_to_end(&mut all).ok()?;
    let end = all.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&all[..end]).to_string();
    head.starts_with("HTTP/1.1 200")
        .then(|| all[end + 4..].to_vec())
}

/// Makes the manifest of the site in `dir` again from its files and signs it with `issuer`:
/// what a registry that published `dir` would serve.
fn resign_manifest(dir: &Path, issuer: &SecretKey) {
    let _ = std::fs::remove_dir_all(dir.join("manifest"));
    let files: Vec<(String, FileMeta)> = tree(dir)
        .into_iter()
        .map(|(p, b)| (p, FileMeta::of(&b)))
        .collect();
    let checkpoint = files
        .iter()
        .find(|(p, _)| p == "log/checkpoint")
        .map(|(_, m)| m.sha256);
    let built = manifest::build(files).unwrap();
    for (h, bytes) in &built.nodes {
        let p = dir.join(manifest::node_path(h));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let root = Root {
        tree: built.tree,
        checkpoint,
    }
    .encode();
    std::fs::write(dir.join("manifest/root.bin"), &root).unwrap();
    std::fs::write(
        dir.join("manifest/root.sig"),
        RootSignature::sign(&root, issuer).encode(),
    )
    .unwrap();
}

/// A mirror of state A made from its directory, and its bytes.
fn mirror_of_a(f: &Fixture, work: &Path) -> (PathBuf, BTreeMap<String, Vec<u8>>) {
    let dir = work.join("mirror");
    mirror(s(&f.site_a), &dir, &f.root).ok();
    let before = tree(&dir);
    assert_eq!(before, tree(&f.site_a));
    (dir, before)
}

/// The paths of files that differ from site A to site B (not the manifest's own).
fn changed_a_to_b(f: &Fixture) -> Vec<String> {
    let (a, b) = (tree(&f.site_a), tree(&f.site_b));
    b.iter()
        .filter(|(p, bytes)| !p.starts_with("manifest/") && a.get(*p) != Some(bytes))
        .map(|(p, _)| p.clone())
        .collect()
}

/// One fault: the mirror of A, the origin serving B spoiled by `spoil` (and these faults), a
/// refused update naming `needles`, and the mirror byte for byte as it was.
fn refused(
    name: &str,
    faults: &dyn Fn(&Fixture, &Origin) -> HashMap<String, Fault>,
    spoil: &dyn Fn(&Fixture, &Path),
    env: &[(&str, &str)],
    needles: &[&str],
) -> Value {
    let f = fixture();
    let work = f.scratch(name);
    let (dir, before) = mirror_of_a(f, &work);
    let site = work.join("origin");
    copy(&f.site_b, &site);
    spoil(f, &site);
    // The server's port is needed by some faults: start it, then set its faults.
    let probe = origin(&site, HashMap::new());
    let faulty = faults(f, &probe);
    let served = if faulty.is_empty() {
        probe
    } else {
        origin(&site, faulty)
    };
    let t = Instant::now();
    let report = assert_named(&mirror_env(&served.url, &dir, &f.root, env), needles);
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    assert_eq!(tree(&dir), before, "{name}: the mirror changed");
    report
}

fn none(_: &Fixture, _: &Origin) -> HashMap<String, Fault> {
    HashMap::new()
}

fn keep(_: &Fixture, _: &Path) {}

// ---------------------------------------------------------------------------------------------

#[test]
fn a_mirror_from_starmark_serve_fetches_only_what_changed() {
    let f = fixture();
    let work = f.scratch("serve");
    let reg = work.join("reg");
    copy(&f.reg_a, &reg);
    let mut child = Command::new(env!("CARGO_BIN_EXE_starmark"))
        .args([
            "serve",
            "--port",
            "0",
            "--prefix",
            "/mirror/registry/",
            s(&reg),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break format!("http://{}", rest.split_whitespace().next().unwrap());
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let dir = work.join("www").join("mirror");
    let out = mirror(&url, &dir, &f.root);
    let first = out.ok().json();
    let site_a = tree(&f.site_a);
    let listed = site_a
        .keys()
        .filter(|p| !p.starts_with("manifest/"))
        .count() as u64;
    assert_eq!(first["status"], "updated");
    assert_eq!(first["files"], listed);
    assert_eq!(first["changed"], listed);
    assert_eq!(first["unchanged"], 0);
    assert_eq!(tree(&dir), tree(&reg.join("public")));
    // One record changed at the origin: the update fetches its files, the new log files, the
    // new listings, the root, its signature and the trust list, nothing else.
    change(&reg, f.changed, "（复测）");
    // `serve` rebuilds on its own when it sees the change; signing the manifest waits for it.
    let t = Instant::now();
    loop {
        let o = run_in(&work, &["manifest", "sign", "--quiet", s(&reg)]);
        if o.code == 0 {
            break;
        }
        o.stderr_has(&["in use by another starmark process"]);
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "the registry stayed busy"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let signed_root = std::fs::read(reg.join("public/manifest/root.bin")).unwrap();
    while http_get(&format!("{url}manifest/root.bin")).as_deref() != Some(&signed_root[..])
        || http_get(&format!("{url}manifest/root.sig")).is_none()
    {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "serve did not publish the change"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let after = tree(&reg.join("public"));
    let changed: Vec<&String> = after
        .iter()
        .filter(|(p, b)| !p.starts_with("manifest/") && site_a.get(*p) != Some(b))
        .map(|(p, _)| p)
        .collect();
    let removed = site_a
        .keys()
        .filter(|p| !p.starts_with("manifest/") && !after.contains_key(*p))
        .count();
    let new_listings: Vec<&String> = after
        .keys()
        .filter(|p| {
            p.starts_with("manifest/")
                && p.ends_with(".bin")
                && *p != "manifest/root.bin"
                && !site_a.contains_key(*p)
        })
        .collect();
    let bytes: usize = changed.iter().map(|p| after[*p].len()).sum::<usize>()
        + new_listings.iter().map(|p| after[*p].len()).sum::<usize>()
        + after["manifest/root.bin"].len()
        + after["manifest/root.sig"].len()
        + after["api/v1/trust-list.bin"].len();
    let out = mirror(&url, &dir, &f.root);
    let update = out.ok().json();
    assert_eq!(update["status"], "updated");
    assert_eq!(update["changed"], changed.len() as u64, "{changed:?}");
    assert_eq!(update["removed"], removed as u64);
    // The changed files, and the trust list (always fetched, to check the signature).
    assert_eq!(update["files_fetched"], changed.len() as u64 + 1);
    assert_eq!(update["listings_fetched"], new_listings.len() as u64);
    assert_eq!(update["bytes_fetched"], bytes as u64);
    let after_listed = after.keys().filter(|p| !p.starts_with("manifest/")).count();
    assert_eq!(update["files"], after_listed as u64);
    assert_eq!(update["unchanged"], (after_listed - changed.len()) as u64);
    assert_eq!(
        update["checkpoint"]["new"].as_u64().unwrap(),
        first["checkpoint"]["new"].as_u64().unwrap() + 1
    );
    assert_eq!(tree(&dir), after);
    // Nothing new: only the root and its signature are fetched.
    let again = mirror(&url, &dir, &f.root).ok().json();
    assert_eq!(again["status"], "up_to_date");
    assert_eq!(again["files"], after_listed as u64);
    assert_eq!(
        again["bytes_fetched"],
        (after["manifest/root.bin"].len() + after["manifest/root.sig"].len()) as u64
    );
    // The mirror is the site: `serve` could serve it, `manifest verify` checks it.
    run_in(&work, &["manifest", "verify", s(&dir), "--root", &f.root])
        .ok()
        .stdout_has(&["0 problems"]);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn an_update_from_a_directory_keeps_the_spare_in_step() {
    let f = fixture();
    let work = f.scratch("dir");
    let (dir, _) = mirror_of_a(f, &work);
    let out = mirror(s(&f.site_b), &dir, &f.root);
    let r = out.ok().json();
    assert_eq!(r["changed"], changed_a_to_b(f).len() as u64);
    assert_eq!(tree(&dir), tree(&f.site_b));
    // The spare holds the previous generation, sharing the unchanged files with the mirror.
    let spare = work.join(".mirror.spare");
    assert_eq!(tree(&spare), tree(&f.site_a));
    use std::os::unix::fs::MetadataExt;
    let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
    assert_eq!(ino(&dir.join("index.html")), ino(&spare.join("index.html")));
    // Back to A (a shrunk log: refused), and forward again to B from a fresh origin copy.
    mirror(s(&f.site_a), &dir, &f.root).code(1);
    assert_eq!(tree(&dir), tree(&f.site_b));
}

#[test]
fn a_mirror_refuses_an_altered_page_record_or_signature_file() {
    let f = fixture();
    let c = f.changed;
    for (what, path) in [
        ("page", format!("cert/{c}.html")),
        ("record", format!("records/{c}.md")),
        ("sig", format!("records/{c}.sig")),
    ] {
        let p2 = path.clone();
        refused(
            &format!("altered-{what}"),
            &none,
            &move |_, site| {
                let file = site.join(&p2);
                let mut b = std::fs::read(&file).unwrap();
                b[10] ^= 1;
                std::fs::write(&file, b).unwrap();
            },
            &[],
            &[&format!("altered: {path}: SHA-256 ")],
        );
    }
}

#[test]
fn a_mirror_checks_claims_under_a_signed_manifest() {
    let f = fixture();
    let c = f.changed;
    // The registry itself publishes a record that its claim does not name, and a claim for
    // another serial: the manifest is signed, the certifications are refused.
    refused(
        "bad-claims",
        &none,
        &|f, site| {
            let rec = site.join(format!("records/{c}.md"));
            let mut text = std::fs::read_to_string(&rec).unwrap();
            text.push('\n');
            std::fs::write(&rec, text).unwrap();
            resign_manifest(site, &f.issuer());
        },
        &[],
        &[
            &format!("certification: records/{c}.md: SHA-256 "),
            "the signed claim names",
        ],
    );
    refused(
        "swapped-claim",
        &none,
        &|f, site| {
            std::fs::copy(
                site.join("records/20260001.sig"),
                site.join(format!("records/{c}.sig")),
            )
            .unwrap();
            resign_manifest(site, &f.issuer());
        },
        &[],
        &[&format!(
            "certification: records/{c}.sig: a claim for serial 20260001, not {c}"
        )],
    );
}

#[test]
fn a_mirror_refuses_a_deleted_certification() {
    let f = fixture();
    let gone = 20260003u64;
    let delete = move |site: &Path| {
        for p in [
            format!("cert/{gone}.html"),
            format!("en/cert/{gone}.html"),
            format!("records/{gone}.md"),
            format!("records/{gone}.sig"),
            format!("labels/{gone}.svg"),
            format!("labels/{gone}.png"),
            format!("api/v1/certificates/{gone}.json"),
        ] {
            std::fs::remove_file(site.join(p)).unwrap();
        }
    };
    // Deleted behind the manifest's back: a first mirror misses its files.
    let work = f.scratch("deleted-first");
    let site = work.join("origin");
    copy(&f.site_b, &site);
    delete(&site);
    let served = origin(&site, HashMap::new());
    let report = assert_named(
        &mirror(&served.url, &work.join("mirror"), &f.root),
        &[
            &format!("missing: records/{gone}.sig"),
            "not found (HTTP 404)",
        ],
    );
    assert_eq!(report["status"], "refused");
    assert!(!work.join("mirror").exists());
    // Deleted and left out of a signed manifest: an update refuses it, it is not revoked.
    refused(
        "deleted-signed",
        &none,
        &move |f, site| {
            delete(site);
            resign_manifest(site, &f.issuer());
        },
        &[],
        &[
            &format!("deleted certification {gone}"),
            "does not revoke it",
        ],
    );
}

#[test]
fn an_extra_file_is_named_in_a_directory_and_never_copied_from_a_server() {
    let f = fixture();
    let work = f.scratch("extra");
    let (dir, before) = mirror_of_a(f, &work);
    let site = work.join("origin");
    copy(&f.site_b, &site);
    std::fs::write(site.join("cert/extra.html"), "<p>not in the manifest</p>").unwrap();
    assert_named(
        &mirror(s(&site), &dir, &f.root),
        &["extra: cert/extra.html"],
    );
    assert_eq!(tree(&dir), before);
    // Over HTTP nothing lists it: the mirror takes the manifest's files only.
    let served = origin(&site, HashMap::new());
    mirror(&served.url, &dir, &f.root).ok();
    assert!(!dir.join("cert/extra.html").exists());
    assert_eq!(tree(&dir), tree(&f.site_b));
}

#[test]
fn a_mirror_refuses_an_older_revocation_list() {
    refused(
        "old-revocations",
        &none,
        &|f, site| {
            let path = site.join("api/v1/revocation-list.bin");
            let list = RevocationList::decode_unverified(&std::fs::read(&path).unwrap()).unwrap();
            assert!(list.sequence > 1);
            let older = RevocationList {
                sequence: list.sequence - 1,
                ..list
            };
            std::fs::write(&path, older.sign(&f.issuer()).unwrap()).unwrap();
            resign_manifest(site, &f.issuer());
        },
        &[],
        &[
            "revocation list: api/v1/revocation-list.bin: sequence",
            "older than the mirror's",
            "a rollback",
        ],
    );
}

#[test]
fn a_mirror_refuses_a_forked_or_shrunk_log() {
    let f = fixture();
    // The mirror holds B (A and one entry).
    let work = f.scratch("fork");
    let dir = work.join("mirror");
    mirror(s(&f.site_b), &dir, &f.root).ok();
    let before = tree(&dir);
    // The origin drops that entry, signs two others and re-signs its log and manifest.
    let reg = work.join("reg");
    copy(&f.reg_a, &reg);
    change(&reg, 20260007, "（分叉）");
    change(&reg, 20260008, "（分叉）");
    run_in(&work, &["manifest", "sign", "--quiet", s(&reg)]).ok();
    let served = origin(&reg.join("public"), HashMap::new());
    assert_named(
        &mirror(&served.url, &dir, &f.root),
        &[
            "log: the checkpoint of",
            "does not extend the mirror's",
            "a fork",
        ],
    );
    assert_eq!(tree(&dir), before);
    // The origin goes back to A: a shrunk log.
    let served = origin(&f.site_a, HashMap::new());
    assert_named(
        &mirror(&served.url, &dir, &f.root),
        &["log: the log shrank from", "refused (a rollback or a fork)"],
    );
    assert_eq!(tree(&dir), before);
}

#[test]
fn a_mirror_refuses_a_checkpoint_signed_by_an_unknown_key() {
    refused(
        "unknown-log-key",
        &none,
        &|f, site| {
            let path = site.join("log/checkpoint");
            let note = Note::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let origin_name = note.text.lines().next().unwrap().to_string();
            let stranger = SecretKey::from_seed(&[0x77; 32]);
            std::fs::write(
                &path,
                note::sign(&note.text, &origin_name, &stranger).unwrap(),
            )
            .unwrap();
            resign_manifest(site, &f.issuer());
        },
        &[],
        &[
            "log: log/checkpoint: refused",
            "no signature by a log key of the trust list",
        ],
    );
}

#[test]
fn a_mirror_refuses_a_truncated_tile() {
    let f = fixture();
    let (a, b) = (tree(&f.site_a), tree(&f.site_b));
    let tile = b
        .keys()
        .find(|p| p.starts_with("log/tile/0/") && !a.contains_key(*p))
        .unwrap()
        .clone();
    let t2 = tile.clone();
    refused(
        "truncated-tile",
        &none,
        &move |_, site| {
            let p = site.join(&t2);
            let bytes = std::fs::read(&p).unwrap();
            std::fs::write(&p, &bytes[..bytes.len() - 7]).unwrap();
        },
        &[],
        &[&format!("altered: {tile}: ")],
    );
}

#[test]
fn a_mirror_cuts_off_a_1_gb_response() {
    let f = fixture();
    let png = format!("labels/{}.png", f.changed);
    let p2 = png.clone();
    refused(
        "endless",
        &move |_, _| HashMap::from([(p2.clone(), Fault::Endless)]),
        &keep,
        &[],
        &[
            &format!("cannot fetch {png}"),
            "(the size the manifest gives): cut off",
        ],
    );
    // A root that never ends is cut off at the small fixed cap.
    refused(
        "endless-root",
        &|_, _| HashMap::from([("manifest/root.bin".to_string(), Fault::Endless)]),
        &keep,
        &[],
        &["cannot fetch manifest/root.bin", "larger than 256 bytes"],
    );
}

#[test]
fn a_mirror_names_a_slow_or_dropped_connection() {
    let f = fixture();
    let svg = format!("labels/{}.svg", f.changed);
    let s2 = svg.clone();
    refused(
        "slow",
        &move |_, _| HashMap::from([(s2.clone(), Fault::Silent)]),
        &keep,
        &[("STARMARK_HTTP_TIMEOUT", "0.3")],
        &[
            &format!("cannot fetch {svg}"),
            "timed out",
            "after 3 attempts",
        ],
    );
    let s3 = svg.clone();
    refused(
        "dropped",
        &move |_, _| HashMap::from([(s3.clone(), Fault::Dropped)]),
        &keep,
        &[],
        &[&format!("cannot fetch {svg}"), "after 3 attempts"],
    );
}

#[test]
fn a_mirror_refuses_a_redirect_to_another_host() {
    let f = fixture();
    let page = format!("cert/{}.html", f.changed);
    let p2 = page.clone();
    refused(
        "redirect",
        &move |_, o| {
            HashMap::from([(
                p2.clone(),
                Fault::Redirect(format!("http://localhost:{}/base/{p2}", o.port)),
            )])
        },
        &keep,
        &[],
        &[
            &format!("cannot fetch {page}"),
            "another origin: refused",
            "http://localhost:",
        ],
    );
}

#[test]
fn a_mirror_needs_the_right_root_key_and_a_signed_manifest() {
    let f = fixture();
    let work = f.scratch("usage");
    let other = SecretKey::from_seed(&[3; 32]).public_key().to_bytes();
    let other = starmark_core::to_hex(&other);
    assert_named(
        &mirror(s(&f.site_a), &work.join("m"), &other),
        &["trust list: api/v1/trust-list.bin: does not verify under the root key"],
    );
    mirror(s(&f.site_a), &work.join("m"), "abc")
        .code(2)
        .stderr_has(&["--root \"abc\" is not 64 hex digits"]);
    // An unsigned manifest is refused.
    let site = work.join("unsigned");
    copy(&f.site_a, &site);
    std::fs::remove_file(site.join("manifest/root.sig")).unwrap();
    assert_named(
        &mirror(s(&site), &work.join("m"), &f.root),
        &["unsigned manifest", "manifest/root.sig is missing"],
    );
    // A directory that is not a mirror is not touched.
    let busy = work.join("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("notes.txt"), "mine").unwrap();
    mirror(s(&f.site_a), &busy, &f.root)
        .code(2)
        .stderr_has(&["not a mirror (no manifest/root.bin)"]);
    assert_eq!(tree(&busy).len(), 1);
}

#[test]
fn a_refused_update_keeps_what_it_verified_for_the_next_run() {
    let f = fixture();
    let work = f.scratch("resume");
    let (dir, before) = mirror_of_a(f, &work);
    let changed = changed_a_to_b(f);
    let svg = format!("labels/{}.svg", f.changed);
    let served = origin(&f.site_b, HashMap::from([(svg.clone(), Fault::Dropped)]));
    assert_named(
        &mirror(&served.url, &dir, &f.root),
        &[&format!("cannot fetch {svg}")],
    );
    assert_eq!(tree(&dir), before);
    let served = origin(&f.site_b, HashMap::new());
    let r = mirror(&served.url, &dir, &f.root).ok().json();
    // Everything but the file that failed was fetched and verified by the refused run.
    assert_eq!(r["files_resumed"], (changed.len() - 1) as u64);
    assert_eq!(
        r["files_fetched"], 2,
        "the file that failed, and the trust list"
    );
    assert_eq!(tree(&dir), tree(&f.site_b));
    assert!(!work.join(".mirror.partial").exists());
}

fn large() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture::make(300, "large"))
}

/// A small deterministic generator for kill times (xorshift), seeded from the clock; the seed
/// is printed so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let seed = std::env::var("MIRROR_KILL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| rand_u64() | 1);
        eprintln!("kill seed: MIRROR_KILL_SEED={seed}");
        Rng(seed)
    }

    /// A fraction in [0.05, 0.95).
    fn point(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        0.05 + 0.9 * (self.0 % 10_000) as f64 / 10_000.0
    }
}

/// Runs `mirror` and kills it (SIGKILL) after `after`; whether it had finished by then.
fn killed_after(source: &str, dir: &Path, root: &str, after: Duration) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_starmark"))
        .args(["mirror", source, s(dir), "--root", root, "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill();
    let _ = child.wait();
    finished
}

/// Kills `mirror SOURCE DIR` at three random points of a run of `full` (each run resuming
/// what the one before left); after each kill DIR is the whole old mirror or the whole new
/// one; then a run completes and DIR is the site.
fn kill_three_times(
    source: &str,
    dir: &Path,
    root: &str,
    full: Duration,
    old: Option<&BTreeMap<String, Vec<u8>>>,
    new: &BTreeMap<String, Vec<u8>>,
) {
    let mut rng = Rng::seeded();
    for _ in 0..3 {
        let at = full.mul_f64(rng.point());
        let finished = killed_after(source, dir, root, at);
        eprintln!("killed after {at:?} (finished: {finished})");
        match (dir.exists(), old) {
            (false, None) => {}
            (true, _) if tree(dir) == *new => {}
            (true, Some(old)) => assert!(
                tree(dir) == *old,
                "killed after {at:?}: the mirror is neither the old nor the new site"
            ),
            (exists, _) => {
                panic!("killed after {at:?}: the mirror exists: {exists}, and is not the site")
            }
        }
    }
    let r = mirror(source, dir, root).ok().json();
    assert!(
        r["status"] == "updated" || r["status"] == "up_to_date",
        "{r}"
    );
    assert_eq!(tree(dir), *new);
    assert_eq!(
        mirror(source, dir, root).ok().json()["status"],
        "up_to_date"
    );
}

#[test]
fn a_mirror_killed_at_random_points_leaves_a_whole_mirror_and_the_next_run_completes() {
    let f = large();
    let work = f.scratch("kill");
    // A first mirror of 300 certifications (some 2,200 files) over HTTP.
    let served = origin(&f.site_a, HashMap::new());
    let site_a = tree(&f.site_a);
    let probe = work.join("probe");
    let t = Instant::now();
    mirror(&served.url, &probe.join("mirror"), &f.root).ok();
    let first = t.elapsed();
    let dir = work.join("m").join("mirror");
    kill_three_times(&served.url, &dir, &f.root, first, None, &site_a);
    // Then 60 certifications change at the origin: the update is killed three times too.
    let reg = work.join("reg");
    copy(&f.reg_a, &reg);
    let records: Vec<PathBuf> = (100..160)
        .map(|i| {
            let serial = 20260000 + i;
            let record = reg.join(format!("records/000/{serial}.md"));
            let text = std::fs::read_to_string(&record).unwrap();
            std::fs::write(
                &record,
                text.replacen("- 数据加密", "- 数据加密（复测）", 1),
            )
            .unwrap();
            record
        })
        .collect();
    let mut args = vec!["sign", "--force", "-r", s(&reg)];
    args.extend(records.iter().map(|p| s(p)));
    run_in(&work, &args).ok();
    run_in(&work, &["manifest", "sign", "--quiet", s(&reg)]).ok();
    let site_c = tree(&reg.join("public"));
    let served = origin(&reg.join("public"), HashMap::new());
    let t = Instant::now();
    let r = mirror(&served.url, &probe.join("mirror"), &f.root)
        .ok()
        .json();
    let update = t.elapsed();
    assert!(r["changed"].as_u64().unwrap() > 400, "{r}");
    kill_three_times(&served.url, &dir, &f.root, update, Some(&site_a), &site_c);
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn a_store_that_cannot_be_written_is_a_local_error() {
    let f = fixture();
    let work = f.scratch("local");
    let (dir, before) = mirror_of_a(f, &work);
    // Files where the store's directories would go.
    let partial = work.join(".mirror.partial");
    std::fs::create_dir_all(&partial).unwrap();
    let b = tree(&f.site_b);
    for p in changed_a_to_b(f) {
        let hex = starmark_core::to_hex(&FileMeta::of(&b[&p]).sha256);
        std::fs::write(partial.join(&hex[..2]), "in the way").unwrap();
    }
    mirror(s(&f.site_b), &dir, &f.root)
        .code(2)
        .stderr_has(&["cannot create its directory", "is as it was"]);
    assert_eq!(tree(&dir), before);
}
