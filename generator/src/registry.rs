//! A registry on disk: `starmark.toml`, its keys, the signed trust and revocation lists, and the
//! record files.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use starmark_core::error::ListError;
use starmark_core::log::WitnessKey;
use starmark_core::record::{Record, RecordError};
use starmark_core::{PublicKey, RevocationList, SecretKey, TrustList};

use crate::{fsutil, keyfile};

/// The registry configuration file name.
pub const CONFIG_FILE: &str = "starmark.toml";
/// The signed trust list, relative to the registry.
pub const TRUST_LIST_FILE: &str = "trust-list.bin";
/// The signed revocation list, relative to the registry.
pub const REVOCATION_LIST_FILE: &str = "revocation-list.bin";
/// The record directory, relative to the registry.
pub const RECORDS_DIR: &str = "records";
/// The transparency log's directory, relative to the registry (published as `log/` of the site).
pub const LOG_DIR: &str = "log";

/// `starmark.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Registry name (Chinese).
    pub name: String,
    /// Registry name (English).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// Public base URL; labels point to `<base_url>/verify/#digits`.
    pub base_url: String,
    /// Languages of the site.
    #[serde(default = "default_languages")]
    pub languages: Vec<String>,
    /// Key files.
    pub keys: KeyPaths,
    /// Revocation list settings.
    #[serde(default)]
    pub revocation: RevocationSettings,
    /// The largest record file `sign` and `build` accept, in bytes (default 1 MiB); checked before
    /// a record is read.
    #[serde(default = "default_max_record_bytes")]
    pub max_record_bytes: u64,
    /// A font file for label text (TTF/OTF/TTC with CJK glyphs), relative to the registry.
    /// Default: the font built into starmark (Noto Sans CJK SC, GB 2312 subset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_font: Option<PathBuf>,
    /// The label size (`[label]`: `width_mm`, `height_mm`); default the smallest legible one.
    #[serde(default, skip_serializing_if = "crate::label::LabelSize::is_default")]
    pub label: crate::label::LabelSize,
    /// The product catalogue.
    #[serde(rename = "category")]
    pub categories: Vec<Category>,
    /// The witnesses whose cosignatures of the log checkpoint the registry publishes and counts
    /// (`[[witness]]`, each with its verifier key).
    #[serde(default, rename = "witness", skip_serializing_if = "Vec::is_empty")]
    pub witnesses: Vec<Witness>,
}

/// A known witness (`[[witness]]` in starmark.toml).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Witness {
    /// Its verifier key, `name+keyid+base64(0x04 ‖ Ed25519 key)` (C2SP tlog-cosignature), as
    /// `starmark audit --cosign` prints it.
    pub vkey: String,
}

fn default_languages() -> Vec<String> {
    vec!["zh".into(), "en".into()]
}

/// The default of [`Config::max_record_bytes`]: 1 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: u64 = 1 << 20;

fn default_max_record_bytes() -> u64 {
    DEFAULT_MAX_RECORD_BYTES
}

/// Where the keys are, relative to the registry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPaths {
    /// The root public key, pinned in verifiers.
    pub root_public: PathBuf,
    /// The root secret key (keep it offline; needed only by `starmark trust`, which also takes
    /// `--root-key`). Optional: commands that do not sign never read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_secret: Option<PathBuf>,
    /// The issuer secret key used by `sign` and `revoke`. Optional: `build`, `serve`, `verify`
    /// and the other commands that do not sign never read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_secret: Option<PathBuf>,
    /// The log secret key that signs the transparency log's checkpoints (`sign`, `revoke`,
    /// `trust` and `log backfill` append to the log). Absent in registries made before the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_secret: Option<PathBuf>,
}

/// Revocation list settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationSettings {
    /// Days from signing to the list's next-update; past it, verifiers say the data is stale.
    pub validity_days: u32,
}

impl Default for RevocationSettings {
    fn default() -> Self {
        RevocationSettings { validity_days: 7 }
    }
}

/// One catalogue category.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// The code records use.
    pub code: String,
    /// Chinese name.
    pub zh: String,
    /// English name.
    pub en: String,
}

