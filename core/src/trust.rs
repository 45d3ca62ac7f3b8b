//! The trust list: the keys that the root key vouches for, each with its purpose: issuer keys
//! (they sign claims and revocation lists) and log keys (they sign the transparency log's
//! checkpoints, see [`crate::log`]).
//!
//! Layout (integers big-endian; see docs/FORMAT.md):
//!
//! ```text
//! version u8 (1 or 2) | sequence u64 | issued_at u64 (Unix seconds) | count u16
//! | count × ( public_key [32] | [purpose u8 (0 issuer, 1 log) in version 2 only] | name text
//!             | valid_from u16 | valid_until u16
//!             | compromised u8 (0 or 1) | [compromised_since u16 if 1] )
//! | root signature [64] over TRUST_LIST_CONTEXT || everything before it
//! ```
//! Entries are sorted by key id, without duplicates. A list of issuer keys only is written in
//! version 1 (every entry an issuer key, the layout verifiers from before the log read); a list
//! that holds a log key in version 2. A version 2 list without a log key is refused, so every
//! list has exactly one encoding.

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use crate::date::Day;
use crate::error::{DecodeError, Error, ListError};
use crate::keys::{KeyId, PublicKey, SecretKey, SIGNATURE_LEN, TRUST_LIST_CONTEXT};
use crate::wire::{check_text, put_text, Reader};

/// The trust list format version of a list of issuer keys only.
pub const TRUST_LIST_VERSION: u8 = 1;
/// The trust list format version of a list that holds a log key (entries carry a purpose byte).
pub const TRUST_LIST_VERSION_PURPOSE: u8 = 2;
/// Longest issuer name, in UTF-8 bytes.
pub const MAX_ISSUER_NAME: usize = 120;
/// Smallest encoding of one version 1 entry: key, a one-byte name, two dates and the flag
/// (39 bytes); a version 2 entry has one more byte, its purpose.
const MIN_ENTRY: usize = 32 + 2 + 2 + 2 + 1;

/// What a key of the trust list may sign: the `purpose` byte of a version 2 entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Signs claims and revocation lists (byte `0`).
    Issuer,
    /// Signs the transparency log's checkpoints (byte `1`), nothing else.
    Log,
}

impl Purpose {
    /// The byte of a version 2 entry.
    pub fn code(self) -> u8 {
        match self {
            Purpose::Issuer => 0,
            Purpose::Log => 1,
        }
    }

    /// The purpose of a byte; `None` for bytes other than 0 and 1.
    pub fn from_code(code: u8) -> Option<Purpose> {
        match code {
            0 => Some(Purpose::Issuer),
            1 => Some(Purpose::Log),
            _ => None,
        }
    }

    /// The lower-case name (`issuer`, `log`).
    pub fn name(self) -> &'static str {
        match self {
            Purpose::Issuer => "issuer",
            Purpose::Log => "log",
        }
    }
}

/// One issuer key and what the root says about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IssuerKey {
    /// The key id, derived from the public key.
    pub key_id: KeyId,
    /// The public key.
    pub public_key: PublicKey,
    /// Who holds the key.
    pub name: String,
    /// First day the key may sign certifications.
    pub valid_from: Day,
    /// Last day the key may sign certifications (claims whose validity starts after it are refused).
    pub valid_until: Day,
    /// Set when the key is known to be compromised; every claim it signed is then refused.
    pub compromised_since: Option<Day>,
}

impl IssuerKey {
    /// A new entry for `public_key`.
    pub fn new(
        public_key: PublicKey,
        name: String,
        valid_from: Day,
        valid_until: Day,
    ) -> IssuerKey {
        IssuerKey {
            key_id: public_key.key_id(),
            public_key,
            name,
            valid_from,
            valid_until,
            compromised_since: None,
        }
    }
}

/// A key that signs the transparency log's checkpoints (purpose [`Purpose::Log`]): the same
/// fields as an issuer key. Its dates are the days the registry may sign checkpoints with it;
/// a compromised log key's signatures are refused.
pub type LogKey = IssuerKey;

