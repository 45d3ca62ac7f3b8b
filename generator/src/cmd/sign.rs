//! `starmark sign RECORD.md...`: sign records, write RECORD.sig, print the verify URLs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use starmark_core::claim::SignedClaim;
use starmark_core::log::Entry;
use starmark_core::qr::{encode_digits, verify_url};
use starmark_core::record::Record;
use starmark_core::{SecretKey, TrustList};

use crate::cli::SignArgs;
use crate::lock::Lock;
use crate::names::Makers;
use crate::registry::{
    at_field, check_file_name, check_record_extension, signature_path, Registry, RECORDS_DIR,
};
use crate::{fsutil, signed};

pub fn run(args: &SignArgs) -> Result<u8> {
    let reg = Registry::locate(
        args.registry.registry.as_deref(),
        args.records.first().map(Path::new),
    )?;
    let _lock = Lock::registry(&reg.dir, "sign")?;
    let trust = reg.trust_list()?;
    let key = reg.issuer_secret()?;
    let index = RegistryIndex::scan(&reg)?;
    let makers = Makers::new(
        index
            .makers
            .iter()
            .map(|(serial, name, path)| (*serial, name.as_str(), path.as_path())),
    );
    let mut errors = Vec::new();
    let mut signed = Vec::new();
    for path in &args.records {
        match sign_one(&reg, &trust, &key, &index, &makers, path, args.force) {
            Ok(s) => signed.push(s),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    // Every new signature in the log first, in one append; then the signature files.
    let mut seen = std::collections::HashSet::new();
    let new: Vec<Entry> = signed
        .iter()
        .filter(|s| s.is_new && seen.insert(s.digits.as_str()))
        .map(|s| Entry::Claim(s.claim.clone()))
        .collect();
    if !new.is_empty() {
        crate::log::append(&reg, &trust, &trust, &new)?;
    }
    for s in &signed {
        fsutil::write_atomic(&s.sig_path, format!("{}\n", s.digits).as_bytes())?;
        outln!("{}\t{}", s.path.display(), s.url);
    }
    if !errors.is_empty() {
        bail!(
            "{} not signed:\n  {}",
            crate::plural::count(errors.len(), "record", "records"),
            errors.join("\n  ")
        );
    }
    Ok(crate::EXIT_OK)
}

/// What `sign` checks a record against, over the whole registry.
struct RegistryIndex {
    /// Serial -> record files, to refuse duplicate serials.
    serials: BTreeMap<u64, Vec<PathBuf>>,
    /// Serial, manufacturer and file of every record, to refuse look-alike names.
    makers: Vec<(u64, String, PathBuf)>,
}

impl RegistryIndex {
    /// Fails, like `build`, on any entry of `records/` that breaks the rules of the walk
    /// (symbolic links, case of `.md`).
    fn scan(reg: &Registry) -> Result<RegistryIndex> {
        let scan = reg.scan_records()?;
        scan.check(&reg.path(RECORDS_DIR))?;
        let mut serials: BTreeMap<u64, Vec<_>> = BTreeMap::new();
        let mut makers = Vec::new();
        for file in scan.files {
            // Unparsable records are reported when they are signed or built, not here.
            if let Ok((r, _)) = reg.load_record(&file.path) {
                serials.entry(r.serial).or_default().push(file.path.clone());
                makers.push((r.serial, r.manufacturer, file.path));
            }
        }
        Ok(RegistryIndex { serials, makers })
    }
}

/// A record signed, its signature file not yet written.
struct Signed {
    path: PathBuf,
    sig_path: PathBuf,
    claim: SignedClaim,
    digits: String,
    url: String,
    /// Whether the signature file is new or changes (then the claim goes into the log).
    is_new: bool,
}

fn sign_one(
    reg: &Registry,
    trust: &TrustList,
    key: &SecretKey,
    index: &RegistryIndex,
    makers: &Makers<'_>,
    path: &Path,
    force: bool,
) -> Result<Signed> {
    check_record_extension(path)?;
    let (record, bytes) = reg.load_record(path)?;
    check_file_name(path, record.serial)?;
    let at = |field: &str| at_field(path, &bytes, field);
    check_record(reg, &record, &index.serials, path, &bytes)?;
    if let Some(original) = makers.imitated(record.serial, &record.manufacturer) {
        let shown = original
            .path
            .strip_prefix(&reg.dir)
            .unwrap_or(original.path);
        bail!(
            "{}: {:?} looks like {:?} of {} (serial {}): a different manufacturer's name, with the same UTS #39 confusable skeleton",
            at("manufacturer"),
            record.manufacturer,
            original.name,
            shown.display(),
            original.serial
        );
    }
    let key_id = key.public_key().key_id();
    let Some(issuer) = trust.issuer(key_id) else {
        bail!("the issuer key {key_id} is not in the trust list; add it with `starmark trust add`");
    };
    if let Some(since) = issuer.compromised_since {
        bail!("the issuer key {key_id} is marked compromised since {since}; sign with another key");
    }
    if record.valid_from < issuer.valid_from || record.valid_from > issuer.valid_until {
        bail!(
            "{}: {} is outside the issuer key's period {} to {}",
            at("valid_from"),
            record.valid_from,
            issuer.valid_from,
            issuer.valid_until
        );
    }
    let claim = record.claim(key_id, &bytes);
    let signed_claim = claim
        .sign(key)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let digits = encode_digits(signed_claim.as_bytes());

    let sig_path = signature_path(path);
    let mut is_new = true;
    if sig_path.exists() {
        let existing = fsutil::read_text(&sig_path)?;
        is_new = existing.trim() != digits;
        if is_new && !force {
            let why = match signed::load(path, reg.config.max_record_bytes) {
                Ok(_) => "it was made with another key",
                Err(_) => "the record changed since it was signed, or the file is damaged",
            };
            bail!(
                "{}: a different signature exists ({why}); refusing to replace it. Check the change, then use --force",
                sig_path.display()
            );
        }
    }
    Ok(Signed {
        path: path.to_path_buf(),
        sig_path,
        url: verify_url(&reg.config.base_url, signed_claim.as_bytes()),
        claim: signed_claim,
        digits,
        is_new,
    })
}

/// Registry-level checks of a record: catalogue category, unique serial, superseded record exists.
fn check_record(
    reg: &Registry,
    record: &Record,
    serials: &BTreeMap<u64, Vec<PathBuf>>,
    path: &Path,
    bytes: &[u8],
) -> Result<()> {
    let at = |field: &str| at_field(path, bytes, field);
    if reg.category(&record.category).is_none() {
        let known: Vec<&str> = reg
            .config
            .categories
            .iter()
            .map(|c| c.code.as_str())
            .collect();
        bail!(
            "{}: unknown category {:?} (the catalogue in starmark.toml has: {})",
            at("category"),
            record.category,
            known.join(", ")
        );
    }
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    if let Some(others) = serials.get(&record.serial) {
        let me = canon(path);
        if let Some(other) = others.iter().find(|o| canon(o) != me) {
            bail!(
                "{}: {} is already used by {}",
                at("serial"),
                record.serial,
                other.display()
            );
        }
    }
    if let Some(old) = record.supersedes {
        if !serials.contains_key(&old) {
            bail!("{}: no record has serial {old}", at("supersedes"));
        }
    }
    Ok(())
}
