//! `audit --rebuild`: the site must be the reproducible build of its signed inputs.
//!
//! A registry is made in a temporary directory from what the site publishes: the records and
//! their signatures (`records/`), the trust list and revocation list (`api/v1/*.bin`), the log
//! (`log/`) and the manifest signature (`manifest/root.sig`), with the configuration of
//! `api/v1/build.json` (the registry's `starmark.toml` without `[keys]`, published by every
//! build) and starmark's own templates, or with the configuration, templates and label font of
//! `--registry DIR`. Its `[keys]` name only the pinned root key (a build needs no secret key).
//! It is built in full, and every file of the rebuild is compared with the site's, byte for byte
//! (SHA-256), both ways: each file that differs, that only the site has, or that only the
//! rebuild has is named.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::Serialize;
use starmark_core::manifest::{FileMeta, SIGNATURE_PATH};
use starmark_core::{to_hex, PublicKey};

use super::lists::{REVOCATION_LIST_PATH, TRUST_LIST_PATH};
use super::records::record_name;
use super::target::{Target, MAX_LOG_FILE};
use super::{Check, Finding};
use crate::manifest::{hash_file, list_files};
use crate::registry::{
    Config, KeyPaths, Registry, CONFIG_FILE, RECORDS_DIR, REVOCATION_LIST_FILE, TRUST_LIST_FILE,
};
use crate::site::{build, templates_digest, BuildInfo, BuildOptions, BUILD_PATH};
use crate::{fsutil, keyfile};

/// The most differences named one by one (the rest are counted in one more finding).
pub const MAX_NAMED: usize = 1000;
/// The largest `api/v1/build.json` read.
const MAX_BUILD_INFO: usize = 4 << 20;
/// The largest file of the site compared that the rebuild does not have.
const MAX_SITE_FILE: u64 = 64 << 20;
/// The largest record or signature file copied.
const MAX_RECORD: usize = 16 << 20;

/// Where the rebuild takes what the site does not publish.
pub struct Inputs {
    /// A registry directory whose configuration, templates and label font to use.
    pub registry: Option<PathBuf>,
}

/// What the rebuild saw.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Where the configuration came from: `api/v1/build.json` or the registry directory.
    pub config_from: String,
    /// Whether the published inputs built.
    pub built: bool,
    /// Files compared (of the rebuild and of the site, together).
    pub files: usize,
    /// Of those, identical.
    pub identical: usize,
    /// Of those, differing, only on the site or only in the rebuild.
    pub differences: usize,
}

/// Rebuilds the site from its published signed inputs and compares it with `paths` (the site's
/// files) and with every file of the rebuild. An input the auditor must give (a configuration,
/// templates or font the site does not publish) is an error; inputs that do not build, and
/// every difference, are findings.
pub fn check(
    target: &dyn Target,
    inputs: &Inputs,
    root_key: &PublicKey,
    paths: &[String],
    problems: &mut Vec<Finding>,
) -> Result<Summary> {
    let tmp = tempfile::Builder::new()
        .prefix("starmark-rebuild-")
        .tempdir()
        .context("cannot make a temporary directory for the rebuild")?;
    let reg = tmp.path().join("registry");
    let out = tmp.path().join("site");
    let config_from = write_config(target, inputs, root_key, &reg)?;
    let mut summary = Summary {
        config_from,
        ..Summary::default()
    };
    copy_inputs(target, paths, &reg)?;
    let built = build(&BuildOptions {
        registry: reg.clone(),
        out: Some(out.clone()),
        quiet: true,
        full: true,
        at: None,
        sign_manifest: false,
    });
    if let Err(e) = built {
        problems.push(Finding::new(
            Check::Rebuild,
            "build_failed",
            format!("the published inputs do not build: {e:#}"),
        ));
        return Ok(summary);
    }
    summary.built = true;
    compare(target, paths, &out, &mut summary, problems)?;
    Ok(summary)
}