/// An open registry.
#[derive(Debug)]
pub struct Registry {
    /// Its directory.
    pub dir: PathBuf,
    /// Its configuration.
    pub config: Config,
}

impl Registry {
    /// Opens the registry in `dir`, checking the configuration.
    pub fn open(dir: &Path) -> Result<Registry> {
        let path = dir.join(CONFIG_FILE);
        if std::fs::symlink_metadata(&path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
        {
            let shown = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if !dir.as_os_str().is_empty() && !dir.is_dir() {
                bail!(
                    "{}: no such directory: a registry is a directory with a {CONFIG_FILE}; make one with `starmark init {}`",
                    shown.display(),
                    shown.display()
                );
            }
            bail!(
                "{}: not a starmark registry: there is no {CONFIG_FILE} in it; make a registry with `starmark init DIR`, or give the directory of an existing one",
                shown.display()
            );
        }
        let text = fsutil::read_text(&path)?;
        let config: Config = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let message = plain_toml_message(e.message());
            match line {
                Some(l) => anyhow::anyhow!("{}: line {l}: {message}", path.display()),
                None => anyhow::anyhow!("{}: {message}", path.display()),
            }
        })?;
        config
            .label
            .check()
            .with_context(|| path.display().to_string())?;
        let mut seen = BTreeMap::new();
        for (i, c) in config.categories.iter().enumerate() {
            starmark_core::claim::check_category(&c.code)
                .with_context(|| format!("{}: category #{}", path.display(), i + 1))?;
            if seen.insert(c.code.clone(), i).is_some() {
                bail!("{}: category {:?} is defined twice", path.display(), c.code);
            }
        }
        let mut witnesses = BTreeMap::new();
        for (i, w) in config.witnesses.iter().enumerate() {
            let key = WitnessKey::from_vkey(&w.vkey).with_context(|| {
                format!("{}: [[witness]] #{}: field vkey", path.display(), i + 1)
            })?;
            if witnesses.insert(key.name().to_string(), i).is_some() {
                bail!(
                    "{}: [[witness]] #{}: witness {:?} is listed twice",
                    path.display(),
                    i + 1,
                    key.name()
                );
            }
        }
        if !(config.base_url.starts_with("https://") || config.base_url.starts_with("http://")) {
            bail!(
                "{}: field base_url: {:?} must start with https:// or http://",
                path.display(),
                config.base_url
            );
        }
        Ok(Registry {
            dir: dir.to_path_buf(),
            config,
        })
    }

    /// Finds the registry: `explicit` if given, else the first directory with a starmark.toml
    /// from `start` (or the current directory) upwards.
    pub fn locate(explicit: Option<&Path>, start: Option<&Path>) -> Result<Registry> {
        if let Some(dir) = explicit {
            return Registry::open(dir);
        }
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let mut candidates = Vec::new();
        if let Some(s) = start {
            let abs = if s.is_absolute() {
                s.to_path_buf()
            } else {
                cwd.join(s)
            };
            candidates.extend(abs.ancestors().map(Path::to_path_buf));
        }
        candidates.extend(cwd.ancestors().map(Path::to_path_buf));
        for dir in candidates {
            if dir.join(CONFIG_FILE).is_file() {
                return Registry::open(&dir);
            }
        }
        bail!(
            "no {CONFIG_FILE} found here or above; pass --registry DIR or run `starmark init DIR`"
        )
    }

    /// A path relative to the registry.
    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.dir.join(rel)
    }

    /// The pinned root public key.
    pub fn root_public_key(&self) -> Result<PublicKey> {
        keyfile::read_public(&self.path(&self.config.keys.root_public))
    }

    /// The trust list, checked against the root key.
    pub fn trust_list(&self) -> Result<TrustList> {
        let root = self.root_public_key()?;
        let path = self.path(TRUST_LIST_FILE);
        let bytes = fsutil::read(&path)?;
        TrustList::decode_verified(&bytes, &root)
            .with_context(|| format!("{}: trust list refused", path.display()))
    }

    /// The revocation list, checked against the trust list.
    pub fn revocation_list(&self, trust: &TrustList) -> Result<RevocationList> {
        let path = self.path(REVOCATION_LIST_FILE);
        let bytes = fsutil::read(&path)?;
        RevocationList::decode_verified(&bytes, trust)
            .with_context(|| format!("{}: revocation list refused", path.display()))
    }

    /// The revocation list, or `None` with a warning when its only fault is that the trust list
    /// now marks its signing key compromised (verdicts then say the revocation data is stale).
    pub fn revocation_list_unless_compromised(
        &self,
        trust: &TrustList,
    ) -> Result<Option<RevocationList>> {
        let path = self.path(REVOCATION_LIST_FILE);
        let bytes = fsutil::read(&path)?;
        match RevocationList::decode_verified(&bytes, trust) {
            Ok(list) => Ok(Some(list)),
            Err(starmark_core::Error::List(ListError::CompromisedSigner { key_id })) => {
                errln!(
                    "starmark: warning: {}: signed by key {key_id}, now marked compromised; it is ignored until the issuer re-signs it (`starmark revoke --refresh` with a good key)",
                    path.display()
                );
                Ok(None)
            }
            Err(e) => Err(anyhow::Error::new(e)
                .context(format!("{}: revocation list refused", path.display()))),
        }
    }

    /// The revocation list for re-signing by the issuer: a list whose signing key is now marked
    /// compromised is still read, after checking that its signature verifies under that key, so
    /// its entries carry over to the list the new key signs.
    pub fn revocation_list_for_resigning(&self, trust: &TrustList) -> Result<RevocationList> {
        let path = self.path(REVOCATION_LIST_FILE);
        let bytes = fsutil::read(&path)?;
        match RevocationList::decode_verified(&bytes, trust) {
            Ok(list) => Ok(list),
            Err(starmark_core::Error::List(ListError::CompromisedSigner { .. })) => {
                let mut healed = trust.clone();
                for k in &mut healed.issuers {
                    k.compromised_since = None;
                }
                RevocationList::decode_verified(&bytes, &healed)
                    .with_context(|| format!("{}: revocation list refused", path.display()))
            }
            Err(e) => Err(anyhow::Error::new(e)
                .context(format!("{}: revocation list refused", path.display()))),
        }
    }

    /// The issuer secret key (`[keys] issuer_secret`); an error naming the key when it is not
    /// configured.
    pub fn issuer_secret(&self) -> Result<SecretKey> {
        let Some(rel) = &self.config.keys.issuer_secret else {
            bail!(
                "{}: [keys] issuer_secret is not set: signing needs the issuer's secret key; set issuer_secret = \"keys/NAME.key\" (a key made by `starmark keygen keys/NAME` and added with `starmark trust add keys/NAME.pub --name NAME`)",
                self.path(CONFIG_FILE).display()
            );
        };
        keyfile::read_secret(&self.path(rel))
    }

    /// The log secret key (`[keys] log_secret`); an error saying how to make one when it is not
    /// configured.
    pub fn log_secret(&self) -> Result<SecretKey> {
        let Some(rel) = &self.config.keys.log_secret else {
            bail!(
                "{}: [keys] log_secret is not set: make a log key with `starmark keygen keys/log`, add it with `starmark trust add keys/log.pub --purpose log --name NAME`, then set log_secret = \"keys/log.key\"",
                self.path(CONFIG_FILE).display()
            );
        };
        keyfile::read_secret(&self.path(rel))
    }

    /// The root secret key, from `explicit` or the configured path (`[keys] root_secret`); an
    /// error naming the key when neither is given.
    pub fn root_secret(&self, explicit: Option<&Path>) -> Result<SecretKey> {
        let path = match (explicit, &self.config.keys.root_secret) {
            (Some(p), _) => p.to_path_buf(),
            (None, Some(rel)) => self.path(rel),
            (None, None) => bail!(
                "{}: [keys] root_secret is not set: changing the trust list needs the root secret key; pass --root-key FILE or set root_secret = \"keys/root.key\"",
                self.path(CONFIG_FILE).display()
            ),
        };
        keyfile::read_secret(&path)
    }

    /// The known witnesses' keys (`[[witness]]`), checked when the registry was opened.
    pub fn witness_keys(&self) -> Result<Vec<WitnessKey>> {
        self.config
            .witnesses
            .iter()
            .map(|w| {
                WitnessKey::from_vkey(&w.vkey)
                    .with_context(|| format!("[[witness]] vkey {:?}", w.vkey))
            })
            .collect()
    }

    /// The catalogue entry for a code.
    pub fn category(&self, code: &str) -> Option<&Category> {
        self.config.categories.iter().find(|c| c.code == code)
    }

    /// The record files (`records/**/*.md`) that the walk accepts, sorted by path. Entries it
    /// refuses ([`Scan::problems`]) are left out: for look-ups that a bad file elsewhere in
    /// `records/` must not block.
    pub fn record_files(&self) -> Result<Vec<PathBuf>> {
        Ok(self
            .scan_records()?
            .files
            .into_iter()
            .map(|f| f.path)
            .collect())
    }

    /// Every record file (`records/**/*.md`), sorted by path, with its metadata and its
    /// signature file's, and every entry of `records/` that breaks the rules of a record folder
    /// (see [`Scan::problems`]). One listing per directory, directories in parallel, `stat`
    /// relative to the listed directory: at 100,000 records this is most of a rebuild's file
    /// system work. A symbolic link to a directory is never followed, so the walk always ends.
    pub fn scan_records(&self) -> Result<Scan> {
        let root = self.path(RECORDS_DIR);
        if !root.exists() {
            return Ok(Scan::default());
        }
        let canon = root
            .canonicalize()
            .with_context(|| format!("{}: cannot resolve", root.display()))?;
        let walk = Walk { canon: &canon };
        let mut scan = walk.dir(&root, &canon)?;
        scan.files
            .par_sort_unstable_by(|a, b| a.path.as_os_str().cmp(b.path.as_os_str()));
        scan.problems.sort();
        Ok(scan)
    }

    /// Reads and parses one record file under this registry's size limit
    /// (`max_record_bytes`).
    pub fn load_record(&self, path: &Path) -> Result<(Record, Vec<u8>)> {
        load_record(path, self.config.max_record_bytes)
    }
}

