//! The revocation list: the serials an issuer has revoked, with date and reason, signed by an
//! issuer key. Compact on the wire: serial gaps are Rice-coded and dates are stored as offsets of
//! just as many bits as the list's date range needs, so a million certifications with 1% revoked
//! fit in about 28 KiB.
//!
//! Layout (version 1; integers big-endian; see docs/FORMAT.md):
//!
//! ```text
//! version u8 = 1 | key_id [4] | sequence u64 | issued_at u64 | next_update u64 | count u32
//! | if count > 0: date_base u16 | date_bits u8 (0..=16) | rice_k u8 (0..=63)
//!                 | bit stream, most significant bit first, zero-padded to a byte:
//!                   count × ( gap: unary quotient (q ones, one zero) + k low bits
//!                           | reason: 3 bits | date offset: date_bits bits )
//! | signature [64] over REVOCATION_LIST_CONTEXT || everything before it
//! ```
//! The first gap is the first serial; each later gap is `serial - previous - 1`. Each list has
//! exactly one encoding: `date_base` is the earliest date, `date_bits` the bit length of the date
//! range, `rice_k` the smallest k giving the fewest bits, padding 0 to 7 zero bits; the decoder
//! refuses anything else.

use alloc::vec::Vec;

use serde::Serialize;

use crate::date::Day;
use crate::error::{DecodeError, Error, ListError};
use crate::keys::{KeyId, SecretKey, REVOCATION_LIST_CONTEXT, SIGNATURE_LEN};
use crate::trust::TrustList;
use crate::wire::{to_hex, Reader};

/// The revocation list format version.
pub const REVOCATION_LIST_VERSION: u8 = 1;

/// Why a certification was revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The manufacturer claimed what the product does not do.
    FalseClaim = 0,
    /// A technical change was not reported to the registry.
    UnreportedChange = 1,
    /// A serious security flaw was found after certification.
    SecurityFlaw = 2,
    /// The manufacturer withdrew the certification.
    Withdrawn = 3,
    /// The signing key was compromised.
    KeyCompromise = 4,
    /// Any other reason.
    Other = 5,
}

impl Reason {
    /// Every reason, in code order.
    pub const ALL: [Reason; 6] = [
        Reason::FalseClaim,
        Reason::UnreportedChange,
        Reason::SecurityFlaw,
        Reason::Withdrawn,
        Reason::KeyCompromise,
        Reason::Other,
    ];

    /// The reason for a wire code.
    pub fn from_code(code: u8) -> Option<Reason> {
        Reason::ALL.get(usize::from(code)).copied()
    }

    /// The snake_case name used in the CLI and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Reason::FalseClaim => "false_claim",
            Reason::UnreportedChange => "unreported_change",
            Reason::SecurityFlaw => "security_flaw",
            Reason::Withdrawn => "withdrawn",
            Reason::KeyCompromise => "key_compromise",
            Reason::Other => "other",
        }
    }

    /// The reason with this name.
    pub fn from_name(name: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// One revoked certification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Revocation {
    /// The certificate serial.
    pub serial: u64,
    /// The day of revocation.
    pub date: Day,
    /// Why.
    pub reason: Reason,
}

/// The content of a revocation list. One obtained from bytes has passed the signature check
/// ([`RevocationList::decode_verified`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RevocationList {
    /// The issuer key that signs the list.
    pub key_id: KeyId,
    /// Increases with every new list; verifiers refuse a list older than one seen before.
    pub sequence: u64,
    /// When it was signed (Unix seconds).
    pub issued_at: u64,
    /// When a newer list is due (Unix seconds); past it, revocation data is stale.
    pub next_update: u64,
    /// Revoked certifications, sorted by serial, one entry per serial.
    pub entries: Vec<Revocation>,
}

impl RevocationList {
    /// The revocation of `serial`, if any. O(log n).
    pub fn lookup(&self, serial: u64) -> Option<&Revocation> {
        self.entries
            .binary_search_by_key(&serial, |e| e.serial)
            .ok()
            .and_then(|i| self.entries.get(i))
    }

    /// Adds or replaces the entry for a serial, keeping the order.
    pub fn insert(&mut self, revocation: Revocation) {
        match self
            .entries
            .binary_search_by_key(&revocation.serial, |e| e.serial)
        {
            Ok(i) => self.entries[i] = revocation,
            Err(i) => self.entries.insert(i, revocation),
        }
    }

