//! The claim: what a label shows plus what the verifier needs, in a compact versioned binary form,
//! and the signed claim that a label's QR code carries.
//!
//! Layout (version 1; all integers big-endian; see docs/FORMAT.md):
//!
//! ```text
//! version u8 = 1 | key_id [4] | serial varint | tier u8 | category text | valid_from u16
//! | valid_until u16 | manufacturer text | model text | record_sha256 [32]
//! ```
//! where `text` is a one-byte length followed by UTF-8. A signed claim is the claim followed by a
//! 64-byte Ed25519 signature over `CLAIM_CONTEXT || claim`.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::date::Day;
use crate::error::{DecodeError, SignatureError};
use crate::keys::{KeyId, PublicKey, SecretKey, CLAIM_CONTEXT, SIGNATURE_LEN};
use crate::text::check_claim_text;
use crate::wire::{check_text, put_text, put_varint, to_hex, Reader};

/// The claim format version this implementation writes and reads.
pub const CLAIM_VERSION: u8 = 1;
/// Longest manufacturer name, in UTF-8 bytes.
pub const MAX_MANUFACTURER: usize = 120;
/// Longest model, in UTF-8 bytes.
pub const MAX_MODEL: usize = 60;
/// Longest category code, in bytes.
pub const MAX_CATEGORY: usize = 32;

/// The security tier: one, two or three stars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Baseline hygiene: no default passwords, remotely updatable software.
    One = 1,
    /// Enhanced, beyond the market norm.
    Two = 2,
    /// Leading edge, with third-party penetration tests by an authorised lab.
    Three = 3,
}

impl Tier {
    /// The tier for a star count; `None` outside 1..=3.
    pub fn from_stars(n: u8) -> Option<Tier> {
        match n {
            1 => Some(Tier::One),
            2 => Some(Tier::Two),
            3 => Some(Tier::Three),
            _ => None,
        }
    }

    /// The number of stars.
    pub fn stars(self) -> u8 {
        self as u8
    }
}

impl Serialize for Tier {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.stars())
    }
}

/// Checks a category code: 1..=32 bytes of `a-z`, `0-9` and `-`.
pub fn check_category(code: &str) -> Result<(), DecodeError> {
    let ok = !code.is_empty()
        && code.len() <= MAX_CATEGORY
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(DecodeError::InvalidCategory {
            code: String::from(code),
        })
    }
}

/// The signed content of one certification as the label and the verifier see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Claim {
    /// The issuer key that signs the claim.
    pub key_id: KeyId,
    /// Certificate serial number, unique in the registry.
    pub serial: u64,
    /// Star tier.
    pub tier: Tier,
    /// Catalogue category code.
    pub category: String,
    /// First day of validity.
    pub valid_from: Day,
    /// Last day of validity (inclusive).
    pub valid_until: Day,
    /// Manufacturer's registered name.
    pub manufacturer: String,
    /// Product model.
    pub model: String,
    /// SHA-256 of the record file's exact bytes.
    #[serde(serialize_with = "hex32")]
    pub record_sha256: [u8; 32],
}

fn hex32<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&to_hex(v))
}

impl Claim {
    /// Checks every field against the format's limits.
    pub fn validate(&self) -> Result<(), DecodeError> {
        check_category(&self.category)?;
        check_text("manufacturer", &self.manufacturer, MAX_MANUFACTURER)?;
        check_claim_text("manufacturer", &self.manufacturer)?;
        check_text("model", &self.model, MAX_MODEL)?;
        check_claim_text("model", &self.model)?;
        if self.valid_until < self.valid_from {
            return Err(DecodeError::DatesOutOfOrder {
                field: "valid_until",
            });
        }
        Ok(())
    }

