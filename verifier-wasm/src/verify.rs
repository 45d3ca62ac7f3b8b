//! The verdict for the verify page: decode the lists, call [`starmark_core::verify_target`], and
//! flatten the result into the object the page shows (the fields of `starmark verify --json`).

use serde::{Serialize, Serializer};
use starmark_core::verdict::{verify_target, Context, Verification};
use starmark_core::{from_hex, Day, Error, PublicKey, RevocationList, TrustList};
use wasm_bindgen::prelude::*;

/// Integers above this are not exact as JavaScript numbers; they go to JavaScript as strings.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A `u64` for JavaScript: a number when it is exact as one, a decimal string otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Int(pub u64);

impl Serialize for Int {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 <= MAX_SAFE_INTEGER {
            // Exact: the value fits the 53-bit mantissa.
            s.serialize_f64(self.0 as f64)
        } else {
            s.collect_str(&self.0)
        }
    }
}

/// A revocation as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RevocationOut {
    /// The certificate serial.
    pub serial: Int,
    /// Day of revocation, `YYYY-MM-DD`.
    pub date: Day,
    /// The reason's name (`false_claim`, `security_flaw`, ...).
    pub reason: &'static str,
}

/// What the verifier knows of the lists it was given; every field is from a list whose signature
/// verified (the trust list under the pinned root key, the revocation list under the trust list).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ListsInfo {
    /// Sequence of the verified trust list.
    pub trust_sequence: Option<Int>,
    /// Why the trust list was refused.
    pub trust_error: Option<String>,
    /// Sequence of the verified revocation list.
    pub revocation_sequence: Option<Int>,
    /// When it was signed (Unix seconds).
    pub revocation_issued_at: Option<Int>,
    /// When a newer list is due (Unix seconds).
    pub revocation_next_update: Option<Int>,
    /// Why the revocation list was refused (absent when none was given).
    pub revocation_error: Option<String>,
}

/// The outcome of one verification: the fields and names of `starmark verify --json`, plus
/// `error` (no verdict could be computed: no usable trust list) and `lists`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The core's verdict name (`valid`, `expired`, ...); `None` only with `error`.
    pub verdict: Option<&'static str>,
    /// The revocation data is missing, past its next update, or was refused as a rollback.
    pub stale: bool,
    /// The revocation list offered is older than one seen before; it was ignored.
    pub rollback: bool,
    /// Certificate serial (signed).
    pub serial: Option<Int>,
    /// Manufacturer (signed).
    pub manufacturer: Option<String>,
    /// Model (signed).
    pub model: Option<String>,
    /// Star tier 1..=3 (signed).
    pub tier: Option<u8>,
    /// Catalogue category code (signed).
    pub category: Option<String>,
    /// First day of validity (signed).
    pub valid_from: Option<Day>,
    /// Last day of validity, inclusive (signed).
    pub valid_until: Option<Day>,
    /// Issuer key id, hex (signed).
    pub key_id: Option<String>,
    /// The issuer key's holder, from the trust list.
    pub issuer: Option<String>,
    /// SHA-256 of the record file (signed), hex.
    pub record_sha256: Option<String>,
    /// Date and reason, when revoked.
    pub revocation: Option<RevocationOut>,
    /// Sequence of the revocation list used.
    pub revocation_sequence: Option<Int>,
    /// Why the code is malformed, which key is unknown, ...
    pub detail: Option<String>,
    /// No verdict: why.
    pub error: Option<String>,
    /// What the lists were.
    pub lists: ListsInfo,
}

impl Outcome {
    fn of(v: &Verification, lists: ListsInfo) -> Outcome {
        let c = v.claim.as_ref();
        Outcome {
            verdict: Some(v.verdict.name()),
            stale: v.stale,
            rollback: v.rollback,
            serial: c.map(|c| Int(c.serial)),
            manufacturer: c.map(|c| c.manufacturer.clone()),
            model: c.map(|c| c.model.clone()),
            tier: c.map(|c| c.tier.stars()),
            category: c.map(|c| c.category.clone()),
            valid_from: c.map(|c| c.valid_from),
            valid_until: c.map(|c| c.valid_until),
            key_id: c.map(|c| c.key_id.to_string()),
            issuer: v.issuer.clone(),
            record_sha256: c.map(|c| starmark_core::to_hex(&c.record_sha256)),
            revocation: v.revocation.map(|r| RevocationOut {
                serial: Int(r.serial),
                date: r.date,
                reason: r.reason.name(),
            }),
            revocation_sequence: v.revocation_sequence.map(Int),
            detail: v.detail.clone(),
            error: None,
            lists,
        }
    }

