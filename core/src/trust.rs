//! The trust list: the issuer keys that the root key vouches for.
//!
//! Layout (version 1; integers big-endian; see docs/FORMAT.md):
//!
//! ```text
//! version u8 = 1 | sequence u64 | issued_at u64 (Unix seconds) | count u16
//! | count × ( public_key [32] | name text | valid_from u16 | valid_until u16
//!             | compromised u8 (0 or 1) | [compromised_since u16 if 1] )
//! | root signature [64] over TRUST_LIST_CONTEXT || everything before it
//! ```
//! Entries are sorted by key id, without duplicates.

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use crate::date::Day;
use crate::error::{DecodeError, Error, ListError};
use crate::keys::{KeyId, PublicKey, SecretKey, SIGNATURE_LEN, TRUST_LIST_CONTEXT};
use crate::wire::{check_text, put_text, Reader};

/// The trust list format version.
pub const TRUST_LIST_VERSION: u8 = 1;
/// Longest issuer name, in UTF-8 bytes.
pub const MAX_ISSUER_NAME: usize = 120;
/// Smallest encoding of one entry: key, a one-byte name, two dates and the flag (39 bytes).
const MIN_ENTRY: usize = 32 + 2 + 2 + 2 + 1;

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

/// The content of a trust list. A `TrustList` obtained from bytes has passed the root signature
/// check ([`TrustList::decode_verified`]); one built by hand is only signed, never trusted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrustList {
    /// Increases with every new list.
    pub sequence: u64,
    /// When the root signed it (Unix seconds).
    pub issued_at: u64,
    /// The issuer keys, sorted by key id.
    pub issuers: Vec<IssuerKey>,
}

impl TrustList {
    /// The issuer key with this id.
    pub fn issuer(&self, key_id: KeyId) -> Option<&IssuerKey> {
        self.issuers
            .binary_search_by_key(&key_id, |k| k.key_id)
            .ok()
            .and_then(|i| self.issuers.get(i))
    }

    /// Sorts the entries, checks them, and returns the body (everything the signature covers).
    fn encode_body(&self) -> Result<Vec<u8>, DecodeError> {
        let mut issuers = self.issuers.clone();
        issuers.sort_by_key(|k| k.key_id);
        if issuers.windows(2).any(|w| w[0].key_id == w[1].key_id) {
            return Err(DecodeError::NotSorted { field: "issuers" });
        }
        let count = u16::try_from(issuers.len()).map_err(|_| DecodeError::LengthTooLarge {
            field: "issuers",
            len: issuers.len(),
            max: usize::from(u16::MAX),
        })?;
        let mut out = Vec::with_capacity(19 + issuers.len() * 80);
        out.push(TRUST_LIST_VERSION);
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.issued_at.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
        for k in &issuers {
            check_text("issuer name", &k.name, MAX_ISSUER_NAME)?;
            if k.valid_until < k.valid_from {
                return Err(DecodeError::DatesOutOfOrder {
                    field: "issuer valid_until",
                });
            }
            out.extend_from_slice(&k.public_key.to_bytes());
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
        if version != TRUST_LIST_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                found: version,
                expected: TRUST_LIST_VERSION,
            });
        }
        let sequence = r.u64("sequence")?;
        let issued_at = r.u64("issued_at")?;
        let count = usize::from(r.u16("count")?);
        // The bound: count × 39 ≤ the bytes after `count` up to the signature, which the body
        // does not hold (so the signature never counts).
        if count * MIN_ENTRY > r.remaining() {
            return Err(DecodeError::LengthTooLarge {
                field: "count",
                len: count,
                max: r.remaining() / MIN_ENTRY,
            });
        }
        let mut issuers: Vec<IssuerKey> = Vec::with_capacity(count);
        for _ in 0..count {
            let raw = r.array::<32>("public_key")?;
            let public_key = PublicKey::from_bytes(&raw).map_err(|source| DecodeError::Key {
                field: "public_key",
                source,
            })?;
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
            if issuers.last().is_some_and(|prev| prev.key_id >= key.key_id) {
                return Err(DecodeError::NotSorted { field: "issuers" });
            }
            issuers.push(key);
        }
        r.finish()?;
        Ok(TrustList {
            sequence,
            issued_at,
            issuers,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn sample(root: &SecretKey, issuers: &[&SecretKey]) -> Vec<u8> {
        TrustList {
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
            issuers: vec![k.clone(), k],
        };
        assert_eq!(
            list.sign(&root),
            Err(DecodeError::NotSorted { field: "issuers" })
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
            let list = TrustList { sequence: seq, issued_at: at, issuers };
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
