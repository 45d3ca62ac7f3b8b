//! Publishing that survives any crash, and one build at a time.
//!
//! The fault-injection tests kill `starmark build` (kill -9, from `strace -e inject`) at the N-th
//! call of every system call that changes files (rename, exchange, link, unlink, write, mkdir),
//! for every N until the build gets through, and check after each kill that the output is the
//! whole previous site or the whole new one, never a mix and never nothing; then that the next
//! build completes and publishes exactly the new site, with no leftovers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{s, RecordText, Reg};

/// System calls by which a build changes files.
const CHANGING: [&str; 7] = [
    "rename",
    "renameat2",
    "linkat",
    "unlink",
    "unlinkat",
    "write",
    "mkdir",
];

/// Every file under `root` (relative path -> bytes); symbolic links are refused.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            assert!(!t.is_symlink(), "{}: a symbolic link", e.path().display());
            if t.is_dir() {
                walk(root, &e.path(), out);
            } else {
                let rel = e.path().strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// What is beside the output besides the output, its spare and its lock.
fn leftovers(reg: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(reg)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".public") && n != ".public.spare" && n != ".public.lock")
        .collect();
    names.sort();
    names
}

fn strace() -> &'static str {
    let found = Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(found, "these tests need strace (Debian package strace)");
    "strace"
}

