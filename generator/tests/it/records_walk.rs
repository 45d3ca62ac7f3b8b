//! How `sign` and `build` walk `records/`: changes found whatever the timestamps say, symbolic
//! links that loop or leave `records/` refused (in bounded time), one extension rule, file names
//! that are serials, and a size limit per record.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::common::{s, Out, RecordText, Reg};

/// Long enough for a stamp to be trusted by the record cache (2 s on file systems with coarse
/// times, less on others).
const SETTLE: Duration = Duration::from_millis(2_100);

/// Runs the binary in the registry, killed after `limit`: a run that does not end in time fails
/// the test.
fn run_with_limit(reg: &Reg, args: &[&str], limit: Duration) -> Out {
    let (out_path, err_path) = (reg.tmp().join("stdout"), reg.tmp().join("stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_starmark"))
        .args(args)
        .current_dir(&reg.dir)
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("`starmark {}` still ran after {limit:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = Out {
        what: format!("starmark {}", args.join(" ")),
        code: status.code().expect("exit code"),
        stdout: std::fs::read_to_string(out_path).unwrap(),
        stderr: std::fs::read_to_string(err_path).unwrap(),
    };
    reg.log_output(&out.stdout);
    reg.log_output(&out.stderr);
    out
}

fn build(reg: &Reg) -> Out {
    reg.run(&["build", "--quiet"])
}

