//! Loading the registry for a build: every record is parsed, bound to its signature file and
//! verified (signature, digest, catalogue category, trust list, unique serials) before anything is
//! written. All problems are collected, so one build reports every bad record.
//!
//! A record cache (`.starmark-cache/records.bin`) keeps, per record file, the stamp of the file and
//! of its signature file (size, modification time, and what `touch` cannot set: change time, inode
//! and device), its signature digits and the fields other pages need. A file whose stamps are
//! unchanged, under the same trust list and catalogue, is not read or verified again; its page job
//! reads it only if its page must be rendered again. A file changed shortly before the scan is
//! verified again by the next build too (a later change in the same tick of the file system's clock
//! could leave its stamp as it was). `--full` ignores the cache.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use starmark_core::claim::SignedClaim;
use starmark_core::record::Record;
use starmark_core::verdict::{assess, verify, Context, Verdict, Verification};
use starmark_core::{Day, Revocation, RevocationList, TrustList};

use crate::fsutil;
use crate::names::Makers;
use crate::registry::{
    check_file_name, check_record_size, load_record, signature_path, RecordFile, Registry,
    REVOCATION_LIST_FILE, TRUST_LIST_FILE,
};
use crate::signed;

/// The status of a certification on the site, as of the build's reference time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Genuine and within its validity period.
    Valid,
    /// Past its validity period.
    Expired,
    /// Validity not started yet.
    NotYetValid,
    /// Revoked.
    Revoked,
    /// Valid, but replaced by a newer certification.
    Superseded,
}

impl Status {
    /// Every status, in display order.
    pub const ALL: [Status; 5] = [
        Status::Valid,
        Status::Superseded,
        Status::Expired,
        Status::NotYetValid,
        Status::Revoked,
    ];

    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Expired => "expired",
            Status::NotYetValid => "not_yet_valid",
            Status::Revoked => "revoked",
            Status::Superseded => "superseded",
        }
    }
}

/// The fields of a record that pages other than its own show.
#[derive(Clone, Debug)]
pub struct Summary {
    pub serial: u64,
    pub manufacturer: String,
    pub manufacturer_en: Option<String>,
    pub manufacturer_uscc: Option<String>,
    pub product: String,
    pub model: String,
    pub category: String,
    pub tier: u8,
    pub issued: Day,
    pub valid_from: Day,
    pub valid_until: Day,
    pub supersedes: Option<u64>,
}

impl Summary {
    fn of(r: &Record) -> Summary {
        Summary {
            serial: r.serial,
            manufacturer: r.manufacturer.clone(),
            manufacturer_en: r.manufacturer_en.clone(),
            manufacturer_uscc: r.manufacturer_uscc.clone(),
            product: r.product.clone(),
            model: r.model.clone(),
            category: r.category.clone(),
            tier: r.tier.stars(),
            issued: r.issued,
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            supersedes: r.supersedes,
        }
    }
}

/// A record file with everything in it, read when its own page is rendered.
#[derive(Debug)]
pub struct Full {
    /// The parsed record.
    pub record: Record,
    /// The file's exact bytes.
    pub bytes: Vec<u8>,
}

/// One certification that passed every check.
#[derive(Debug)]
pub struct VerifiedCert {
    /// The record file.
    pub path: PathBuf,
    /// The fields other pages show.
    pub summary: Summary,
    /// The signed claim (its signature verified, now or in a cached earlier build).
    pub signed: SignedClaim,
    /// Status as of the reference time.
    pub status: Status,
    /// Revocation, if revoked.
    pub revocation: Option<Revocation>,
    /// The serial of the certification that replaces this one.
    pub superseded_by: Option<u64>,
    /// The registry's record size limit, for reading the record later.
    max_bytes: u64,
    full: OnceLock<Full>,
}

impl VerifiedCert {
    /// The signature file's digits (as the QR code and the verify link carry them).
    pub fn digits(&self) -> String {
        starmark_core::qr::encode_digits(self.signed.as_bytes())
    }

    /// The whole record, read now if it was not read during loading; fails when the file no longer
    /// matches its signature.
    pub fn full(&self) -> Result<&Full> {
        if let Some(f) = self.full.get() {
            return Ok(f);
        }
        let (record, bytes) = load_record(&self.path, self.max_bytes)?;
        if !self.signed.claim().matches_record(&bytes) {
            bail!(
                "{}: digest mismatch: the record changed during the build",
                self.path.display()
            );
        }
        Ok(self.full.get_or_init(|| Full { record, bytes }))
    }
}

