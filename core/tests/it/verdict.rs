//! Every verdict, from a signed claim through its QR digits and verify URL to the outcome, plus
//! the checks around it: record digests, stale and rolled-back revocation data, list signers,
//! tampered trust lists and weak keys.

use starmark_core::claim::record_digest;
use starmark_core::error::{DecodeError, DigitsError, Error, KeyError, ListError};
use starmark_core::keys::{CLAIM_CONTEXT, REVOCATION_LIST_CONTEXT, TRUST_LIST_CONTEXT};
use starmark_core::qr::{self, MAX_DIGITS};
use starmark_core::record::Record;
use starmark_core::{
    verify_payload, verify_target, Claim, Context, Day, IssuerKey, KeyId, PublicKey, Reason,
    Revocation, RevocationList, SecretKey, SignedClaim, Tier, TrustList, Verdict, Verification,
};

const BASE_URL: &str = "https://label.example.cn";
const ISSUER_NAME: &str = "国家网络安全认证中心 (demo issuer)";
const COMPROMISED_NAME: &str = "Compromised issuer";
const RETIRED_NAME: &str = "Retired issuer";
const MANUFACTURER: &str = "深圳星联智能科技有限公司";
const MODEL: &str = "XL-AX3000-CN";
/// A certification that the fixture's revocation list does not name.
const SERIAL: u64 = 20_260_001;
/// A certification the fixture's revocation list revokes.
const REVOKED_SERIAL: u64 = 20_260_002;
/// The fixture's revocation list sequence.
const SEQUENCE: u64 = 5;
const DAY_SECONDS: u64 = 86_400;

fn day(s: &str) -> Day {
    Day::parse(s).unwrap()
}

fn unix(s: &str) -> u64 {
    day(s).start_unix()
}

/// 2026-09-03T12:00:00Z: inside the claims' validity and the revocation list's update period.
fn now() -> u64 {
    unix("2026-09-03") + DAY_SECONDS / 2
}

/// Keys from fixed seeds, a verified trust list and a verified revocation list.
struct Fixture {
    root: SecretKey,
    issuer: SecretKey,
    compromised: SecretKey,
    retired: SecretKey,
    stranger: SecretKey,
    trust: TrustList,
    trust_bytes: Vec<u8>,
    revocations: RevocationList,
}

impl Fixture {
    fn new() -> Fixture {
        let root = SecretKey::from_seed(&[0x01; 32]);
        let issuer = SecretKey::from_seed(&[0x11; 32]);
        let compromised = SecretKey::from_seed(&[0x22; 32]);
        let retired = SecretKey::from_seed(&[0x33; 32]);
        let stranger = SecretKey::from_seed(&[0x44; 32]);
        let mut bad = IssuerKey::new(
            compromised.public_key(),
            COMPROMISED_NAME.into(),
            day("2026-01-01"),
            day("2030-12-31"),
        );
        bad.compromised_since = Some(day("2027-01-01"));
        let trust_bytes = TrustList {
            log_keys: Vec::new(),
            sequence: 3,
            issued_at: unix("2026-06-01"),
            issuers: vec![
                IssuerKey::new(
                    issuer.public_key(),
                    ISSUER_NAME.into(),
                    day("2026-01-01"),
                    day("2030-12-31"),
                ),
                bad,
                IssuerKey::new(
                    retired.public_key(),
                    RETIRED_NAME.into(),
                    day("2020-01-01"),
                    day("2025-12-31"),
                ),
            ],
        }
        .sign(&root)
        .unwrap();
        let trust = TrustList::decode_verified(&trust_bytes, &root.public_key()).unwrap();
        assert_eq!(trust.issuers.len(), 3);
        let mut f = Fixture {
            root,
            issuer,
            compromised,
            retired,
            stranger,
            trust,
            trust_bytes,
            revocations: RevocationList {
                key_id: KeyId([0; 4]),
                sequence: 0,
                issued_at: 0,
                next_update: 0,
                entries: vec![],
            },
        };
        f.revocations = f.revocation_list(SEQUENCE, unix("2026-09-01"));
        f
    }

    /// The issuer's revocation list issued at `issued_at` (next update a week later), signed,
    /// encoded and decoded again through the trust list.
    fn revocation_list(&self, sequence: u64, issued_at: u64) -> RevocationList {
        let bytes = RevocationList {
            key_id: self.issuer.public_key().key_id(),
            sequence,
            issued_at,
            next_update: issued_at + 7 * DAY_SECONDS,
            entries: vec![
                Revocation {
                    serial: REVOKED_SERIAL,
                    date: day("2026-08-15"),
                    reason: Reason::SecurityFlaw,
                },
                Revocation {
                    serial: 20_260_007,
                    date: day("2026-08-20"),
                    reason: Reason::FalseClaim,
                },
            ],
        }
        .sign(&self.issuer)
        .unwrap();
        RevocationList::decode_verified(&bytes, &self.trust).unwrap()
    }

    /// The usual context: the fixture's lists at `now`, no sequence seen before.
    fn ctx(&self, now: u64) -> Context<'_> {
        Context {
            trust: &self.trust,
            revocations: Some(&self.revocations),
            now,
            highest_seen_sequence: None,
        }
    }
}

/// A typical claim signed by `key`.
fn claim(key: &SecretKey, serial: u64) -> Claim {
    Claim {
        key_id: key.public_key().key_id(),
        serial,
        tier: Tier::Two,
        category: "router".into(),
        valid_from: day("2026-07-01"),
        valid_until: day("2029-06-30"),
        manufacturer: MANUFACTURER.into(),
        model: MODEL.into(),
        record_sha256: record_digest(b"demo record"),
    }
}