    /// Encodes the list body (everything the signature covers). Deterministic.
    pub fn encode_body(&self) -> Result<Vec<u8>, DecodeError> {
        if self.entries.windows(2).any(|w| w[0].serial >= w[1].serial) {
            return Err(DecodeError::NotSorted { field: "entries" });
        }
        let count = u32::try_from(self.entries.len()).map_err(|_| DecodeError::LengthTooLarge {
            field: "count",
            len: self.entries.len(),
            max: u32::MAX as usize,
        })?;
        let mut out = Vec::with_capacity(37 + self.entries.len() * 3);
        out.push(REVOCATION_LIST_VERSION);
        out.extend_from_slice(&self.key_id.0);
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.issued_at.to_be_bytes());
        out.extend_from_slice(&self.next_update.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
        if self.entries.is_empty() {
            return Ok(out);
        }
        let StreamParameters {
            date_base,
            date_bits,
            rice_k: k,
        } = StreamParameters::of(&self.entries);
        out.extend_from_slice(&date_base.0.to_be_bytes());
        out.push(date_bits);
        out.push(k);
        let mut bits = BitWriter {
            out,
            acc: 0,
            used: 0,
        };
        for (e, gap) in self.entries.iter().zip(gaps(&self.entries)) {
            let q = gap >> k;
            for _ in 0..q {
                bits.put(1, 1);
            }
            bits.put(0, 1);
            bits.put(gap & low_mask(k), k);
            bits.put(e.reason as u64, 3);
            bits.put(u64::from(e.date.0 - date_base.0), date_bits);
        }
        Ok(bits.finish())
    }

    /// Encodes and signs the list with an issuer key; `self.key_id` must be that key's id.
    pub fn sign(&self, issuer: &SecretKey) -> Result<Vec<u8>, DecodeError> {
        if issuer.public_key().key_id() != self.key_id {
            return Err(DecodeError::OutOfRange { field: "key_id" });
        }
        let mut body = self.encode_body()?;
        let sig = issuer.sign_in_context(REVOCATION_LIST_CONTEXT, &body);
        body.extend_from_slice(&sig);
        Ok(body)
    }

    /// Decodes a signed list without checking the signature: for tools that show a list's
    /// content. Verdicts use [`RevocationList::decode_verified`].
    pub fn decode_unverified(bytes: &[u8]) -> Result<RevocationList, DecodeError> {
        let body_len = bytes
            .len()
            .checked_sub(SIGNATURE_LEN)
            .ok_or(DecodeError::Truncated { field: "signature" })?;
        RevocationList::decode_body(&bytes[..body_len])
    }

    /// Decodes a signed list and checks its signature against the issuer key the trust list holds
    /// for its key id. Refuses keys that are unknown or marked compromised. Never panics.
    pub fn decode_verified(bytes: &[u8], trust: &TrustList) -> Result<RevocationList, Error> {
        let list = RevocationList::decode_unverified(bytes)?;
        let body_len = bytes.len() - SIGNATURE_LEN;
        let key_id = || to_hex(&list.key_id.0);
        let issuer = trust
            .issuer(list.key_id)
            .ok_or_else(|| ListError::UnknownSigner { key_id: key_id() })?;
        if issuer.compromised_since.is_some() {
            return Err(ListError::CompromisedSigner { key_id: key_id() }.into());
        }
        let mut sig = [0u8; SIGNATURE_LEN];
        sig.copy_from_slice(&bytes[body_len..]);
        issuer
            .public_key
            .verify_in_context(REVOCATION_LIST_CONTEXT, &bytes[..body_len], &sig)
            .map_err(|_| ListError::RevocationListSignature)?;
        Ok(list)
    }