/// Everything a build needs, verified.
#[derive(Debug)]
pub struct Loaded {
    /// Certifications by serial.
    pub certs: BTreeMap<u64, VerifiedCert>,
    /// The trust list.
    pub trust: TrustList,
    /// Its signed bytes.
    pub trust_bytes: Vec<u8>,
    /// The revocation list.
    pub revocations: RevocationList,
    /// Its signed bytes.
    pub revocation_bytes: Vec<u8>,
    /// Reference time of statuses (Unix seconds).
    pub as_of: u64,
    /// The record cache to keep for the next build.
    cache: RecordCache,
    /// Whether it differs from the one read.
    cache_changed: bool,
}

/// The lists and the reference time, loaded before the records (they decide the cache keys).
pub struct Lists {
    pub trust: TrustList,
    pub trust_bytes: Vec<u8>,
    pub revocations: RevocationList,
    pub revocation_bytes: Vec<u8>,
    pub as_of: u64,
}

/// Loads and checks the trust list and revocation list. `at` overrides the reference time, which
/// is otherwise the revocation list's issued-at (so the same registry always builds the same).
pub fn lists(reg: &Registry, at: Option<u64>) -> Result<Lists> {
    let trust = reg.trust_list()?;
    let trust_bytes = fsutil::read(&reg.path(TRUST_LIST_FILE))?;
    let revocations = reg.revocation_list(&trust)?;
    let revocation_bytes = fsutil::read(&reg.path(REVOCATION_LIST_FILE))?;
    let as_of = at.unwrap_or(revocations.issued_at);
    Ok(Lists {
        trust,
        trust_bytes,
        revocations,
        revocation_bytes,
        as_of,
    })
}

/// Version 3: stamps with change time, inode and device; codes and look-alike checks.
const CACHE_VERSION: u32 = 3;

#[derive(Debug, Default, Serialize, Deserialize)]
struct RecordCache {
    version: u32,
    /// SHA-256 of the trust list bytes and the catalogue codes the entries were checked under.
    basis: String,
    records: foldhash::HashMap<String, CacheEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CacheEntry {
    /// `None` when the files could not be stamped or changed too close to the scan: the entry
    /// is then never used.
    stamp: Option<Stamp>,
    /// The signed claim (`claim || signature`).
    payload: Vec<u8>,
    /// The record fields the claim does not hold.
    extras: Extras,
}

/// The fields of a summary that are not in the claim.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Extras {
    manufacturer_en: Option<String>,
    manufacturer_uscc: Option<String>,
    product: String,
    issued: u16,
    supersedes: Option<u64>,
}

impl Summary {
    fn from_claim(claim: &starmark_core::Claim, x: &Extras) -> Summary {
        Summary {
            serial: claim.serial,
            manufacturer: claim.manufacturer.clone(),
            manufacturer_en: x.manufacturer_en.clone(),
            manufacturer_uscc: x.manufacturer_uscc.clone(),
            product: x.product.clone(),
            model: claim.model.clone(),
            category: claim.category.clone(),
            tier: claim.tier.stars(),
            issued: Day(x.issued),
            valid_from: claim.valid_from,
            valid_until: claim.valid_until,
            supersedes: x.supersedes,
        }
    }
}

/// The stamps of a record file and of its signature file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    record: FileStamp,
    sig: FileStamp,
}

/// What `stat` says of a file: its size and modification time, which `touch -r` can set back,
/// and its change time, inode and device, which no tool can: a changed file shows here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct FileStamp {
    size: u64,
    /// Seconds and nanoseconds since the Unix epoch.
    mtime: (i64, i64),
    /// Seconds and nanoseconds since the Unix epoch.
    ctime: (i64, i64),
    ino: u64,
    dev: u64,
}

/// How long after a change a stamp is trusted: a later change within this time could leave it as
/// it is. File systems with nanosecond times still tick at the kernel's coarse clock (a few ms).
const SETTLE_NANOS: i128 = 100_000_000;
/// The same for file systems that keep whole seconds (or two, like FAT).
const SETTLE_NANOS_COARSE: i128 = 2_000_000_000;