/// Verifies a payload the three ways a verifier receives it (verify URL, bare digits, bytes),
/// checks they agree, and returns the outcome.
fn scan(payload: &[u8], ctx: &Context<'_>) -> Verification {
    let url = qr::verify_url(BASE_URL, payload);
    let digits = qr::encode_digits(payload);
    assert_eq!(url, format!("{BASE_URL}/verify/#{digits}"));
    let by_url = verify_target(&url, ctx);
    assert_eq!(verify_target(&format!("  {digits}\n"), ctx), by_url);
    assert_eq!(verify_target(&format!("#{digits}"), ctx), by_url);
    assert_eq!(verify_payload(payload, ctx), by_url);
    by_url
}

/// The outcome for a genuine claim of the issuer checked against the fixture's revocation list.
fn genuine(claim: &Claim, verdict: Verdict) -> Verification {
    Verification {
        verdict,
        stale: false,
        rollback: false,
        claim: Some(claim.clone()),
        issuer: Some(ISSUER_NAME.into()),
        revocation: None,
        revocation_sequence: Some(SEQUENCE),
        detail: None,
    }
}

/// An outcome that shows nothing of the claim.
fn bare(verdict: Verdict, detail: Option<String>) -> Verification {
    Verification {
        verdict,
        stale: false,
        rollback: false,
        claim: None,
        issuer: None,
        revocation: None,
        revocation_sequence: None,
        detail,
    }
}

fn counterfeit() -> Verification {
    bare(Verdict::Counterfeit, None)
}

fn malformed(detail: impl ToString) -> Verification {
    bare(Verdict::Malformed, Some(detail.to_string()))
}

fn signed(key: &SecretKey, serial: u64) -> (Claim, SignedClaim) {
    let c = claim(key, serial);
    let s = c.sign(key).unwrap();
    (c, s)
}

/// A claim whose manufacturer bytes are replaced by `name` (of the same length), signed by the
/// issuer's own key: what a tool that skips the record checks could sign.
fn signed_with_manufacturer(f: &Fixture, name: &str) -> Vec<u8> {
    let mut c = claim(&f.issuer, 20_260_001);
    c.manufacturer = "X".repeat(name.len());
    let mut bytes = c.encode().unwrap();
    let at = bytes
        .windows(name.len())
        .position(|w| w == c.manufacturer.as_bytes())
        .unwrap();
    bytes[at..at + name.len()].copy_from_slice(name.as_bytes());
    let sig = f.issuer.sign_in_context(CLAIM_CONTEXT, &bytes);
    [bytes, sig.to_vec()].concat()
}

#[test]
fn a_signed_claim_with_an_invisible_or_reordering_name_is_malformed() {
    let f = Fixture::new();
    let ctx = f.ctx(now());
    for (name, detail) in [
        (
            "\u{202E}司公限有技科联星",
            "field manufacturer: U+202E RIGHT-TO-LEFT OVERRIDE is not allowed (bidi control)",
        ),
        (
            "星联科技\u{3164}",
            "field manufacturer: U+3164 HANGUL FILLER is not allowed (invisible: default-ignorable code point)",
        ),
        ("星联 科技 ", "field manufacturer: ends with a space"),
    ] {
        let payload = signed_with_manufacturer(&f, name);
        assert_eq!(scan(&payload, &ctx), malformed(detail), "{name:?}");
    }
    // Mixed scripts are the issuer's check (rules 3-5), not the verifier's: valid.
    let payload = signed_with_manufacturer(&f, "\u{0422}p-Link");
    assert_eq!(scan(&payload, &ctx).verdict, Verdict::Valid);
}

// ---------------------------------------------------------------------------------------------
// valid, expired, not yet valid

