//! Shared helpers: run the built `starmark` binary, registries made in temp dirs, record texts.
//!
//! Every registry made with [`Reg::new`] logs the stdout and stderr of every command run through
//! it; when it is dropped it asserts that no secret key of its temp dir appears in any of them.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// What every verify URL of a registry made by `init` (default base URL) starts with.
pub const URL_PREFIX: &str = "https://label.example.cn/verify/#";

/// Seconds per day.
pub const DAY: u64 = 86_400;

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Out {
    /// The command line, for failure messages.
    pub what: String,
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Out {
    /// Asserts the exit code; a failure shows the command and both outputs.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Out {
        assert_eq!(
            self.code, expected,
            "`{}` exited {} (expected {expected})\n--- stdout\n{}\n--- stderr\n{}",
            self.what, self.code, self.stdout, self.stderr
        );
        self
    }

    /// Asserts exit code 0.
    #[track_caller]
    pub fn ok(&self) -> &Out {
        self.code(0)
    }

    /// Asserts that stderr contains every needle.
    #[track_caller]
    pub fn stderr_has(&self, needles: &[&str]) -> &Out {
        for n in needles {
            assert!(
                self.stderr.contains(n),
                "`{}`: stderr lacks {n:?}\n--- stderr\n{}",
                self.what,
                self.stderr
            );
        }
        self
    }

    /// Asserts that stdout contains every needle.
    #[track_caller]
    pub fn stdout_has(&self, needles: &[&str]) -> &Out {
        for n in needles {
            assert!(
                self.stdout.contains(n),
                "`{}`: stdout lacks {n:?}\n--- stdout\n{}",
                self.what,
                self.stdout
            );
        }
        self
    }

    /// Parses stdout as one JSON value.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}`: stdout is not JSON ({e})\n--- stdout\n{}\n--- stderr\n{}",
                self.what, self.stdout, self.stderr
            )
        })
    }
}

/// Runs the built binary with `args` in `cwd`.
pub fn run_in(cwd: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_starmark"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run starmark");
    Out {
        what: format!("starmark {}", args.join(" ")),
        code: out
            .status
            .code()
            .expect("exit code (not killed by a signal)"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// The path as a `&str` (temp dirs are UTF-8 here).
pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Now, Unix seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// A registry made by `starmark init DIR --issuer-valid-from 2026-01-01` in its own temp dir.
pub struct Reg {
    tmp: tempfile::TempDir,
    /// The registry directory (`<tmp>/reg`).
    pub dir: PathBuf,
    log: RefCell<Vec<String>>,
}

impl Reg {
    /// A fresh registry.
    pub fn new() -> Reg {
        Reg::with_init_args(&[])
    }

    /// A fresh registry made with these further arguments of `init`.
    pub fn with_init_args(extra: &[&str]) -> Reg {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("reg");
        let reg = Reg {
            dir,
            tmp,
            log: RefCell::new(Vec::new()),
        };
        let mut args = vec!["init", s(&reg.dir), "--issuer-valid-from", "2026-01-01"];
        args.extend_from_slice(extra);
        reg.run_in_tmp(&args).ok();
        reg
    }

    /// The temp dir that holds the registry (for files outside it).
    pub fn tmp(&self) -> &Path {
        self.tmp.path()
    }

    /// A path inside the registry.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn logged(&self, out: Out) -> Out {
        let mut log = self.log.borrow_mut();
        log.push(out.stdout.clone());
        log.push(out.stderr.clone());
        out
    }

    /// Runs the binary in the registry directory (the registry is found from there).
    pub fn run(&self, args: &[&str]) -> Out {
        self.logged(run_in(&self.dir, args))
    }

    /// Runs the binary in the temp dir, outside the registry.
    pub fn run_in_tmp(&self, args: &[&str]) -> Out {
        self.logged(run_in(self.tmp.path(), args))
    }

    /// Adds text to the output log, as if a command had printed it.
    pub fn log_output(&self, text: &str) {
        self.log.borrow_mut().push(text.to_string());
    }

    /// Writes `records/<name>`; returns its path.
    pub fn write_record(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path("records").join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write record");
        path
    }

    /// Writes and signs `records/<name>`; returns the verify URL that `sign` printed.
    pub fn signed(&self, name: &str, text: &str) -> String {
        self.write_record(name, text);
        let out = self.run(&["sign", &format!("records/{name}")]);
        out.ok();
        let line = out.stdout.trim_end();
        let (file, url) = line.split_once('\t').expect("sign prints FILE<TAB>URL");
        assert_eq!(file, format!("records/{name}"));
        url.to_string()
    }

    /// `verify TARGET --json EXTRA...`: the exit code and the JSON.
    pub fn verify(&self, target: &str, extra: &[&str]) -> (i32, Value) {
        let mut args = vec!["verify", target, "--json"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        let json = out.json();
        (out.code, json)
    }

    /// `trust list --json`.
    pub fn trust_list(&self) -> Value {
        let out = self.run(&["trust", "list", "--json"]);
        out.ok();
        out.json()
    }

    /// The key id of the issuer key made by `init`.
    pub fn issuer_key_id(&self) -> String {
        let list = self.trust_list();
        let issuers = list["issuers"].as_array().expect("issuers");
        assert_eq!(issuers.len(), 1, "{list}");
        issuers[0]["key_id"].as_str().expect("key_id").to_string()
    }

    /// Sets `[revocation] validity_days` in starmark.toml and re-signs the revocation list, so
    /// it stays fresh for `days` from now (verdict tests at far dates without stale data).
    pub fn fresh_for_days(&self, days: u32) {
        let path = self.path("starmark.toml");
        let text = std::fs::read_to_string(&path).expect("read config");
        assert!(text.contains("validity_days = 7"), "{text}");
        let text = text.replace("validity_days = 7", &format!("validity_days = {days}"));
        std::fs::write(&path, text).expect("write config");
        self.run(&["revoke", "--refresh"]).ok();
    }

    /// The hex of every secret key file in the temp dir.
    pub fn secret_hexes(&self) -> Vec<String> {
        let mut files = Vec::new();
        find_files(self.tmp.path(), "key", &mut files);
        files
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(f).expect("read key");
                let hex: Vec<&str> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .collect();
                assert_eq!(hex.len(), 1, "{}: {text}", f.display());
                assert_eq!(hex[0].len(), 64, "{}: {text}", f.display());
                hex[0].to_ascii_lowercase()
            })
            .collect()
    }

    /// Asserts that no secret key hex appears in any output logged so far; returns how many
    /// secrets and outputs were compared.
    pub fn assert_no_secret_printed(&self) -> (usize, usize) {
        let secrets = self.secret_hexes();
        let log = self.log.borrow();
        for out in log.iter() {
            let lower = out.to_ascii_lowercase();
            for secret in &secrets {
                assert!(
                    !lower.contains(secret.as_str()),
                    "a secret key was printed:\n{out}"
                );
            }
        }
        (secrets.len(), log.len())
    }
}

