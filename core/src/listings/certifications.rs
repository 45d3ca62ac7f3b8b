//! The verified certifications a listings check compares against, and the indexes it looks them
//! up by: serial, manufacturer and model.

use alloc::boxed::Box;
use alloc::collections::btree_map::Entry;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use crate::claim::{record_digest, Claim, SignedClaim};
use crate::record::{Record, RecordError};
use crate::revocation::RevocationList;
use crate::trust::TrustList;
use crate::verdict::{verify, Context, Verdict, Verification};

use super::normalise::{maker_key, model_key};

/// What the check knows besides the certifications: the verified trust list and revocation list,
/// the time, the highest revocation list sequence seen before, and where the registry's labels
/// lead, when known.
#[derive(Clone, Debug)]
pub struct Basis {
    trust: TrustList,
    revocations: Option<RevocationList>,
    now: u64,
    highest_seen_sequence: Option<u64>,
    base_url: Option<String>,
}

impl Basis {
    /// A basis from a trust list already verified under the pinned root key
    /// ([`TrustList::decode_verified`]) and a revocation list verified under it
    /// ([`RevocationList::decode_verified`]), or none (every result is then at best stale).
    pub fn new(
        trust: TrustList,
        revocations: Option<RevocationList>,
        now: u64,
        highest_seen_sequence: Option<u64>,
    ) -> Basis {
        Basis {
            trust,
            revocations,
            now,
            highest_seen_sequence,
            base_url: None,
        }
    }

    /// Label links must lead to `base_url` (`https://label.example.cn`, as labels print it):
    /// a genuine claim behind another site's address is then a counterfeit label.
    pub fn with_base_url(mut self, base_url: &str) -> Basis {
        self.base_url = Some(site_of(base_url));
        self
    }

    /// The verdict context.
    pub fn context(&self) -> Context<'_> {
        Context {
            trust: &self.trust,
            revocations: self.revocations.as_ref(),
            now: self.now,
            highest_seen_sequence: self.highest_seen_sequence,
        }
    }

    /// The time of the check (Unix seconds).
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The revocation list in use (`None` when there is none or it was refused as a rollback).
    pub fn revocations(&self) -> Option<&RevocationList> {
        self.revocations.as_ref().filter(|l| {
            self.highest_seen_sequence
                .is_none_or(|seen| l.sequence >= seen)
        })
    }

    /// The revocation list given, even when it is refused as a rollback.
    pub fn offered_revocations(&self) -> Option<&RevocationList> {
        self.revocations.as_ref()
    }

    /// The base URL label links must lead to, in the form [`Basis::with_base_url`] compares.
    pub(super) fn base_url(&self) -> Option<&str> {
        self.base_url.as_deref()
    }

    /// Verifies a signed claim ([`crate::verify`]): a certification to compare listings with when
    /// it is genuine (valid, expired, not yet valid or revoked), otherwise the refusing verdict.
    /// The only way to make a [`Certified`].
    pub fn certify(&self, signed: &SignedClaim) -> Result<Certified, Box<Verification>> {
        let mut v = verify(signed, &self.context());
        match (v.verdict, v.claim.take()) {
            (
                Verdict::Valid | Verdict::Expired | Verdict::NotYetValid | Verdict::Revoked,
                Some(claim),
            ) => Ok(Certified {
                claim,
                maker: None,
                v,
                payload: signed.as_bytes().to_vec(),
            }),
            (_, claim) => {
                v.claim = claim;
                Err(Box::new(v))
            }
        }
    }
}

/// A site address as label links are compared: without the scheme, lower case, without a
/// trailing `/`.
pub(super) fn site_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.trim_end_matches('/').to_lowercase()
}

/// A certification whose claim verified under the trust list: genuine, with its verdict (valid,
/// expired, not yet valid or revoked) and stale flag. Made only by [`Basis::certify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certified {
    claim: Claim,
    /// Its manufacturer's names, shared by its certifications (set by [`Certifications::new`]).
    maker: Option<Arc<Maker>>,
    /// The verification, its claim moved to `claim`.
    v: Verification,
    /// The signed claim's bytes: a label carrying exactly these is this certification, verified.
    payload: Vec<u8>,
}

impl Certified {
    /// The verified claim.
    pub fn claim(&self) -> &Claim {
        &self.claim
    }

    /// Whether `payload` (a label's `claim || signature`) is this certification's signed claim,
    /// byte for byte: then it verifies as this one did, under the same basis.
    pub fn is_payload(&self, payload: &[u8]) -> bool {
        self.payload == payload
    }

    /// The verdict: valid, expired, not yet valid or revoked.
    pub fn verdict(&self) -> Verdict {
        self.v.verdict
    }

    /// The verification's stale flag, rollback flag, revocation and list sequence (its claim is
    /// [`Certified::claim`]).
    pub fn verification(&self) -> &Verification {
        &self.v
    }
}

/// The names a record file gives its manufacturer, bound to the claim that signs the file's
/// SHA-256. Made only by [`RecordNames::read`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordNames {
    serial: u64,
    record_sha256: [u8; 32],
    manufacturer_en: Option<String>,
}

impl RecordNames {
    /// Parses a record file (its exact bytes) for its serial and English manufacturer name.
    /// Trusted only once [`Certifications::new`] finds a verified claim that signs its SHA-256.
    pub fn read(record_file: &[u8]) -> Result<RecordNames, RecordError> {
        let text = core::str::from_utf8(record_file).map_err(|_| RecordError {
            line: None,
            field: None,
            message: String::from("not valid UTF-8"),
            hint: None,
        })?;
        let record = Record::parse(text)?;
        Ok(RecordNames {
            serial: record.serial,
            record_sha256: record_digest(record_file),
            manufacturer_en: record.manufacturer_en,
        })
    }