/// What [`Registry::scan_records`] found.
#[derive(Default)]
pub struct Scan {
    /// The record files, sorted by path.
    pub files: Vec<RecordFile>,
    /// One message per refused entry, naming it, sorted: a symbolic link that cannot be
    /// followed, loops back to a folder above it, leads outside `records/` or to a directory; a
    /// `.md` or `.sig` entry that is not a regular file; a record whose extension is `md` in
    /// another case (`X.MD`).
    pub problems: Vec<String>,
}

impl Scan {
    /// Fails, listing every problem, when there is any.
    pub fn check(&self, records: &Path) -> Result<()> {
        if self.problems.is_empty() {
            return Ok(());
        }
        bail!(
            "{} bad entr{} in {}:\n  {}",
            self.problems.len(),
            if self.problems.len() == 1 { "y" } else { "ies" },
            records.display(),
            self.problems.join("\n  ")
        )
    }
}

/// A record file found by [`Registry::scan_records`].
pub struct RecordFile {
    /// `records/.../NAME.md`.
    pub path: PathBuf,
    /// Its metadata, if it can be read.
    pub meta: Option<std::fs::Metadata>,
    /// The metadata of `NAME.sig` beside it, if there is one.
    pub sig_meta: Option<std::fs::Metadata>,
}