/// Runs `starmark build ARGS` under strace, killed at the `n`-th call of `syscall`; returns
/// whether the build got through (exit 0) instead.
fn build_killed_at(reg: &Path, args: &[&str], syscall: &str, n: usize) -> bool {
    let status = Command::new(strace())
        .args(["-f", "-qq", "-o", "/dev/null", "-e"])
        .arg(format!("trace={syscall}"))
        .arg("-e")
        .arg(format!("inject={syscall}:signal=KILL:when={n}"))
        .arg(env!("CARGO_BIN_EXE_starmark"))
        .arg("build")
        .arg("--quiet")
        .args(args)
        .arg(reg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    if status.success() {
        return true;
    }
    use std::os::unix::process::ExitStatusExt;
    assert!(
        status.signal() == Some(9) || status.code() == Some(137),
        "{syscall} #{n}: the build failed without being killed: {status:?}"
    );
    false
}

/// A registry of three signed records, and three versions of record 2 (files, signed), so the
/// test can switch between three sites without signing again (cycling through three, a build
/// never finds its spare generation already what it is to build).
struct Fixture {
    reg: Reg,
    versions: [Vec<(PathBuf, Vec<u8>)>; 3],
}

impl Fixture {
    fn new() -> Fixture {
        let reg = Reg::new();
        for serial in [1, 3] {
            let mut r = RecordText::new(serial);
            r.model = format!("XL-AX300{serial}");
            reg.signed(&format!("000{serial}.md"), &r.text());
        }
        let mut versions: [Vec<(PathBuf, Vec<u8>)>; 3] = Default::default();
        for (i, version) in versions.iter_mut().enumerate() {
            let mut r = RecordText::new(2);
            r.model = format!("XL-BE{}", 7000 + i);
            r.body = format!("## Test results\n\nVersion {i}.\n");
            reg.write_record("0002.md", &r.text());
            reg.run(&["sign", "--force", "records/0002.md"]).ok();
            for f in ["records/0002.md", "records/0002.sig"] {
                version.push((reg.path(f), std::fs::read(reg.path(f)).unwrap()));
            }
        }
        Fixture { reg, versions }
    }

    fn use_version(&self, v: usize) {
        for (path, bytes) in &self.versions[v] {
            std::fs::write(path, bytes).unwrap();
        }
    }

    fn build(&self, args: &[&str]) {
        let mut all = vec!["build", "--quiet"];
        all.extend_from_slice(args);
        all.push(s(&self.reg.dir));
        self.reg.run_in_tmp(&all).ok();
    }

    /// The site of each version of record 2, built in registries of their own.
    fn expected_sites(&self) -> [BTreeMap<String, Vec<u8>>; 3] {
        [0, 1, 2].map(|v| {
            self.use_version(v);
            let out = self.reg.tmp().join(format!("expected-{v}"));
            self.reg
                .run_in_tmp(&["build", "--quiet", "--out", s(&out), s(&self.reg.dir)])
                .ok();
            tree(&out)
        })
    }
}

/// Kills builds at every step; `before` prepares each killed build (after switching versions).
fn kill_at_every_step(args: &[&str], before: &dyn Fn(&Fixture)) -> usize {
    let fx = Fixture::new();
    let sites = fx.expected_sites();
    assert!(sites[0] != sites[1] && sites[1] != sites[2] && sites[0] != sites[2]);
    let out = fx.reg.path("public");
    fx.use_version(0);
    fx.build(&[]);
    assert_eq!(tree(&out), sites[0]);
    let mut current = 0;
    let mut kills = 0;
    for syscall in CHANGING {
        for n in 1.. {
            let next = (current + 1) % 3;
            fx.use_version(next);
            before(&fx);
            let through = build_killed_at(&fx.reg.dir, args, syscall, n);
            assert!(out.is_dir(), "{syscall} #{n}: no output after the kill");
            let seen = tree(&out);
            assert!(
                seen == sites[current] || seen == sites[next],
                "{syscall} #{n}: the output is neither the previous site nor the new one"
            );
            // The next build puts everything right and publishes the new site.
            fx.build(&[]);
            assert_eq!(tree(&out), sites[next], "{syscall} #{n}: after recovery");
            assert_eq!(leftovers(&fx.reg.dir), Vec::<String>::new());
            current = next;
            if through {
                eprintln!("{syscall}: {} kills", n - 1);
                break;
            }
            kills += 1;
        }
    }
    kills
}

#[test]
fn an_incremental_build_killed_at_any_step_leaves_a_whole_site() {
    let kills = kill_at_every_step(&[], &|_| {});
    assert!(kills > 30, "only {kills} kills");
}

#[test]
fn a_build_refilling_a_lost_spare_killed_at_any_step_leaves_a_whole_site() {
    let kills = kill_at_every_step(&[], &|fx| {
        let spare = fx.reg.path(".public.spare");
        if spare.exists() {
            std::fs::remove_dir_all(spare).unwrap();
        }
    });
    assert!(kills > 30, "only {kills} kills");
}

#[test]
fn a_full_build_killed_at_any_step_leaves_a_whole_site() {
    let kills = kill_at_every_step(&["--full"], &|_| {});
    assert!(kills > 60, "only {kills} kills");
}

#[test]
fn a_first_build_killed_at_any_step_leaves_no_site_or_a_whole_one() {
    let fx = Fixture::new();
    let sites = fx.expected_sites();
    fx.use_version(0);
    let out = fx.reg.path("public");
    for syscall in ["rename", "write", "mkdir"] {
        for n in 1.. {
            let _ = std::fs::remove_dir_all(&out);
            let _ = std::fs::remove_dir_all(fx.reg.path(".public.spare"));
            let through = build_killed_at(&fx.reg.dir, &[], syscall, n);
            if out.exists() {
                assert_eq!(tree(&out), sites[0], "{syscall} #{n}");
            }
            fx.build(&[]);
            assert_eq!(tree(&out), sites[0], "{syscall} #{n}: after recovery");
            if through {
                break;
            }
        }
    }
}

#[test]
fn incremental_builds_over_many_generations_equal_full_builds() {
    let fx = Fixture::new();
    let sites = fx.expected_sites();
    let out = fx.reg.path("public");
    for v in [0, 1, 1, 0, 2, 1, 0, 0, 2] {
        fx.use_version(v);
        fx.build(&[]);
        assert_eq!(tree(&out), sites[v]);
        // Never written through a hard link shared by the two generations.
        if fx.reg.path(".public.spare").exists() {
            let spare = tree(&fx.reg.path(".public.spare"));
            assert!(sites.contains(&spare));
        }
    }
}

#[test]
fn leftovers_of_killed_builds_of_earlier_versions_are_removed() {
    let fx = Fixture::new();
    fx.use_version(0);
    fx.build(&[]);
    for d in [
        ".public.tmp-4242",
        ".public.staging-4243",
        ".public.old-4244",
    ] {
        let dir = fx.reg.path(d).join("cert");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("1.html"), vec![b'x'; 100_000]).unwrap();
    }
    fx.build(&["--full"]);
    assert_eq!(leftovers(&fx.reg.dir), Vec::<String>::new());
}