    fn error(error: String, lists: ListsInfo) -> Outcome {
        Outcome {
            verdict: None,
            stale: false,
            rollback: false,
            serial: None,
            manufacturer: None,
            model: None,
            tier: None,
            category: None,
            valid_from: None,
            valid_until: None,
            key_id: None,
            issuer: None,
            record_sha256: None,
            revocation: None,
            revocation_sequence: None,
            detail: None,
            error: Some(error),
            lists,
        }
    }
}

/// The pinned root key from its hex form.
fn root_key(hex: &str) -> Result<PublicKey, String> {
    let bytes = from_hex::<32>(hex.trim()).ok_or("root key: not 64 hex digits")?;
    PublicKey::from_bytes(&bytes).map_err(|e| format!("root key: {e}"))
}

/// Decodes and checks both lists; the trust list is required, the revocation list optional.
fn lists(
    root_hex: &str,
    trust_list: &[u8],
    revocation_list: Option<&[u8]>,
) -> (Option<TrustList>, Option<RevocationList>, ListsInfo) {
    let mut info = ListsInfo::default();
    let trust = match root_key(root_hex).and_then(|root| {
        TrustList::decode_verified(trust_list, &root).map_err(|e: Error| format!("{e}"))
    }) {
        Ok(t) => t,
        Err(e) => {
            info.trust_error = Some(e);
            return (None, None, info);
        }
    };
    info.trust_sequence = Some(Int(trust.sequence));
    let revocations =
        revocation_list.and_then(
            |bytes| match RevocationList::decode_verified(bytes, &trust) {
                Ok(list) => {
                    info.revocation_sequence = Some(Int(list.sequence));
                    info.revocation_issued_at = Some(Int(list.issued_at));
                    info.revocation_next_update = Some(Int(list.next_update));
                    Some(list)
                }
                Err(e) => {
                    info.revocation_error = Some(format!("{e}"));
                    None
                }
            },
        );
    (Some(trust), revocations, info)
}

/// Seconds or a sequence number from JavaScript: negative and NaN give 0, too large saturates.
fn js_u64(x: f64) -> u64 {
    // `as` saturates and maps NaN to 0, which is what is wanted here.
    x as u64
}

/// Verifies a label (the Rust side of [`verify`]): `target` is the digits or a verify URL,
/// `root_hex` the pinned root key, `now` Unix seconds, `highest_seen_sequence` the highest
/// revocation list sequence accepted before. Without a revocation list the verdict is computed
/// and marked stale, as by `starmark verify`; a list that does not verify is not used either (the
/// verdict is then stale, and `lists.revocation_error` says why). Never panics.
pub fn verify_label(
    target: &str,
    root_hex: &str,
    trust_list: &[u8],
    revocation_list: Option<&[u8]>,
    now: u64,
    highest_seen_sequence: Option<u64>,
) -> Outcome {
    let (trust, revocations, info) = lists(root_hex, trust_list, revocation_list);
    let Some(trust) = trust else {
        let why = info.trust_error.clone().unwrap_or_default();
        return Outcome::error(why, info);
    };
    let ctx = Context {
        trust: &trust,
        revocations: revocations.as_ref(),
        now,
        highest_seen_sequence,
    };
    Outcome::of(&verify_target(target, &ctx), info)
}

/// Checks the lists without a label (the Rust side of [`inspect`]).
pub fn inspect_lists(
    root_hex: &str,
    trust_list: &[u8],
    revocation_list: Option<&[u8]>,
) -> ListsInfo {
    lists(root_hex, trust_list, revocation_list).2
}

fn to_js<T: Serialize>(value: &T) -> JsValue {
    serde_wasm_bindgen::to_value(value).unwrap_or(JsValue::NULL)
}

/// Verifies a label. Arguments: the digits (or a verify URL), the pinned root public key (64 hex
/// digits), the trust list and revocation list bytes (`api/v1/*.bin`; the revocation list may be
/// `undefined`), the time in Unix seconds, and the highest revocation list sequence seen before
/// (or `undefined`). Returns a plain object: `verdict`, `stale`, `rollback`, the signed fields,
/// `revocation` (`{serial, date, reason}`), `detail`, `error`, `lists`.
#[wasm_bindgen]
pub fn verify(
    target: &str,
    root_key: &str,
    trust_list: &[u8],
    revocation_list: Option<Vec<u8>>,
    now: f64,
    highest_seen_sequence: Option<f64>,
) -> JsValue {
    to_js(&verify_label(
        target,
        root_key,
        trust_list,
        revocation_list.as_deref(),
        js_u64(now),
        highest_seen_sequence.map(js_u64),
    ))
}

