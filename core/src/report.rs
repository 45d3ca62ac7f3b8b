//! The verdict as people and machines see it: the flat object of `starmark verify --json` and of
//! the verify page, one type serialised by both (docs/FORMAT.md, "The verdict report").
//!
//! A [`Report`] is made only from a [`Verification`], so it shows signed fields only when the
//! core verified them. Integers that JavaScript cannot hold exactly (above 2^53 - 1) are written
//! as decimal strings, so the page and the command line write the same value.

use alloc::string::String;

use serde::{Serialize, Serializer};

use crate::date::Day;
use crate::revocation::Reason;
use crate::verdict::{Verdict, Verification};

/// The largest integer a JavaScript number holds exactly.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A `u64` for JSON read by JavaScript: a number up to [`MAX_SAFE_INTEGER`], a decimal string
/// above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Int(pub u64);

impl Serialize for Int {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 <= MAX_SAFE_INTEGER {
            s.serialize_u64(self.0)
        } else {
            s.collect_str(&self.0)
        }
    }
}

/// A revocation as reported: the serial, the day and the reason's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RevocationReport {
    /// The certification's serial.
    pub serial: Int,
    /// Day of revocation, `YYYY-MM-DD`.
    pub date: Day,
    /// The reason (`false_claim`, `security_flaw`, ...).
    pub reason: Reason,
}

/// The verdict report. Field order and names are the interface (docs/FORMAT.md): `verdict`,
/// `stale`, `rollback`, the signed fields (`null` unless the signature verified under a trusted
/// key), `issuer`, `revocation`, `revocation_sequence`, `detail`, `superseded_by`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report<'a> {
    /// The verdict.
    pub verdict: Verdict,
    /// The revocation data is missing, past its next update, or was refused as a rollback.
    pub stale: bool,
    /// The revocation list offered is older than one seen before; it was ignored.
    pub rollback: bool,
    /// The certification's serial (signed).
    pub serial: Option<Int>,
    /// Manufacturer (signed).
    pub manufacturer: Option<&'a str>,
    /// Model (signed).
    pub model: Option<&'a str>,
    /// Star tier, 1 to 3 (signed).
    pub tier: Option<u8>,
    /// Catalogue category code (signed).
    pub category: Option<&'a str>,
    /// First day of validity (signed).
    pub valid_from: Option<Day>,
    /// Last day of validity, inclusive (signed).
    pub valid_until: Option<Day>,
    /// The issuer key id, hex (signed).
    pub key_id: Option<String>,
    /// The issuer key's holder, from the trust list.
    pub issuer: Option<&'a str>,
    /// SHA-256 of the record file, hex (signed).
    pub record_sha256: Option<String>,
    /// Date and reason, when revoked.
    pub revocation: Option<RevocationReport>,
    /// Sequence of the revocation list used.
    pub revocation_sequence: Option<Int>,
    /// Why the code is malformed, which key is unknown, ...
    pub detail: Option<&'a str>,
    /// The serial of the newest certification whose record `supersedes` this one, when the
    /// verifier knows of one. Informative: it never changes the verdict (docs/GUIDE.md,
    /// "Superseded certifications").
    pub superseded_by: Option<Int>,
}

