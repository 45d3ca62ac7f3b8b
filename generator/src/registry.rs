//! A registry on disk: `starmark.toml`, its keys, the signed trust and revocation lists, and the
//! record files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use starmark_core::error::ListError;
use starmark_core::record::Record;
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
    /// A font file for label text (TTF/OTF/TTC with CJK glyphs), relative to the registry.
    /// Default: the system's Noto Sans CJK (Debian package fonts-noto-cjk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_font: Option<PathBuf>,
    /// The product catalogue.
    #[serde(rename = "category")]
    pub categories: Vec<Category>,
}

fn default_languages() -> Vec<String> {
    vec!["zh".into(), "en".into()]
}

/// Where the keys are, relative to the registry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPaths {
    /// The root public key, pinned in verifiers.
    pub root_public: PathBuf,
    /// The root secret key (keep it offline; needed only by `starmark trust`).
    pub root_secret: PathBuf,
    /// The issuer secret key used by `sign` and `revoke`.
    pub issuer_secret: PathBuf,
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
        let text = fsutil::read_text(&path)?;
        let config: Config = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            match line {
                Some(l) => anyhow::anyhow!("{}: line {l}: {}", path.display(), e.message()),
                None => anyhow::anyhow!("{}: {}", path.display(), e.message()),
            }
        })?;
        let mut seen = BTreeMap::new();
        for (i, c) in config.categories.iter().enumerate() {
            starmark_core::claim::check_category(&c.code)
                .with_context(|| format!("{}: category #{}", path.display(), i + 1))?;
            if seen.insert(c.code.clone(), i).is_some() {
                bail!("{}: category {:?} is defined twice", path.display(), c.code);
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
                eprintln!(
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

    /// The issuer secret key.
    pub fn issuer_secret(&self) -> Result<SecretKey> {
        keyfile::read_secret(&self.path(&self.config.keys.issuer_secret))
    }

    /// The root secret key, from `explicit` or the configured path.
    pub fn root_secret(&self, explicit: Option<&Path>) -> Result<SecretKey> {
        let path = explicit.map_or_else(
            || self.path(&self.config.keys.root_secret),
            Path::to_path_buf,
        );
        keyfile::read_secret(&path)
    }

    /// The catalogue entry for a code.
    pub fn category(&self, code: &str) -> Option<&Category> {
        self.config.categories.iter().find(|c| c.code == code)
    }

    /// Every record file (`records/**/*.md`), sorted by path.
    pub fn record_files(&self) -> Result<Vec<PathBuf>> {
        Ok(self.scan_records()?.into_iter().map(|f| f.path).collect())
    }

    /// Every record file (`records/**/*.md`), sorted by path, with its metadata and its
    /// signature file's. One listing per directory, directories in parallel, `stat` relative to
    /// the listed directory: at 100,000 records this is most of a rebuild's file system work.
    pub fn scan_records(&self) -> Result<Vec<RecordFile>> {
        let mut found = scan_dir(&self.path(RECORDS_DIR))?;
        found.par_sort_unstable_by(|a, b| a.path.as_os_str().cmp(b.path.as_os_str()));
        Ok(found)
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

fn scan_dir(dir: &Path) -> Result<Vec<RecordFile>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let listing = |e: std::io::Error| anyhow::anyhow!("{}: cannot list: {e}", dir.display());
    let mut records = Vec::new();
    let mut sigs: std::collections::HashMap<std::ffi::OsString, std::fs::Metadata> =
        std::collections::HashMap::new();
    let mut subdirs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(listing)? {
        let entry = entry.map_err(listing)?;
        if is_dir_entry(&entry) {
            subdirs.push(entry.path());
            continue;
        }
        let path = entry.path();
        match path.extension().and_then(|e| e.to_str()) {
            Some("md") => records.push((path, entry_metadata(&entry))),
            Some("sig") => {
                if let (Some(stem), Some(m)) = (path.file_stem(), entry_metadata(&entry)) {
                    sigs.insert(stem.to_os_string(), m);
                }
            }
            _ => {}
        }
    }
    let mut found: Vec<RecordFile> = records
        .into_iter()
        .map(|(path, meta)| {
            let sig_meta = path.file_stem().and_then(|s| sigs.remove(s));
            RecordFile {
                path,
                meta,
                sig_meta,
            }
        })
        .collect();
    let nested: Vec<Vec<RecordFile>> = subdirs
        .par_iter()
        .map(|d| scan_dir(d))
        .collect::<Result<_>>()?;
    found.extend(nested.into_iter().flatten());
    Ok(found)
}

/// Whether a listed entry is a directory, following a symbolic link (no `stat` otherwise).
fn is_dir_entry(entry: &std::fs::DirEntry) -> bool {
    match entry.file_type() {
        Ok(t) if t.is_symlink() => entry.path().is_dir(),
        Ok(t) => t.is_dir(),
        Err(_) => entry.path().is_dir(),
    }
}

/// Metadata of a listed file, following a symbolic link; `stat` relative to the listed
/// directory otherwise.
fn entry_metadata(entry: &std::fs::DirEntry) -> Option<std::fs::Metadata> {
    match entry.file_type().ok()? {
        t if t.is_symlink() => std::fs::metadata(entry.path()).ok(),
        _ => entry.metadata().ok(),
    }
}

/// Reads and parses one record file; returns the record and the file's exact bytes.
pub fn load_record(path: &Path) -> Result<(Record, Vec<u8>)> {
    let bytes = fsutil::read(path)?;
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("{}: not valid UTF-8", path.display()))?;
    let record = Record::parse(text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((record, bytes))
}

/// The signature file of a record: `RECORD.sig` beside `RECORD.md`.
pub fn signature_path(record: &Path) -> PathBuf {
    record.with_extension("sig")
}
