//! The claims bundle: signed claims of a registry with the record files that prove the
//! manufacturers' English names, so a listings check over 100,000 certifications takes about a
//! hundred downloads instead of 100,000. A site publishes its claims in shards of 1,000 serials
//! (`api/v1/claims/<serial / 1000>.bin`, each a bundle, named in `api/v1/claims/index.json`), so
//! that a mirror one record behind fetches one shard, not every claim. The bundle has no signature of its own: each claim is
//! signed by its issuer, and each record file is bound to a claim by the SHA-256 that claim signs;
//! a reader verifies them one by one and ignores whatever does not verify.
//!
//! Layout (version 1; integers big-endian; see docs/FORMAT.md):
//!
//! ```text
//! magic "SMCLAIMS" | version u8 = 1 | claim_count u32
//! | claim_count × ( len u16 | signed claim [len] )
//! | record_count u32 | record_count × ( len u32 | record file [len] )
//! ```
//! Claims are in serial order; the records are, for each distinct pair of manufacturer and English
//! name, the record file of the lowest serial that carries it.

use alloc::vec::Vec;

use crate::error::DecodeError;
use crate::wire::Reader;

/// The first eight bytes of a claims bundle.
pub const BUNDLE_MAGIC: [u8; 8] = *b"SMCLAIMS";
/// The bundle format version.
pub const BUNDLE_VERSION: u8 = 1;
/// Longest signed claim a bundle holds, in bytes (a claim is at most 330 bytes).
pub const MAX_BUNDLE_CLAIM: usize = 512;
/// Longest record file a bundle holds, in bytes (16 MiB).
pub const MAX_BUNDLE_RECORD: usize = 16 << 20;

/// A decoded bundle: the signed claims and record files, not yet verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle<'a> {
    /// Each signed claim's bytes (`claim || signature`).
    pub claims: Vec<&'a [u8]>,
    /// Each record file's exact bytes.
    pub records: Vec<&'a [u8]>,
}

impl<'a> Bundle<'a> {
    /// Decodes a bundle. Never panics; allocates no more than the input justifies; rejects a
    /// wrong magic or version, an empty or over-long item, truncation and trailing bytes.
    pub fn decode(bytes: &'a [u8]) -> Result<Bundle<'a>, DecodeError> {
        let mut r = Reader::new(bytes);
        if r.array::<8>("magic")? != BUNDLE_MAGIC {
            return Err(DecodeError::WrongMagic {
                expected: "SMCLAIMS",
            });
        }
        let version = r.u8("version")?;
        if version != BUNDLE_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                found: version,
                expected: BUNDLE_VERSION,
            });
        }
        let claims = items(&mut r, "claim", 2, MAX_BUNDLE_CLAIM)?;
        let records = items(&mut r, "record", 4, MAX_BUNDLE_RECORD)?;
        r.finish()?;
        Ok(Bundle { claims, records })
    }

    /// Decodes one or more bundles one after the other (the shards of a site, concatenated) as
    /// one: their claims and records in order. Each must be whole; empty input is refused.
    pub fn decode_all(bytes: &'a [u8]) -> Result<Bundle<'a>, DecodeError> {
        let mut all = Bundle {
            claims: Vec::new(),
            records: Vec::new(),
        };
        let mut rest = bytes;
        loop {
            let len = Self::encoded_len(rest)?;
            let one = Self::decode(&rest[..len])?;
            all.claims.extend(one.claims);
            all.records.extend(one.records);
            rest = &rest[len..];
            if rest.is_empty() {
                return Ok(all);
            }
        }
    }

    /// The length of the bundle at the start of `bytes` (its items' prefixes are read, not
    /// checked: [`Bundle::decode`] checks them).
    fn encoded_len(bytes: &[u8]) -> Result<usize, DecodeError> {
        let mut r = Reader::new(bytes);
        r.array::<8>("magic")?;
        r.u8("version")?;
        for (field, width) in [("claim", 2), ("record", 4)] {
            let count = r.u32(field)?;
            for _ in 0..count {
                let len = if width == 2 {
                    usize::from(r.u16(field)?)
                } else {
                    r.u32(field)? as usize
                };
                r.bytes(len, field)?;
            }
        }
        Ok(bytes.len() - r.remaining())
    }

    /// Encodes a bundle; fails when an item is empty or over its limit, or there are more than
    /// `u32::MAX` of them.
    pub fn encode(&self) -> Result<Vec<u8>, DecodeError> {
        let size: usize = 17
            + self.claims.iter().map(|c| c.len() + 2).sum::<usize>()
            + self.records.iter().map(|c| c.len() + 4).sum::<usize>();
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(&BUNDLE_MAGIC);
        out.push(BUNDLE_VERSION);
        put_items(&mut out, &self.claims, "claim", 2, MAX_BUNDLE_CLAIM)?;
        put_items(&mut out, &self.records, "record", 4, MAX_BUNDLE_RECORD)?;
        Ok(out)
    }
}

/// Reads `count u32` then `count` items with a `width`-byte length prefix.
fn items<'a>(
    r: &mut Reader<'a>,
    field: &'static str,
    width: usize,
    max: usize,
) -> Result<Vec<&'a [u8]>, DecodeError> {
    let count = r.u32(field)? as usize;
    // Each item takes at least its prefix and one byte.
    let bound = r.remaining() / (width + 1);
    if count > bound {
        return Err(DecodeError::LengthTooLarge {
            field,
            len: count,
            max: bound,
        });
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let len = if width == 2 {
            usize::from(r.u16(field)?)
        } else {
            r.u32(field)? as usize
        };
        if len == 0 {
            return Err(DecodeError::EmptyText { field });
        }
        if len > max {
            return Err(DecodeError::LengthTooLarge { field, len, max });
        }
        out.push(r.bytes(len, field)?);
    }
    Ok(out)
}