impl<'a> Report<'a> {
    /// The report of a verification; `superseded_by` is the newest certification that
    /// supersedes the verified one, as the caller knows it (kept only when a claim verified).
    pub fn new(v: &'a Verification, superseded_by: Option<u64>) -> Report<'a> {
        let c = v.claim.as_ref();
        Report {
            verdict: v.verdict,
            stale: v.stale,
            rollback: v.rollback,
            serial: c.map(|c| Int(c.serial)),
            manufacturer: c.map(|c| c.manufacturer.as_str()),
            model: c.map(|c| c.model.as_str()),
            tier: c.map(|c| c.tier.stars()),
            category: c.map(|c| c.category.as_str()),
            valid_from: c.map(|c| c.valid_from),
            valid_until: c.map(|c| c.valid_until),
            key_id: c.map(|c| alloc::format!("{}", c.key_id)),
            issuer: v.issuer.as_deref(),
            record_sha256: c.map(|c| crate::to_hex(&c.record_sha256)),
            revocation: v.revocation.map(|r| RevocationReport {
                serial: Int(r.serial),
                date: r.date,
                reason: r.reason,
            }),
            revocation_sequence: v.revocation_sequence.map(Int),
            detail: v.detail.as_deref(),
            superseded_by: superseded_by.filter(|_| c.is_some()).map(Int),
        }
    }
}

/// Among `(old, new)` pairs (a record `new` with `supersedes = old`), the newest certification
/// that supersedes `serial`, if any.
pub fn superseded_by(pairs: impl IntoIterator<Item = (u64, u64)>, serial: u64) -> Option<u64> {
    pairs
        .into_iter()
        .filter(|&(old, _)| old == serial)
        .map(|(_, new)| new)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claim::tests::sample_claim;
    use crate::keys::KeyId;
    use crate::revocation::Revocation;

    fn verification(verdict: Verdict) -> Verification {
        Verification {
            verdict,
            stale: false,
            rollback: false,
            claim: Some(sample_claim(KeyId([0xab, 0xcd, 0x01, 0x23]))),
            issuer: Some("国家认证机构 Demo Authority".into()),
            revocation: None,
            revocation_sequence: Some(7),
            detail: None,
        }
    }

    /// The JSON of every kind of report, byte for byte as `starmark verify --json` prints it
    /// (pretty) and as the page reads it (compact): core/tests/vectors/report.json.
    #[test]
    fn json_is_the_golden_file() {
        let valid = verification(Verdict::Valid);
        let mut revoked = verification(Verdict::Revoked);
        revoked.revocation = Some(Revocation {
            serial: 42,
            date: Day(20_700),
            reason: Reason::SecurityFlaw,
        });
        let mut stale = verification(Verdict::Valid);
        stale.stale = true;
        stale.rollback = true;
        stale.revocation_sequence = None;
        let malformed = Verification {
            verdict: Verdict::Malformed,
            stale: false,
            rollback: false,
            claim: None,
            issuer: None,
            revocation: None,
            revocation_sequence: None,
            detail: Some("no digits".into()),
        };
        let mut big = verification(Verdict::Valid);
        if let Some(c) = big.claim.as_mut() {
            c.serial = MAX_SAFE_INTEGER + 1;
        }
        let cases = [
            ("valid", Report::new(&valid, None)),
            ("superseded", Report::new(&valid, Some(43))),
            ("revoked", Report::new(&revoked, None)),
            ("stale_rollback", Report::new(&stale, None)),
            ("malformed", Report::new(&malformed, Some(43))),
            ("serial_above_2^53", Report::new(&big, None)),
        ];
        let mut pretty = String::from("{\n");
        for (i, (name, report)) in cases.iter().enumerate() {
            let json = serde_json::to_string_pretty(report)
                .unwrap()
                .replace('\n', "\n  ");
            let sep = if i + 1 == cases.len() { "" } else { "," };
            pretty += &alloc::format!("  \"{name}\": {json}{sep}\n");
        }
        pretty += "}\n";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/report.json");
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(path, &pretty).unwrap();
        }
        assert_eq!(pretty, std::fs::read_to_string(path).unwrap());
        // Compact JSON (the page's) is the same object.
        let compact = serde_json::to_string(&cases[0].1).unwrap();
        let reparsed: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&compact).unwrap(),
            reparsed["valid"]
        );
    }

    #[test]
    fn integers_above_2_pow_53_are_strings() {
        assert_eq!(
            serde_json::to_string(&Int(MAX_SAFE_INTEGER)).unwrap(),
            "9007199254740991"
        );
        assert_eq!(
            serde_json::to_string(&Int(u64::MAX)).unwrap(),
            "\"18446744073709551615\""
        );
    }

    #[test]
    fn the_newest_superseding_certification_counts() {
        let pairs = [(1, 4), (2, 5), (1, 9), (3, 1)];
        assert_eq!(superseded_by(pairs, 1), Some(9));
        assert_eq!(superseded_by(pairs, 2), Some(5));
        assert_eq!(superseded_by(pairs, 4), None);
    }
}
