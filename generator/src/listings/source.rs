//! Where the certifications of a listings check come from: a registry directory, a built site (or
//! a mirror of one), or the `https://` address of a published site (three downloads: the two
//! lists and the claims shards of `api/v1/claims/`, whatever the number of certifications). Only signed data is read:
//! signed claims (each verified under the trust list), the trust list (verified under the pinned
//! root key), the revocation list (verified under the trust list), and record files (trusted only
//! when a verified claim signs their SHA-256). No JSON or HTML page is ever read.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use starmark_core::bundle::Bundle;
use starmark_core::claim::SignedClaim;
use starmark_core::error::ListError;
use starmark_core::listings::{Basis, Certifications, Certified, RecordNames};
use starmark_core::{from_hex, PublicKey, RevocationList, TrustList};

use crate::registry::{load_record, signature_path, Registry, CONFIG_FILE};
use crate::{fsutil, keyfile, signed};

/// The site's paths of what a check reads, relative to the site root.
pub const TRUST_LIST: &str = "api/v1/trust-list.bin";
/// The signed revocation list.
pub const REVOCATION_LIST: &str = "api/v1/revocation-list.bin";
/// The index of the claims shards: every signed claim, and the record files that prove English
/// names, in bundles of 1,000 serials beside it (docs/FORMAT.md section 12).
pub const CLAIMS: &str = "api/v1/claims/index.json";
/// The directory of [`CLAIMS`] and its shards.
const CLAIMS_DIR: &str = "api/v1/claims/";

/// The shard file names an index of claims names (`<digits>.bin`, nothing else: they become
/// paths and addresses).
fn shard_names(index: &[u8], name: &str) -> Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Index {
        format: String,
        shards: Vec<String>,
    }
    let index: Index = serde_json::from_slice(index)
        .with_context(|| format!("{name}: not an index of claims shards"))?;
    if index.format != "starmark-claims-v1" {
        bail!(
            "{name}: format {:?}, this starmark reads starmark-claims-v1",
            index.format
        );
    }
    for shard in &index.shards {
        let stem = shard.strip_suffix(".bin").unwrap_or("");
        if stem.is_empty() || !stem.bytes().all(|b| b.is_ascii_digit()) {
            bail!("{name}: shard {shard:?} is not a shard name (digits, then .bin)");
        }
    }
    Ok(index.shards)
}

/// The verified claims and record names of every shard of a claims index, each read by `read`
/// (from the shard's path relative to the site root) and named by `name_of` in messages.
fn from_shards(
    index: &[u8],
    index_name: &str,
    basis: &Basis,
    problems: &mut Vec<String>,
    read: impl Fn(&str) -> Result<Vec<u8>> + Sync,
    name_of: impl Fn(&str) -> String + Sync,
) -> Result<(Vec<Certified>, Vec<RecordNames>)> {
    let shards = shard_names(index, index_name)?;
    let read: Vec<(String, Result<Vec<u8>>)> = shards
        .par_iter()
        .map(|shard| {
            let rel = format!("{CLAIMS_DIR}{shard}");
            (name_of(&rel), read(&rel))
        })
        .collect();
    let mut certified = Vec::new();
    let mut names = Vec::new();
    for (name, bytes) in read {
        let (c, n) = from_bundle(&bytes?, &name, basis, problems)?;
        certified.extend(c);
        names.extend(n);
    }
    Ok((certified, names))
}

/// The largest record file read from a site without a claims bundle (the format's limit).
const MAX_SITE_RECORD: u64 = starmark_core::bundle::MAX_BUNDLE_RECORD as u64;

/// What a check needs to know to load a source.
pub struct Options<'a> {
    /// `--root`: the pinned root public key, as 64 hex digits or a key file.
    pub root: Option<&'a str>,
    /// `--base-url`: where the registry's label links lead.
    pub base_url: Option<&'a str>,
    /// The time of the check (Unix seconds).
    pub now: u64,
    /// The highest revocation list sequence seen before (from `--state`).
    pub highest_seen: Option<u64>,
}

/// The certifications, with a description of the source and what was left out.
pub struct Loaded {
    /// The verified certifications.
    pub certs: Certifications,
    /// The source, for the summary.
    pub description: String,
    /// Claims, records and lists left out, one message each.
    pub problems: Vec<String>,
}

