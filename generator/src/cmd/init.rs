//! `starmark init DIR`: a new registry with its keys and signed lists.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use starmark_core::log::Entry;
use starmark_core::{IssuerKey, RevocationList, SecretKey, TrustList};

use crate::cli::InitArgs;
use crate::registry::{
    Category, Config, KeyPaths, Registry, RevocationSettings, CONFIG_FILE, LOG_DIR, RECORDS_DIR,
    REVOCATION_LIST_FILE, TRUST_LIST_FILE,
};
use crate::{fsutil, keyfile, time};

const CATALOGUE: &str = include_str!("../../assets/catalogue.toml");

#[derive(Deserialize)]
struct Catalogue {
    category: Vec<Category>,
}

/// Years an issuer key made by `init` may sign.
const ISSUER_KEY_YEARS: u16 = 5;
/// Years the log key made by `init` may sign checkpoints.
const LOG_KEY_YEARS: u16 = 10;

pub fn run(args: &InitArgs) -> Result<u8> {
    let (root, issuer, config) = create(args)?;
    let log = crate::keyfile::read_secret(&args.dir.join(LOG_SECRET))?;
    outln!("created registry {}", args.dir.display());
    outln!(
        "  {CONFIG_FILE}          name, base URL, catalogue of {} categories",
        config.categories.len()
    );
    outln!("  keys/root.key          root secret key (mode 0600): move it offline; only `starmark trust` needs it");
    outln!(
        "  keys/issuer-1.key      issuer secret key {} (mode 0600): signs records and revocations",
        issuer.public_key().key_id()
    );
    outln!(
        "  {TRUST_LIST_FILE}       trust list #1, signed by root key {}",
        root.public_key().key_id()
    );
    outln!(
        "  keys/log.key           log secret key {} (mode 0600): signs the transparency log's checkpoints",
        log.public_key().key_id()
    );
    outln!("  {REVOCATION_LIST_FILE:<22} empty revocation list #1");
    outln!(
        "  {:<22} the transparency log: the trust list and the revocation list so far",
        format!("{LOG_DIR}/")
    );
    outln!(
        "  {:<22} write one Markdown record per certification here, then `starmark sign`",
        format!("{RECORDS_DIR}/")
    );
    Ok(crate::EXIT_OK)
}

/// The log secret key `init` makes, relative to the registry.
const LOG_SECRET: &str = "keys/log.key";

/// Creates the registry, with its log; returns the root key, the issuer key and the
/// configuration.
pub fn create(args: &InitArgs) -> Result<(SecretKey, SecretKey, Config)> {
    let dir = &args.dir;
    if dir.join(CONFIG_FILE).exists() {
        bail!("{}: already a registry (has {CONFIG_FILE})", dir.display());
    }
    if !(args.base_url.starts_with("https://") || args.base_url.starts_with("http://")) {
        bail!(
            "--base-url: {:?} must start with https:// or http://",
            args.base_url
        );
    }
    if let Some(name) = &args.name_en {
        if name.trim().is_empty() {
            bail!("--name-en: the English name is empty");
        }
        starmark_core::text::check_display_text("name_en", name)
            .map_err(|e| anyhow::anyhow!("--name-en: {:?} {}", name, e.problem))?;
    }
    std::fs::create_dir_all(dir.join("keys"))
        .with_context(|| format!("{}: cannot create", dir.display()))?;
    std::fs::create_dir_all(dir.join(RECORDS_DIR))
        .with_context(|| format!("{}: cannot create", dir.display()))?;

    let keys = KeyPaths {
        root_public: PathBuf::from("keys/root.pub"),
        root_secret: Some(PathBuf::from("keys/root.key")),
        issuer_secret: Some(PathBuf::from("keys/issuer-1.key")),
        log_secret: Some(PathBuf::from(LOG_SECRET)),
    };
    let root = keyfile::generate(&dir.join("keys/root"))?;
    let issuer = keyfile::generate(&dir.join("keys/issuer-1"))?;
    let log = keyfile::generate(&dir.join("keys/log"))?;

    let now = time::now();
    let from = time::day_or_today(args.issuer_valid_from.as_deref(), "--issuer-valid-from")?;
    let until = from
        .checked_add(ISSUER_KEY_YEARS * 365)
        .unwrap_or(starmark_core::Day::MAX);
    let today = time::today();
    let trust = TrustList {
        sequence: 1,
        issued_at: now,
        issuers: vec![IssuerKey::new(
            issuer.public_key(),
            args.issuer_name.clone(),
            from,
            until,
        )],
        log_keys: vec![IssuerKey::new(
            log.public_key(),
            format!("{} (log)", args.issuer_name),
            today,
            today
                .checked_add(LOG_KEY_YEARS * 365)
                .unwrap_or(starmark_core::Day::MAX),
        )],
    };
    let trust_bytes = trust.sign(&root)?;
    fsutil::write_atomic(&dir.join(TRUST_LIST_FILE), &trust_bytes)?;

    let settings = RevocationSettings::default();
    let revocations = RevocationList {
        key_id: issuer.public_key().key_id(),
        sequence: 1,
        issued_at: now,
        next_update: now + u64::from(settings.validity_days) * starmark_core::date::SECONDS_PER_DAY,
        entries: Vec::new(),
    };
    let revocation_bytes = revocations.sign(&issuer)?;
    fsutil::write_atomic(&dir.join(REVOCATION_LIST_FILE), &revocation_bytes)?;

    let catalogue: Catalogue = toml::from_str(CATALOGUE).context("built-in catalogue")?;
    let config = Config {
        name: args.name.clone(),
        name_en: args.name_en.clone(),
        base_url: args.base_url.trim_end_matches('/').to_string(),
        languages: vec!["zh".into(), "en".into()],
        keys,
        revocation: settings,
        max_record_bytes: crate::registry::DEFAULT_MAX_RECORD_BYTES,
        label_font: None,
        label: Default::default(),
        categories: catalogue.category,
        witnesses: Vec::new(),
    };
    let text = toml::to_string_pretty(&config).context("cannot write the configuration")?;
    fsutil::write_atomic(&dir.join(CONFIG_FILE), text.as_bytes())?;
    let reg = Registry::open(dir)?;
    crate::log::create(
        &reg,
        &trust,
        &[
            Entry::trust_list(trust.sequence, &trust_bytes),
            Entry::revocation_list(revocations.sequence, &revocation_bytes),
        ],
    )?;
    Ok((root, issuer, config))
}
