//! End-to-end tests of `starmark build` and `starmark serve` on the demo registry and on
//! registries made in temporary directories.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use scraper::{Html, Selector};
use sha2::{Digest, Sha256};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_starmark"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run starmark")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Copies the demo registry (records, keys, lists, config) into a temp dir.
pub fn demo_copy(dir: &Path) -> PathBuf {
    let reg = dir.join("demo");
    copy_tree(&repo().join("site"), &reg, &|p| {
        let s = p.to_string_lossy();
        !s.contains("public") && !s.contains(".starmark-cache")
    });
    // Keys must stay private (0600) after copying.
    for e in std::fs::read_dir(reg.join("keys")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "key") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    reg
}

pub fn copy_tree(from: &Path, to: &Path, keep: &dyn Fn(&Path) -> bool) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        if !keep(&p) {
            continue;
        }
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &target, keep);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

fn build(reg: &Path, out: &Path) -> Output {
    run(bin().args(["build", "--quiet", "--out"]).arg(out).arg(reg))
}

/// `build --full`: the cache ignored.
fn full_build(reg: &Path, out: &Path) -> Output {
    run(bin()
        .args(["build", "--full", "--quiet", "--out"])
        .arg(out)
        .arg(reg))
}

fn files(root: &Path) -> BTreeMap<String, [u8; 32]> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, Sha256::digest(std::fs::read(&p).unwrap()).into());
            }
        }
    }
    out
}

/// Every href/src of an HTML document.
fn references(html: &Html) -> Vec<String> {
    let sel = Selector::parse("[href], [src]").unwrap();
    html.select(&sel)
        .flat_map(|e| {
            ["href", "src"]
                .into_iter()
                .filter_map(move |a| e.value().attr(a).map(str::to_string))
        })
        .collect()
}

fn is_external(link: &str) -> bool {
    link.starts_with("http://") || link.starts_with("https://") || link.starts_with("mailto:")
}