/// Loads the certifications of `source`.
pub fn load(source: &str, opts: &Options<'_>) -> Result<Loaded> {
    if source.contains("://") {
        return url(source, opts);
    }
    let dir = Path::new(source);
    if dir.join(CONFIG_FILE).is_file() {
        return registry_dir(dir, opts);
    }
    if dir.join(TRUST_LIST).is_file() {
        return site_dir(dir, opts);
    }
    bail!(
        "--registry {source}: neither a registry directory (with {CONFIG_FILE}) nor a built site or mirror (with {TRUST_LIST})"
    )
}

/// The pinned root key from `--root`: 64 hex digits, or the path of a public key file.
pub fn root_key(arg: &str) -> Result<PublicKey> {
    let t = arg.trim();
    if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        let bytes: [u8; 32] =
            from_hex(t).with_context(|| format!("--root {t}: not 64 hex digits"))?;
        return PublicKey::from_bytes(&bytes).with_context(|| format!("--root {t}: key refused"));
    }
    keyfile::read_public(Path::new(t)).context("--root")
}

/// The revocation list from its bytes, or `None` with a warning when it is missing or when its
/// only fault is that the trust list now marks its signer compromised.
pub fn revocation_list(
    bytes: Option<Vec<u8>>,
    trust: &TrustList,
    name: &str,
    problems: &mut Vec<String>,
) -> Result<Option<RevocationList>> {
    let Some(bytes) = bytes else {
        problems.push(format!(
            "{name}: no revocation list; every result is at best stale_data"
        ));
        return Ok(None);
    };
    match RevocationList::decode_verified(&bytes, trust) {
        Ok(list) => Ok(Some(list)),
        Err(starmark_core::Error::List(ListError::CompromisedSigner { key_id })) => {
            problems.push(format!(
                "{name}: signed by key {key_id}, now marked compromised; it is ignored and every result is at best stale_data"
            ));
            Ok(None)
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("{name}: revocation list refused"))),
    }
}

fn read_if_there(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::Error::new(e).context(format!("{}: cannot read", path.display()))),
    }
}

fn basis(trust: TrustList, revocations: Option<RevocationList>, opts: &Options<'_>) -> Basis {
    let b = Basis::new(trust, revocations, opts.now, opts.highest_seen);
    match opts.base_url {
        Some(u) => b.with_base_url(u),
        None => b,
    }
}

/// Verifies one claim; a refused one is a problem naming `name`.
fn certify_one(
    basis: &Basis,
    name: &str,
    claim: Result<SignedClaim, String>,
) -> Result<Certified, String> {
    basis.certify(&claim?).map_err(|v| {
        format!(
            "{name}: claim refused ({}{})",
            v.verdict.name(),
            v.detail.map(|d| format!(": {d}")).unwrap_or_default()
        )
    })
}

/// A record file's names; an unreadable one is a problem naming `name`.
fn names_one(name: &str, bytes: Result<Vec<u8>, String>) -> Result<RecordNames, String> {
    RecordNames::read(&bytes?).map_err(|e| format!("{name}: record not read ({e})"))
}

/// Sorts results into the certifications (or record names) and the problems.
fn split<T>(results: Vec<Result<T, String>>, problems: &mut Vec<String>) -> Vec<T> {
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(c) => out.push(c),
            Err(p) => problems.push(p),
        }
    }
    out
}

fn finish(
    basis: Basis,
    certified: Vec<Certified>,
    names: Vec<RecordNames>,
    description: String,
    mut problems: Vec<String>,
) -> Loaded {
    let (certs, left_out) = Certifications::new(basis, certified, names);
    problems.extend(left_out.iter().map(ToString::to_string));
    Loaded {
        certs,
        description,
        problems,
    }
}

