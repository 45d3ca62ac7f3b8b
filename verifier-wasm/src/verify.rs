//! The verdict for the verify page: decode the lists, call [`starmark_core::verify_target`], and
//! return the verdict report (`starmark_core::Report`, the object of `starmark verify --json`)
//! with what the page needs besides, as JSON text that the page parses.

use serde::Serialize;
use starmark_core::report::Int;
use starmark_core::verdict::{verify_target, Context, Verification};
use starmark_core::{from_hex, Error, PublicKey, Report, RevocationList, TrustList};
use wasm_bindgen::prelude::*;

/// What the verifier knows of the lists it was given; every field is from a list whose signature
/// verified (the trust list under the pinned root key, the revocation list under the trust list).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ListsInfo {
    /// Sequence of the verified trust list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_sequence: Option<Int>,
    /// Why the trust list was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_error: Option<String>,
    /// Sequence of the verified revocation list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_sequence: Option<Int>,
    /// When it was signed (Unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_issued_at: Option<Int>,
    /// When a newer list is due (Unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_next_update: Option<Int>,
    /// Why the revocation list was refused (absent when none was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_error: Option<String>,
}

/// The outcome of one verification: `report`, the verdict report ([`Report`], the object of
/// `starmark verify --json`), or `error` when no verdict could be computed (no usable trust
/// list); and `lists`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome<'a> {
    /// The verdict report, when there is a verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report<'a>>,
    /// No verdict: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the lists were.
    pub lists: ListsInfo,
}