/// The walk of `records/`: `canon` is its canonical path.
struct Walk<'a> {
    canon: &'a Path,
}

/// What a directory entry is to the walk.
enum Kind {
    Record,
    Signature,
    /// `md` in another case.
    WrongCase,
    Other,
}

fn kind(path: &Path) -> Kind {
    match path.extension() {
        Some(e) if e == "md" => Kind::Record,
        Some(e) if e == "sig" => Kind::Signature,
        Some(e) if e.eq_ignore_ascii_case("md") => Kind::WrongCase,
        _ => Kind::Other,
    }
}

impl Walk<'_> {
    /// Lists `dir`, whose canonical path is `canon_dir` (it is reached through real directories
    /// only), and its sub-directories.
    fn dir(&self, dir: &Path, canon_dir: &Path) -> Result<Scan> {
        let listing = |e: std::io::Error| anyhow::anyhow!("{}: cannot list: {e}", dir.display());
        let mut records = Vec::new();
        let mut sigs: HashMap<OsString, std::fs::Metadata> = HashMap::new();
        let mut subdirs = Vec::new();
        let mut problems = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(listing)? {
            let entry = entry.map_err(listing)?;
            let path = entry.path();
            let file_type = entry.file_type().map_err(listing)?;
            let (is_file, meta) = if file_type.is_symlink() {
                match self.follow(&path, canon_dir) {
                    Ok(m) => (m.is_file(), Some(m)),
                    Err(problem) => {
                        problems.push(problem);
                        continue;
                    }
                }
            } else if file_type.is_dir() {
                subdirs.push((path, canon_dir.join(entry.file_name())));
                continue;
            } else {
                (file_type.is_file(), None)
            };
            let kind = kind(&path);
            if matches!(kind, Kind::Record | Kind::Signature) && !is_file {
                problems.push(format!("{}: not a regular file", path.display()));
                continue;
            }
            let meta = || meta.or_else(|| entry.metadata().ok());
            match kind {
                Kind::Record => records.push((meta(), path)),
                Kind::Signature => {
                    if let (Some(stem), Some(m)) = (path.file_stem(), meta()) {
                        sigs.insert(stem.to_os_string(), m);
                    }
                }
                Kind::WrongCase => problems.push(wrong_case(&path)),
                Kind::Other => {}
            }
        }
        let files = records
            .into_iter()
            .map(|(meta, path)| {
                let sig_meta = path.file_stem().and_then(|s| sigs.remove(s));
                RecordFile {
                    path,
                    meta,
                    sig_meta,
                }
            })
            .collect();
        let mut scan = Scan { files, problems };
        let nested: Vec<Scan> = subdirs
            .par_iter()
            .map(|(d, c)| self.dir(d, c))
            .collect::<Result<_>>()?;
        for n in nested {
            scan.files.extend(n.files);
            scan.problems.extend(n.problems);
        }
        Ok(scan)
    }

    /// The metadata of the file a symbolic link in `canon_dir` leads to, or why it is refused:
    /// only links to files inside `records/` are followed.
    fn follow(&self, link: &Path, canon_dir: &Path) -> Result<std::fs::Metadata, String> {
        let refused = |why: String| format!("{}: symbolic link {why}", link.display());
        let target =
            std::fs::canonicalize(link).map_err(|e| refused(format!("cannot be followed: {e}")))?;
        let meta =
            std::fs::metadata(&target).map_err(|e| refused(format!("cannot be followed: {e}")))?;
        if meta.is_dir() && canon_dir.starts_with(&target) {
            return Err(refused(format!("loops back to {}", self.show(&target))));
        }
        if !target.starts_with(self.canon) {
            return Err(refused(format!(
                "leads outside the registry's {RECORDS_DIR}/ ({})",
                target.display()
            )));
        }
        if meta.is_dir() {
            return Err(refused(format!(
                "leads to the directory {}, which is listed already: folders of records must be real directories",
                self.show(&target)
            )));
        }
        Ok(meta)
    }

    /// A canonical path as `records/...` when it is inside `records/`.
    fn show(&self, target: &Path) -> String {
        match target.strip_prefix(self.canon) {
            Ok(rel) if rel.as_os_str().is_empty() => format!("{RECORDS_DIR}/"),
            Ok(rel) => format!("{RECORDS_DIR}/{}/", rel.display()),
            Err(_) => target.display().to_string(),
        }
    }
}