impl FileStamp {
    #[cfg(unix)]
    fn of(m: &std::fs::Metadata) -> FileStamp {
        use std::os::unix::fs::MetadataExt;
        FileStamp {
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
            ino: m.ino(),
            dev: m.dev(),
        }
    }

    /// Without change time and inode, only size and modification time.
    #[cfg(not(unix))]
    fn of(m: &std::fs::Metadata) -> FileStamp {
        let since = |t: std::io::Result<SystemTime>| {
            t.ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or((0, 0), |d| {
                    (
                        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                        i64::from(d.subsec_nanos()),
                    )
                })
        };
        FileStamp {
            size: m.len(),
            mtime: since(m.modified()),
            ctime: since(m.modified()),
            ino: 0,
            dev: 0,
        }
    }

    /// Whether a change after `scan` (Unix nanoseconds) is sure to show in the stamp.
    fn settled(&self, scan: i128) -> bool {
        let nanos = |(s, n): (i64, i64)| i128::from(s) * 1_000_000_000 + i128::from(n);
        let window = if self.ctime.1 == 0 {
            SETTLE_NANOS_COARSE
        } else {
            SETTLE_NANOS
        };
        nanos(self.ctime).max(nanos(self.mtime)) + window <= scan
    }
}

impl Stamp {
    fn settled(&self, scan: i128) -> bool {
        self.record.settled(scan) && self.sig.settled(scan)
    }
}

/// The stamp of a scanned record; `None` when it or its signature file cannot be read.
fn stamp(f: &RecordFile) -> Option<Stamp> {
    Some(Stamp {
        record: FileStamp::of(f.meta.as_ref()?),
        sig: FileStamp::of(f.sig_meta.as_ref()?),
    })
}

/// Now, in Unix nanoseconds (0 for a clock before 1970: then no stamp is trusted).
fn now_nanos() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
}

fn cache_path(reg: &Registry) -> PathBuf {
    reg.path(".starmark-cache").join("records.bin")
}

impl Loaded {
    /// Keeps the record cache for the next build (after the build succeeded).
    pub fn save_cache(&self, reg: &Registry) -> Result<()> {
        if !self.cache_changed {
            return Ok(());
        }
        let path = cache_path(reg);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("{}: cannot create", dir.display()))?;
        }
        fsutil::write_cache(&path, &postcard::to_stdvec(&self.cache)?)
    }
}