/// The message of an error of decoding or checking a list. Lists fail only with decoding, key,
/// signature and list errors; the other kinds (the log's, the manifest's) are named by kind, so
/// that their messages, which the page never needs, stay out of the WebAssembly.
fn message(e: &Error) -> String {
    match e {
        Error::Decode(e) => format!("{e}"),
        Error::Digits(e) => format!("{e}"),
        Error::Key(e) => format!("{e}"),
        Error::Signature(e) => format!("{e}"),
        Error::List(e) => format!("{e}"),
        Error::Log(_) => String::from("log error"),
        Error::Manifest(_) => String::from("manifest error"),
        _ => String::from("error"),
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
    let trust = match root_key(root_hex)
        .and_then(|root| TrustList::decode_verified(trust_list, &root).map_err(|e| message(&e)))
    {
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
                    info.revocation_error = Some(message(&e));
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
/// revocation list sequence accepted before, `supersessions` the `(old, new)` serial pairs of
/// `api/v1/superseded.json`. Without a revocation list the verdict is computed and marked stale,
/// as by `starmark verify`; a list that does not verify is not used either (the verdict is then
/// stale, and `lists.revocation_error` says why). Returns the outcome as JSON. Never panics.
pub fn verify_label(
    target: &str,
    root_hex: &str,
    trust_list: &[u8],
    revocation_list: Option<&[u8]>,
    now: u64,
    highest_seen_sequence: Option<u64>,
    supersessions: &[u64],
) -> String {
    let (trust, revocations, lists) = lists(root_hex, trust_list, revocation_list);
    let Some(trust) = trust else {
        let error = lists.trust_error.clone();
        return to_json(&Outcome {
            report: None,
            error,
            lists,
        });
    };
    let ctx = Context {
        trust: &trust,
        revocations: revocations.as_ref(),
        now,
        highest_seen_sequence,
    };
    let v: Verification = verify_target(target, &ctx);
    let pairs = supersessions.chunks_exact(2).map(|p| (p[0], p[1]));
    let newer = v
        .claim
        .as_ref()
        .and_then(|c| starmark_core::report::superseded_by(pairs, c.serial));
    to_json(&Outcome {
        report: Some(Report::new(&v, newer)),
        error: None,
        lists,
    })
}

/// Checks the lists without a label (the Rust side of [`inspect`]).
pub fn inspect_lists(
    root_hex: &str,
    trust_list: &[u8],
    revocation_list: Option<&[u8]>,
) -> ListsInfo {
    lists(root_hex, trust_list, revocation_list).2
}

/// JSON text of a value whose serialisation cannot fail (no maps with non-string keys).
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Verifies a label. Arguments: the digits (or a verify URL), the pinned root public key (64 hex
/// digits), the trust list and revocation list bytes (`api/v1/*.bin`; the revocation list may be
/// `undefined`), the time in Unix seconds, the highest revocation list sequence seen before (or
/// `undefined`), and the supersessions (`old, new` serial pairs as 16 bytes each, two
/// little-endian u64, or `undefined`; a short tail is ignored). Returns JSON text:
/// `{"report": <the verdict report>, "lists": ...}`, or `{"error": ..., "lists": ...}` when no
/// verdict could be computed.
#[wasm_bindgen]
pub fn verify(
    target: &str,
    root_key: &str,
    trust_list: &[u8],
    revocation_list: Option<Vec<u8>>,
    now: f64,
    highest_seen_sequence: Option<f64>,
    supersessions: Option<Vec<u8>>,
) -> String {
    let pairs: Vec<u64> = supersessions
        .unwrap_or_default()
        .chunks_exact(8)
        .map(|b| b.try_into().map(u64::from_le_bytes).unwrap_or_default())
        .collect();
    verify_label(
        target,
        root_key,
        trust_list,
        revocation_list.as_deref(),
        js_u64(now),
        highest_seen_sequence.map(js_u64),
        &pairs,
    )
}

/// Checks the lists' signatures and returns their sequences and dates (`ListsInfo`) as JSON
/// text, so the page can keep the newest verified lists and refuse older ones.
#[wasm_bindgen]
pub fn inspect(root_key: &str, trust_list: &[u8], revocation_list: Option<Vec<u8>>) -> String {
    to_json(&inspect_lists(
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
/** The verdict report: the object of `starmark verify --json` (docs/FORMAT.md). */
export interface Report {
  verdict: "valid" | "expired" | "not_yet_valid" | "revoked" | "counterfeit" | "unknown_issuer"
    | "issuer_compromised" | "malformed";
  stale: boolean; rollback: boolean;
  serial: Int | null; manufacturer: string | null; model: string | null; tier: 1 | 2 | 3 | null;
  category: string | null; valid_from: string | null; valid_until: string | null;
  key_id: string | null; issuer: string | null; record_sha256: string | null;
  revocation: { serial: Int; date: string; reason: string } | null;
  revocation_sequence: Int | null; detail: string | null; superseded_by: Int | null;
}
/** JSON.parse of what verify() returns. */
export interface Outcome { report?: Report; error?: string; lists: ListsInfo }
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use starmark_core::claim::Claim;
    use starmark_core::revocation::{Reason, Revocation};
    use starmark_core::trust::IssuerKey;
    use starmark_core::{Day, SecretKey, Tier};

    /// [`verify_label`] without supersessions, its JSON parsed.
    fn verify_json(
        target: &str,
        root_hex: &str,
        trust: &[u8],
        revocations: Option<&[u8]>,
        now: u64,
        seen: Option<u64>,
    ) -> Value {
        flat(&verify_label(
            target,
            root_hex,
            trust,
            revocations,
            now,
            seen,
            &[],
        ))
    }

    /// The outcome's JSON with the report's fields lifted to the top, as the page reads it.
    fn flat(text: &str) -> Value {
        let mut v: Value = serde_json::from_str(text).unwrap();
        let o = v.as_object_mut().unwrap();
        if let Some(Value::Object(report)) = o.remove("report") {
            o.extend(report);
        }
        v
    }

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
        let o = verify_json(
            &f.digits,
            &f.root_hex,
            &f.trust,
            Some(&f.revocations),
            at("2027-01-01"),
            None,
        );
        assert_eq!(o["verdict"], "valid");
        assert_eq!(
            (&o["stale"], &o["rollback"]),
            (&json!(false), &json!(false))
        );
        assert_eq!(o["manufacturer"], "深圳示例科技有限公司");
        assert_eq!(o["tier"], 2);
        assert_eq!(o["valid_until"], "2028-06-30");
        assert_eq!(o["revocation_sequence"], 7);
        assert_eq!(o["superseded_by"], Value::Null);
        assert_eq!(o["lists"]["trust_sequence"], 3);
        assert_eq!(o.get("error"), None);
    }

    #[test]
    fn verdicts_are_the_cores() {
        let f = fixture();
        let v = |digits: &str, now, seen| {
            verify_json(
                digits,
                &f.root_hex,
                &f.trust,
                Some(&f.revocations),
                now,
                seen,
            )
        };
        assert_eq!(v(&f.digits, at("2028-07-01"), None)["verdict"], "expired");
        assert_eq!(
            v(&f.digits, at("2026-06-30"), None)["verdict"],
            "not_yet_valid"
        );
        let r = v(&f.revoked_digits, at("2027-01-01"), None);
        assert_eq!(r["verdict"], "revoked");
        assert_eq!(
            r["revocation"],
            json!({"serial": 2, "date": "2026-08-01", "reason": "security_flaw"})
        );
        assert_eq!(v(&f.digits, at("2027-08-02"), None)["stale"], true);
        let rolled = v(&f.digits, at("2027-01-01"), Some(8));
        assert_eq!(
            (&rolled["rollback"], &rolled["stale"]),
            (&json!(true), &json!(true))
        );
        assert_eq!(v("12a", 0, None)["verdict"], "malformed");
        // One digit changed in the signature.
        let mut bad = f.digits.clone().into_bytes();
        let i = bad.len() - 20;
        bad[i] = if bad[i] == b'0' { b'1' } else { bad[i] - 1 };
        let bad = String::from_utf8(bad).unwrap();
        assert_eq!(v(&bad, at("2027-01-01"), None)["verdict"], "counterfeit");
    }

    #[test]
    fn bad_lists() {
        let f = fixture();
        let other_root =
            starmark_core::to_hex(&SecretKey::from_seed(&[5; 32]).public_key().to_bytes());
        let o = verify_json(
            &f.digits,
            &other_root,
            &f.trust,
            Some(&f.revocations),
            at("2027-01-01"),
            None,
        );
        assert_eq!(o.get("verdict"), None);
        assert!(o["error"].as_str().unwrap().contains("root signature"));
        let o = verify_json(&f.digits, "zz", &f.trust, None, 0, None);
        assert!(o["error"].as_str().unwrap().contains("root key"));
        // A damaged revocation list counts as missing: stale, never plainly valid.
        let mut rev = f.revocations.clone();
        rev[10] ^= 1;
        let o = verify_json(
            &f.digits,
            &f.root_hex,
            &f.trust,
            Some(&rev),
            at("2027-01-01"),
            None,
        );
        assert_eq!(o["verdict"], "valid");
        assert_eq!(o["stale"], true);
        assert!(o["lists"]["revocation_error"].is_string());
        let o = verify_json(
            &f.digits,
            &f.root_hex,
            &f.trust,
            None,
            at("2027-01-01"),
            None,
        );
        assert_eq!(o["stale"], true);
        assert_eq!(o["lists"].get("revocation_error"), None);
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
            verify_json(target, &f.root_hex, &f.trust, revocations, now, None)
        };
        let o = v(&f.revoked_digits, None, at("2027-01-01"));
        assert_eq!(
            (&o["verdict"], &o["stale"], &o["revocation"]),
            (&json!("valid"), &json!(true), &Value::Null)
        );
        assert_eq!(o["revocation_sequence"], Value::Null);
        assert_eq!(o["lists"].get("revocation_error"), None);

        let last = Day::MAX.start_unix() + DAY - 1;
        let rev = Some(f.revocations.as_slice());
        assert_eq!(v(&f.last_day_digits, rev, last)["verdict"], "valid");
        assert_eq!(v(&f.last_day_digits, rev, last + 1)["verdict"], "expired");
        let far = js_u64(1e300);
        assert_eq!(far, u64::MAX);
        assert_eq!(v(&f.last_day_digits, rev, far)["verdict"], "expired");

        let now = at("2027-01-01");
        let padded = format!("\u{3000} {}\r\n", f.digits);
        assert_eq!(v(&padded, rev, now)["verdict"], "valid");
        for c in ['\u{a0}', '\u{1c}', '\u{feff}'] {
            let o = v(&format!("{c}{}", f.digits), rev, now);
            assert_eq!(o["verdict"], "malformed", "{c:?}");
            assert!(
                o["detail"].as_str().unwrap().contains("not a digit"),
                "{c:?}"
            );
        }
    }

    /// The newest certification that supersedes the label's is reported, from the pairs the
    /// page passes; never for a label whose claim did not verify.
    #[test]
    fn superseded_by_comes_from_the_pairs() {
        let f = fixture();
        let now = at("2027-01-01");
        let with = |digits: &str, pairs: &[u64]| -> Value {
            flat(&verify_label(
                digits,
                &f.root_hex,
                &f.trust,
                Some(&f.revocations),
                now,
                None,
                pairs,
            ))
        };
        let o = with(&f.digits, &[1, 4, 3, 9, 1, 6]);
        assert_eq!(
            (&o["verdict"], &o["superseded_by"]),
            (&json!("valid"), &json!(6))
        );
        assert_eq!(with(&f.digits, &[2, 4])["superseded_by"], Value::Null);
        assert_eq!(with("12a", &[1, 4])["superseded_by"], Value::Null);
    }

    /// The fields of `starmark verify --json`, in its order, then `lists`.
    #[test]
    fn the_outcome_is_the_report_plus_lists() {
        let f = fixture();
        let text = verify_label(
            &f.digits,
            &f.root_hex,
            &f.trust,
            Some(&f.revocations),
            at("2027-01-01"),
            None,
            &[],
        );
        let keys = [
            "verdict",
            "stale",
            "rollback",
            "serial",
            "manufacturer",
            "model",
            "tier",
            "category",
            "valid_from",
            "valid_until",
            "key_id",
            "issuer",
            "record_sha256",
            "revocation",
            "revocation_sequence",
            "detail",
            "superseded_by",
            "lists",
        ];
        let at: Vec<usize> = keys
            .iter()
            .map(|k| text.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert!(
            text.starts_with("{\"report\":{\"verdict\":\"valid\""),
            "{text}"
        );
    }
}