    fn decode_body(body: &[u8]) -> Result<RevocationList, DecodeError> {
        let mut r = Reader::new(body);
        let version = r.u8("version")?;
        if version != REVOCATION_LIST_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                found: version,
                expected: REVOCATION_LIST_VERSION,
            });
        }
        let key_id = KeyId(r.array("key_id")?);
        let sequence = r.u64("sequence")?;
        let issued_at = r.u64("issued_at")?;
        let next_update = r.u64("next_update")?;
        let count = r.u32("count")? as usize;
        let mut entries = Vec::new();
        if count > 0 {
            let date_base = r.u16("date_base")?;
            let date_bits = r.u8("date_bits")?;
            if date_bits > 16 {
                return Err(DecodeError::OutOfRange { field: "date_bits" });
            }
            let k = r.u8("rice_k")?;
            if k > 63 {
                return Err(DecodeError::OutOfRange { field: "rice_k" });
            }
            let stream = r.bytes(r.remaining(), "entries")?;
            let min_bits = 1 + usize::from(k) + 3 + usize::from(date_bits);
            let available = stream.len() * 8;
            if count > available / min_bits {
                return Err(DecodeError::LengthTooLarge {
                    field: "count",
                    len: count,
                    max: available / min_bits,
                });
            }
            entries.reserve_exact(count);
            let mut bits = BitReader {
                buf: stream,
                pos: 0,
            };
            let mut prev: Option<u64> = None;
            for _ in 0..count {
                let mut q: u64 = 0;
                while bits.get(1)? == 1 {
                    q += 1;
                }
                if k > 0 && q >> (64 - k) != 0 {
                    return Err(DecodeError::OutOfRange { field: "serial" });
                }
                let gap = (q << k) | bits.get(k)?;
                let serial = match prev {
                    None => Some(gap),
                    Some(p) => p.checked_add(gap).and_then(|s| s.checked_add(1)),
                }
                .ok_or(DecodeError::OutOfRange { field: "serial" })?;
                let code = bits.get(3)? as u8;
                let reason =
                    Reason::from_code(code).ok_or(DecodeError::InvalidReason { value: code })?;
                let offset = bits.get(date_bits)?;
                let date = u16::try_from(u64::from(date_base) + offset)
                    .map_err(|_| DecodeError::OutOfRange { field: "date" })?;
                entries.push(Revocation {
                    serial,
                    date: Day(date),
                    reason,
                });
                prev = Some(serial);
            }
            // Padding: 0 to 7 zero bits, up to the end of the input before the signature.
            let used = bits.pos.div_ceil(8);
            if used != stream.len() {
                return Err(DecodeError::SurplusPadding {
                    count: stream.len() - used,
                });
            }
            if !bits.pos.is_multiple_of(8) && bits.get(8 - (bits.pos % 8) as u8)? != 0 {
                return Err(DecodeError::NonZeroPadding);
            }
            // One encoding per list: the parameters must be the ones the encoder picks.
            let want = StreamParameters::of(&entries);
            if Day(date_base) != want.date_base {
                return Err(DecodeError::NonCanonicalDateBase {
                    got: Day(date_base),
                    want: want.date_base,
                });
            }
            if date_bits != want.date_bits {
                return Err(DecodeError::NonCanonicalDateBits {
                    got: date_bits,
                    want: want.date_bits,
                });
            }
            if k != want.rice_k {
                return Err(DecodeError::NonCanonicalRiceK {
                    got: k,
                    want: want.rice_k,
                });
            }
        }
        r.finish()?;
        Ok(RevocationList {
            key_id,
            sequence,
            issued_at,
            next_update,
            entries,
        })
    }
}

fn low_mask(k: u8) -> u64 {
    if k >= 64 {
        u64::MAX
    } else {
        (1u64 << k) - 1
    }
}

/// The serial gaps of entries sorted by serial: the first serial, then each serial minus the
/// previous one minus 1.
fn gaps(entries: &[Revocation]) -> impl Iterator<Item = u64> + '_ {
    let mut prev: Option<u64> = None;
    entries.iter().map(move |e| {
        let gap = match prev {
            None => e.serial,
            Some(p) => e.serial.wrapping_sub(p).wrapping_sub(1),
        };
        prev = Some(e.serial);
        gap
    })
}

/// The parameters of a non-empty list's bit stream, as the encoder picks them; a decoder accepts
/// no others, so each list has exactly one encoding (docs/FORMAT.md, revocation list).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct StreamParameters {
    /// The earliest revocation date.
    date_base: Day,
    /// The bit length of the latest date minus the earliest (0 when all dates are equal).
    date_bits: u8,
    /// The Rice parameter giving the fewest bits (the smallest on ties).
    rice_k: u8,
}