/// Loads and verifies every record. With `use_cache`, unchanged files are taken from the record
/// cache without being read again.
pub fn load(reg: &Registry, lists: Lists, use_cache: bool) -> Result<Loaded> {
    let Lists {
        trust,
        trust_bytes,
        revocations,
        revocation_bytes,
        as_of,
    } = lists;
    let mut basis = Sha256::new();
    basis.update(&trust_bytes);
    for c in &reg.config.categories {
        basis.update(c.code.as_bytes());
        basis.update([0]);
    }
    let basis = starmark_core::to_hex(&basis.finalize());
    let scan_time = now_nanos();
    // The previous build's cache is decoded while the records directory is listed.
    let (previous, scanned) = rayon::join(
        || -> RecordCache {
            if !use_cache {
                return RecordCache::default();
            }
            std::fs::read(cache_path(reg))
                .ok()
                .and_then(|b| postcard::from_bytes::<RecordCache>(&b).ok())
                .filter(|c| c.version == CACHE_VERSION && c.basis == basis)
                .unwrap_or_default()
        },
        || reg.scan_records(),
    );
    let scanned = scanned?;
    // Refused entries of records/ are reported with the bad records.
    let mut errors = scanned.problems;
    let files: Vec<(PathBuf, Option<Stamp>)> = scanned
        .files
        .into_iter()
        .map(|f| {
            let st = stamp(&f);
            (f.path, st)
        })
        .collect();
    let ctx = Context {
        trust: &trust,
        revocations: Some(&revocations),
        now: as_of,
        highest_seen_sequence: None,
    };
    // A fresh entry (keyed by path) for each file read now; `None` keeps the previous build's
    // entry; and whether the file had an entry before.
    type Checked = (VerifiedCert, Option<(String, CacheEntry)>, bool);
    let max_bytes = reg.config.max_record_bytes;
    let results: Vec<Result<Checked, String>> = files
        .par_iter()
        .map(|(path, st)| {
            let key = path.to_string_lossy();
            let st = *st;
            let before = previous.records.get(key.as_ref());
            match before.filter(|e| st.is_some() && e.stamp == st) {
                Some(entry) => from_cache(path, entry, &ctx, max_bytes).map(|c| (c, None, true)),
                None => check_one(reg, &ctx, path, st.filter(|s| s.settled(scan_time)))
                    .map(|(c, e)| (c, Some((key.into_owned(), e)), before.is_some())),
            }
        })
        .collect();

    let mut certs: BTreeMap<u64, VerifiedCert> = BTreeMap::new();
    let mut fresh = Vec::new();
    // Files that had an entry: when they are all of the previous entries, none is stale.
    let mut known = 0usize;
    for r in results {
        match r {
            Err(e) => errors.push(e),
            Ok((c, entry, had)) => {
                known += usize::from(had);
                let serial = c.summary.serial;
                if let Some(first) = certs.get(&serial) {
                    errors.push(format!(
                        "{}: field serial: duplicate serial {serial}, also used by {}",
                        c.path.display(),
                        first.path.display()
                    ));
                } else {
                    fresh.extend(entry);
                    certs.insert(serial, c);
                }
            }
        }
    }
    let supersedes: Vec<(u64, u64, PathBuf)> = certs
        .values()
        .filter_map(|c| {
            c.summary
                .supersedes
                .map(|old| (old, c.summary.serial, c.path.clone()))
        })
        .collect();
    for (old, new, path) in supersedes {
        match certs.get_mut(&old) {
            None => errors.push(format!(
                "{}: field supersedes: no record has serial {old}",
                path.display()
            )),
            Some(c) => {
                c.superseded_by = Some(c.superseded_by.map_or(new, |s| s.max(new)));
                if c.status == Status::Valid {
                    c.status = Status::Superseded;
                }
            }
        }
    }
    errors.extend(look_alikes(&certs));
    if !errors.is_empty() {
        errors.sort();
        bail!(
            "{}; nothing was written:\n  {}",
            crate::plural::count(errors.len(), "bad record", "bad records"),
            errors.join("\n  ")
        );
    }
    // The new cache is the previous one with the fresh entries, and without the entries of
    // files that are gone (looked for only when some are).
    let mut cache = previous;
    cache.version = CACHE_VERSION;
    cache.basis = basis;
    let stale = known < cache.records.len();
    let cache_changed = !fresh.is_empty() || stale;
    if stale {
        let present: foldhash::HashSet<std::borrow::Cow<'_, str>> =
            files.iter().map(|(p, _)| p.to_string_lossy()).collect();
        cache.records.retain(|k, _| present.contains(k.as_str()));
    }
    cache.records.extend(fresh);
    Ok(Loaded {
        certs,
        trust,
        trust_bytes,
        revocations,
        revocation_bytes,
        as_of,
        cache,
        cache_changed,
    })
}

/// Records whose manufacturer name imitates a different manufacturer's of a lower serial.
fn look_alikes(certs: &BTreeMap<u64, VerifiedCert>) -> Vec<String> {
    let makers = Makers::new(certs.values().map(|c| {
        (
            c.summary.serial,
            c.summary.manufacturer.as_str(),
            c.path.as_path(),
        )
    }));
    certs
        .values()
        .filter_map(|c| {
            let original = makers.imitated(c.summary.serial, &c.summary.manufacturer)?;
            Some(format!(
                "{}: field manufacturer: {:?} looks like {:?} of {} (serial {}): a different manufacturer's name, with the same UTS #39 confusable skeleton",
                c.path.display(),
                c.summary.manufacturer,
                original.name,
                original.path.display(),
                original.serial
            ))
        })
        .collect()
}

fn status_of(path: &Path, v: &Verification) -> Result<Status, String> {
    match v.verdict {
        Verdict::Valid => Ok(Status::Valid),
        Verdict::Expired => Ok(Status::Expired),
        Verdict::NotYetValid => Ok(Status::NotYetValid),
        Verdict::Revoked => Ok(Status::Revoked),
        Verdict::Counterfeit => Err(format!(
            "{}: bad signature: the signature in {} does not verify",
            path.display(),
            signature_path(path).display()
        )),
        other => Err(format!(
            "{}: verdict {}{}",
            path.display(),
            other.name(),
            v.detail
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        )),
    }
}