    /// The binary encoding. Fails only when a field breaks the format's limits.
    pub fn encode(&self) -> Result<Vec<u8>, DecodeError> {
        self.validate()?;
        let mut out = Vec::with_capacity(
            48 + self.manufacturer.len() + self.model.len() + self.category.len(),
        );
        out.push(CLAIM_VERSION);
        out.extend_from_slice(&self.key_id.0);
        put_varint(&mut out, self.serial);
        out.push(self.tier.stars());
        put_text(&mut out, &self.category);
        out.extend_from_slice(&self.valid_from.0.to_be_bytes());
        out.extend_from_slice(&self.valid_until.0.to_be_bytes());
        put_text(&mut out, &self.manufacturer);
        put_text(&mut out, &self.model);
        out.extend_from_slice(&self.record_sha256);
        Ok(out)
    }

    /// Decodes a claim that fills `bytes` exactly. Never panics; rejects trailing bytes, unknown
    /// versions, bad UTF-8, bad lengths, out-of-range values, and a manufacturer or model with
    /// invisible, bidi, full-width or stray space characters ([`crate::text::check_claim_text`]).
    pub fn decode(bytes: &[u8]) -> Result<Claim, DecodeError> {
        let mut r = Reader::new(bytes);
        let claim = Claim::read(&mut r)?;
        r.finish()?;
        Ok(claim)
    }

    fn read(r: &mut Reader<'_>) -> Result<Claim, DecodeError> {
        let version = r.u8("version")?;
        if version != CLAIM_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                found: version,
                expected: CLAIM_VERSION,
            });
        }
        let key_id = KeyId(r.array("key_id")?);
        let serial = r.varint("serial")?;
        let tier_byte = r.u8("tier")?;
        let tier =
            Tier::from_stars(tier_byte).ok_or(DecodeError::InvalidTier { value: tier_byte })?;
        let category = r.text("category", MAX_CATEGORY)?;
        check_category(&category)?;
        let valid_from = Day(r.u16("valid_from")?);
        let valid_until = Day(r.u16("valid_until")?);
        if valid_until < valid_from {
            return Err(DecodeError::DatesOutOfOrder {
                field: "valid_until",
            });
        }
        let manufacturer = r.text("manufacturer", MAX_MANUFACTURER)?;
        check_claim_text("manufacturer", &manufacturer)?;
        let model = r.text("model", MAX_MODEL)?;
        check_claim_text("model", &model)?;
        let record_sha256 = r.array("record_sha256")?;
        Ok(Claim {
            key_id,
            serial,
            tier,
            category,
            valid_from,
            valid_until,
            manufacturer,
            model,
            record_sha256,
        })
    }

    /// Signs the claim: the payload of a label's QR code.
    pub fn sign(&self, key: &SecretKey) -> Result<SignedClaim, DecodeError> {
        let bytes = self.encode()?;
        let signature = key.sign_in_context(CLAIM_CONTEXT, &bytes);
        Ok(SignedClaim {
            claim: self.clone(),
            claim_len: bytes.len(),
            bytes: [bytes, signature.to_vec()].concat(),
        })
    }

    /// Whether `record_file` (the exact bytes of the record file) is the record this claim signs.
    pub fn matches_record(&self, record_file: &[u8]) -> bool {
        record_digest(record_file) == self.record_sha256
    }
}

/// SHA-256 of a record file's exact bytes.
pub fn record_digest(record_file: &[u8]) -> [u8; 32] {
    Sha256::digest(record_file).into()
}

/// A claim with its signature, as carried by a QR code. Decoding checks the structure only; the
/// signature is checked by [`SignedClaim::verify_signature`] (through the verdict).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedClaim {
    claim: Claim,
    claim_len: usize,
    bytes: Vec<u8>,
}

impl SignedClaim {
    /// Decodes `claim || signature`. Never panics; rejects anything but exactly 64 signature bytes
    /// after a well-formed claim.
    pub fn decode(bytes: &[u8]) -> Result<SignedClaim, DecodeError> {
        let mut r = Reader::new(bytes);
        let claim = Claim::read(&mut r)?;
        let claim_len = r.position();
        r.bytes(SIGNATURE_LEN, "signature")?;
        r.finish()?;
        Ok(SignedClaim {
            claim,
            claim_len,
            bytes: bytes.to_vec(),
        })
    }