/// The content of a trust list. A `TrustList` obtained from bytes has passed the root signature
/// check ([`TrustList::decode_verified`]); one built by hand is only signed, never trusted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrustList {
    /// Increases with every new list.
    pub sequence: u64,
    /// When the root signed it (Unix seconds).
    pub issued_at: u64,
    /// The issuer keys (purpose issuer), sorted by key id.
    pub issuers: Vec<IssuerKey>,
    /// The log keys (purpose log), sorted by key id. Never used to verify claims or revocation
    /// lists.
    pub log_keys: Vec<LogKey>,
}

impl TrustList {
    /// The issuer key with this id (never a log key).
    pub fn issuer(&self, key_id: KeyId) -> Option<&IssuerKey> {
        self.issuers
            .binary_search_by_key(&key_id, |k| k.key_id)
            .ok()
            .and_then(|i| self.issuers.get(i))
    }

    /// The log key with this id (never an issuer key).
    pub fn log_key(&self, key_id: KeyId) -> Option<&LogKey> {
        self.log_keys
            .binary_search_by_key(&key_id, |k| k.key_id)
            .ok()
            .and_then(|i| self.log_keys.get(i))
    }

    /// The format version this list is written in: 1 without a log key, 2 with one.
    pub fn version(&self) -> u8 {
        if self.log_keys.is_empty() {
            TRUST_LIST_VERSION
        } else {
            TRUST_LIST_VERSION_PURPOSE
        }
    }

    /// Sorts the entries, checks them, and returns the body (everything the signature covers).
    fn encode_body(&self) -> Result<Vec<u8>, DecodeError> {
        let version = self.version();
        let mut keys: Vec<(Purpose, &IssuerKey)> = self
            .issuers
            .iter()
            .map(|k| (Purpose::Issuer, k))
            .chain(self.log_keys.iter().map(|k| (Purpose::Log, k)))
            .collect();
        keys.sort_by_key(|(_, k)| k.key_id);
        if keys.windows(2).any(|w| w[0].1.key_id == w[1].1.key_id) {
            return Err(DecodeError::NotSorted { field: "issuers" });
        }
        let count = u16::try_from(keys.len()).map_err(|_| DecodeError::LengthTooLarge {
            field: "issuers",
            len: keys.len(),
            max: usize::from(u16::MAX),
        })?;
        let mut out = Vec::with_capacity(19 + keys.len() * 80);
        out.push(version);
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.issued_at.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
        for (purpose, k) in keys {
            check_text("issuer name", &k.name, MAX_ISSUER_NAME)?;
            if k.valid_until < k.valid_from {
                return Err(DecodeError::DatesOutOfOrder {
                    field: "issuer valid_until",
                });
            }
            out.extend_from_slice(&k.public_key.to_bytes());
            if version == TRUST_LIST_VERSION_PURPOSE {
                out.push(purpose.code());
            }
            put_text(&mut out, &k.name);
            out.extend_from_slice(&k.valid_from.0.to_be_bytes());
            out.extend_from_slice(&k.valid_until.0.to_be_bytes());
            match k.compromised_since {
                None => out.push(0),
                Some(d) => {
                    out.push(1);
                    out.extend_from_slice(&d.0.to_be_bytes());
                }
            }
        }
        Ok(out)
    }

    /// Encodes and signs the list with the root key.
    pub fn sign(&self, root: &SecretKey) -> Result<Vec<u8>, DecodeError> {
        let mut body = self.encode_body()?;
        let sig = root.sign_in_context(TRUST_LIST_CONTEXT, &body);
        body.extend_from_slice(&sig);
        Ok(body)
    }

