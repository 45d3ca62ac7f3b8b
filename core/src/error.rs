//! Errors, one enum per stage, combined into [`Error`]. Messages are lowercase and name the field.

use alloc::string::String;

use thiserror::Error;

use crate::date::Day;
pub use crate::text::TextError;

/// A string written as `{:?}` writes it (quoted, escaped), by `char::escape_debug`: the same text
/// without `str`'s `Debug`, which would bring string slicing and its panic messages into the
/// browser verifier.
struct Quoted<'a>(&'a str);

impl core::fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use core::fmt::Write;
        f.write_char('"')?;
        for c in self.0.chars() {
            // `str`'s Debug leaves a single quote alone; `escape_debug` escapes it.
            if c == '\'' {
                f.write_char(c)?;
            } else {
                write!(f, "{}", c.escape_debug())?;
            }
        }
        f.write_char('"')
    }
}

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
    /// A text shown to people breaks the display-text rules (invisible, bidi or look-alike
    /// characters, stray spaces, not NFC, mixed scripts).
    #[error(transparent)]
    Text(#[from] TextError),
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
    #[error("field category: {} is not a category code (a-z, 0-9 and '-')", Quoted(.code))]
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
    /// A trust list in version 2 (entries with a purpose) holds no log key: such a list is
    /// written in version 1.
    #[error("field version: {got} is not the canonical value {want} (a trust list without a log key is written in version 1)")]
    NonCanonicalVersion {
        /// The version found.
        got: u8,
        /// The only version allowed for these entries.
        want: u8,
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

/// The transparency log: an entry, a tile, a bundle, a checkpoint, a signed note or a proof was
/// refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LogError {
    /// A log entry without even its type byte.
    #[error("log entry: empty")]
    EmptyEntry,
    /// A log entry whose type byte is not 1 (claim), 2 (revocation list) or 3 (trust list).
    #[error("log entry: unknown type {value}")]
    UnknownEntryType {
        /// The type byte.
        value: u8,
    },
    /// A log entry whose content does not decode.
    #[error("log entry: {0}")]
    Entry(DecodeError),
    /// A log entry longer than an entry bundle can hold (65535 bytes).
    #[error("log entry: {len} bytes, over the limit of 65535")]
    EntryTooLong {
        /// Its length.
        len: usize,
    },
    /// A path that is not one of the log's files.
    #[error("{path:?}: not a path of the log ({why})")]
    BadPath {
        /// The path.
        path: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A tile whose length is not its width times 32 bytes.
    #[error("{path}: {len} bytes, expected {expected} ({width} hashes of 32 bytes)")]
    TileLength {
        /// The tile's path.
        path: String,
        /// Its length.
        len: usize,
        /// The length its width gives.
        expected: usize,
        /// Its width.
        width: u16,
    },
    /// An entry bundle that does not hold exactly its width of length-prefixed entries.
    #[error("{path}: {why}")]
    MalformedBundle {
        /// The bundle's path.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// A file of the log is not there.
    #[error("{path}: missing")]
    Missing {
        /// Its path.
        path: String,
    },
    /// The tiles on the right edge of the tree or the last entry bundle do not give the
    /// checkpoint's tree.
    #[error("{path}: does not match the checkpoint ({why})")]
    EdgeMismatch {
        /// The file at fault.
        path: String,
        /// What differs.
        why: &'static str,
    },
    /// A checkpoint body that is not the C2SP tlog-checkpoint form.
    #[error("checkpoint: line {line}: {why}")]
    MalformedCheckpoint {
        /// One-based line number.
        line: usize,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A signed note that is not the C2SP signed-note form.
    #[error("signed note: {why}")]
    MalformedNote {
        /// What is wrong with it.
        why: &'static str,
    },
    /// A note key name (or a log origin used as one) that is empty or holds white space or `+`.
    #[error("key name {name:?}: {why}")]
    BadKeyName {
        /// The name.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A verifier key string that is not `name+hex8+base64(0x01 ‖ key)`.
    #[error("verifier key: {why}")]
    BadVerifierKey {
        /// What is wrong with it.
        why: &'static str,
    },
    /// The checkpoint is of another log.
    #[error("checkpoint: origin {found:?}, expected {expected:?}")]
    OriginMismatch {
        /// The origin expected.
        expected: String,
        /// The origin found.
        found: String,
    },
    /// No signature line of the checkpoint is by a log key of the trust list.
    #[error("checkpoint: no signature by a log key of the trust list (key name {name:?})")]
    NoLogKeySignature {
        /// The key name looked for (the origin).
        name: String,
    },
    /// A signature line by a log key of the trust list does not verify.
    #[error("checkpoint: the signature of log key {key_id} does not verify")]
    NoteSignature {
        /// Hex key id (of the trust list).
        key_id: String,
    },
    /// The checkpoint is signed only by log keys marked compromised.
    #[error("checkpoint: signed by log key {key_id}, which is marked compromised")]
    CompromisedLogKey {
        /// Hex key id (of the trust list).
        key_id: String,
    },
    /// A leaf index outside the tree.
    #[error("leaf {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A newer tree smaller than the older one.
    #[error("the tree shrank from size {old} to {new}")]
    TreeShrunk {
        /// The older size.
        old: u64,
        /// The newer size.
        new: u64,
    },
    /// An inclusion proof that does not lead to the root.
    #[error("inclusion proof does not verify")]
    InclusionProof,
    /// A consistency proof that does not lead to both roots.
    #[error("consistency proof does not verify")]
    ConsistencyProof,
    /// The log holds 2^64 − 1 entries: no more fit.
    #[error("the log is full (2^64 - 1 entries)")]
    Full,
    /// A witness's cosignature line that is malformed or does not verify.
    #[error("cosignature of witness {name:?}: {why}")]
    Cosignature {
        /// The witness name.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A subtree that is not complete in the tree, so no tile holds its hash.
    #[error("subtree at level {level}, index {index} is not complete in a tree of size {size}")]
    NotStored {
        /// Its level.
        level: u8,
        /// Its index.
        index: u64,
        /// The tree size.
        size: u64,
    },
}

/// A manifest object (root, signature, listing) is malformed, a manifest tree breaks its rules,
/// or a manifest signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The bytes do not decode (truncated, trailing bytes, bad length, version...).
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The kind byte is not the one expected here.
    #[error("field kind: {found} is not {expected}")]
    WrongKind {
        /// What was expected, e.g. "0 (root)".
        expected: &'static str,
        /// The kind byte found.
        found: u8,
    },
    /// A file or directory name that is empty, too long, `.` or `..`, or holds `/` or a
    /// control character.
    #[error("field {field}: {name:?} is not a valid name (1 to 255 bytes, no '/', no control character, not '.' or '..')")]
    InvalidName {
        /// The field: "name" or "dir".
        field: &'static str,
        /// The name found.
        name: String,
    },
    /// A directory path that is not valid names joined by `/`.
    #[error("field dir: {dir:?} is not a directory path (names of 1 to 255 bytes joined by '/', no control character, no '.' or '..')")]
    InvalidDir {
        /// The path found.
        dir: String,
    },
    /// An entry type other than 0 (file) and 1 (directory).
    #[error("field type: {value} is not an entry type (0 file, 1 directory)")]
    InvalidEntryType {
        /// The value found.
        value: u8,
    },
    /// The unused low nibble of an odd-length prefix is not zero.
    #[error("field prefix: the unused low nibble of the last byte is not zero")]
    PrefixPadding,
    /// A bucket without any child.
    #[error("field bitmap: a bucket with no child")]
    EmptyBucket,
    /// A bucket whose children hold no more entries than one listing may: it must be a listing.
    #[error("bucket holds {total} entries; {max} or fewer must be one listing")]
    BucketTooSmall {
        /// Entries under the bucket.
        total: u64,
        /// The most entries one listing holds.
        max: usize,
    },
    /// A listing whose bytes do not hash to the name it was fetched by.
    #[error("listing {expected}: its bytes hash to {found}")]
    HashMismatch {
        /// Hex SHA-256 the parent names.
        expected: String,
        /// Hex SHA-256 of the bytes received.
        found: String,
    },
    /// A listing that names another position in the tree than the one it was found at.
    #[error("listing for directory {found_dir:?} at depth {found_depth} found where directory {dir:?} at depth {depth} was expected")]
    WrongPosition {
        /// The directory expected.
        dir: String,
        /// The bucket depth expected.
        depth: u8,
        /// The directory the listing names.
        found_dir: String,
        /// The depth the listing names.
        found_depth: u8,
    },
    /// A listing at the right directory and depth but another bucket prefix.
    #[error("listing for directory {dir:?} has the bucket prefix of another bucket")]
    WrongPrefix {
        /// The directory.
        dir: String,
    },
    /// An entry whose name does not hash into the bucket that holds it.
    #[error(
        "entry {name:?} does not belong in this bucket (SHA-256 of its name has another prefix)"
    )]
    WrongBucket {
        /// The entry's name.
        name: String,
    },
    /// A listing or bucket holding another number of entries than its parent bucket says.
    #[error("holds {found} entries; its parent bucket says {stated}")]
    CountMismatch {
        /// The count in the parent.
        stated: u64,
        /// The count found.
        found: u64,
    },
    /// A directory (other than the site root) without any entry.
    #[error("directory {dir:?} is empty")]
    EmptyDirectory {
        /// The directory.
        dir: String,
    },
    /// The root names a log checkpoint but the tree has no `log/checkpoint` file.
    #[error("the manifest root names a log checkpoint but the tree has no log/checkpoint")]
    CheckpointMissing,
    /// The tree's `log/checkpoint` is not the checkpoint the root names.
    #[error("log/checkpoint has SHA-256 {found}, the manifest root names {expected}")]
    CheckpointMismatch {
        /// Hex SHA-256 in the root.
        expected: String,
        /// Hex SHA-256 of the file in the tree.
        found: String,
    },
    /// The tree has a `log/checkpoint` but the root names none.
    #[error("the tree has log/checkpoint but the manifest root names no checkpoint")]
    CheckpointUndeclared,
    /// The signature names a key that the trust list does not hold.
    #[error("manifest signature: signed by key {key_id}, which is not in the trust list")]
    UnknownSigner {
        /// Hex key id.
        key_id: String,
    },
    /// The signature was made by a key the trust list marks compromised.
    #[error("manifest signature: signing key {key_id} is marked compromised")]
    CompromisedSigner {
        /// Hex key id.
        key_id: String,
    },
    /// The strict Ed25519 verification failed.
    #[error("manifest signature: does not verify under key {key_id}")]
    BadSignature {
        /// Hex key id.
        key_id: String,
    },
    /// A path given to the builder that is not names joined by `/`.
    #[error("path {path:?} is not names joined by '/' (each 1 to 255 bytes, no control character, not '.' or '..')")]
    InvalidPath {
        /// The path.
        path: String,
    },
    /// A path that would be both a file and a directory.
    #[error("path {path:?} is both a file and a directory")]
    PathConflict {
        /// The path.
        path: String,
    },
    /// A path removed from the tree that is not a file in it.
    #[error("path {path:?} is not a file of the manifest")]
    NotAFile {
        /// The path.
        path: String,
    },
    /// More than one listing's worth of names share every nibble of their SHA-256 (never
    /// happens with real names).
    #[error("directory {dir:?}: too many names share a SHA-256")]
    TooDeep {
        /// The directory.
        dir: String,
    },
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
    /// The transparency log.
    #[error(transparent)]
    Log(#[from] LogError),
    /// Site manifests.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

#[cfg(test)]
mod tests {
    use super::Quoted;

    /// `Quoted` writes what `{:?}` writes, for quotes, escapes, controls, invisible and combining
    /// characters (first and later), and ordinary CJK and emoji.
    #[test]
    fn quoted_is_debug() {
        for s in [
            "router",
            "it's \"x\" \\ y",
            "\t\r\n\0\u{1b}\u{7f}",
            "\u{a0}\u{feff}\u{200b}\u{202e}\u{e000}",
            "\u{301}a\u{301}é",
            "路由器 🙂 Ａ",
            "",
        ] {
            assert_eq!(
                alloc::format!("{}", Quoted(s)),
                alloc::format!("{s:?}"),
                "{s:?}"
            );
        }
    }
}