/// `starmark build` held just before it publishes (strace delays its exchange of directories).
fn slow_build(reg: &Path) -> Child {
    Command::new(strace())
        .args([
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-e",
            "trace=renameat2",
            "-e",
        ])
        .arg("inject=renameat2:delay_enter=4000000")
        .arg(env!("CARGO_BIN_EXE_starmark"))
        .args(["build", "--quiet", "--full"])
        .arg(reg)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the registry's lock file names a pid; returns its text.
fn lock_holder(reg: &Path) -> String {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(reg.join(".starmark.lock")).unwrap_or_default();
        if text.starts_with("pid ") {
            return text.trim().to_string();
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no lock taken");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_second_build_sign_revoke_or_trust_during_a_build_is_refused_naming_the_holder() {
    let fx = Fixture::new();
    fx.use_version(0);
    fx.build(&[]);
    fx.use_version(1);
    fx.build(&[]);
    let key_id = fx.reg.issuer_key_id();
    let mut first = slow_build(&fx.reg.dir);
    let holder = lock_holder(&fx.reg.dir);
    assert!(holder.ends_with("(build)"), "{holder}");
    let pid = holder.trim_start_matches("pid ").split(' ').next().unwrap();
    for args in [
        vec!["build", "--quiet"],
        vec!["sign", "records/0004.md"],
        vec!["revoke", "1", "--reason", "security_flaw"],
        vec!["trust", "retire", &key_id, "--date", "2030-01-01"],
    ] {
        fx.reg.run(&args).code(2).stderr_has(&[
            "in use by another starmark process",
            &format!("pid {pid} (build)"),
        ]);
    }
    let status = first.wait().unwrap();
    assert!(status.success(), "the first build failed: {status:?}");
    // Once it is done, the others go through.
    let mut r = RecordText::new(4);
    r.model = "XL-NEW".into();
    fx.reg.write_record("0004.md", &r.text());
    fx.reg.run(&["sign", "records/0004.md"]).ok();
    fx.build(&[]);
    assert!(fx.reg.path("public/cert/4.html").is_file());
}

#[test]
fn a_build_into_an_output_another_build_is_writing_is_refused() {
    let fx = Fixture::new();
    fx.use_version(0);
    fx.build(&[]);
    let other = Reg::new();
    let mut first = slow_build(&fx.reg.dir);
    lock_holder(&fx.reg.dir);
    let out = fx.reg.path("public");
    other
        .run_in_tmp(&["build", "--quiet", "--out", s(&out), s(&other.dir)])
        .code(2)
        .stderr_has(&["the output directory is in use", "(build)"]);
    assert!(first.wait().unwrap().success());
}

#[test]
fn a_lock_left_by_a_dead_process_is_taken_over() {
    let fx = Fixture::new();
    fx.use_version(0);
    std::fs::write(fx.reg.path(".starmark.lock"), "pid 999999 (build)\n").unwrap();
    std::fs::write(fx.reg.path(".public.lock"), "pid 999999 (build)\n").unwrap();
    fx.build(&[]);
    assert!(fx.reg.path("public/index.html").is_file());
}