fn wrong_case(path: &Path) -> String {
    format!(
        "{}: a record file's name ends in .md in lower case: rename it to {}.md",
        path.display(),
        path.file_stem().unwrap_or_default().to_string_lossy()
    )
}

/// Checks that `path` names a record file: its extension is `md`, in lower case.
pub fn check_record_extension(path: &Path) -> Result<()> {
    match kind(path) {
        Kind::Record => Ok(()),
        Kind::WrongCase => bail!(wrong_case(path)),
        Kind::Signature | Kind::Other => bail!(
            "{}: not a record file: a record file is named SERIAL.md",
            path.display()
        ),
    }
}

/// Checks that a record file is named by its serial: the file name without `.md`, read as a
/// decimal number with optional leading zeros, is the serial (`15.md` or `0015.md` for serial
/// 15).
pub fn check_file_name(path: &Path, serial: u64) -> Result<()> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let digits = stem.trim_start_matches('0');
    let named = !stem.is_empty()
        && stem.bytes().all(|b| b.is_ascii_digit())
        && (if digits.is_empty() {
            serial == 0
        } else {
            digits.parse::<u64>().is_ok_and(|n| n == serial)
        });
    if !named {
        bail!(
            "{}: the file name does not match serial {serial}: a record file is named by its serial; rename it to {serial}.md (leading zeros are allowed)",
            path.display()
        );
    }
    Ok(())
}