#[test]
fn valid_label() {
    let f = Fixture::new();
    let (c, s) = signed(&f.issuer, SERIAL);
    let payload = s.as_bytes();
    assert_eq!(
        payload.len(),
        167,
        "typical claim: 103 bytes + 64 signature"
    );
    let out = scan(payload, &f.ctx(now()));
    assert_eq!(out, genuine(&c, Verdict::Valid));
    assert!(out.is_valid_and_fresh());
    assert_eq!(out.verdict.name(), "valid");
    // The URL carries the digits in its fragment only.
    let url = qr::verify_url(&format!("{BASE_URL}/"), payload);
    let (path, fragment) = url.split_once('#').unwrap();
    assert_eq!(path, "https://label.example.cn/verify/");
    assert_eq!(fragment.len(), 406);
    assert!(fragment.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(qr::decode_digits(fragment).unwrap(), payload);
}

#[test]
fn validity_window_is_inclusive_by_utc_day() {
    let f = Fixture::new();
    let (c, s) = signed(&f.issuer, SERIAL);
    let first = unix("2026-07-01");
    let last = unix("2029-06-30") + DAY_SECONDS - 1;
    // Lists issued at each moment, so that only the validity window decides.
    let check = |at: u64, verdict: Verdict| {
        let list = f.revocation_list(SEQUENCE, at);
        let ctx = Context {
            revocations: Some(&list),
            ..f.ctx(at)
        };
        assert_eq!(scan(s.as_bytes(), &ctx), genuine(&c, verdict), "at {at}");
    };
    check(first - 1, Verdict::NotYetValid);
    check(first, Verdict::Valid);
    check(last, Verdict::Valid);
    check(last + 1, Verdict::Expired);
}

/// Day 65535 (2149-06-06), the last a `day` can hold, is valid through its last second; any later
/// time, up to `u64::MAX`, is after every validity period (never saturated back onto day 65535).
#[test]
fn time_after_the_last_day_is_after_every_validity_period() {
    let f = Fixture::new();
    let c = Claim {
        valid_until: Day::MAX,
        ..claim(&f.issuer, SERIAL)
    };
    let s = c.sign(&f.issuer).unwrap();
    let last = Day::MAX.start_unix() + DAY_SECONDS - 1;
    assert_eq!(last, 5_662_310_399);
    // A list issued at the last second stays fresh for a week after it.
    let list = f.revocation_list(SEQUENCE, last);
    let check = |at: u64, verdict: Verdict, stale: bool| {
        let ctx = Context {
            revocations: Some(&list),
            ..f.ctx(at)
        };
        let expected = Verification {
            stale,
            ..genuine(&c, verdict)
        };
        assert_eq!(scan(s.as_bytes(), &ctx), expected, "at {at}");
    };
    check(Day::MAX.start_unix(), Verdict::Valid, false);
    check(last, Verdict::Valid, false);
    check(last + 1, Verdict::Expired, false);
    check(last + 1 + 6 * DAY_SECONDS, Verdict::Expired, false);
    check(u64::MAX / 2, Verdict::Expired, true);
    check(u64::MAX, Verdict::Expired, true);
}

#[test]
fn expired_label() {
    let f = Fixture::new();
    let (c, s) = signed(&f.issuer, SERIAL);
    let at = unix("2029-07-01") + 3600;
    let list = f.revocation_list(SEQUENCE, unix("2029-07-01"));
    let ctx = Context {
        revocations: Some(&list),
        ..f.ctx(at)
    };
    let out = scan(s.as_bytes(), &ctx);
    assert_eq!(out, genuine(&c, Verdict::Expired));
    assert!(!out.is_valid_and_fresh());
    assert_eq!(out.verdict.name(), "expired");
}

#[test]
fn not_yet_valid_label() {
    let f = Fixture::new();
    let (c, s) = signed(&f.issuer, SERIAL);
    let at = unix("2026-06-30") + 3600;
    let list = f.revocation_list(SEQUENCE, unix("2026-06-30"));
    let ctx = Context {
        revocations: Some(&list),
        ..f.ctx(at)
    };
    let out = scan(s.as_bytes(), &ctx);
    assert_eq!(out, genuine(&c, Verdict::NotYetValid));
    assert!(!out.is_valid_and_fresh());
    assert_eq!(out.verdict.name(), "not_yet_valid");
}

// ---------------------------------------------------------------------------------------------
// revoked

#[test]
fn revoked_label_reports_date_and_reason() {
    let f = Fixture::new();
    let (c, s) = signed(&f.issuer, REVOKED_SERIAL);
    let out = scan(s.as_bytes(), &f.ctx(now()));
    let expected = Verification {
        revocation: Some(Revocation {
            serial: REVOKED_SERIAL,
            date: day("2026-08-15"),
            reason: Reason::SecurityFlaw,
        }),
        ..genuine(&c, Verdict::Revoked)
    };
    assert_eq!(out, expected);
    assert!(!out.is_valid_and_fresh());
    assert_eq!(out.verdict.name(), "revoked");
}

#[test]
fn revocation_outranks_expiry() {
    let f = Fixture::new();
    let (c, s) = signed(&f.issuer, 20_260_007);
    let list = f.revocation_list(SEQUENCE, unix("2029-08-01"));
    let ctx = Context {
        revocations: Some(&list),
        ..f.ctx(unix("2029-08-02"))
    };
    let expected = Verification {
        revocation: Some(Revocation {
            serial: 20_260_007,
            date: day("2026-08-20"),
            reason: Reason::FalseClaim,
        }),
        ..genuine(&c, Verdict::Revoked)
    };
    assert_eq!(scan(s.as_bytes(), &ctx), expected);
}

// ---------------------------------------------------------------------------------------------
// counterfeit

#[test]
fn claim_byte_changed_after_signing_is_counterfeit() {
    let f = Fixture::new();
    let (_, s) = signed(&f.issuer, SERIAL);
    let mut bytes = s.as_bytes().to_vec();
    let at = bytes
        .windows(MODEL.len())
        .position(|w| w == MODEL.as_bytes())
        .unwrap();
    bytes[at] = b'Y';
    // Still a well-formed claim, now showing another model.
    let forged = SignedClaim::decode(&bytes).unwrap();
    assert_eq!(forged.claim().model, "YL-AX3000-CN");
    assert_eq!(scan(&bytes, &f.ctx(now())), counterfeit());
}

#[test]
fn re_encoded_claim_with_the_old_signature_is_counterfeit() {
    let f = Fixture::new();
    let (c, s) = signed(&f.issuer, SERIAL);
    let edits: [fn(&mut Claim); 6] = [
        |c| c.tier = Tier::Three,
        |c| c.valid_until = day("2035-06-30"),
        |c| c.serial = 20_260_003,
        |c| c.manufacturer = "深圳星联智能科技有限公回".into(),
        |c| c.category = "smart-camera".into(),
        |c| c.record_sha256 = record_digest(b"another record"),
    ];
    for edit in edits {
        let mut changed = c.clone();
        edit(&mut changed);
        assert_ne!(changed, c);
        let mut payload = changed.encode().unwrap();
        payload.extend_from_slice(&s.signature());
        assert_eq!(
            SignedClaim::decode(&payload).unwrap().claim(),
            &changed,
            "decodes as the changed claim"
        );
        assert_eq!(scan(&payload, &f.ctx(now())), counterfeit(), "{changed:?}");
    }
}

#[test]
fn any_signature_bit_flip_is_counterfeit() {
    let f = Fixture::new();
    let (_, s) = signed(&f.issuer, SERIAL);
    let claim_len = s.claim_bytes().len();
    let ctx = f.ctx(now());
    for i in 0..64 {
        for bit in [0x01u8, 0x80] {
            let mut bytes = s.as_bytes().to_vec();
            bytes[claim_len + i] ^= bit;
            assert_eq!(
                verify_payload(&bytes, &ctx),
                counterfeit(),
                "byte {i} bit {bit:#x}"
            );
        }
    }
}

#[test]
fn one_digit_changed_in_the_signature_is_counterfeit() {
    let f = Fixture::new();
    let (_, s) = signed(&f.issuer, SERIAL);
    let payload = s.as_bytes();
    let digits = qr::encode_digits(payload);
    // The last full group of seven bytes lies inside the 64-byte signature.
    let group = payload.len() / 7 - 1;
    assert!(group * 7 >= payload.len() - 64);
    let pos = group * 17 + 16;
    let mut changed = digits.into_bytes();
    changed[pos] ^= 1; // '0' <-> '1', '2' <-> '3', ...: the group changes by one
    let changed = String::from_utf8(changed).unwrap();
    let bytes = qr::decode_digits(&changed).unwrap();
    let differing: Vec<usize> = (0..payload.len())
        .filter(|&i| bytes[i] != payload[i])
        .collect();
    assert!(!differing.is_empty());
    assert!(differing
        .iter()
        .all(|&i| i >= s.claim_bytes().len() && i / 7 == group));
    let url = format!("{BASE_URL}/verify/#{changed}");
    assert_eq!(verify_target(&url, &f.ctx(now())), counterfeit());
}

#[test]
fn signature_of_another_trusted_key_or_claim_is_counterfeit() {
    let f = Fixture::new();
    // Names the issuer's key id, signed by another key of the trust list.
    let c = claim(&f.issuer, SERIAL);
    let s = c.sign(&f.compromised).unwrap();
    assert_eq!(scan(s.as_bytes(), &f.ctx(now())), counterfeit());
    // A genuine signature, moved onto another claim.
    let (_, genuine_signed) = signed(&f.issuer, SERIAL);
    let mut payload = claim(&f.issuer, 20_260_004).encode().unwrap();
    payload.extend_from_slice(&genuine_signed.signature());
    assert_eq!(scan(&payload, &f.ctx(now())), counterfeit());
}

// ---------------------------------------------------------------------------------------------
// unknown issuer, compromised issuer

#[test]
fn key_not_in_trust_list_is_unknown_issuer() {
    let f = Fixture::new();
    let (_, s) = signed(&f.stranger, SERIAL);
    let id = f.stranger.public_key().key_id();
    assert_eq!(
        scan(s.as_bytes(), &f.ctx(now())),
        bare(
            Verdict::UnknownIssuer,
            Some(format!("key {id} is not in the trust list"))
        )
    );
}

#[test]
fn a_log_key_signs_no_claim_and_no_revocation_list() {
    let f = Fixture::new();
    // The stranger's key in the trust list, as a log key: still no issuer.
    let mut trust = f.trust.clone();
    trust.log_keys = vec![IssuerKey::new(
        f.stranger.public_key(),
        "Registry log".into(),
        day("2026-01-01"),
        day("2030-12-31"),
    )];
    let bytes = trust.sign(&f.root).unwrap();
    let trust = TrustList::decode_verified(&bytes, &f.root.public_key()).unwrap();
    assert_eq!(trust.log_keys.len(), 1);
    let ctx = Context {
        trust: &trust,
        ..f.ctx(now())
    };
    let (_, s) = signed(&f.stranger, SERIAL);
    let id = f.stranger.public_key().key_id();
    assert_eq!(
        scan(s.as_bytes(), &ctx),
        bare(
            Verdict::UnknownIssuer,
            Some(format!("key {id} is not in the trust list"))
        )
    );
    let list = RevocationList {
        key_id: id,
        sequence: 9,
        issued_at: unix("2026-09-01"),
        next_update: unix("2026-09-08"),
        entries: vec![],
    };
    assert_eq!(
        RevocationList::decode_verified(&list.sign(&f.stranger).unwrap(), &trust),
        Err(Error::List(ListError::UnknownSigner {
            key_id: id.to_string()
        }))
    );
}

#[test]
fn claim_outside_the_key_window_is_unknown_issuer() {
    let f = Fixture::new();
    // The retired key was authorised 2020-01-01..2025-12-31; the claim starts 2026-07-01.
    let (_, s) = signed(&f.retired, SERIAL);
    let id = f.retired.public_key().key_id();
    let expected = Verification {
        issuer: Some(RETIRED_NAME.into()),
        ..bare(
            Verdict::UnknownIssuer,
            Some(format!(
                "key {id} was authorised only from 2020-01-01 to 2025-12-31"
            )),
        )
    };
    assert_eq!(scan(s.as_bytes(), &f.ctx(now())), expected);

    // The issuer's key starts 2026-01-01: a claim starting the day before is refused, one
    // starting that day or on its last day is accepted.
    let id = f.issuer.public_key().key_id();
    let refused = |c: Claim| {
        let s = c.sign(&f.issuer).unwrap();
        assert_eq!(
            scan(s.as_bytes(), &f.ctx(now())),
            Verification {
                issuer: Some(ISSUER_NAME.into()),
                ..bare(
                    Verdict::UnknownIssuer,
                    Some(format!(
                        "key {id} was authorised only from 2026-01-01 to 2030-12-31"
                    )),
                )
            }
        );
    };
    refused(Claim {
        valid_from: day("2025-12-31"),
        ..claim(&f.issuer, SERIAL)
    });
    refused(Claim {
        valid_from: day("2031-01-01"),
        valid_until: day("2033-12-31"),
        ..claim(&f.issuer, SERIAL)
    });
    let first = Claim {
        valid_from: day("2026-01-01"),
        ..claim(&f.issuer, SERIAL)
    };
    let s = first.sign(&f.issuer).unwrap();
    assert_eq!(
        scan(s.as_bytes(), &f.ctx(now())),
        genuine(&first, Verdict::Valid)
    );
    let last = Claim {
        valid_from: day("2030-12-31"),
        valid_until: day("2033-12-30"),
        ..claim(&f.issuer, SERIAL)
    };
    let s = last.sign(&f.issuer).unwrap();
    assert_eq!(
        scan(s.as_bytes(), &f.ctx(now())),
        genuine(&last, Verdict::NotYetValid)
    );
}

#[test]
fn compromised_key_is_issuer_compromised_whatever_the_dates() {
    let f = Fixture::new();
    let id = f.compromised.public_key().key_id();
    // Signed before and after the compromise date, and a serial the list revokes: the key could
    // have signed anything, so the verdict is the same.
    for (valid_from, serial) in [
        ("2026-07-01", SERIAL),
        ("2027-03-01", SERIAL),
        ("2026-07-01", REVOKED_SERIAL),
    ] {
        let c = Claim {
            valid_from: day(valid_from),
            ..claim(&f.compromised, serial)
        };
        let s = c.sign(&f.compromised).unwrap();
        let out = scan(s.as_bytes(), &f.ctx(now()));
        assert_eq!(
            out,
            Verification {
                verdict: Verdict::IssuerCompromised,
                stale: false,
                rollback: false,
                // A compromised key could have signed anything: its fields are not shown as true.
                claim: None,
                issuer: Some(COMPROMISED_NAME.into()),
                revocation: None,
                revocation_sequence: None,
                detail: Some(format!("key {id} compromised since 2027-01-01")),
            }
        );
        assert_eq!(out.verdict.name(), "issuer_compromised");
    }
}

// ---------------------------------------------------------------------------------------------
// malformed

/// Offsets in the typical claim's encoding.
struct Layout {
    category_len: usize,
    manufacturer_len: usize,
    model_len: usize,
}

fn layout(c: &Claim) -> Layout {
    let varint = 4; // 20_260_001 needs four LEB128 bytes
    assert!(c.serial >= 1 << 21 && c.serial < 1 << 28);
    let category_len = 1 + 4 + varint + 1;
    let manufacturer_len = category_len + 1 + c.category.len() + 4;
    let model_len = manufacturer_len + 1 + c.manufacturer.len();
    Layout {
        category_len,
        manufacturer_len,
        model_len,
    }
}

#[test]
fn malformed_payloads() {
    let f = Fixture::new();
    let (c, s) = signed(&f.issuer, SERIAL);
    let good = s.as_bytes().to_vec();
    let l = layout(&c);
    assert_eq!(good[l.category_len], 6);
    assert_eq!(good[l.manufacturer_len], 36);
    assert_eq!(good[l.model_len], 12);
    let ctx = f.ctx(now());
    let edit = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good.clone();
        f(&mut b);
        b
    };
    let cases: Vec<(&str, Vec<u8>, DecodeError)> = vec![
        (
            "truncated signature",
            good[..good.len() - 1].to_vec(),
            DecodeError::Truncated { field: "signature" },
        ),
        (
            "truncated claim",
            good[..40].to_vec(),
            DecodeError::Truncated {
                field: "manufacturer",
            },
        ),
        (
            "one byte",
            vec![1],
            DecodeError::Truncated { field: "key_id" },
        ),
        (
            "trailing byte",
            edit(&|b| b.push(0)),
            DecodeError::TrailingBytes { count: 1 },
        ),
        (
            "trailing bytes",
            edit(&|b| b.extend_from_slice(&[7; 10])),
            DecodeError::TrailingBytes { count: 10 },
        ),
        (
            "bad version",
            edit(&|b| b[0] = 2),
            DecodeError::UnsupportedVersion {
                found: 2,
                expected: 1,
            },
        ),
        (
            "version zero",
            edit(&|b| b[0] = 0),
            DecodeError::UnsupportedVersion {
                found: 0,
                expected: 1,
            },
        ),
        (
            "huge category length",
            edit(&|b| b[l.category_len] = 0xff),
            DecodeError::LengthTooLarge {
                field: "category",
                len: 255,
                max: 32,
            },
        ),
        (
            "huge manufacturer length",
            edit(&|b| b[l.manufacturer_len] = 0xff),
            DecodeError::LengthTooLarge {
                field: "manufacturer",
                len: 255,
                max: 120,
            },
        ),
        (
            "huge model length",
            edit(&|b| b[l.model_len] = 61),
            DecodeError::LengthTooLarge {
                field: "model",
                len: 61,
                max: 60,
            },
        ),
        (
            "bad utf-8 in the manufacturer",
            edit(&|b| b[l.manufacturer_len + 1] = 0xff),
            DecodeError::InvalidUtf8 {
                field: "manufacturer",
            },
        ),
        (
            "cut utf-8 in the model",
            edit(&|b| b[l.model_len + 12] = 0xe6),
            DecodeError::InvalidUtf8 { field: "model" },
        ),
        (
            "control character",
            edit(&|b| b[l.model_len + 1] = b'\n'),
            DecodeError::ControlCharacter { field: "model" },
        ),
        (
            "bad tier",
            edit(&|b| b[l.category_len - 1] = 4),
            DecodeError::InvalidTier { value: 4 },
        ),
        (
            "bad category",
            edit(&|b| b[l.category_len + 1] = b'R'),
            DecodeError::InvalidCategory {
                code: "Router".into(),
            },
        ),
        (
            "overlong serial",
            edit(&|b| b[5..15].copy_from_slice(&[0xff; 10])),
            DecodeError::VarintOverflow { field: "serial" },
        ),
        (
            "non-minimal serial",
            edit(&|b| {
                b[8] |= 0x80;
                b.insert(9, 0);
            }),
            DecodeError::NonCanonicalVarint { field: "serial" },
        ),
    ];
    for (name, payload, error) in cases {
        assert_eq!(scan(&payload, &ctx), malformed(&error), "{name}");
    }
}