fn from_cache(
    path: &Path,
    entry: &CacheEntry,
    ctx: &Context<'_>,
    max_bytes: u64,
) -> Result<VerifiedCert, String> {
    // The limit may have been lowered since the record was verified.
    if let Some(st) = entry.stamp {
        check_record_size(path, st.record.size, max_bytes).map_err(|e| format!("{e:#}"))?;
    }
    let fail = |e: String| {
        format!(
            "{}: cached signature unusable ({e}); rebuild with --full",
            path.display()
        )
    };
    let signed = SignedClaim::decode(&entry.payload).map_err(|e| fail(e.to_string()))?;
    let issuer = ctx
        .trust
        .issuer(signed.claim().key_id)
        .ok_or_else(|| fail("issuer key gone".into()))?;
    let v = assess(signed.claim(), issuer, ctx);
    let status = status_of(path, &v)?;
    let cert = VerifiedCert {
        path: path.to_path_buf(),
        summary: Summary::from_claim(signed.claim(), &entry.extras),
        signed,
        status,
        revocation: v.revocation,
        superseded_by: None,
        max_bytes,
        full: OnceLock::new(),
    };
    Ok(cert)
}

fn check_one(
    reg: &Registry,
    ctx: &Context<'_>,
    path: &Path,
    st: Option<Stamp>,
) -> Result<(VerifiedCert, CacheEntry), String> {
    let max_bytes = reg.config.max_record_bytes;
    let sr = signed::load(path, max_bytes).map_err(|e| format!("{e:#}"))?;
    let record = &sr.record;
    check_file_name(path, record.serial).map_err(|e| format!("{e:#}"))?;
    if reg.category(&record.category).is_none() {
        return Err(format!(
            "{}: unknown category {:?} (not in the catalogue of starmark.toml)",
            crate::registry::at_field(path, &sr.bytes, "category"),
            record.category
        ));
    }
    let v = verify(&sr.signed, ctx);
    let status = status_of(path, &v)?;
    let summary = Summary::of(record);
    let entry = CacheEntry {
        stamp: st,
        payload: sr.signed.as_bytes().to_vec(),
        extras: Extras {
            manufacturer_en: record.manufacturer_en.clone(),
            manufacturer_uscc: record.manufacturer_uscc.clone(),
            product: record.product.clone(),
            issued: record.issued.0,
            supersedes: record.supersedes,
        },
    };
    let full = OnceLock::new();
    let _ = full.set(Full {
        record: sr.record,
        bytes: sr.bytes,
    });
    let cert = VerifiedCert {
        path: path.to_path_buf(),
        summary,
        signed: sr.signed,
        status,
        revocation: v.revocation,
        superseded_by: None,
        max_bytes,
        full,
    };
    Ok((cert, entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i128 = 1_000_000_000;

    fn changed_at(secs: i64, nanos: i64) -> FileStamp {
        FileStamp {
            size: 10,
            mtime: (secs - 100, 0),
            ctime: (secs, nanos),
            ino: 1,
            dev: 1,
        }
    }

    #[test]
    fn a_stamp_is_trusted_only_once_a_later_change_must_show_in_it() {
        let t = 1_800_000_000;
        let at = |s: i64, n: i64| i128::from(s) * SECOND + i128::from(n);
        // Nanosecond times: trusted 100 ms after the change.
        let fine = changed_at(t, 500);
        assert!(!fine.settled(at(t, 500)));
        assert!(!fine.settled(at(t, 500) + SETTLE_NANOS - 1));
        assert!(fine.settled(at(t, 500) + SETTLE_NANOS));
        // Whole-second times: 2 s.
        let coarse = changed_at(t, 0);
        assert!(!coarse.settled(at(t + 1, 999_999_999)));
        assert!(coarse.settled(at(t + 2, 0)));
        // A modification time set in the future keeps it untrusted.
        let future = FileStamp {
            mtime: (t + 3600, 1),
            ..fine
        };
        assert!(!future.settled(at(t + 60, 0)));
        // Both files of a record must be settled.
        let stamp = Stamp {
            record: coarse,
            sig: fine,
        };
        assert!(!stamp.settled(at(t + 1, 0)));
        assert!(stamp.settled(at(t + 2, 0)));
    }
}