/// A registry directory: its root key (or `--root`), lists, and every record with its signature.
fn registry_dir(dir: &Path, opts: &Options<'_>) -> Result<Loaded> {
    let reg = Registry::open(dir)?;
    let root = match opts.root {
        Some(r) => root_key(r)?,
        None => reg.root_public_key()?,
    };
    let trust_path = reg.path(crate::registry::TRUST_LIST_FILE);
    let trust = TrustList::decode_verified(&fsutil::read(&trust_path)?, &root)
        .with_context(|| format!("{}: trust list refused", trust_path.display()))?;
    let mut problems = Vec::new();
    let list_path = reg.path(crate::registry::REVOCATION_LIST_FILE);
    let revocations = revocation_list(
        read_if_there(&list_path)?,
        &trust,
        &list_path.display().to_string(),
        &mut problems,
    )?;
    let base = opts.base_url.unwrap_or(&reg.config.base_url);
    let basis = basis(trust, revocations, opts).with_base_url(base);
    let scan = reg.scan_records()?;
    problems.extend(scan.problems.iter().cloned());
    let max = reg.config.max_record_bytes;
    let files: Vec<PathBuf> = scan.files.into_iter().map(|f| f.path).collect();
    // One pass per file, in parallel: the claim verified, the record's names read; no file's
    // bytes are kept.
    type One = (Result<Certified, String>, Result<RecordNames, String>);
    let read: Vec<One> = files
        .par_iter()
        .map(|path| {
            let name = path.display().to_string();
            let sig = signature_path(path);
            let claim = if sig.exists() {
                signed::read_signature(&sig).map_err(|e| format!("{e:#}"))
            } else {
                Err(format!("{name}: not signed (no {})", sig.display()))
            };
            let record = load_record(path, max)
                .map(|(_, bytes)| bytes)
                .map_err(|e| format!("{e:#}"));
            (certify_one(&basis, &name, claim), names_one(&name, record))
        })
        .collect();
    let (claims, records): (Vec<_>, Vec<_>) = read.into_iter().unzip();
    let certified = split(claims, &mut problems);
    let names = split(records, &mut problems);
    Ok(finish(
        basis,
        certified,
        names,
        format!("registry {}", dir.display()),
        problems,
    ))
}

/// A built site or a mirror: `--root` is required (a site's pages are not signed, so the key they
/// show is not trusted); the claims shards (`api/v1/claims/index.json`) when they are there, else `records/`.
fn site_dir(dir: &Path, opts: &Options<'_>) -> Result<Loaded> {
    let Some(root) = opts.root else {
        bail!(
            "--registry {}: a built site or mirror carries no root key that can be trusted; pass the registry's root public key with --root HEX (or --root FILE.pub)",
            dir.display()
        );
    };
    let root = root_key(root)?;
    let trust_path = dir.join(TRUST_LIST);
    let trust = TrustList::decode_verified(&fsutil::read(&trust_path)?, &root)
        .with_context(|| format!("{}: trust list refused", trust_path.display()))?;
    let mut problems = Vec::new();
    let list_path = dir.join(REVOCATION_LIST);
    let revocations = revocation_list(
        read_if_there(&list_path)?,
        &trust,
        &list_path.display().to_string(),
        &mut problems,
    )?;
    let basis = basis(trust, revocations, opts);
    let index_path = dir.join(CLAIMS);
    if let Some(index) = read_if_there(&index_path)? {
        let (certified, names) = from_shards(
            &index,
            &index_path.display().to_string(),
            &basis,
            &mut problems,
            |rel| {
                let path = dir.join(rel);
                std::fs::read(&path).with_context(|| format!("{}: cannot read", path.display()))
            },
            |rel| dir.join(rel).display().to_string(),
        )?;
        return Ok(finish(
            basis,
            certified,
            names,
            format!("site {} ({CLAIMS})", dir.display()),
            problems,
        ));
    }
    let records = dir.join("records");
    let listing = std::fs::read_dir(&records)
        .with_context(|| format!("{}: cannot list", records.display()))?;
    let mut sigs = Vec::new();
    for entry in listing {
        let path = entry
            .with_context(|| format!("{}: cannot list", records.display()))?
            .path();
        if path.extension().is_some_and(|e| e == "sig") {
            sigs.push(path);
        }
    }
    sigs.sort();
    type One = (
        Result<Certified, String>,
        Option<Result<RecordNames, String>>,
    );
    let read: Vec<One> = sigs
        .par_iter()
        .map(|sig| {
            let name = sig.display().to_string();
            let claim = signed::read_signature(sig).map_err(|e| format!("{e:#}"));
            let md = sig.with_extension("md");
            let record = md.is_file().then(|| {
                let bytes = load_record(&md, MAX_SITE_RECORD)
                    .map(|(_, b)| b)
                    .map_err(|e| format!("{e:#}"));
                names_one(&md.display().to_string(), bytes)
            });
            (certify_one(&basis, &name, claim), record)
        })
        .collect();
    let (claims, records): (Vec<_>, Vec<_>) = read.into_iter().unzip();
    let certified = split(claims, &mut problems);
    let names = split(records.into_iter().flatten().collect(), &mut problems);
    Ok(finish(
        basis,
        certified,
        names,
        format!("site {} (records/)", dir.display()),
        problems,
    ))
}