    /// Decodes a signed trust list and checks the root signature. Never panics; rejects trailing
    /// bytes, unknown versions, unsorted or duplicate keys, weak keys.
    pub fn decode_verified(bytes: &[u8], root: &PublicKey) -> Result<TrustList, Error> {
        let body_len = bytes
            .len()
            .checked_sub(SIGNATURE_LEN)
            .ok_or(DecodeError::Truncated { field: "signature" })?;
        let list = TrustList::decode_body(&bytes[..body_len])?;
        let mut sig = [0u8; SIGNATURE_LEN];
        sig.copy_from_slice(&bytes[body_len..]);
        root.verify_in_context(TRUST_LIST_CONTEXT, &bytes[..body_len], &sig)
            .map_err(|_| ListError::TrustListSignature)?;
        Ok(list)
    }

    fn decode_body(body: &[u8]) -> Result<TrustList, DecodeError> {
        let mut r = Reader::new(body);
        let version = r.u8("version")?;
        if version != TRUST_LIST_VERSION && version != TRUST_LIST_VERSION_PURPOSE {
            return Err(DecodeError::UnsupportedVersion {
                found: version,
                expected: TRUST_LIST_VERSION_PURPOSE,
            });
        }
        let with_purpose = version == TRUST_LIST_VERSION_PURPOSE;
        let min_entry = MIN_ENTRY + usize::from(with_purpose);
        let sequence = r.u64("sequence")?;
        let issued_at = r.u64("issued_at")?;
        let count = usize::from(r.u16("count")?);
        // The bound: count × the smallest entry ≤ the bytes after `count` up to the signature,
        // which the body does not hold (so the signature never counts).
        if count * min_entry > r.remaining() {
            return Err(DecodeError::LengthTooLarge {
                field: "count",
                len: count,
                max: r.remaining() / min_entry,
            });
        }
        let mut issuers: Vec<IssuerKey> = Vec::with_capacity(count);
        let mut log_keys: Vec<LogKey> = Vec::new();
        let mut last: Option<KeyId> = None;
        for _ in 0..count {
            let raw = r.array::<32>("public_key")?;
            let public_key = PublicKey::from_bytes(&raw).map_err(|source| DecodeError::Key {
                field: "public_key",
                source,
            })?;
            let purpose = if with_purpose {
                let code = r.u8("purpose")?;
                Purpose::from_code(code).ok_or(DecodeError::OutOfRange { field: "purpose" })?
            } else {
                Purpose::Issuer
            };
            let name = r.text("issuer name", MAX_ISSUER_NAME)?;
            let valid_from = Day(r.u16("issuer valid_from")?);
            let valid_until = Day(r.u16("issuer valid_until")?);
            if valid_until < valid_from {
                return Err(DecodeError::DatesOutOfOrder {
                    field: "issuer valid_until",
                });
            }
            let compromised_since = match r.u8("compromised")? {
                0 => None,
                1 => Some(Day(r.u16("compromised_since")?)),
                _ => {
                    return Err(DecodeError::OutOfRange {
                        field: "compromised",
                    })
                }
            };
            let key = IssuerKey {
                key_id: public_key.key_id(),
                public_key,
                name,
                valid_from,
                valid_until,
                compromised_since,
            };
            if last.is_some_and(|prev| prev >= key.key_id) {
                return Err(DecodeError::NotSorted { field: "issuers" });
            }
            last = Some(key.key_id);
            match purpose {
                Purpose::Issuer => issuers.push(key),
                Purpose::Log => log_keys.push(key),
            }
        }
        r.finish()?;
        if with_purpose && log_keys.is_empty() {
            return Err(DecodeError::NonCanonicalVersion {
                got: version,
                want: TRUST_LIST_VERSION,
            });
        }
        Ok(TrustList {
            sequence,
            issued_at,
            issuers,
            log_keys,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn sample(root: &SecretKey, issuers: &[&SecretKey]) -> Vec<u8> {
        TrustList {
            log_keys: Vec::new(),
            sequence: 1,
            issued_at: 1_782_864_000,
            issuers: issuers
                .iter()
                .map(|k| {
                    IssuerKey::new(
                        k.public_key(),
                        "Demo issuer".into(),
                        Day(20_000),
                        Day(25_000),
                    )
                })
                .collect(),
        }
        .sign(root)
        .unwrap()
    }

    #[test]
    fn round_trip_and_lookup() {
        let root = SecretKey::from_seed(&[1; 32]);
        let a = SecretKey::from_seed(&[2; 32]);
        let b = SecretKey::from_seed(&[3; 32]);
        let bytes = sample(&root, &[&a, &b]);
        let list = TrustList::decode_verified(&bytes, &root.public_key()).unwrap();
        assert_eq!(list.issuers.len(), 2);
        assert!(list.issuer(a.public_key().key_id()).is_some());
        assert!(list.issuer(KeyId([0; 4])).is_none());
        // the wrong root
        let other = SecretKey::from_seed(&[9; 32]).public_key();
        assert_eq!(
            TrustList::decode_verified(&bytes, &other),
            Err(Error::List(ListError::TrustListSignature))
        );
        // a flipped byte in the body
        let mut t = bytes.clone();
        t[3] ^= 1;
        assert!(TrustList::decode_verified(&t, &root.public_key()).is_err());
    }

    #[test]
    fn duplicate_keys_refused() {
        let root = SecretKey::from_seed(&[1; 32]);
        let a = SecretKey::from_seed(&[2; 32]);
        let k = IssuerKey::new(a.public_key(), "x".into(), Day(0), Day(1));
        let list = TrustList {
            sequence: 1,
            issued_at: 0,
            issuers: vec![k.clone(), k.clone()],
            log_keys: Vec::new(),
        };
        assert_eq!(
            list.sign(&root),
            Err(DecodeError::NotSorted { field: "issuers" })
        );
        // The same key as an issuer key and as a log key.
        let list = TrustList {
            sequence: 1,
            issued_at: 0,
            issuers: vec![k.clone()],
            log_keys: vec![k],
        };
        assert_eq!(
            list.sign(&root),
            Err(DecodeError::NotSorted { field: "issuers" })
        );
    }

    /// A list with one issuer key (seed 2) and one log key (seed 3).
    fn with_log_key(root: &SecretKey) -> (TrustList, Vec<u8>) {
        let issuer = SecretKey::from_seed(&[2; 32]).public_key();
        let log = SecretKey::from_seed(&[3; 32]).public_key();
        let list = TrustList {
            sequence: 2,
            issued_at: 1_782_864_000,
            issuers: vec![IssuerKey::new(issuer, "issuer".into(), Day(10), Day(20))],
            log_keys: vec![IssuerKey::new(log, "log".into(), Day(10), Day(20))],
        };
        let bytes = list.sign(root).unwrap();
        (list, bytes)
    }

    #[test]
    fn a_log_key_makes_a_version_2_list_and_is_never_an_issuer() {
        let root = SecretKey::from_seed(&[1; 32]);
        let (list, bytes) = with_log_key(&root);
        assert_eq!(bytes[0], TRUST_LIST_VERSION_PURPOSE);
        let back = TrustList::decode_verified(&bytes, &root.public_key()).unwrap();
        assert_eq!(back, list);
        let log_id = list.log_keys[0].key_id;
        let issuer_id = list.issuers[0].key_id;
        assert!(back.issuer(log_id).is_none());
        assert!(back.log_key(log_id).is_some());
        assert!(back.log_key(issuer_id).is_none());
        // Without the log key the same list is written in version 1, without purpose bytes.
        let only_issuers = TrustList {
            log_keys: Vec::new(),
            ..list.clone()
        };
        let v1 = only_issuers.sign(&root).unwrap();
        assert_eq!(v1[0], TRUST_LIST_VERSION);
        // The issuer entry's purpose byte, and the whole log entry: key, purpose, name "log"
        // with its length, two days, the flag.
        assert_eq!(bytes.len() - v1.len(), 1 + (32 + 1 + 1 + 3 + 2 + 2 + 1));
    }

    /// The body of `bytes` with `edit` applied, signed again by `root`.
    fn resigned(root: &SecretKey, bytes: &[u8], edit: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
        let mut body = bytes[..bytes.len() - SIGNATURE_LEN].to_vec();
        edit(&mut body);
        let sig = root.sign_in_context(TRUST_LIST_CONTEXT, &body);
        body.extend_from_slice(&sig);
        body
    }

    #[test]
    fn version_2_without_a_log_key_and_unknown_purposes_are_refused() {
        let root = SecretKey::from_seed(&[1; 32]);
        let (list, bytes) = with_log_key(&root);
        // The purpose byte of each entry follows its 32-byte key; entries are sorted by key id.
        let first_is_log = list.log_keys[0].key_id < list.issuers[0].key_id;
        let purpose_at = 19 + 32;
        let log_purpose_at = if first_is_log {
            purpose_at
        } else {
            purpose_at + 2 + "issuer".len() + 5 + 32
        };
        let as_issuer = resigned(&root, &bytes, |b| b[log_purpose_at] = 0);
        assert_eq!(
            TrustList::decode_verified(&as_issuer, &root.public_key()),
            Err(Error::Decode(DecodeError::NonCanonicalVersion {
                got: 2,
                want: 1
            }))
        );
        let unknown = resigned(&root, &bytes, |b| b[log_purpose_at] = 2);
        assert_eq!(
            TrustList::decode_verified(&unknown, &root.public_key()),
            Err(Error::Decode(DecodeError::OutOfRange { field: "purpose" }))
        );
        let version_3 = resigned(&root, &bytes, |b| b[0] = 3);
        assert_eq!(
            TrustList::decode_verified(&version_3, &root.public_key()),
            Err(Error::Decode(DecodeError::UnsupportedVersion {
                found: 3,
                expected: 2
            }))
        );
    }

    #[test]
    fn huge_count_does_not_allocate() {
        let mut body = vec![1u8];
        body.extend_from_slice(&[0; 16]);
        body.extend_from_slice(&u16::MAX.to_be_bytes());
        body.extend_from_slice(&[0; 64]);
        assert!(matches!(
            TrustList::decode_verified(&body, &SecretKey::from_seed(&[1; 32]).public_key()),
            Err(Error::Decode(DecodeError::LengthTooLarge {
                field: "count",
                ..
            }))
        ));
    }

    proptest! {
        #[test]
        fn round_trip(seq in any::<u64>(), at in any::<u64>(), seeds in proptest::collection::vec(any::<[u8; 32]>(), 0..5),
                      names in proptest::collection::vec("[^\\p{Cc}]{1,30}", 5), comp in proptest::option::of(any::<u16>())) {
            let root = SecretKey::from_seed(&[1; 32]);
            let mut issuers: Vec<IssuerKey> = seeds.iter().zip(names).map(|(s, n)| {
                let mut k = IssuerKey::new(SecretKey::from_seed(s).public_key(), n, Day(10), Day(20));
                k.compromised_since = comp.map(Day);
                k
            }).collect();
            issuers.sort_by_key(|k| k.key_id);
            issuers.dedup_by_key(|k| k.key_id);
            // Every third key a log key.
            let mut log_keys = Vec::new();
            let mut kept = Vec::new();
            for (i, k) in issuers.into_iter().enumerate() {
                if i % 3 == 2 { log_keys.push(k) } else { kept.push(k) }
            }
            let list = TrustList { sequence: seq, issued_at: at, issuers: kept, log_keys };
            let bytes = list.sign(&root).unwrap();
            let back = TrustList::decode_verified(&bytes, &root.public_key()).unwrap();
            prop_assert_eq!(&back, &list);
            prop_assert_eq!(back.sign(&root).unwrap(), bytes);
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = TrustList::decode_verified(&b, &SecretKey::from_seed(&[1; 32]).public_key());
        }
    }
}