/// Fails when a record file of `len` bytes is over the limit `max`.
pub fn check_record_size(path: &Path, len: u64, max: u64) -> Result<()> {
    if len > max {
        bail!(
            "{}: {len} bytes, over the limit of {max} (max_record_bytes in {CONFIG_FILE})",
            path.display()
        );
    }
    Ok(())
}

/// Reads a record file of at most `max` bytes: its size is checked before it is read, and no
/// more than `max + 1` bytes are read should it grow meanwhile.
fn read_record_file(path: &Path, max: u64) -> Result<Vec<u8>> {
    let cannot = || format!("{}: cannot read", path.display());
    let meta = std::fs::metadata(path).with_context(cannot)?;
    if !meta.is_file() {
        bail!("{}: not a regular file", path.display());
    }
    check_record_size(path, meta.len(), max)?;
    let file = std::fs::File::open(path).with_context(cannot)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(cannot)?;
    if bytes.len() as u64 > max {
        bail!(
            "{}: more than {max} bytes, over the limit (max_record_bytes in {CONFIG_FILE})",
            path.display()
        );
    }
    Ok(bytes)
}

/// Reads and parses one record file of at most `max_bytes`; returns the record and the file's
/// exact bytes.
pub fn load_record(path: &Path, max_bytes: u64) -> Result<(Record, Vec<u8>)> {
    let bytes = read_record_file(path, max_bytes)?;
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("{}: not valid UTF-8", path.display()))?;
    let record = Record::parse(text)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), with_suggestion(e)))?;
    Ok((record, bytes))
}

/// A TOML or serde message about `starmark.toml` in plain words: types named as a person would
/// ("a whole number", "text in quotes"), no Rust type names.
fn plain_toml_message(raw: &str) -> String {
    let words = |t: &str| -> String {
        let t = t.trim();
        let (kind, value) = t.split_once(' ').unwrap_or((t, ""));
        let value = value.trim_matches('`');
        match kind {
            "string" => format!("text {value}"),
            "integer" | "floating" => format!("the number {}", value.trim_start_matches("point `")),
            "boolean" => value.to_string(),
            "sequence" => "a list".into(),
            "map" => "a table".into(),
            "u8" | "u16" | "u32" | "u64" | "i64" | "i32" | "usize" => "a whole number".into(),
            "a" if value == "string" => "text in quotes".into(),
            "a" if value == "sequence" => "a list".into(),
            "a" if value == "boolean" => "true or false".into(),
            _ => t.to_string(),
        }
    };
    if let Some(rest) = raw.strip_prefix("invalid type: ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            return format!("{} where {} belongs", words(found), words(expected));
        }
    }
    if let Some(rest) = raw.strip_prefix("unknown field `") {
        if let Some((field, known)) = rest.split_once("`, expected ") {
            return format!(
                "unknown key `{field}` (the keys here are: {})",
                known.replace("one of ", "").replace('`', "")
            );
        }
    }
    if let Some(rest) = raw.strip_prefix("missing field `") {
        return format!("missing key `{}", rest.trim());
    }
    if raw.starts_with("duplicate key") {
        return "this key is set twice: keep one".into();
    }
    raw.replace("TOML ", "").trim().to_string()
}