#[test]
fn malformed_digits() {
    let f = Fixture::new();
    let (_, s) = signed(&f.issuer, SERIAL);
    let digits = qr::encode_digits(s.as_bytes());
    let ctx = f.ctx(now());
    let n = digits.len();
    assert_eq!(n, 406);
    let with = |pos: usize, ch: &str| {
        let mut d = digits.clone();
        d.replace_range(pos..pos + 1, ch);
        d
    };
    let cases: Vec<(&str, String, DigitsError)> = vec![
        ("empty", String::new(), DigitsError::Empty),
        (
            "empty fragment",
            format!("{BASE_URL}/verify/#"),
            DigitsError::Empty,
        ),
        (
            "no fragment",
            format!("{BASE_URL}/verify/"),
            DigitsError::NoFragment,
        ),
        (
            "a letter",
            with(5, "a"),
            DigitsError::NotADigit {
                position: 5,
                found: 'a',
            },
        ),
        (
            "a Chinese character",
            with(400, "九"),
            DigitsError::NotADigit {
                position: 400,
                found: '九',
            },
        ),
        (
            "inner space",
            with(17, " "),
            DigitsError::NotADigit {
                position: 17,
                found: ' ',
            },
        ),
        (
            "one digit missing",
            digits[..n - 1].to_string(),
            DigitsError::InvalidLength { len: n - 1 },
        ),
        (
            "one digit too many",
            format!("{digits}0"),
            DigitsError::InvalidLength { len: n + 1 },
        ),
        (
            "odd cut",
            digits[..201].to_string(),
            DigitsError::InvalidLength { len: 201 },
        ),
        (
            "group out of range",
            format!("99999999999999999{}", &digits[17..]),
            DigitsError::GroupOutOfRange { group: 0 },
        ),
        (
            "last group out of range",
            format!("{}999999999999999", &digits[..n - 15]),
            DigitsError::GroupOutOfRange { group: 23 },
        ),
        (
            "too long",
            "0".repeat(MAX_DIGITS + 17),
            DigitsError::TooLong {
                len: MAX_DIGITS + 17,
                max: MAX_DIGITS,
            },
        ),
    ];
    for (name, target, error) in cases {
        assert_eq!(verify_target(&target, &ctx), malformed(&error), "{name}");
    }
    // Digits that decode, but to something that is not a claim.
    assert_eq!(
        verify_target("000", &ctx),
        malformed(DecodeError::UnsupportedVersion {
            found: 0,
            expected: 1
        })
    );
    // The valid digits cut at a group boundary: a well-formed but truncated payload.
    assert_eq!(
        verify_target(&digits[..17 * 23], &ctx),
        malformed(DecodeError::Truncated { field: "signature" })
    );
}