fn put_items(
    out: &mut Vec<u8>,
    items: &[&[u8]],
    field: &'static str,
    width: usize,
    max: usize,
) -> Result<(), DecodeError> {
    let count = u32::try_from(items.len()).map_err(|_| DecodeError::LengthTooLarge {
        field,
        len: items.len(),
        max: u32::MAX as usize,
    })?;
    out.extend_from_slice(&count.to_be_bytes());
    for item in items {
        if item.is_empty() {
            return Err(DecodeError::EmptyText { field });
        }
        if item.len() > max {
            return Err(DecodeError::LengthTooLarge {
                field,
                len: item.len(),
                max,
            });
        }
        if width == 2 {
            out.extend_from_slice(&(item.len() as u16).to_be_bytes());
        } else {
            out.extend_from_slice(&(item.len() as u32).to_be_bytes());
        }
        out.extend_from_slice(item);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_and_layout() {
        let b = Bundle {
            claims: vec![&[1, 2, 3][..], &[4][..]],
            records: vec![&b"+++"[..]],
        };
        let bytes = b.encode().unwrap();
        assert_eq!(
            bytes,
            [
                &b"SMCLAIMS"[..],
                &[1, 0, 0, 0, 2, 0, 3, 1, 2, 3, 0, 1, 4, 0, 0, 0, 1, 0, 0, 0, 3],
                b"+++"
            ]
            .concat()
        );
        assert_eq!(Bundle::decode(&bytes).unwrap(), b);
        let empty = Bundle {
            claims: vec![],
            records: vec![],
        };
        assert_eq!(
            Bundle::decode(&empty.encode().unwrap()).unwrap(),
            empty.clone()
        );
    }

    #[test]
    fn shards_one_after_the_other_decode_as_one() {
        let a = Bundle {
            claims: vec![&[1, 2, 3][..], &[4][..]],
            records: vec![&b"+++"[..]],
        };
        let b = Bundle {
            claims: vec![&[5; 7][..]],
            records: vec![],
        };
        let bytes = [a.encode().unwrap(), b.encode().unwrap()].concat();
        let all = Bundle::decode_all(&bytes).unwrap();
        assert_eq!(all.claims, vec![&[1, 2, 3][..], &[4][..], &[5; 7][..]]);
        assert_eq!(all.records, vec![&b"+++"[..]]);
        assert_eq!(Bundle::decode_all(&a.encode().unwrap()).unwrap(), a);
        // Empty input, a cut second shard and bytes after the last are refused.
        assert!(Bundle::decode_all(&[]).is_err());
        for n in (a.encode().unwrap().len() + 1)..bytes.len() {
            assert!(Bundle::decode_all(&bytes[..n]).is_err(), "len {n}");
        }
        assert!(Bundle::decode_all(&[&bytes[..], &[0]].concat()).is_err());
        assert!(Bundle::decode(&bytes).is_err(), "decode takes one bundle");
    }

    #[test]
    fn refuses_every_malformed_class() {
        let good = Bundle {
            claims: vec![&[7; 5][..]],
            records: vec![&[8; 3][..]],
        }
        .encode()
        .unwrap();
        for n in 0..good.len() {
            assert!(Bundle::decode(&good[..n]).is_err(), "len {n}");
        }
        let mut t = good.clone();
        t.push(0);
        assert_eq!(
            Bundle::decode(&t),
            Err(DecodeError::TrailingBytes { count: 1 })
        );
        let mut m = good.clone();
        m[0] = b'X';
        assert_eq!(
            Bundle::decode(&m),
            Err(DecodeError::WrongMagic {
                expected: "SMCLAIMS"
            })
        );
        let mut v = good.clone();
        v[8] = 2;
        assert!(matches!(
            Bundle::decode(&v),
            Err(DecodeError::UnsupportedVersion { found: 2, .. })
        ));
        let mut huge = good.clone();
        huge[9..13].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            Bundle::decode(&huge),
            Err(DecodeError::LengthTooLarge { field: "claim", .. })
        ));
        let mut zero = good.clone();
        zero[13..15].copy_from_slice(&0u16.to_be_bytes());
        assert!(Bundle::decode(&zero).is_err());
        let too_long = vec![0u8; MAX_BUNDLE_CLAIM + 1];
        assert!(Bundle {
            claims: vec![&too_long],
            records: vec![]
        }
        .encode()
        .is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut input = b"SMCLAIMS\x01".to_vec();
            input.extend_from_slice(&b);
            let _ = Bundle::decode(&input);
            let _ = Bundle::decode(&b);
        }

        #[test]
        fn round_trip(
            claims in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..40), 0..8),
            records in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..40), 0..4),
        ) {
            let b = Bundle {
                claims: claims.iter().map(Vec::as_slice).collect(),
                records: records.iter().map(Vec::as_slice).collect(),
            };
            let bytes = b.encode().unwrap();
            prop_assert_eq!(Bundle::decode(&bytes).unwrap(), b);
        }
    }
}