fn mtime(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

fn set_mtime(path: &Path, t: SystemTime) {
    File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// Writes `bytes` over `path` in place (same inode), then sets its modification time back:
/// size and mtime are as before.
fn rewrite_keeping_size_and_mtime(path: &Path, bytes: &[u8]) {
    let (len, t) = (std::fs::metadata(path).unwrap().len(), mtime(path));
    assert_eq!(bytes.len() as u64, len, "the edit must keep the size");
    std::fs::write(path, bytes).unwrap();
    set_mtime(path, t);
    assert_eq!(mtime(path), t);
    assert_eq!(std::fs::metadata(path).unwrap().len(), len);
}

#[test]
fn an_edit_keeping_size_and_mtime_is_found_by_an_incremental_build() {
    let reg = Reg::new();
    let mut rec = RecordText::new(1);
    rec.body = "## Test results\n\nAll baseline requirements met.\n".into();
    reg.signed("1.md", &rec.text());
    std::thread::sleep(SETTLE);
    build(&reg).ok();
    assert!(reg.path(".starmark-cache/records.bin").is_file());

    // Two characters swapped: same size, mtime set back (as `touch -r` would).
    let path = reg.path("records/1.md");
    let edited = rec.text().replace("All baseline", "lAl baseline");
    rewrite_keeping_size_and_mtime(&path, edited.as_bytes());
    build(&reg)
        .code(2)
        .stderr_has(&["records/1.md: digest mismatch"]);

    // Signed again, with the signature's size and mtime kept too: the new text is published.
    let sig = reg.path("records/1.sig");
    let (sig_len, sig_time) = (std::fs::metadata(&sig).unwrap().len(), mtime(&sig));
    reg.run(&["sign", "--force", "records/1.md"]).ok();
    assert_eq!(std::fs::metadata(&sig).unwrap().len(), sig_len);
    set_mtime(&sig, sig_time);
    build(&reg).ok();
    let page = std::fs::read_to_string(reg.path("public/cert/1.html")).unwrap();
    assert!(
        page.contains("lAl baseline"),
        "the edited text is not published"
    );
    let published = std::fs::read_to_string(reg.path("public/records/1.md")).unwrap();
    assert_eq!(published, edited);
}

#[test]
fn a_signature_replaced_by_one_of_the_same_size_and_mtime_is_verified_again() {
    let reg = Reg::new();
    reg.signed("1.md", &RecordText::new(1).text());
    reg.signed("2.md", &RecordText::new(2).text());
    std::thread::sleep(SETTLE);
    build(&reg).ok();

    // Another signature file of the same size, put in place by a rename (a new inode) and
    // given the old mtime: the last digit changed (it stays a valid group, one signature byte
    // changes by one).
    let sig = reg.path("records/1.sig");
    let t = mtime(&sig);
    let mut digits = std::fs::read(&sig).unwrap();
    let last = digits.len() - 2;
    digits[last] ^= 1;
    let other = reg.path("records/other.tmp");
    std::fs::write(&other, &digits).unwrap();
    std::fs::rename(&other, &sig).unwrap();
    set_mtime(&sig, t);
    let out = build(&reg);
    out.code(2).stderr_has(&["records/1.md: bad signature"]);
    assert!(!out.stderr.contains("records/2.md"), "{}", out.stderr);
}

#[test]
fn symbolic_link_loops_are_refused_in_bounded_time() {
    let reg = Reg::new();
    reg.signed("1.md", &RecordText::new(1).text());
    std::os::unix::fs::symlink(".", reg.path("records/a")).unwrap();
    std::os::unix::fs::symlink(".", reg.path("records/b")).unwrap();
    std::fs::create_dir(reg.path("records/sub")).unwrap();
    std::os::unix::fs::symlink("..", reg.path("records/sub/up")).unwrap();
    let expected = [
        "records/a: symbolic link loops back to records/",
        "records/b: symbolic link loops back to records/",
        "records/sub/up: symbolic link loops back to records/",
    ];
    let limit = Duration::from_secs(20);
    run_with_limit(&reg, &["build", "--quiet"], limit)
        .code(2)
        .stderr_has(&expected)
        .stderr_has(&["3 bad records; nothing was written"]);
    assert!(!reg.path("public").exists());
    run_with_limit(&reg, &["sign", "records/1.md"], limit)
        .code(2)
        .stderr_has(&expected);
    // A loop of file links cannot be followed either.
    for e in ["a", "b", "sub/up"] {
        std::fs::remove_file(reg.path(&format!("records/{e}"))).unwrap();
    }
    std::os::unix::fs::symlink("3.md", reg.path("records/2.md")).unwrap();
    std::os::unix::fs::symlink("2.md", reg.path("records/3.md")).unwrap();
    run_with_limit(&reg, &["build", "--quiet"], limit)
        .code(2)
        .stderr_has(&[
            "records/2.md: symbolic link cannot be followed",
            "records/3.md: symbolic link cannot be followed",
        ]);
}

#[test]
fn symbolic_links_leaving_records_are_refused_naming_the_link() {
    let reg = Reg::new();
    reg.signed("1.md", &RecordText::new(1).text());
    // A signed record kept outside the registry, linked in as a file and as a folder.
    let outside = reg.tmp().join("elsewhere");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("2.md"), RecordText::new(2).text()).unwrap();
    std::os::unix::fs::symlink(outside.join("2.md"), reg.path("records/2.md")).unwrap();
    std::os::unix::fs::symlink(&outside, reg.path("records/more")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", reg.path("records/x.md")).unwrap();
    std::os::unix::fs::symlink("../keys", reg.path("records/keys")).unwrap();
    let canon = outside.canonicalize().unwrap();
    let keys = reg.path("keys").canonicalize().unwrap();
    let expected = [
        format!(
            "records/2.md: symbolic link leads outside the registry's records/ ({})",
            canon.join("2.md").display()
        ),
        format!(
            "records/more: symbolic link leads outside the registry's records/ ({})",
            canon.display()
        ),
        "records/x.md: symbolic link leads outside the registry's records/ (/etc/passwd)".into(),
        format!(
            "records/keys: symbolic link leads outside the registry's records/ ({})",
            keys.display()
        ),
    ];
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    build(&reg)
        .code(2)
        .stderr_has(&expected)
        .stderr_has(&["4 bad records"]);
    reg.run(&["sign", "records/1.md"])
        .code(2)
        .stderr_has(&expected)
        .stderr_has(&["4 bad entries in "]);
}

#[test]
fn symbolic_links_inside_records_lead_to_files_only() {
    let reg = Reg::new();
    reg.signed("1.md", &RecordText::new(1).text());
    // A link to a file inside records/ is followed, for signing and building.
    std::fs::create_dir(reg.path("records/drafts")).unwrap();
    std::fs::write(
        reg.path("records/drafts/second.txt"),
        RecordText::new(2).text(),
    )
    .unwrap();
    std::os::unix::fs::symlink("drafts/second.txt", reg.path("records/2.md")).unwrap();
    reg.run(&["sign", "records/2.md"]).ok();
    build(&reg).ok();
    assert!(reg.path("public/cert/2.html").is_file());
    // A link to a folder inside records/ would list its records twice.
    std::os::unix::fs::symlink("drafts", reg.path("records/again")).unwrap();
    build(&reg).code(2).stderr_has(&[
        "records/again: symbolic link leads to the directory records/drafts/, which is listed \
         already: folders of records must be real directories",
    ]);
}

#[test]
fn a_record_extension_in_another_case_is_refused_by_sign_and_build() {
    let reg = Reg::new();
    reg.signed("1.md", &RecordText::new(1).text());
    build(&reg).ok();
    reg.write_record("2.MD", &RecordText::new(2).text());
    reg.write_record("sub/3.Md", &RecordText::new(3).text());
    let expected = [
        "records/2.MD: a record file's name ends in .md in lower case: rename it to 2.md",
        "records/sub/3.Md: a record file's name ends in .md in lower case: rename it to 3.md",
    ];
    build(&reg).code(2).stderr_has(&expected);
    reg.run(&["sign", "records/2.MD"])
        .code(2)
        .stderr_has(&expected);
    assert!(!reg.path("records/2.sig").exists());
    // The rule holds for a record signed from outside records/ too.
    let loose = reg.tmp().join("4.MD");
    std::fs::write(&loose, RecordText::new(4).text()).unwrap();
    std::fs::remove_file(reg.path("records/2.MD")).unwrap();
    std::fs::remove_file(reg.path("records/sub/3.Md")).unwrap();
    reg.run(&["sign", s(&loose)]).code(2).stderr_has(&[&format!(
        "{}: a record file's name ends in .md in lower case: rename it to 4.md",
        loose.display()
    )]);
    let txt = reg.tmp().join("4.txt");
    std::fs::write(&txt, RecordText::new(4).text()).unwrap();
    reg.run(&["sign", s(&txt)]).code(2).stderr_has(&[&format!(
        "{}: not a record file: a record file is named SERIAL.md",
        txt.display()
    )]);
}

#[test]
fn build_refuses_a_signed_record_whose_file_name_is_not_its_serial() {
    let reg = Reg::new();
    reg.signed("0001.md", &RecordText::new(1).text());
    reg.signed("15.md", &RecordText::new(15).text());
    build(&reg).ok();
    // Signed under its serial, then renamed: the signature still matches the bytes.
    std::fs::rename(reg.path("records/15.md"), reg.path("records/0099.md")).unwrap();
    std::fs::rename(reg.path("records/15.sig"), reg.path("records/0099.sig")).unwrap();
    std::fs::create_dir(reg.path("records/old")).unwrap();
    std::fs::rename(
        reg.path("records/0001.md"),
        reg.path("records/old/draft.md"),
    )
    .unwrap();
    std::fs::rename(
        reg.path("records/0001.sig"),
        reg.path("records/old/draft.sig"),
    )
    .unwrap();
    build(&reg).code(2).stderr_has(&[
        "2 bad records",
        "records/0099.md: the file name does not match serial 15: a record file is named by its \
         serial; rename it to 15.md (leading zeros are allowed)",
        "records/old/draft.md: the file name does not match serial 1",
    ]);
    // Named by the serial, with leading zeros or not, in any folder: built.
    std::fs::rename(
        reg.path("records/0099.md"),
        reg.path("records/old/00015.md"),
    )
    .unwrap();
    std::fs::rename(
        reg.path("records/0099.sig"),
        reg.path("records/old/00015.sig"),
    )
    .unwrap();
    std::fs::rename(reg.path("records/old/draft.md"), reg.path("records/1.md")).unwrap();
    std::fs::rename(reg.path("records/old/draft.sig"), reg.path("records/1.sig")).unwrap();
    build(&reg).ok();
}

#[test]
fn demo_synthetic_registries_follow_the_naming_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("synthetic");
    crate::common::run_in(tmp.path(), &["demo", "--synthetic", "25", "--out", s(&out)]).ok();
    crate::common::run_in(tmp.path(), &["build", "--quiet", s(&out)]).ok();
    assert!(out.join("public/cert/20260025.html").is_file());
}

/// Sets `max_record_bytes` in starmark.toml (`init` writes the default).
fn set_limit(reg: &Reg, bytes: u64) {
    let path = reg.path("starmark.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("max_record_bytes = "))
        .unwrap_or_else(|| panic!("init wrote no max_record_bytes:\n{text}"))
        .to_string();
    let text = text.replace(&line, &format!("max_record_bytes = {bytes}"));
    std::fs::write(&path, text).unwrap();
}

#[test]
fn records_over_the_size_limit_are_refused_before_they_are_read() {
    let reg = Reg::new();
    assert!(std::fs::read_to_string(reg.path("starmark.toml"))
        .unwrap()
        .contains("max_record_bytes = 1048576"));
    // 50 MB (sparse): refused from its size alone.
    let big = reg.path("records/0001.md");
    File::create(&big).unwrap().set_len(52_428_800).unwrap();
    reg.run(&["sign", "records/0001.md"]).code(2).stderr_has(&[
        "records/0001.md: 52428800 bytes, over the limit of 1048576 (max_record_bytes in \
         starmark.toml)",
    ]);
    assert!(!reg.path("records/0001.sig").exists());
    std::fs::remove_file(&big).unwrap();

    // A 1.5 MiB record, signed under a limit raised to 2 MiB, built.
    let mut rec = RecordText::new(2);
    rec.body = format!("## Test results\n\n{}\n", "全部通过。".repeat(100_000));
    let text = rec.text();
    set_limit(&reg, 2 << 20);
    reg.signed("2.md", &text);
    std::thread::sleep(SETTLE);
    build(&reg).ok();
    // Back to 1 MiB: the unchanged record is refused by an incremental build and a full one.
    set_limit(&reg, 1 << 20);
    let message = format!(
        "records/2.md: {} bytes, over the limit of 1048576 (max_record_bytes in starmark.toml)",
        text.len()
    );
    build(&reg).code(2).stderr_has(&[&message]);
    reg.run(&["build", "--quiet", "--full"])
        .code(2)
        .stderr_has(&[&message]);
    reg.run(&["sign", "records/2.md"])
        .code(2)
        .stderr_has(&[&message]);
}