impl StreamParameters {
    /// The parameters for entries sorted by serial (any order of dates).
    fn of(entries: &[Revocation]) -> StreamParameters {
        let date_base = entries.iter().map(|e| e.date).min().unwrap_or(Day(0));
        let date_max = entries.iter().map(|e| e.date).max().unwrap_or(Day(0));
        let range = date_max.0.saturating_sub(date_base.0);
        StreamParameters {
            date_base,
            date_bits: (u16::BITS - range.leading_zeros()) as u8,
            rice_k: best_rice_parameter(entries),
        }
    }
}

/// The Rice parameter k in 0..=63 that gives the fewest bits for the serial gaps, the sum over
/// the gaps of `(gap >> k) + 1 + k`; the smallest such k on ties.
fn best_rice_parameter(entries: &[Revocation]) -> u8 {
    let mut bits = [0u128; 64];
    for gap in gaps(entries) {
        for (k, total) in (0u32..).zip(bits.iter_mut()) {
            *total += u128::from(gap >> k) + 1 + u128::from(k);
        }
    }
    // Strictly fewer bits to move on: the smallest k wins a tie.
    let mut best = (0u8, bits[0]);
    for (k, &total) in (0u8..).zip(bits.iter()) {
        if total < best.1 {
            best = (k, total);
        }
    }
    best.0
}

struct BitWriter {
    out: Vec<u8>,
    acc: u8,
    used: u8,
}

impl BitWriter {
    fn put(&mut self, value: u64, nbits: u8) {
        for i in (0..nbits).rev() {
            self.acc = (self.acc << 1) | ((value >> i) & 1) as u8;
            self.used += 1;
            if self.used == 8 {
                self.out.push(self.acc);
                self.acc = 0;
                self.used = 0;
            }
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.used > 0 {
            self.out.push(self.acc << (8 - self.used));
        }
        self.out
    }
}

struct BitReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn get(&mut self, nbits: u8) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for _ in 0..nbits {
            let byte = self
                .buf
                .get(self.pos / 8)
                .ok_or(DecodeError::Truncated { field: "entries" })?;
            v = (v << 1) | u64::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        Ok(v)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::trust::tests::sample as trust_sample;
    use proptest::prelude::*;

    pub(crate) fn list(key: &SecretKey, entries: Vec<Revocation>) -> RevocationList {
        RevocationList {
            key_id: key.public_key().key_id(),
            sequence: 3,
            issued_at: 1_782_864_000,
            next_update: 1_783_468_800,
            entries,
        }
    }

    #[test]
    fn round_trip_and_lookup() {
        let root = SecretKey::from_seed(&[1; 32]);
        let issuer = SecretKey::from_seed(&[2; 32]);
        let trust =
            TrustList::decode_verified(&trust_sample(&root, &[&issuer]), &root.public_key())
                .unwrap();
        let entries = vec![
            Revocation {
                serial: 7,
                date: Day(20_700),
                reason: Reason::FalseClaim,
            },
            Revocation {
                serial: 8,
                date: Day(20_650),
                reason: Reason::Other,
            },
            Revocation {
                serial: 1000,
                date: Day(20_800),
                reason: Reason::SecurityFlaw,
            },
        ];
        let l = list(&issuer, entries);
        let bytes = l.sign(&issuer).unwrap();
        let back = RevocationList::decode_verified(&bytes, &trust).unwrap();
        assert_eq!(back, l);
        assert_eq!(back.lookup(8).map(|r| r.reason), Some(Reason::Other));
        assert!(back.lookup(9).is_none());
        // signed by a key the trust list does not hold
        let stranger = SecretKey::from_seed(&[5; 32]);
        let forged = list(&stranger, vec![]).sign(&stranger).unwrap();
        assert!(matches!(
            RevocationList::decode_verified(&forged, &trust),
            Err(Error::List(ListError::UnknownSigner { .. }))
        ));
        // tampered
        let mut t = bytes.clone();
        let last_body = t.len() - 65;
        t[last_body] ^= 0x80;
        assert!(RevocationList::decode_verified(&t, &trust).is_err());
    }

