//! Errors, one enum per stage, combined into [`Error`]. Messages are lowercase and name the field.

use alloc::string::String;

use thiserror::Error;

use crate::date::Day;

/// A binary structure (claim, trust list, revocation list) could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended inside a field.
    #[error("truncated input: it ends inside field {field}")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// Bytes follow the end of the structure.
    #[error("{count} trailing bytes after the end of the structure")]
    TrailingBytes {
        /// How many bytes were left.
        count: usize,
    },
    /// The format version byte is not one this implementation knows.
    #[error("unsupported format version {found} (this verifier knows version {expected})")]
    UnsupportedVersion {
        /// The version found.
        found: u8,
        /// The version expected.
        expected: u8,
    },
    /// The input does not start with the format's magic bytes.
    #[error("not a {expected} file: wrong magic bytes")]
    WrongMagic {
        /// The magic expected.
        expected: &'static str,
    },
    /// A length prefix or count is larger than the format allows.
    #[error("field {field}: length {len} is larger than the limit {max}")]
    LengthTooLarge {
        /// The field.
        field: &'static str,
        /// The length found.
        len: usize,
        /// The largest length allowed.
        max: usize,
    },
    /// A text field is not valid UTF-8.
    #[error("field {field}: not valid UTF-8")]
    InvalidUtf8 {
        /// The field.
        field: &'static str,
    },
    /// A text field is empty.
    #[error("field {field}: empty")]
    EmptyText {
        /// The field.
        field: &'static str,
    },
    /// A text field contains a control character.
    #[error("field {field}: contains a control character")]
    ControlCharacter {
        /// The field.
        field: &'static str,
    },
    /// A variable-length integer uses more bytes than needed.
    #[error("field {field}: non-minimal variable-length integer")]
    NonCanonicalVarint {
        /// The field.
        field: &'static str,
    },
    /// A variable-length integer does not fit 64 bits.
    #[error("field {field}: variable-length integer overflows 64 bits")]
    VarintOverflow {
        /// The field.
        field: &'static str,
    },
    /// A tier outside 1..=3.
    #[error("field tier: {value} is not a tier (1, 2 or 3)")]
    InvalidTier {
        /// The value found.
        value: u8,
    },
    /// A category code with characters outside `a-z`, `0-9`, `-`.
    #[error("field category: {code:?} is not a category code (a-z, 0-9 and '-')")]
    InvalidCategory {
        /// The code found.
        code: String,
    },
    /// A revocation reason code this implementation does not know.
    #[error("field reason: unknown revocation reason code {value}")]
    InvalidReason {
        /// The code found.
        value: u8,
    },
    /// A revocation list's `rice_k` is not the one its encoder picks for these serials.
    #[error(
        "field rice_k: {got} is not the canonical value {want} (the smallest k giving the fewest bits)"
    )]
    NonCanonicalRiceK {
        /// The value found.
        got: u8,
        /// The only value allowed for these entries.
        want: u8,
    },
    /// A revocation list's `date_bits` is not the bit length of its range of dates.
    #[error("field date_bits: {got} is not the canonical value {want} (the bit length of the latest revocation date minus the earliest)")]
    NonCanonicalDateBits {
        /// The value found.
        got: u8,
        /// The only value allowed for these entries.
        want: u8,
    },
    /// A revocation list's `date_base` is not its earliest revocation date.
    #[error(
        "field date_base: {got} is not the canonical value {want} (the earliest revocation date)"
    )]
    NonCanonicalDateBase {
        /// The value found.
        got: Day,
        /// The only value allowed for these entries.
        want: Day,
    },
    /// The bits after a revocation list's last entry, up to the byte boundary, are not all zero.
    #[error("field entries: padding bits after the last entry are not zero")]
    NonZeroPadding,
    /// Whole bytes follow the byte that holds a revocation list's last entry.
    #[error("field entries: surplus padding, {count} byte(s) past the last entry (padding is 0 to 7 zero bits)")]
    SurplusPadding {
        /// How many bytes follow.
        count: usize,
    },
    /// An end date lies before its start date.
    #[error("field {field}: ends before it starts")]
    DatesOutOfOrder {
        /// The field.
        field: &'static str,
    },
    /// A list that must be sorted and free of duplicates is not.
    #[error("field {field}: entries not in strictly increasing order")]
    NotSorted {
        /// The field.
        field: &'static str,
    },
    /// A value overflows its range.
    #[error("field {field}: value out of range")]
    OutOfRange {
        /// The field.
        field: &'static str,
    },
    /// A public key inside the structure is not acceptable.
    #[error("field {field}: {source}")]
    Key {
        /// The field.
        field: &'static str,
        /// Why the key was refused.
        source: KeyError,
    },
}

/// The decimal digits of a QR payload are malformed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DigitsError {
    /// No digits at all.
    #[error("no digits")]
    Empty,
    /// A character other than `0`..`9`.
    #[error("character {position} is {found:?}, not a digit")]
    NotADigit {
        /// Zero-based position.
        position: usize,
        /// The character found.
        found: char,
    },
    /// The number of digits cannot come from any byte string.
    #[error("{len} digits is not a valid length (damaged or cut-off code)")]
    InvalidLength {
        /// The number of digits.
        len: usize,
    },
    /// More digits than any QR code holds.
    #[error("{len} digits is more than the limit {max}")]
    TooLong {
        /// The number of digits.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A group of digits encodes a number too large for its bytes.
    #[error("digit group {group} is out of range (damaged code)")]
    GroupOutOfRange {
        /// Zero-based group index.
        group: usize,
    },
    /// A URL without a `#` fragment of digits.
    #[error("the address has no #fragment with the label code")]
    NoFragment,
}

/// A public key was refused where it was loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The 32 bytes are not the encoding of a curve point.
    #[error("not a valid Ed25519 public key")]
    NotAPoint,
    /// The point encoding is not canonical (y >= p or x = -0).
    #[error("non-canonical Ed25519 public key encoding")]
    NonCanonical,
    /// The point has small order: any signature could verify under it.
    #[error("weak Ed25519 public key (small order)")]
    Weak,
}

/// A signature did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The strict Ed25519 verification failed.
    #[error("signature does not verify")]
    Invalid,
}

/// A signed list (trust list, revocation list) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ListError {
    /// The root key's signature on the trust list does not verify.
    #[error("trust list: root signature does not verify")]
    TrustListSignature,
    /// The revocation list names a signing key the trust list does not hold.
    #[error("revocation list: signed by key {key_id}, which is not in the trust list")]
    UnknownSigner {
        /// Hex key id.
        key_id: String,
    },
    /// The revocation list is signed by a key marked compromised.
    #[error("revocation list: signing key {key_id} is marked compromised")]
    CompromisedSigner {
        /// Hex key id.
        key_id: String,
    },
    /// The revocation list's signature does not verify.
    #[error("revocation list: signature does not verify")]
    RevocationListSignature,
}

/// Every error of `starmark-core`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// Binary decoding.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// QR digits.
    #[error(transparent)]
    Digits(#[from] DigitsError),
    /// Public keys.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Signatures.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// Signed lists.
    #[error(transparent)]
    List(#[from] ListError),
}