/// Writes the temporary registry's `starmark.toml` and root key (and copies templates); returns
/// where the configuration came from.
fn write_config(
    target: &dyn Target,
    inputs: &Inputs,
    root_key: &PublicKey,
    reg: &Path,
) -> Result<String> {
    std::fs::create_dir_all(reg.join("keys"))
        .with_context(|| format!("{}: cannot create", reg.display()))?;
    keyfile::write_public(&reg.join("keys/root.pub"), root_key)?;
    let keys = KeyPaths {
        root_public: "keys/root.pub".into(),
        root_secret: Some("keys/root.key".into()),
        issuer_secret: Some("keys/issuer.key".into()),
        log_secret: None,
    };
    let (mut config, from) = match &inputs.registry {
        Some(dir) => {
            let given = Registry::open(dir)?;
            let templates = given.path("templates");
            if templates.is_dir() {
                copy_dir(&templates, &reg.join("templates"))?;
            }
            if let Some(font) = &given.config.label_font {
                link_font(&given.path(font), font, reg)?;
            }
            (given.config.clone(), dir.display().to_string())
        }
        None => (
            published_config(target, &reg.join("templates"))?,
            BUILD_PATH.to_string(),
        ),
    };
    config.keys = keys;
    let text = toml::to_string(&config).context("the rebuild's configuration")?;
    fsutil::write_atomic(&reg.join(CONFIG_FILE), text.as_bytes())?;
    Ok(from)
}

/// The configuration of `api/v1/build.json`, refused when the site was built with templates or
/// a label font it does not publish (`no_templates`: a directory that does not exist, for
/// starmark's own templates).
fn published_config(target: &dyn Target, no_templates: &Path) -> Result<Config> {
    let Some(bytes) = target.read(BUILD_PATH, MAX_BUILD_INFO)? else {
        bail!(
            "{}: the site publishes no {BUILD_PATH} (the configuration a rebuild needs): pass --registry DIR",
            target.describe()
        );
    };
    let info: BuildInfo = serde_json::from_slice(&bytes)
        .with_context(|| format!("{BUILD_PATH}: not what a build publishes"))?;
    let ours = env!("CARGO_PKG_VERSION");
    if info.starmark != ours {
        errln!(
            "starmark: warning: the site was built by starmark {}, this is {ours}: files that differ may come from the version",
            info.starmark
        );
    }
    let default = to_hex(&templates_digest(no_templates)?);
    if info.templates_sha256 != default {
        bail!(
            "{BUILD_PATH}: the site was built with templates other than starmark {ours}'s own (SHA-256 {}, starmark's {default}): pass --registry DIR with the registry's templates",
            info.templates_sha256
        );
    }
    let mut value = info.config;
    if let Some(map) = value.as_object_mut() {
        // Any key paths: replaced by the rebuild's.
        map.insert(
            "keys".into(),
            serde_json::json!({"root_public": "", "root_secret": "", "issuer_secret": ""}),
        );
    }
    let config: Config =
        serde_json::from_value(value).with_context(|| format!("{BUILD_PATH}: field config"))?;
    if let Some(font) = &config.label_font {
        bail!(
            "{BUILD_PATH}: the site was built with the label font {}, which it does not publish: pass --registry DIR",
            font.display()
        );
    }
    Ok(config)
}

/// Copies the signed inputs the site publishes into the registry `reg`.
fn copy_inputs(target: &dyn Target, paths: &[String], reg: &Path) -> Result<()> {
    let mut copies: Vec<(String, PathBuf, usize)> = vec![
        (
            TRUST_LIST_PATH.into(),
            reg.join(TRUST_LIST_FILE),
            MAX_RECORD,
        ),
        (
            REVOCATION_LIST_PATH.into(),
            reg.join(REVOCATION_LIST_FILE),
            MAX_RECORD,
        ),
        (
            SIGNATURE_PATH.into(),
            reg.join(crate::site::MANIFEST_SIGNATURE_FILE),
            256,
        ),
    ];
    for p in paths {
        if let Some(name) = p
            .strip_prefix("records/")
            .filter(|_| record_name(p).is_some())
        {
            copies.push((p.clone(), reg.join(RECORDS_DIR).join(name), MAX_RECORD));
        } else if p.starts_with("log/") {
            copies.push((p.clone(), reg.join(p), MAX_LOG_FILE));
        }
    }
    copies.par_iter().try_for_each(|(from, to, max)| {
        let Some(bytes) = target.read(from, *max)? else {
            return Ok(());
        };
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("{}: cannot create", parent.display()))?;
        }
        std::fs::write(to, bytes).with_context(|| format!("{}: cannot write", to.display()))
    })
}