/// The largest trust or revocation list downloaded.
const MAX_LIST_BYTES: u64 = 16 << 20;
/// The largest claims shard downloaded.
const MAX_BUNDLE_BYTES: u64 = 1 << 30;
/// How long one download may take.
const DOWNLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// Whether a host name is this machine (where plain `http://` is allowed, for testing).
fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "[::1]") || host.starts_with("127.")
}

/// The `https://` address of a published site (plain `http://` only on this machine): its
/// signed lists, its index of claims shards and each shard (one per 1,000 serials).
fn url(source: &str, opts: &Options<'_>) -> Result<Loaded> {
    let (scheme, rest) = source.split_once("://").unwrap_or(("", source));
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_name = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') {
            h
        } else {
            host
        }
    });
    match scheme {
        "https" => {}
        "http" if is_loopback(host_name) => {}
        _ => bail!(
            "--registry {source}: only https:// addresses are read (http:// only on this machine: 127.0.0.1, localhost)"
        ),
    }
    if rest.contains(['?', '#']) {
        bail!("--registry {source}: the address of the site's root, without ? or #");
    }
    let Some(root) = opts.root else {
        bail!(
            "--registry {source}: a published site carries no root key that can be trusted; pass the registry's root public key with --root HEX (or --root FILE.pub)"
        );
    };
    let root = root_key(root)?;
    let base = format!("{}/", source.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(DOWNLOAD_TIMEOUT))
        .https_only(scheme == "https")
        .user_agent(concat!(
            "starmark/",
            env!("CARGO_PKG_VERSION"),
            " check-listings"
        ))
        .build()
        .into();
    let get = |rel: &str, limit: u64| -> Result<Option<Vec<u8>>> {
        let address = format!("{base}{rel}");
        match agent.get(&address).call() {
            Ok(mut response) => response
                .body_mut()
                .with_config()
                .limit(limit)
                .read_to_vec()
                .map(Some)
                .with_context(|| format!("{address}: cannot read (at most {limit} bytes)")),
            Err(ureq::Error::StatusCode(404)) => Ok(None),
            Err(e) => Err(anyhow::Error::new(e).context(format!("{address}: cannot download"))),
        }
    };
    let Some(trust_bytes) = get(TRUST_LIST, MAX_LIST_BYTES)? else {
        bail!("{base}{TRUST_LIST}: not found (404): is {source} the root of a starmark site?");
    };
    let trust = TrustList::decode_verified(&trust_bytes, &root)
        .with_context(|| format!("{base}{TRUST_LIST}: trust list refused"))?;
    let mut problems = Vec::new();
    let revocations = revocation_list(
        get(REVOCATION_LIST, MAX_LIST_BYTES)?,
        &trust,
        &format!("{base}{REVOCATION_LIST}"),
        &mut problems,
    )?;
    let basis = basis(trust, revocations, opts);
    let Some(index) = get(CLAIMS, MAX_LIST_BYTES)? else {
        bail!(
            "{base}{CLAIMS}: not found (404): the site was built by a starmark without the claims shards; check a copy of the site (a directory) instead"
        );
    };
    let (certified, names) = from_shards(
        &index,
        &format!("{base}{CLAIMS}"),
        &basis,
        &mut problems,
        |rel| {
            get(rel, MAX_BUNDLE_BYTES)?
                .ok_or_else(|| anyhow::anyhow!("{base}{rel}: not found (404)"))
        },
        |rel| format!("{base}{rel}"),
    )?;
    Ok(finish(
        basis,
        certified,
        names,
        format!("site {source}"),
        problems,
    ))
}

/// The verified claims and record names of a claims bundle.
pub fn from_bundle(
    bytes: &[u8],
    name: &str,
    basis: &Basis,
    problems: &mut Vec<String>,
) -> Result<(Vec<Certified>, Vec<RecordNames>)> {
    let bundle = Bundle::decode(bytes).with_context(|| format!("{name}: claims bundle refused"))?;
    let claims: Vec<Result<Certified, String>> = bundle
        .claims
        .par_iter()
        .enumerate()
        .map(|(i, b)| {
            let label = format!("{name}: claim #{}", i + 1);
            let claim = SignedClaim::decode(b).map_err(|e| format!("{label}: {e}"));
            certify_one(basis, &label, claim)
        })
        .collect();
    let certified = split(claims, problems);
    let records: Vec<Result<RecordNames, String>> = bundle
        .records
        .par_iter()
        .enumerate()
        .map(|(i, b)| names_one(&format!("{name}: record #{}", i + 1), Ok(b.to_vec())))
        .collect();
    let names = split(records, problems);
    Ok((certified, names))
}