    /// The decoded claim. Not yet verified: only the verdict decides whether to trust it.
    pub fn claim(&self) -> &Claim {
        &self.claim
    }

    /// The whole payload, `claim || signature`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The encoded claim.
    pub fn claim_bytes(&self) -> &[u8] {
        &self.bytes[..self.claim_len]
    }

    /// The signature.
    pub fn signature(&self) -> [u8; SIGNATURE_LEN] {
        let mut sig = [0u8; SIGNATURE_LEN];
        sig.copy_from_slice(&self.bytes[self.claim_len..]);
        sig
    }

    /// Strict verification of the signature with `key`.
    pub fn verify_signature(&self, key: &PublicKey) -> Result<(), SignatureError> {
        key.verify_in_context(CLAIM_CONTEXT, self.claim_bytes(), &self.signature())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn sample_claim(key_id: KeyId) -> Claim {
        Claim {
            key_id,
            serial: 42,
            tier: Tier::Two,
            category: "router".into(),
            valid_from: Day(20_635),
            valid_until: Day(21_730),
            manufacturer: "深圳市星联科技有限公司".into(),
            model: "XL-AX3000".into(),
            record_sha256: [9; 32],
        }
    }

    pub(crate) fn arb_claim() -> impl Strategy<Value = Claim> {
        (
            any::<[u8; 4]>(),
            any::<u64>(),
            1u8..=3,
            "[a-z0-9-]{1,32}",
            any::<u16>(),
            any::<u16>(),
            "[\\p{Han}A-Za-z0-9]{1,12}( [\\p{Han}A-Za-z0-9.,&()-]{1,12}){0,2}",
            "[A-Za-z0-9-]{1,20}( [\\p{Han}]{1,5})?",
            any::<[u8; 32]>(),
        )
            .prop_filter_map(
                "fits",
                |(k, serial, t, category, a, b, manufacturer, model, d)| {
                    let c = Claim {
                        key_id: KeyId(k),
                        serial,
                        tier: Tier::from_stars(t)?,
                        category,
                        valid_from: Day(a.min(b)),
                        valid_until: Day(a.max(b)),
                        manufacturer,
                        model,
                        record_sha256: d,
                    };
                    c.validate().ok().map(|()| c)
                },
            )
    }

    #[test]
    fn sample_layout() {
        let c = sample_claim(KeyId([1, 2, 3, 4]));
        let b = c.encode().unwrap();
        assert_eq!(&b[..7], &[1, 1, 2, 3, 4, 42, 2]);
        assert_eq!(b.len(), 1 + 4 + 1 + 1 + 7 + 2 + 2 + 1 + 33 + 1 + 9 + 32);
    }

    #[test]
    fn rejects_every_malformed_class() {
        let good = sample_claim(KeyId([1, 2, 3, 4])).encode().unwrap();
        // truncated at every length
        for n in 0..good.len() {
            assert!(
                matches!(
                    Claim::decode(&good[..n]),
                    Err(DecodeError::Truncated { .. })
                ),
                "len {n}"
            );
        }
        // trailing bytes
        let mut t = good.clone();
        t.push(0);
        assert_eq!(
            Claim::decode(&t),
            Err(DecodeError::TrailingBytes { count: 1 })
        );
        // bad version
        let mut v = good.clone();
        v[0] = 2;
        assert_eq!(
            Claim::decode(&v),
            Err(DecodeError::UnsupportedVersion {
                found: 2,
                expected: 1
            })
        );
        // bad tier
        let mut tier = good.clone();
        tier[6] = 4;
        assert_eq!(
            Claim::decode(&tier),
            Err(DecodeError::InvalidTier { value: 4 })
        );
        // huge length prefix on the category
        let mut huge = good.clone();
        huge[7] = 0xff;
        assert!(matches!(
            Claim::decode(&huge),
            Err(DecodeError::LengthTooLarge {
                field: "category",
                ..
            })
        ));
        // bad UTF-8 in the manufacturer
        let mut utf = good.clone();
        let m = 7 + 1 + 6 + 4 + 1;
        utf[m] = 0xff;
        assert_eq!(
            Claim::decode(&utf),
            Err(DecodeError::InvalidUtf8 {
                field: "manufacturer"
            })
        );
        // dates out of order
        let mut dates = good.clone();
        dates[14..16].copy_from_slice(&u16::MAX.to_be_bytes());
        assert_eq!(
            Claim::decode(&dates),
            Err(DecodeError::DatesOutOfOrder {
                field: "valid_until"
            })
        );
        // upper-case category
        let mut cat = good;
        cat[8] = b'R';
        assert!(matches!(
            Claim::decode(&cat),
            Err(DecodeError::InvalidCategory { .. })
        ));
    }

    #[test]
    fn spoofed_names_are_malformed_when_decoded_and_refused_when_encoded() {
        let mut c = sample_claim(KeyId([1, 2, 3, 4]));
        c.manufacturer = "TP-Link".into();
        let good = c.encode().unwrap();
        let at = good.windows(7).position(|w| w == b"TP-Link").unwrap();
        for (spoof, field) in [
            ("\u{202E}kniL", "manufacturer"),
            ("TP\u{00AD}Lnk", "manufacturer"),
            ("TP  Lnk", "manufacturer"),
        ] {
            assert_eq!(spoof.len(), 7);
            let mut bytes = good.clone();
            bytes[at..at + 7].copy_from_slice(spoof.as_bytes());
            let e = Claim::decode(&bytes).unwrap_err();
            assert!(
                matches!(e, DecodeError::Text(t) if t.field == field),
                "{spoof:?}: {e}"
            );
            let mut bad = c.clone();
            bad.manufacturer = spoof.into();
            assert!(
                matches!(bad.encode(), Err(DecodeError::Text(_))),
                "{spoof:?}"
            );
        }
        // Mixed scripts are refused in records (by `sign`), not in claims: see `text`.
        let mut mixed = good.clone();
        mixed[at..at + 7].copy_from_slice("T\u{0420}-Lnk".as_bytes());
        assert!(Claim::decode(&mixed).is_ok());
        c.model = "XL AX3000 ".into();
        assert!(matches!(c.encode(), Err(DecodeError::Text(t)) if t.field == "model"));
    }

    #[test]
    fn signed_claim_needs_exactly_64_signature_bytes() {
        let sk = SecretKey::from_seed(&[1; 32]);
        let signed = sample_claim(sk.public_key().key_id()).sign(&sk).unwrap();
        let bytes = signed.as_bytes();
        assert!(SignedClaim::decode(bytes).is_ok());
        assert!(matches!(
            SignedClaim::decode(&bytes[..bytes.len() - 1]),
            Err(DecodeError::Truncated { field: "signature" })
        ));
        let mut long = bytes.to_vec();
        long.push(0);
        assert_eq!(
            SignedClaim::decode(&long),
            Err(DecodeError::TrailingBytes { count: 1 })
        );
        assert!(signed.verify_signature(&sk.public_key()).is_ok());
    }

    proptest! {
        #[test]
        fn round_trip(c in arb_claim()) {
            let b = c.encode().unwrap();
            prop_assert_eq!(Claim::decode(&b).unwrap(), c);
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Claim::decode(&b);
            let _ = SignedClaim::decode(&b);
        }

        #[test]
        fn mutated_claims_never_panic(c in arb_claim(), i in any::<usize>(), x in any::<u8>()) {
            let mut b = c.encode().unwrap();
            let n = b.len();
            b[i % n] ^= x;
            let _ = Claim::decode(&b);
        }
    }
}