/// Makes the registry's label font `font` (at `source`) reachable from the rebuild's registry
/// by the same configured path, so that the configuration, and so the build, is the same: a
/// symbolic link for a relative path inside the registry (an absolute path is used as it is).
fn link_font(source: &Path, font: &Path, reg: &Path) -> Result<()> {
    if font.is_absolute() {
        return Ok(());
    }
    if !font
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
    {
        bail!(
            "label_font {:?} leads outside the registry: the rebuild cannot place it",
            font.display()
        );
    }
    let source = source
        .canonicalize()
        .with_context(|| format!("{}: the registry's label font", source.display()))?;
    let link = reg.join(font);
    if let Some(parent) = link.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("{}: cannot create", parent.display()))?;
    }
    std::os::unix::fs::symlink(source, &link)
        .with_context(|| format!("{}: cannot link the label font", link.display()))
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    for f in list_files(from, &[])?.files {
        let dest = to.join(&f);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("{}: cannot create", parent.display()))?;
        }
        std::fs::copy(from.join(&f), &dest)
            .with_context(|| format!("{}: cannot copy", from.join(&f).display()))?;
    }
    Ok(())
}

/// Compares every file of the rebuild in `out` and every file of the site.
fn compare(
    target: &dyn Target,
    paths: &[String],
    out: &Path,
    summary: &mut Summary,
    problems: &mut Vec<Finding>,
) -> Result<()> {
    let rebuilt = list_files(out, &[])?.files;
    let all: BTreeSet<&str> = rebuilt.iter().chain(paths).map(String::as_str).collect();
    let ours: std::collections::HashSet<&str> = rebuilt.iter().map(String::as_str).collect();
    let found: Vec<Option<(&'static str, String, String)>> = all
        .par_iter()
        .map(|p| -> Result<Option<(&'static str, String, String)>> {
            let mine: Option<FileMeta> = if ours.contains(p) {
                Some(hash_file(&out.join(p))?)
            } else {
                None
            };
            // A site's file larger than its rebuild differs whatever its bytes: read one more.
            let cap = mine.map_or(MAX_SITE_FILE, |m| m.size + 1);
            let theirs = match target.hash(p, cap) {
                Ok(t) => t,
                Err(e) => {
                    return Ok(Some((
                        "differs",
                        p.to_string(),
                        format!("{p}: cannot be compared with its rebuild: {e:#}"),
                    )))
                }
            };
            Ok(match (theirs, mine) {
                (Some(a), Some(b)) if a == b => None,
                (Some(a), Some(b)) => Some((
                    "differs",
                    p.to_string(),
                    format!(
                        "{p}: differs from its rebuild (SHA-256 {} on the site, {} rebuilt)",
                        to_hex(&a.sha256),
                        to_hex(&b.sha256)
                    ),
                )),
                (Some(_), None) => Some((
                    "not_rebuilt",
                    p.to_string(),
                    format!("{p}: on the site, but the rebuild has no such file"),
                )),
                (None, Some(_)) => Some((
                    "missing_from_site",
                    p.to_string(),
                    format!("{p}: in the rebuild, but not on the site"),
                )),
                (None, None) => None,
            })
        })
        .collect::<Result<_>>()?;
    summary.files = all.len();
    let differences: Vec<_> = found.into_iter().flatten().collect();
    summary.differences = differences.len();
    summary.identical = summary.files - summary.differences;
    let more = differences.len().saturating_sub(MAX_NAMED);
    problems.extend(
        differences
            .into_iter()
            .take(MAX_NAMED)
            .map(|(kind, path, message)| Finding::at(Check::Rebuild, kind, path, message)),
    );
    if more > 0 {
        problems.push(Finding::new(
            Check::Rebuild,
            "differs",
            format!("and {more} more files differ from the rebuild"),
        ));
    }
    Ok(())
}