impl Drop for Reg {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_no_secret_printed();
        }
    }
}

/// Every file under `dir` whose extension is `ext`.
pub fn find_files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read dir") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            find_files(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

/// A record file's text, built from fields (defaults: a router, tier 2, valid 2026-01-01 to
/// 2035-12-31, so it is valid at any time these tests run, and inside the issuer key's period).
#[derive(Clone, Debug)]
pub struct RecordText {
    /// Certificate serial.
    pub serial: u64,
    /// Manufacturer.
    pub manufacturer: String,
    /// Model.
    pub model: String,
    /// Category code.
    pub category: String,
    /// Tier.
    pub tier: u8,
    /// First day.
    pub valid_from: String,
    /// Last day.
    pub valid_until: String,
    /// Markdown body.
    pub body: String,
}

impl RecordText {
    /// The default record with this serial.
    pub fn new(serial: u64) -> RecordText {
        RecordText {
            serial,
            manufacturer: "深圳市星联科技有限公司".into(),
            model: "XL-AX3000".into(),
            category: "router".into(),
            tier: 2,
            valid_from: "2026-01-01".into(),
            valid_until: "2035-12-31".into(),
            body: "## Test results\n\nAll baseline requirements met.\n".into(),
        }
    }

    /// The file text.
    pub fn text(&self) -> String {
        format!(
            "+++\nserial = {}\nmanufacturer = \"{}\"\nproduct = \"无线路由器\"\nmodel = \"{}\"\n\
             category = \"{}\"\nfirmware = [\"1.2.0\"]\ntier = {}\nissued = {}\nvalid_from = {}\n\
             valid_until = {}\nlab = \"CCRC\"\n[[evidence]]\nname = \"report.pdf\"\n\
             sha256 = \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"\n+++\n{}",
            self.serial,
            self.manufacturer,
            self.model,
            self.category,
            self.tier,
            self.valid_from,
            self.valid_from,
            self.valid_until,
            self.body
        )
    }
}

/// The digits of a verify URL.
pub fn digits(url: &str) -> &str {
    url.strip_prefix(URL_PREFIX)
        .unwrap_or_else(|| panic!("{url:?} does not start with {URL_PREFIX}"))
}

/// Asserts that `url` is `URL_PREFIX` followed by one or more digits.
#[track_caller]
pub fn assert_verify_url(url: &str) {
    let d = digits(url);
    assert!(
        !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()),
        "{url:?} is not a verify URL"
    );
}

/// Flips the lowest bit of byte `index` (negative: from the end) of a file.
pub fn flip_byte(path: &Path, index: isize) {
    let mut bytes = std::fs::read(path).expect("read");
    let i = if index < 0 {
        bytes.len() - index.unsigned_abs()
    } else {
        index.unsigned_abs()
    };
    bytes[i] ^= 1;
    std::fs::write(path, bytes).expect("write");
}