// ---------------------------------------------------------------------------------------------
// the record behind the claim

const RECORD: &str = "+++
serial = 20260001
manufacturer = \"深圳星联智能科技有限公司\"
manufacturer_en = \"Shenzhen Xinglian Smart Technology Co., Ltd.\"
product = \"无线路由器\"
model = \"XL-AX3000-CN\"
category = \"router\"
firmware = [\"1.2.0\", \"1.2.1\"]
tier = 2
issued = 2026-06-20
valid_from = 2026-07-01
valid_until = 2029-06-30
lab = \"CCRC Lab 3\"
[[evidence]]
name = \"pentest-report.pdf\"
sha256 = \"0000000000000000000000000000000000000000000000000000000000000001\"
+++
## Results

No findings above low severity.
";

#[test]
fn record_changed_after_signing_gives_a_digest_mismatch() {
    let f = Fixture::new();
    let record = Record::parse(RECORD).unwrap();
    let c = record.claim(f.issuer.public_key().key_id(), RECORD.as_bytes());
    assert_eq!(
        c,
        Claim {
            record_sha256: record_digest(RECORD.as_bytes()),
            ..claim(&f.issuer, SERIAL)
        }
    );
    assert!(c.matches_record(RECORD.as_bytes()));
    let s = c.sign(&f.issuer).unwrap();
    assert_eq!(
        scan(s.as_bytes(), &f.ctx(now())),
        genuine(&c, Verdict::Valid)
    );

    // An edit in the body, one in the front matter (not a claim field), one byte of white space:
    // each still parses, but no longer matches the signed digest.
    for edited in [
        RECORD.replace("low severity", "medium severity"),
        RECORD.replace("\"1.2.0\", \"1.2.1\"", "\"1.2.0\", \"1.2.1\", \"1.3.0\""),
        RECORD.replace("## Results\n", "## Results \n"),
    ] {
        assert!(!c.matches_record(edited.as_bytes()));
        let r = Record::parse(&edited).unwrap();
        let c2 = r.claim(c.key_id, edited.as_bytes());
        assert_ne!(c2.record_sha256, c.record_sha256);
        assert_eq!(
            Claim {
                record_sha256: c.record_sha256,
                ..c2.clone()
            },
            c,
            "only the digest differs"
        );
        // Putting the new digest under the old signature makes a counterfeit.
        let mut payload = c2.encode().unwrap();
        payload.extend_from_slice(&s.signature());
        assert_eq!(scan(&payload, &f.ctx(now())), counterfeit());
    }
}

// ---------------------------------------------------------------------------------------------
// stale and rolled-back revocation data

#[test]
fn past_next_update_is_stale() {
    let f = Fixture::new();
    let next_update = f.revocations.next_update;
    assert_eq!(next_update, unix("2026-09-08"));
    let (c, s) = signed(&f.issuer, SERIAL);
    // At next_update the data is still fresh; one second later it is stale.
    let at = scan(s.as_bytes(), &f.ctx(next_update));
    assert_eq!(at, genuine(&c, Verdict::Valid));
    assert!(at.is_valid_and_fresh());
    let out = scan(s.as_bytes(), &f.ctx(next_update + 1));
    assert_eq!(
        out,
        Verification {
            stale: true,
            ..genuine(&c, Verdict::Valid)
        }
    );
    assert!(!out.is_valid_and_fresh());
    // Long past: the verdict is still computed (expired), and still stale.
    let out = scan(s.as_bytes(), &f.ctx(unix("2030-01-01")));
    assert_eq!(
        out,
        Verification {
            stale: true,
            ..genuine(&c, Verdict::Expired)
        }
    );
    // A stale list still revokes.
    let (rc, rs) = signed(&f.issuer, REVOKED_SERIAL);
    let out = scan(rs.as_bytes(), &f.ctx(next_update + 1));
    assert_eq!(
        out,
        Verification {
            stale: true,
            revocation: f.revocations.lookup(REVOKED_SERIAL).copied(),
            ..genuine(&rc, Verdict::Revoked)
        }
    );
    assert_eq!(out.revocation.unwrap().reason, Reason::SecurityFlaw);
}

#[test]
fn no_revocation_list_is_stale() {
    let f = Fixture::new();
    let ctx = Context {
        revocations: None,
        ..f.ctx(now())
    };
    for serial in [SERIAL, REVOKED_SERIAL] {
        let (c, s) = signed(&f.issuer, serial);
        let out = scan(s.as_bytes(), &ctx);
        assert_eq!(
            out,
            Verification {
                stale: true,
                revocation_sequence: None,
                ..genuine(&c, Verdict::Valid)
            },
            "serial {serial}: without a list nothing is known revoked"
        );
        assert!(!out.is_valid_and_fresh());
    }
}

#[test]
fn older_list_than_seen_is_a_rollback_and_ignored() {
    let f = Fixture::new();
    let (c, s) = signed(&f.issuer, REVOKED_SERIAL);
    let with_seen = |seen: Option<u64>| {
        let ctx = Context {
            highest_seen_sequence: seen,
            ..f.ctx(now())
        };
        scan(s.as_bytes(), &ctx)
    };
    let revoked = Verification {
        revocation: f.revocations.lookup(REVOKED_SERIAL).copied(),
        ..genuine(&c, Verdict::Revoked)
    };
    assert!(revoked.revocation.is_some());
    // Seen before: the same list or an older one.
    assert_eq!(with_seen(None), revoked);
    assert_eq!(with_seen(Some(SEQUENCE - 1)), revoked);
    assert_eq!(with_seen(Some(SEQUENCE)), revoked);
    // A newer one was seen: this list is ignored, so the serial is not reported revoked.
    for seen in [SEQUENCE + 1, u64::MAX] {
        let out = with_seen(Some(seen));
        assert_eq!(
            out,
            Verification {
                verdict: Verdict::Valid,
                stale: true,
                rollback: true,
                claim: Some(c.clone()),
                issuer: Some(ISSUER_NAME.into()),
                revocation: None,
                revocation_sequence: None,
                detail: None,
            }
        );
        assert!(!out.is_valid_and_fresh());
    }
}

// ---------------------------------------------------------------------------------------------
// list signatures and keys

#[test]
fn revocation_list_signers_are_checked() {
    let f = Fixture::new();
    let list = |key: &SecretKey| RevocationList {
        key_id: key.public_key().key_id(),
        sequence: 9,
        issued_at: unix("2026-09-01"),
        next_update: unix("2026-09-08"),
        entries: vec![Revocation {
            serial: SERIAL,
            date: day("2026-09-01"),
            reason: Reason::Withdrawn,
        }],
    };
    // The issuer's own list is accepted.
    let bytes = list(&f.issuer).sign(&f.issuer).unwrap();
    assert_eq!(
        RevocationList::decode_verified(&bytes, &f.trust).unwrap(),
        list(&f.issuer)
    );
    // A compromised key.
    let id = f.compromised.public_key().key_id();
    let bytes = list(&f.compromised).sign(&f.compromised).unwrap();
    assert_eq!(
        RevocationList::decode_verified(&bytes, &f.trust),
        Err(Error::List(ListError::CompromisedSigner {
            key_id: id.to_string()
        }))
    );
    // A key the trust list does not hold.
    let id = f.stranger.public_key().key_id();
    let bytes = list(&f.stranger).sign(&f.stranger).unwrap();
    assert_eq!(
        RevocationList::decode_verified(&bytes, &f.trust),
        Err(Error::List(ListError::UnknownSigner {
            key_id: id.to_string()
        }))
    );
    // The issuer's key id, signed by another key.
    let mut forged = list(&f.issuer).encode_body().unwrap();
    let sig = f.stranger.sign_in_context(REVOCATION_LIST_CONTEXT, &forged);
    forged.extend_from_slice(&sig);
    assert_eq!(
        RevocationList::decode_verified(&forged, &f.trust),
        Err(Error::List(ListError::RevocationListSignature))
    );
    // Sign refuses a key id that is not the signer's.
    assert_eq!(
        list(&f.issuer).sign(&f.stranger),
        Err(DecodeError::OutOfRange { field: "key_id" })
    );
    // A changed sequence number (body byte) breaks the signature.
    let mut bytes = list(&f.issuer).sign(&f.issuer).unwrap();
    bytes[12] ^= 0x01;
    assert_eq!(
        RevocationList::decode_unverified(&bytes).unwrap().sequence,
        9 ^ 0x01
    );
    assert_eq!(
        RevocationList::decode_verified(&bytes, &f.trust),
        Err(Error::List(ListError::RevocationListSignature))
    );
}

#[test]
fn tampered_trust_list_or_wrong_root_fails() {
    let f = Fixture::new();
    let root = f.root.public_key();
    assert_eq!(
        TrustList::decode_verified(&f.trust_bytes, &root).unwrap(),
        f.trust
    );
    // The wrong root.
    for seed in [[0x02; 32], [0x11; 32]] {
        let other = SecretKey::from_seed(&seed).public_key();
        assert_eq!(
            TrustList::decode_verified(&f.trust_bytes, &other),
            Err(Error::List(ListError::TrustListSignature))
        );
    }
    // A flipped byte in issued_at: still well formed, but the signature fails.
    let mut t = f.trust_bytes.clone();
    t[16] ^= 0x01;
    assert_eq!(
        TrustList::decode_verified(&t, &root),
        Err(Error::List(ListError::TrustListSignature))
    );
    // Any single flipped bit anywhere is refused.
    for i in 0..f.trust_bytes.len() {
        let mut t = f.trust_bytes.clone();
        t[i] ^= 0x04;
        assert!(
            TrustList::decode_verified(&t, &root).is_err(),
            "flipped byte {i} accepted"
        );
    }
    // Truncated and extended: the body is one byte short or one byte long.
    let n = f.trust_bytes.len();
    assert_eq!(
        TrustList::decode_verified(&f.trust_bytes[..n - 1], &root),
        Err(Error::Decode(DecodeError::Truncated {
            field: "compromised"
        }))
    );
    assert_eq!(
        TrustList::decode_verified(&[f.trust_bytes.as_slice(), &[0]].concat(), &root),
        Err(Error::Decode(DecodeError::TrailingBytes { count: 1 }))
    );
    assert_eq!(
        TrustList::decode_verified(&f.trust_bytes[..10], &root),
        Err(Error::Decode(DecodeError::Truncated { field: "signature" }))
    );
}

/// The canonical encodings of the eight points of small order.
const SMALL_ORDER: [&str; 8] = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
];

