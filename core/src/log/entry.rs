//! One entry of the log: everything the registry signs, each as one byte string.
//!
//! ```text
//! claim:            0x01 | signed claim (claim ‖ 64-byte signature, as the QR code carries it)
//! revocation list:  0x02 | sequence u64 | SHA-256 of the signed list's bytes [32]
//! trust list:       0x03 | sequence u64 | SHA-256 of the signed list's bytes [32]
//! ```
//! A signed claim holds the SHA-256 of its record file, so a claim entry binds the record too.
//! Decoding checks the structure only: whether a claim's signature verifies is the verdict's
//! business, and a list entry only names a list (the lists stay where they are published).

use alloc::vec::Vec;

use sha2::{Digest, Sha256};

use crate::claim::SignedClaim;
use crate::error::{DecodeError, LogError};
use crate::log::merkle::{leaf_hash, Hash};
use crate::wire::Reader;

/// Type byte of a claim entry.
pub const CLAIM_ENTRY: u8 = 1;
/// Type byte of a revocation list entry.
pub const REVOCATION_LIST_ENTRY: u8 = 2;
/// Type byte of a trust list entry.
pub const TRUST_LIST_ENTRY: u8 = 3;

/// A decoded log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A signed claim (its signature not checked here).
    Claim(SignedClaim),
    /// A revocation list, by its sequence and the SHA-256 of its signed bytes.
    RevocationList {
        /// The list's sequence.
        sequence: u64,
        /// SHA-256 of the whole signed list (body and signature).
        sha256: Hash,
    },
    /// A trust list, by its sequence and the SHA-256 of its signed bytes.
    TrustList {
        /// The list's sequence.
        sequence: u64,
        /// SHA-256 of the whole signed list (body and signature).
        sha256: Hash,
    },
}

impl Entry {
    /// The entry of a signed revocation list with this sequence.
    pub fn revocation_list(sequence: u64, signed_bytes: &[u8]) -> Entry {
        Entry::RevocationList {
            sequence,
            sha256: Sha256::digest(signed_bytes).into(),
        }
    }

    /// The entry of a signed trust list with this sequence.
    pub fn trust_list(sequence: u64, signed_bytes: &[u8]) -> Entry {
        Entry::TrustList {
            sequence,
            sha256: Sha256::digest(signed_bytes).into(),
        }
    }

    /// The entry's bytes: the type byte, then its content.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Entry::Claim(signed) => {
                let mut out = Vec::with_capacity(1 + signed.as_bytes().len());
                out.push(CLAIM_ENTRY);
                out.extend_from_slice(signed.as_bytes());
                out
            }
            Entry::RevocationList { sequence, sha256 } => {
                list_entry(REVOCATION_LIST_ENTRY, *sequence, sha256)
            }
            Entry::TrustList { sequence, sha256 } => {
                list_entry(TRUST_LIST_ENTRY, *sequence, sha256)
            }
        }
    }

    /// Decodes an entry. Never panics; rejects an unknown type byte, a malformed signed claim
    /// and trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Entry, LogError> {
        let (&kind, rest) = bytes.split_first().ok_or(LogError::EmptyEntry)?;
        match kind {
            CLAIM_ENTRY => SignedClaim::decode(rest)
                .map(Entry::Claim)
                .map_err(LogError::Entry),
            REVOCATION_LIST_ENTRY | TRUST_LIST_ENTRY => {
                let (sequence, sha256) = read_list(rest).map_err(LogError::Entry)?;
                Ok(if kind == TRUST_LIST_ENTRY {
                    Entry::TrustList { sequence, sha256 }
                } else {
                    Entry::RevocationList { sequence, sha256 }
                })
            }
            value => Err(LogError::UnknownEntryType { value }),
        }
    }

    /// The entry's leaf hash in the tree: SHA-256(0x00 ‖ entry bytes).
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.encode())
    }
}

fn list_entry(kind: u8, sequence: u64, sha256: &Hash) -> Vec<u8> {
    let mut out = Vec::with_capacity(41);
    out.push(kind);
    out.extend_from_slice(&sequence.to_be_bytes());
    out.extend_from_slice(sha256);
    out
}

fn read_list(bytes: &[u8]) -> Result<(u64, Hash), DecodeError> {
    let mut r = Reader::new(bytes);
    let sequence = r.u64("sequence")?;
    let sha256 = r.array::<32>("sha256")?;
    r.finish()?;
    Ok((sequence, sha256))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claim::tests::arb_claim;
    use crate::SecretKey;
    use proptest::prelude::*;

    #[test]
    fn list_entries_round_trip_and_refuse_bad_input() {
        let e = Entry::trust_list(7, b"signed");
        let bytes = e.encode();
        assert_eq!(bytes.len(), 41);
        assert_eq!(bytes[0], TRUST_LIST_ENTRY);
        assert_eq!(&bytes[1..9], &7u64.to_be_bytes());
        assert_eq!(Entry::decode(&bytes), Ok(e));
        let r = Entry::revocation_list(7, b"signed");
        assert_eq!(r.encode()[0], REVOCATION_LIST_ENTRY);
        assert_ne!(r.leaf_hash(), Entry::trust_list(7, b"signed").leaf_hash());
        assert_eq!(Entry::decode(&[]), Err(LogError::EmptyEntry));
        assert_eq!(
            Entry::decode(&[9, 0]),
            Err(LogError::UnknownEntryType { value: 9 })
        );
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            Entry::decode(&long),
            Err(LogError::Entry(DecodeError::TrailingBytes { count: 1 }))
        );
        assert!(matches!(
            Entry::decode(&bytes[..40]),
            Err(LogError::Entry(DecodeError::Truncated { .. }))
        ));
        // A claim entry whose signature is cut short.
        assert!(matches!(
            Entry::decode(&[CLAIM_ENTRY, 1, 2, 3]),
            Err(LogError::Entry(_))
        ));
    }

    proptest! {
        #[test]
        fn claim_entries_round_trip(claim in arb_claim()) {
            let signed = claim.sign(&SecretKey::from_seed(&[5; 32])).unwrap();
            let e = Entry::Claim(signed.clone());
            let bytes = e.encode();
            prop_assert_eq!(bytes[0], CLAIM_ENTRY);
            prop_assert_eq!(&bytes[1..], signed.as_bytes());
            prop_assert_eq!(Entry::decode(&bytes), Ok(e));
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(e) = Entry::decode(&b) {
                prop_assert_eq!(e.encode(), b);
            }
        }
    }
}