/// Resolves a relative reference against a page path (both relative to the site root).
fn resolve(page: &str, link: &str) -> Option<String> {
    let link = link.split(['#', '?']).next().unwrap_or("");
    if link.is_empty() {
        return None;
    }
    assert!(
        !link.starts_with('/'),
        "{page}: absolute link {link} breaks under a path prefix"
    );
    let mut parts: Vec<&str> = page.split('/').collect();
    parts.pop();
    for seg in link.split('/') {
        match seg {
            ".." => {
                assert!(parts.pop().is_some(), "{page}: link {link} leaves the site");
            }
            "." | "" => {}
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

#[test]
fn demo_site_pages_parse_have_csp_and_no_broken_links() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = demo_copy(tmp.path());
    let out = tmp.path().join("public");
    let o = build(&reg, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let all = files(&out);
    let pages: Vec<&String> = all.keys().filter(|p| p.ends_with(".html")).collect();
    assert!(pages.len() > 60, "only {} pages", pages.len());
    let csp = Selector::parse("meta[http-equiv=Content-Security-Policy]").unwrap();
    let inline_script = Selector::parse("script:not([src])").unwrap();
    let mut checked = 0;
    for page in pages {
        let text = std::fs::read_to_string(out.join(page)).unwrap();
        let html = Html::parse_document(&text);
        assert!(
            html.errors.is_empty() || !text.is_empty(),
            "{page}: {:?}",
            html.errors
        );
        let policy = html
            .select(&csp)
            .next()
            .unwrap_or_else(|| panic!("{page}: no CSP meta tag"));
        let policy = policy.value().attr("content").unwrap();
        assert!(
            policy.contains("default-src 'none'") && policy.contains("script-src 'self'"),
            "{page}: {policy}"
        );
        assert_eq!(
            html.select(&inline_script).count(),
            0,
            "{page}: inline script"
        );
        for link in references(&html) {
            if is_external(&link) {
                continue;
            }
            // The 404 page is served at any depth: its links are from the site root (the demo's
            // base URL has no path).
            let target = match link.strip_prefix('/') {
                Some(rooted) if page == "404.html" => Some(rooted.to_string()),
                _ => resolve(page, &link),
            };
            if let Some(target) = target {
                assert!(
                    all.contains_key(&target),
                    "{page}: broken link {link} -> {target}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "only {checked} links checked");
}

#[test]
fn every_label_png_decodes_to_the_qr_url_and_verifies() {
    if Command::new("zbarimg").arg("--version").output().is_err() {
        panic!("zbarimg (Debian zbar-tools) is required; .ci/run installs it");
    }
    let tmp = tempfile::tempdir().unwrap();
    let reg = demo_copy(tmp.path());
    let out = tmp.path().join("public");
    assert!(build(&reg, &out).status.success());
    let mut records: Vec<PathBuf> = std::fs::read_dir(reg.join("records"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    records.sort();
    assert!(records.len() >= 25);
    for rec in records {
        let qr = run(bin().arg("qr").arg(&rec).arg("--registry").arg(&reg));
        assert!(
            qr.status.success(),
            "{}",
            String::from_utf8_lossy(&qr.stderr)
        );
        let url = String::from_utf8(qr.stdout).unwrap().trim().to_string();
        let text = std::fs::read_to_string(&rec).unwrap();
        let serial = text
            .lines()
            .find_map(|l| l.strip_prefix("serial = "))
            .unwrap()
            .trim()
            .to_string();
        let png = out.join(format!("labels/{serial}.png"));
        let z = Command::new("zbarimg")
            .args(["-q", "--raw"])
            .arg(&png)
            .output()
            .unwrap();
        assert!(z.status.success(), "{}: zbarimg failed", png.display());
        assert_eq!(
            String::from_utf8_lossy(&z.stdout).trim(),
            url,
            "{}",
            png.display()
        );
        let digits = starmark_core::qr::digits_of(&url).unwrap();
        let bytes = starmark_core::qr::decode_digits(digits).unwrap();
        let signed = starmark_core::SignedClaim::decode(&bytes).unwrap();
        assert_eq!(signed.claim().serial.to_string(), serial);
        let svg = std::fs::read_to_string(out.join(format!("labels/{serial}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") || svg.starts_with("<?xml"),
            "{serial}.svg"
        );
        assert!(!svg.contains("<text"), "{serial}.svg depends on fonts");
    }
}

fn hostile_registry(dir: &Path) -> PathBuf {
    let reg = dir.join("hostile");
    let o = run(bin()
        .arg("init")
        .arg(&reg)
        .args(["--issuer-valid-from", "2026-01-01"]));
    assert!(o.status.success());
    let record = r#"+++
serial = 666
manufacturer = "<script>alert(1)</script>"
manufacturer_en = "\"><img src=x onerror=alert(2)>"
product = "<b onmouseover=alert(3)>router</b>"
model = "X<svg onload=alert(4)>"
category = "router"
firmware = ["<iframe src=javascript:alert(5)>"]
tier = 1
issued = 2026-07-01
valid_from = 2026-07-01
valid_until = 2029-06-30
lab = "<style>body{display:none}</style>"
+++
## Results <script>alert(6)</script>

<img src=x onerror=alert(7)>

<div onclick="alert(8)">raw html block</div>

[click me](javascript:alert(9)) [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxMCk8L3NjcmlwdD4=) [ok](https://example.cn/report)

![img](javascript:alert(11))
"#;
    std::fs::write(reg.join("records/0666.md"), record).unwrap();
    let o = run(bin()
        .arg("sign")
        .arg(reg.join("records/0666.md"))
        .arg("--registry")
        .arg(&reg));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    reg
}

#[test]
fn hostile_record_renders_inert() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = hostile_registry(tmp.path());
    let out = tmp.path().join("public");
    let o = build(&reg, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let script = Selector::parse("script").unwrap();
    let all = Selector::parse("*").unwrap();
    let mut pages = 0;
    for (page, _) in files(&out).iter().filter(|(p, _)| p.ends_with(".html")) {
        let text = std::fs::read_to_string(out.join(page)).unwrap();
        let html = Html::parse_document(&text);
        for s in html.select(&script) {
            let src = s
                .value()
                .attr("src")
                .unwrap_or_else(|| panic!("{page}: inline script {}", s.html()));
            assert!(src.contains("assets/"), "{page}: foreign script {src}");
        }
        for e in html.select(&all) {
            for (name, value) in e.value().attrs() {
                assert!(
                    !name.to_ascii_lowercase().starts_with("on"),
                    "{page}: event handler attribute {name}={value}"
                );
                let v = value.trim().to_ascii_lowercase();
                assert!(
                    !v.starts_with("javascript:") && !v.starts_with("data:"),
                    "{page}: {name}={value}"
                );
            }
            let tag = e.value().name();
            assert!(
                !["iframe", "svg", "img", "style", "object", "embed"].contains(&tag)
                    || page.contains("cert/")
                        && tag == "img"
                        && e.value().attr("src").is_some_and(|s| s.contains("labels/"))
                    // The verify page's own verdict icons (templates/verify.html), no record's.
                    || page.ends_with("verify/index.html")
                        && tag == "svg"
                        && e.value().attr("class").is_some_and(|c| c.starts_with("i-")),
                "{page}: element <{tag}> from record content"
            );
        }
        pages += 1;
    }
    assert!(pages > 10);
    let cert = std::fs::read_to_string(out.join("cert/666.html")).unwrap();
    assert!(
        cert.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
            || cert.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the manufacturer is shown as text"
    );
    assert!(
        cert.contains("href=\"https://example.cn/report\""),
        "safe links survive"
    );
}

fn expect_build_error(
    reg: &Path,
    out: &Path,
    before: &BTreeMap<String, [u8; 32]>,
    needles: &[&str],
) {
    let o = build(reg, out);
    assert_eq!(o.status.code(), Some(2), "the build must fail");
    let err = String::from_utf8_lossy(&o.stderr);
    for n in needles {
        assert!(err.contains(n), "error lacks {n:?}: {err}");
    }
    assert_eq!(&files(out), before, "the previous output changed");
}

#[test]
fn bad_records_fail_the_build_and_leave_the_output_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = demo_copy(tmp.path());
    let out = tmp.path().join("public");
    assert!(build(&reg, &out).status.success());
    let before = files(&out);
    let rec = reg.join("records/0003.md");
    let sig = reg.join("records/0003.sig");
    let original = std::fs::read_to_string(&rec).unwrap();
    let original_sig = std::fs::read_to_string(&sig).unwrap();

    // Edited after signing.
    std::fs::write(&rec, original.replace("+++\n##", "+++\n\n##")).unwrap();
    expect_build_error(&reg, &out, &before, &["0003.md", "digest mismatch"]);
    std::fs::write(&rec, &original).unwrap();

    // Bad signature: one digit of the signature changed (the claim still decodes).
    let mut digits: Vec<u8> = original_sig.trim().bytes().collect();
    let i = digits.len() - 20;
    digits[i] = if digits[i] == b'1' { b'2' } else { b'1' };
    std::fs::write(&sig, [&digits[..], b"\n"].concat()).unwrap();
    expect_build_error(&reg, &out, &before, &["0003.md"]);
    std::fs::write(&sig, &original_sig).unwrap();

    // Unknown category (signed, so only the catalogue check can refuse it).
    let config = std::fs::read_to_string(reg.join("starmark.toml")).unwrap();
    let category = original
        .lines()
        .find_map(|l| l.strip_prefix("category = "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    let stripped = config.replace(
        &format!("code = \"{category}\""),
        "code = \"removed-category\"",
    );
    assert_ne!(stripped, config);
    std::fs::write(reg.join("starmark.toml"), &stripped).unwrap();
    expect_build_error(&reg, &out, &before, &["category", &category]);
    std::fs::write(reg.join("starmark.toml"), &config).unwrap();

    // Duplicate serial: a copy of a signed record under another name for the same serial.
    std::fs::copy(&rec, reg.join("records/003.md")).unwrap();
    std::fs::copy(&sig, reg.join("records/003.sig")).unwrap();
    expect_build_error(&reg, &out, &before, &["003.md", "duplicate serial"]);
    std::fs::remove_file(reg.join("records/003.md")).unwrap();
    std::fs::remove_file(reg.join("records/003.sig")).unwrap();

    // And a good build still works afterwards.
    assert!(build(&reg, &out).status.success());
}

#[test]
fn builds_are_reproducible_and_incremental() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = demo_copy(tmp.path());
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    assert!(build(&reg, &a).status.success());
    assert!(full_build(&reg, &b).status.success());
    assert_eq!(
        files(&a),
        files(&b),
        "two builds of the same registry differ"
    );
    let o = run(bin().args(["build", "--out"]).arg(&b).arg(&reg));
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(
        summary.contains("incremental build: 0 files rendered"),
        "{summary}"
    );
}

/// The inode of a published file: the same after a rebuild when the build reused the file (a
/// hard link of the earlier generation's) instead of rendering it.
fn inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .ino()
}

/// The one file of `dir` that links to certification 1's page.
fn page_listing_cert_1(dir: &Path) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("cert/1.html\"")
        })
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

#[test]
fn a_change_to_a_record_body_renders_its_own_pages_and_no_list_and_a_change_to_its_row_renders_the_lists(
) {
    let tmp = tempfile::tempdir().unwrap();
    let reg = demo_copy(tmp.path());
    let out = tmp.path().join("public");
    assert!(build(&reg, &out).status.success());
    let category = page_listing_cert_1(&out.join("category"));
    let maker = page_listing_cert_1(&out.join("maker"));
    let lists: Vec<PathBuf> = [
        category.clone(),
        maker.clone(),
        out.join("en/category").join(category.file_name().unwrap()),
        out.join("index.html"),
        out.join("en/index.html"),
        out.join("revoked.html"),
        out.join("api/v1/index.json"),
        out.join("search/shard-000.json"),
        out.join("feed.xml"),
    ]
    .into();
    // Lists what neither change touches: the claims index (count and shards).
    let claims_index = out.join("api/v1/claims/index.json");
    let claims_index_inode = inode(&claims_index);
    let own = [
        out.join("cert/1.html"),
        out.join("en/cert/1.html"),
        out.join("api/v1/claims/0.bin"),
    ];
    let inodes = |paths: &[PathBuf]| paths.iter().map(|p| inode(p)).collect::<Vec<_>>();
    let record = reg.join("records/0001.md");
    let text = std::fs::read_to_string(&record).unwrap();
    let sign = || {
        let o = run(bin()
            .args(["sign", "--force", "--registry"])
            .arg(&reg)
            .arg(&record));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let same_as_full_build = |what: &str| {
        let full = tmp.path().join(format!("full-{what}"));
        assert!(full_build(&reg, &full).status.success());
        assert!(
            files(&out) == files(&full),
            "{what}: differs from a full build"
        );
    };

    // A new line in the body (and so a new signature): the certification's pages and label
    // change, the pages and files that list it keep their file.
    for round in 1..=2 {
        let (lists_before, own_before) = (inodes(&lists), inodes(&own));
        let body = text.replace(
            "## 备注 / Notes",
            &format!("## 备注 / Notes\n\n复测 {round} / retest {round}\n"),
        );
        std::fs::write(&record, body).unwrap();
        sign();
        assert!(build(&reg, &out).status.success());
        let page = std::fs::read_to_string(&own[1]).unwrap();
        assert!(page.contains(&format!("retest {round}")), "round {round}");
        for (p, (before, now)) in own.iter().zip(own_before.iter().zip(inodes(&own))) {
            assert_ne!(
                *before,
                now,
                "round {round}: {} was not rendered",
                p.display()
            );
        }
        for (p, (before, now)) in lists.iter().zip(lists_before.iter().zip(inodes(&lists))) {
            assert_eq!(*before, now, "round {round}: {} was rendered", p.display());
        }
        assert_eq!(inode(&claims_index), claims_index_inode);
        same_as_full_build(&format!("body-{round}"));
    }

    // A new model shows in every list: each is rendered again.
    let lists_before = inodes(&lists);
    std::fs::write(
        &record,
        text.replace("model = \"XL-AX3000\"", "model = \"XL-AX3000-R2\""),
    )
    .unwrap();
    sign();
    assert!(build(&reg, &out).status.success());
    for (p, (before, now)) in lists.iter().zip(lists_before.iter().zip(inodes(&lists))) {
        assert_ne!(*before, now, "{} was not rendered", p.display());
    }
    for p in [&category, &maker] {
        let page = std::fs::read_to_string(p).unwrap();
        assert!(page.contains("XL-AX3000-R2"), "{}", p.display());
    }
    assert_eq!(inode(&claims_index), claims_index_inode);
    same_as_full_build("model");
}
/// A minimal HTTP/1.0 GET; returns (status, body).
fn get(addr: &str, path: &str) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, buf[split + 4..].to_vec())
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn site_served_under_a_path_prefix_has_no_broken_links() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = demo_copy(tmp.path());
    let out = tmp.path().join("public");
    let mut child = bin()
        .args([
            "serve",
            "--port",
            "0",
            "--prefix",
            "/mirror/registry/",
            "--out",
        ])
        .arg(&out)
        .arg(&reg)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut addr = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            addr = Some(rest.split('/').next().unwrap().to_string());
            break;
        }
    }
    let addr = addr.expect("serve printed its address");
    let prefix = "/mirror/registry/";
    let mut queue = VecDeque::from([String::from("index.html"), String::from("en/index.html")]);
    let mut seen = BTreeSet::new();
    while let Some(page) = queue.pop_front() {
        if !seen.insert(page.clone()) {
            continue;
        }
        let (status, body) = get(&addr, &format!("{prefix}{page}"));
        assert_eq!(status, 200, "{prefix}{page}");
        if page.ends_with(".html") {
            let html = Html::parse_document(&String::from_utf8_lossy(&body));
            for link in references(&html) {
                if !is_external(&link) {
                    if let Some(t) = resolve(&page, &link) {
                        queue.push_back(t);
                    }
                }
            }
        }
    }
    assert!(seen.len() > 100, "crawled only {} files", seen.len());
    let (status, _) = get(&addr, "/index.html");
    assert_eq!(status, 404, "outside the prefix nothing is served");
    drop(server);
}

/// The `content` of `<meta name=description>` and the `href` of `<link rel=icon>` of a page.
fn description_and_icon(html: &Html) -> (Option<String>, Option<String>) {
    let description = Selector::parse("meta[name=description]").unwrap();
    let icon = Selector::parse("link[rel~=icon]").unwrap();
    let attr = |sel: &Selector, a: &str| {
        html.select(sel)
            .next()
            .and_then(|e| e.value().attr(a))
            .map(str::to_string)
    };
    (attr(&description, "content"), attr(&icon, "href"))
}

#[test]
fn every_page_has_a_description_and_the_favicon_and_a_404_page_is_published() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = demo_copy(tmp.path());
    let out = tmp.path().join("public");
    let o = build(&reg, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let all = files(&out);

    // favicon.ico at the root: an ICO of PNG images, in the manifest like every file.
    let ico = std::fs::read(out.join("favicon.ico")).unwrap();
    assert_eq!(&ico[..4], &[0, 0, 1, 0], "an ICO file");
    assert!(
        ico.windows(8).any(|w| w == b"\x89PNG\r\n\x1a\n"),
        "PNG images"
    );
    // Both published like every file: named in the manifest (the root directory's listing).
    let in_manifest = |name: &str| {
        files(&out.join("manifest")).keys().any(|k| {
            let bytes = std::fs::read(out.join("manifest").join(k)).unwrap();
            bytes.windows(name.len()).any(|w| w == name.as_bytes())
        })
    };
    let in_manifest = in_manifest("favicon.ico") && in_manifest("404.html");
    assert!(in_manifest, "favicon.ico and 404.html are in the manifest");

    // Every page: a description, and the favicon linked (relatively, from its depth).
    let mut pages = 0;
    for page in all.keys().filter(|p| p.ends_with(".html")) {
        let html = Html::parse_document(&std::fs::read_to_string(out.join(page)).unwrap());
        let (description, icon) = description_and_icon(&html);
        let description = description.unwrap_or_else(|| panic!("{page}: no meta description"));
        assert!(description.chars().count() >= 10, "{page}: {description:?}");
        let icon = icon.unwrap_or_else(|| panic!("{page}: no icon link"));
        let target = match icon.strip_prefix('/') {
            Some(rooted) if page == "404.html" => Some(rooted.to_string()),
            _ => resolve(page, &icon),
        };
        assert_eq!(target.as_deref(), Some("favicon.ico"), "{page}: {icon}");
        pages += 1;
    }
    assert!(pages > 60, "{pages} pages");

    // 404.html: both languages, each tagged, links from the root; not in the sitemap.
    let text = std::fs::read_to_string(out.join("404.html")).unwrap();
    let html = Html::parse_document(&text);
    let sel = |s: &str| Selector::parse(s).unwrap();
    assert_eq!(
        html.select(&sel("html"))
            .next()
            .unwrap()
            .value()
            .attr("lang"),
        Some("zh-Hans")
    );
    assert!(text.contains("未找到该页面"), "{text}");
    let en = html
        .select(&sel("section[lang=en]"))
        .next()
        .expect("an English part");
    assert!(en.text().collect::<String>().contains("Page not found"));
    let stylesheet = html.select(&sel("link[rel=stylesheet]")).next().unwrap();
    assert!(stylesheet
        .value()
        .attr("href")
        .unwrap()
        .starts_with("/assets/style."));
    let sitemaps: String = all
        .keys()
        .filter(|k| k.starts_with("sitemap"))
        .map(|k| std::fs::read_to_string(out.join(k)).unwrap())
        .collect();
    assert!(sitemaps.contains("about.html"), "{sitemaps}");
    assert!(!sitemaps.contains("404.html"), "{sitemaps}");

    // Under a base URL with a path, the 404 page links under that path.
    let config = reg.join("starmark.toml");
    let toml = std::fs::read_to_string(&config).unwrap();
    let toml = toml.replace(
        "base_url = \"https://label.example.cn\"",
        "base_url = \"https://example.org/registry\"",
    );
    assert!(
        toml.contains("example.org/registry"),
        "the demo's base_url line"
    );
    std::fs::write(&config, toml).unwrap();
    let o = build(&reg, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("404.html")).unwrap();
    assert!(text.contains("href=\"/registry/en/index.html\""), "{text}");
    assert!(text.contains("href=\"/registry/favicon.ico\""), "{text}");
}