fn key_bytes(h: &str) -> [u8; 32] {
    hex::decode(h).unwrap().try_into().unwrap()
}

#[test]
fn weak_keys_are_refused() {
    for h in SMALL_ORDER {
        assert_eq!(
            PublicKey::from_bytes(&key_bytes(h)),
            Err(KeyError::Weak),
            "{h}"
        );
    }
    // Non-canonical encodings (y >= p): all of small order, refused for the encoding first.
    for h in [
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ] {
        assert_eq!(
            PublicKey::from_bytes(&key_bytes(h)),
            Err(KeyError::NonCanonical),
            "{h}"
        );
    }
    // y = 2 is not on the curve.
    let mut two = [0u8; 32];
    two[0] = 2;
    assert_eq!(PublicKey::from_bytes(&two), Err(KeyError::NotAPoint));
    // A real key loads and round-trips.
    let pk = SecretKey::from_seed(&[0x11; 32]).public_key();
    assert_eq!(PublicKey::from_bytes(&pk.to_bytes()), Ok(pk));
}

#[test]
fn trust_list_with_a_weak_key_fails_to_decode() {
    let root = SecretKey::from_seed(&[0x01; 32]);
    for h in SMALL_ORDER {
        // Hand-built: one entry whose key is a small-order point, correctly signed by the root.
        let mut body = vec![1u8];
        body.extend_from_slice(&1u64.to_be_bytes());
        body.extend_from_slice(&unix("2026-06-01").to_be_bytes());
        body.extend_from_slice(&1u16.to_be_bytes());
        body.extend_from_slice(&key_bytes(h));
        body.push(4);
        body.extend_from_slice(b"weak");
        body.extend_from_slice(&day("2026-01-01").0.to_be_bytes());
        body.extend_from_slice(&day("2030-12-31").0.to_be_bytes());
        body.push(0);
        let sig = root.sign_in_context(TRUST_LIST_CONTEXT, &body);
        let bytes = [body.as_slice(), &sig].concat();
        assert_eq!(
            TrustList::decode_verified(&bytes, &root.public_key()),
            Err(Error::Decode(DecodeError::Key {
                field: "public_key",
                source: KeyError::Weak
            })),
            "{h}"
        );
        // The same bytes with a real key decode: the construction is right.
        let mut good = body.clone();
        good[19..51].copy_from_slice(&SecretKey::from_seed(&[0x11; 32]).public_key().to_bytes());
        let sig = root.sign_in_context(TRUST_LIST_CONTEXT, &good);
        let list =
            TrustList::decode_verified(&[good.as_slice(), &sig].concat(), &root.public_key())
                .unwrap();
        assert_eq!(list.issuers.len(), 1);
        assert_eq!(list.issuers[0].name, "weak");
    }
}