    #[test]
    fn malformed_lists() {
        let issuer = SecretKey::from_seed(&[2; 32]);
        let l = list(
            &issuer,
            vec![Revocation {
                serial: 5,
                date: Day(3),
                reason: Reason::Withdrawn,
            }],
        );
        let body = l.encode_body().unwrap();
        let with_sig = |b: &[u8]| [b, &[0u8; 64][..]].concat();
        assert!(RevocationList::decode_unverified(&with_sig(&body)).is_ok());
        let mut bad = body.clone();
        // a whole byte of padding
        bad.push(0);
        assert_eq!(
            RevocationList::decode_unverified(&with_sig(&bad)),
            Err(DecodeError::SurplusPadding { count: 1 })
        );
        // huge count
        let mut huge = body.clone();
        huge[29..33].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            RevocationList::decode_unverified(&with_sig(&huge)),
            Err(DecodeError::LengthTooLarge { .. })
        ));
        // bad version
        let mut v = body.clone();
        v[0] = 9;
        assert!(matches!(
            RevocationList::decode_unverified(&with_sig(&v)),
            Err(DecodeError::UnsupportedVersion { .. })
        ));
        // unsorted entries refused on encode
        let unsorted = list(
            &issuer,
            vec![
                Revocation {
                    serial: 5,
                    date: Day(3),
                    reason: Reason::Withdrawn,
                },
                Revocation {
                    serial: 5,
                    date: Day(3),
                    reason: Reason::Withdrawn,
                },
            ],
        );
        assert!(unsorted.encode_body().is_err());
    }

    #[test]
    fn invalid_reason_code_refused() {
        // One entry, k = 0, date_bits = 0: bits are gap 0 => "0", reason 3 bits.
        let mut body = vec![1u8];
        body.extend_from_slice(&[0; 4]);
        body.extend_from_slice(&[0; 24]);
        body.extend_from_slice(&1u32.to_be_bytes());
        body.extend_from_slice(&0u16.to_be_bytes());
        body.push(0);
        body.push(0);
        body.push(0b0111_0000);
        body.extend_from_slice(&[0; 64]);
        assert_eq!(
            RevocationList::decode_unverified(&body),
            Err(DecodeError::InvalidReason { value: 7 })
        );
    }

    proptest! {
        #[test]
        fn round_trip(mut serials in proptest::collection::vec(any::<u64>(), 0..200), dates in proptest::collection::vec(any::<u16>(), 200), reasons in proptest::collection::vec(0u8..6, 200)) {
            serials.sort_unstable();
            serials.dedup();
            let issuer = SecretKey::from_seed(&[2; 32]);
            let entries = serials.iter().enumerate().map(|(i, &s)| Revocation {
                serial: s, date: Day(dates[i]), reason: Reason::from_code(reasons[i]).unwrap()
            }).collect();
            let l = list(&issuer, entries);
            let bytes = l.sign(&issuer).unwrap();
            let back = RevocationList::decode_unverified(&bytes).unwrap();
            prop_assert_eq!(&back, &l);
            prop_assert_eq!(back.sign(&issuer).unwrap(), bytes);
        }

        /// Changing a byte of a valid body (count, date_base, date_bits, rice_k or the stream)
        /// never gives another accepted encoding of some list: whatever still decodes re-encodes
        /// to exactly the bytes it came from.
        #[test]
        fn every_accepted_body_is_the_encoding_of_its_list(
            mut serials in proptest::collection::vec(0u64..300, 1..12),
            dates in proptest::collection::vec(20_000u16..20_040, 12),
            reasons in proptest::collection::vec(0u8..6, 12),
            at in 29usize..64,
            value in any::<u8>(),
        ) {
            serials.sort_unstable();
            serials.dedup();
            let issuer = SecretKey::from_seed(&[2; 32]);
            let entries = serials.iter().enumerate().map(|(i, &s)| Revocation {
                serial: s, date: Day(dates[i]), reason: Reason::from_code(reasons[i]).unwrap()
            }).collect();
            let mut body = list(&issuer, entries).encode_body().unwrap();
            let at = 29 + at % (body.len() - 29);
            if let Some(b) = body.get_mut(at) {
                *b = value;
            }
            let with_sig = [&body[..], &[0u8; 64][..]].concat();
            if let Ok(decoded) = RevocationList::decode_unverified(&with_sig) {
                prop_assert_eq!(decoded.encode_body().unwrap(), body);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = RevocationList::decode_unverified(&b);
        }
    }
}