    /// The record's serial.
    pub fn serial(&self) -> u64 {
        self.serial
    }
}

/// Something in the source that the check leaves out, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceProblem {
    /// Two verified claims with one serial: the first is kept.
    DuplicateSerial {
        /// The serial.
        serial: u64,
    },
    /// A record file whose SHA-256 no verified claim of its serial signs: its English name is
    /// not used.
    UnsignedRecord {
        /// The serial the record names.
        serial: u64,
    },
}

impl fmt::Display for SourceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceProblem::DuplicateSerial { serial } => write!(
                f,
                "serial {serial}: two verified claims; the first is used"
            ),
            SourceProblem::UnsignedRecord { serial } => write!(
                f,
                "record of serial {serial}: no verified claim signs its SHA-256; its English name is not used"
            ),
        }
    }
}

/// A registered manufacturer's names as listings are compared with them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Maker {
    /// The English names its verified records give it, sorted.
    pub(super) english: Vec<String>,
    /// The keys ([`maker_key`]) of its registered name and of its English names.
    pub(super) keys: Vec<String>,
}

/// The verified certifications of a registry, by serial and by manufacturer and model.
#[derive(Clone, Debug)]
pub struct Certifications {
    basis: Basis,
    certs: BTreeMap<u64, Certified>,
    /// Registered manufacturer name → its names.
    makers: BTreeMap<String, Arc<Maker>>,
    /// (manufacturer key, model key) → serials; every name of a manufacturer has its key.
    by_identity: BTreeMap<(String, String), Vec<u64>>,
    /// Model key → serials.
    by_model: BTreeMap<String, Vec<u64>>,
}

impl Certifications {
    /// The certifications from verified claims and the names of record files (kept only when a
    /// verified claim of the same serial signs the record's SHA-256), with what was left out.
    pub fn new(
        basis: Basis,
        certified: impl IntoIterator<Item = Certified>,
        names: impl IntoIterator<Item = RecordNames>,
    ) -> (Certifications, Vec<SourceProblem>) {
        let mut problems = Vec::new();
        let mut certs: BTreeMap<u64, Certified> = BTreeMap::new();
        for c in certified {
            let serial = c.claim.serial;
            match certs.entry(serial) {
                Entry::Occupied(_) => problems.push(SourceProblem::DuplicateSerial { serial }),
                Entry::Vacant(e) => {
                    e.insert(c);
                }
            }
        }
        let mut english: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for n in names {
            match certs.get(&n.serial) {
                Some(c) if c.claim.record_sha256 == n.record_sha256 => {
                    if let Some(en) = n.manufacturer_en {
                        let list = english.entry(c.claim.manufacturer.clone()).or_default();
                        if !list.contains(&en) {
                            list.push(en);
                        }
                    }
                }
                _ => problems.push(SourceProblem::UnsignedRecord { serial: n.serial }),
            }
        }
        let mut makers: BTreeMap<String, Arc<Maker>> = BTreeMap::new();
        let mut by_identity: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
        let mut by_model: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for (serial, c) in certs.iter_mut() {
            let name = &c.claim.manufacturer;
            let maker = match makers.get(name) {
                Some(m) => m.clone(),
                None => {
                    let mut english = english.remove(name).unwrap_or_default();
                    english.sort();
                    let mut keys = alloc::vec![maker_key(name)];
                    for en in &english {
                        let k = maker_key(en);
                        if !keys.contains(&k) {
                            keys.push(k);
                        }
                    }
                    let m = Arc::new(Maker { english, keys });
                    makers.insert(name.clone(), m.clone());
                    m
                }
            };
            let model = model_key(&c.claim.model);
            for k in &maker.keys {
                by_identity
                    .entry((k.clone(), model.clone()))
                    .or_default()
                    .push(*serial);
            }
            by_model.entry(model).or_default().push(*serial);
            c.maker = Some(maker);
        }
        (
            Certifications {
                basis,
                certs,
                makers,
                by_identity,
                by_model,
            },
            problems,
        )
    }

    /// How many certifications.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// The basis: lists, time.
    pub fn basis(&self) -> &Basis {
        &self.basis
    }

    /// The certification with this serial.
    pub fn get(&self, serial: u64) -> Option<&Certified> {
        self.certs.get(&serial)
    }

    /// The English names of a registered manufacturer.
    pub fn english_names(&self, manufacturer: &str) -> &[String] {
        self.makers
            .get(manufacturer)
            .map_or(&[], |m| m.english.as_slice())
    }

    /// The English names of the manufacturer of `c`.
    pub(super) fn english_of<'a>(&'a self, c: &'a Certified) -> &'a [String] {
        match &c.maker {
            Some(m) => &m.english,
            None => self.english_names(&c.claim.manufacturer),
        }
    }

    /// Whether a manufacturer key (see [`maker_key`]) names the manufacturer of `c`, by its
    /// registered name or one of its English names.
    pub(super) fn maker_matches(&self, c: &Certified, key: &str) -> bool {
        match &c.maker {
            Some(m) => m.keys.iter().any(|k| k == key),
            None => maker_key(&c.claim.manufacturer) == key,
        }
    }

    /// The serials of certifications of this manufacturer and model (keys).
    pub(super) fn by_identity(&self, maker: &str, model: &str) -> &[u64] {
        self.by_identity
            .get(&(String::from(maker), String::from(model)))
            .map_or(&[], Vec::as_slice)
    }

    /// The serials of certifications of this model (key), any manufacturer.
    pub(super) fn by_model(&self, model: &str) -> &[u64] {
        self.by_model.get(model).map_or(&[], Vec::as_slice)
    }
}