/// Checks the lists' signatures and returns their sequences and dates (`ListsInfo`), so the page
/// can keep the newest verified lists and refuse older ones.
#[wasm_bindgen]
pub fn inspect(root_key: &str, trust_list: &[u8], revocation_list: Option<Vec<u8>>) -> JsValue {
    to_js(&inspect_lists(
        root_key,
        trust_list,
        revocation_list.as_deref(),
    ))
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A u64: a number when exact, else a decimal string. */
export type Int = number | string;
export interface ListsInfo {
  trust_sequence?: Int; trust_error?: string;
  revocation_sequence?: Int; revocation_issued_at?: Int; revocation_next_update?: Int;
  revocation_error?: string;
}
export interface Outcome {
  verdict: "valid" | "expired" | "not_yet_valid" | "revoked" | "counterfeit" | "unknown_issuer"
    | "issuer_compromised" | "malformed" | null;
  stale: boolean; rollback: boolean;
  serial?: Int; manufacturer?: string; model?: string; tier?: 1 | 2 | 3; category?: string;
  valid_from?: string; valid_until?: string; key_id?: string; issuer?: string; record_sha256?: string;
  revocation?: { serial: Int; date: string; reason: string };
  revocation_sequence?: Int; detail?: string; error?: string; lists: ListsInfo;
}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use starmark_core::claim::Claim;
    use starmark_core::revocation::{Reason, Revocation};
    use starmark_core::trust::IssuerKey;
    use starmark_core::{SecretKey, Tier};

    const DAY: u64 = 86_400;

    struct Fixture {
        root_hex: String,
        trust: Vec<u8>,
        revocations: Vec<u8>,
        digits: String,
        revoked_digits: String,
        /// A claim valid until the last representable day, 2149-06-06.
        last_day_digits: String,
    }

    fn fixture() -> Fixture {
        let root = SecretKey::from_seed(&[1; 32]);
        let issuer = SecretKey::from_seed(&[2; 32]);
        let d = |s: &str| Day::parse(s).unwrap();
        let key = IssuerKey::new(
            issuer.public_key(),
            "Authority".into(),
            d("2026-01-01"),
            d("2030-12-31"),
        );
        let trust = TrustList {
            log_keys: Vec::new(),
            sequence: 3,
            issued_at: d("2026-06-01").start_unix(),
            issuers: vec![key],
        }
        .sign(&root)
        .unwrap();
        let claim = |serial, valid_until| Claim {
            key_id: issuer.public_key().key_id(),
            serial,
            tier: Tier::Two,
            category: "router".into(),
            valid_from: d("2026-07-01"),
            valid_until,
            manufacturer: "深圳示例科技有限公司".into(),
            model: "XL-AX3000".into(),
            record_sha256: [9; 32],
        };
        let digits =
            |c: Claim| starmark_core::qr::encode_digits(c.sign(&issuer).unwrap().as_bytes());
        let mut list = RevocationList {
            key_id: issuer.public_key().key_id(),
            sequence: 7,
            issued_at: d("2026-08-01").start_unix(),
            next_update: d("2027-08-01").start_unix(),
            entries: vec![],
        };
        list.insert(Revocation {
            serial: 2,
            date: d("2026-08-01"),
            reason: Reason::SecurityFlaw,
        });
        Fixture {
            root_hex: starmark_core::to_hex(&root.public_key().to_bytes()),
            trust,
            revocations: list.sign(&issuer).unwrap(),
            digits: digits(claim(1, d("2028-06-30"))),
            revoked_digits: digits(claim(2, d("2028-06-30"))),
            last_day_digits: digits(claim(3, Day::MAX)),
        }
    }

    fn at(s: &str) -> u64 {
        Day::parse(s).unwrap().start_unix() + DAY / 2
    }

    #[test]
    fn valid_label_carries_the_signed_fields() {
        let f = fixture();
        let o = verify_label(
            &f.digits,
            &f.root_hex,
            &f.trust,
            Some(&f.revocations),
            at("2027-01-01"),
            None,
        );
        assert_eq!(o.verdict, Some("valid"));
        assert!(!o.stale && !o.rollback);
        assert_eq!(o.manufacturer.as_deref(), Some("深圳示例科技有限公司"));
        assert_eq!(o.tier, Some(2));
        assert_eq!(
            o.valid_until.map(|d| d.to_string()).as_deref(),
            Some("2028-06-30")
        );
        assert_eq!(o.revocation_sequence, Some(Int(7)));
        assert_eq!(o.lists.trust_sequence, Some(Int(3)));
        assert_eq!(o.error, None);
    }

    #[test]
    fn verdicts_are_the_cores() {
        let f = fixture();
        let v = |digits: &str, now, seen| {
            verify_label(
                digits,
                &f.root_hex,
                &f.trust,
                Some(&f.revocations),
                now,
                seen,
            )
        };
        assert_eq!(
            v(&f.digits, at("2028-07-01"), None).verdict,
            Some("expired")
        );
        assert_eq!(
            v(&f.digits, at("2026-06-30"), None).verdict,
            Some("not_yet_valid")
        );
        let r = v(&f.revoked_digits, at("2027-01-01"), None);
        assert_eq!(r.verdict, Some("revoked"));
        let rev = r.revocation.unwrap();
        assert_eq!(
            (rev.reason, rev.date.to_string().as_str()),
            ("security_flaw", "2026-08-01")
        );
        assert!(v(&f.digits, at("2027-08-02"), None).stale);
        let rolled = v(&f.digits, at("2027-01-01"), Some(8));
        assert!(rolled.rollback && rolled.stale);
        assert_eq!(v("12a", 0, None).verdict, Some("malformed"));
        // One digit changed in the signature.
        let mut bad = f.digits.clone().into_bytes();
        let i = bad.len() - 20;
        bad[i] = if bad[i] == b'0' { b'1' } else { bad[i] - 1 };
        let bad = String::from_utf8(bad).unwrap();
        assert_eq!(v(&bad, at("2027-01-01"), None).verdict, Some("counterfeit"));
    }

    #[test]
    fn bad_lists() {
        let f = fixture();
        let other_root =
            starmark_core::to_hex(&SecretKey::from_seed(&[5; 32]).public_key().to_bytes());
        let o = verify_label(
            &f.digits,
            &other_root,
            &f.trust,
            Some(&f.revocations),
            at("2027-01-01"),
            None,
        );
        assert_eq!(o.verdict, None);
        assert!(o.error.unwrap().contains("root signature"));
        let o = verify_label(&f.digits, "zz", &f.trust, None, 0, None);
        assert!(o.error.unwrap().contains("root key"));
        // A damaged revocation list counts as missing: stale, never plainly valid.
        let mut rev = f.revocations.clone();
        rev[10] ^= 1;
        let o = verify_label(
            &f.digits,
            &f.root_hex,
            &f.trust,
            Some(&rev),
            at("2027-01-01"),
            None,
        );
        assert_eq!(o.verdict, Some("valid"));
        assert!(o.stale);
        assert!(o.lists.revocation_error.is_some());
        let o = verify_label(
            &f.digits,
            &f.root_hex,
            &f.trust,
            None,
            at("2027-01-01"),
            None,
        );
        assert!(o.stale && o.lists.revocation_error.is_none());
        let info = inspect_lists(&f.root_hex, &f.trust, Some(&f.revocations));
        assert_eq!(info.revocation_sequence, Some(Int(7)));
        assert_eq!(
            info.revocation_next_update,
            Some(Int(at("2027-08-01") - DAY / 2))
        );
    }

    /// The format's loose ends come out as in `starmark verify`, since the core decides them: no
    /// revocation list gives the verdict marked stale; a time after 2149-06-06 is after every
    /// validity period; only the core's white space is ignored around the code.
    #[test]
    fn loose_ends_are_decided_by_the_core() {
        let f = fixture();
        let v = |target: &str, revocations: Option<&[u8]>, now| {
            verify_label(target, &f.root_hex, &f.trust, revocations, now, None)
        };
        let o = v(&f.revoked_digits, None, at("2027-01-01"));
        assert_eq!(
            (o.verdict, o.stale, o.revocation),
            (Some("valid"), true, None)
        );
        assert_eq!(o.revocation_sequence, None);
        assert_eq!(o.lists.revocation_error, None);

        let last = Day::MAX.start_unix() + DAY - 1;
        let rev = Some(f.revocations.as_slice());
        assert_eq!(v(&f.last_day_digits, rev, last).verdict, Some("valid"));
        assert_eq!(
            v(&f.last_day_digits, rev, last + 1).verdict,
            Some("expired")
        );
        let far = js_u64(1e300);
        assert_eq!(far, u64::MAX);
        assert_eq!(v(&f.last_day_digits, rev, far).verdict, Some("expired"));

        let now = at("2027-01-01");
        let padded = format!("\u{3000} {}\r\n", f.digits);
        assert_eq!(v(&padded, rev, now).verdict, Some("valid"));
        for c in ['\u{a0}', '\u{1c}', '\u{feff}'] {
            let o = v(&format!("{c}{}", f.digits), rev, now);
            assert_eq!(o.verdict, Some("malformed"), "{c:?}");
            assert!(o.detail.unwrap().contains("not a digit"), "{c:?}");
        }
    }

    #[test]
    fn large_integers_become_strings() {
        assert_eq!(
            serde_json::to_string(&Int(20_260_001)).unwrap(),
            "20260001.0"
        );
        assert_eq!(
            serde_json::to_string(&Int(u64::MAX)).unwrap(),
            "\"18446744073709551615\""
        );
    }
}