/// Where a field of a record file is, for messages: `PATH: line N: field FIELD`, or
/// `PATH: field FIELD` when the file does not set it.
pub fn at_field(path: &Path, bytes: &[u8], field: &str) -> String {
    let line = std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| starmark_core::record::line_of(text, field));
    match line {
        Some(l) => format!("{}: line {l}: field {field}", path.display()),
        None => format!("{}: field {field}", path.display()),
    }
}

/// A record error with a "did you mean" for a misspelled field.
fn with_suggestion(mut e: RecordError) -> RecordError {
    if e.message == "unknown field" {
        if let Some(field) = &e.field {
            let known = if e.hint.as_deref().is_some_and(|h| h.contains("serial")) {
                starmark_core::record::FIELDS
            } else {
                starmark_core::record::EVIDENCE_FIELDS
            };
            let closest = known
                .iter()
                .map(|k| (strsim::damerau_levenshtein(field, k), *k))
                .min();
            if let Some((distance, name)) = closest {
                // A slip of a few letters, not another word.
                if distance <= 2.max(name.len() / 4) && distance < name.len() {
                    e.hint = Some(format!("did you mean `{name}`?"));
                }
            }
        }
    }
    e
}

/// The signature file of a record: `RECORD.sig` beside `RECORD.md`.
pub fn signature_path(record: &Path) -> PathBuf {
    record.with_extension("sig")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_file_is_named_by_its_serial() {
        let named = |name: &str, serial: u64| check_file_name(Path::new(name), serial).is_ok();
        assert!(named("records/15.md", 15));
        assert!(named("records/0015.md", 15));
        assert!(named("records/a/b/00000000000000000000000000015.md", 15));
        assert!(named("0.md", 0));
        assert!(named("000.md", 0));
        assert!(named("18446744073709551615.md", u64::MAX));
        assert!(!named("records/0099.md", 15));
        assert!(!named("records/150.md", 15));
        assert!(!named("records/draft.md", 1));
        assert!(!named("records/.md", 0));
        assert!(!named("records/+15.md", 15));
        assert!(!named("records/ 15.md", 15));
        assert!(!named("records/1_5.md", 15));
        assert!(!named("records/15a.md", 15));
        assert!(!named("records/١٥.md", 15));
        assert!(!named("18446744073709551616.md", 0));
        let e = check_file_name(Path::new("records/0099.md"), 15).unwrap_err();
        assert_eq!(
            e.to_string(),
            "records/0099.md: the file name does not match serial 15: a record file is named by \
             its serial; rename it to 15.md (leading zeros are allowed)"
        );
    }

    #[test]
    fn a_record_file_name_ends_in_lower_case_md() {
        assert!(check_record_extension(Path::new("records/1.md")).is_ok());
        for name in ["1.MD", "1.Md", "1.mD"] {
            let e = check_record_extension(Path::new(name)).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "{name}: a record file's name ends in .md in lower case: rename it to 1.md"
                )
            );
        }
        for name in ["1.txt", "1.sig", "1", "1.md.bak"] {
            assert!(check_record_extension(Path::new(name)).is_err(), "{name}");
        }
    }

    #[test]
    fn the_size_limit_is_inclusive() {
        let p = Path::new("records/1.md");
        assert!(check_record_size(p, 1_048_576, 1_048_576).is_ok());
        assert_eq!(
            check_record_size(p, 1_048_577, 1_048_576)
                .unwrap_err()
                .to_string(),
            "records/1.md: 1048577 bytes, over the limit of 1048576 (max_record_bytes in \
             starmark.toml)"
        );
    }
}
