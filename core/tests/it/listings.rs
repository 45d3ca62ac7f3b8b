//! The listings check: every result class from a small signed registry made here, the
//! normalisation a person would accept, English names proven by record files, stale and
//! rolled-back revocation data, and the claims bundle carrying it all.

use starmark_core::bundle::Bundle;
use starmark_core::listings::{
    Basis, Certifications, Columns, Listing, Outcome, RecordNames, Role, RowResult, SourceProblem,
};
use starmark_core::qr::verify_url;
use starmark_core::record::Record;
use starmark_core::{
    Day, IssuerKey, Reason, Revocation, RevocationList, SecretKey, SignedClaim, TrustList,
};

const BASE: &str = "https://label.example.cn";
const XINGLIAN: &str = "深圳市星联科技有限公司";
const XINGLIAN_EN: &str = "Shenzhen Xinglian Technology Co., Ltd.";

fn day(s: &str) -> Day {
    Day::parse(s).unwrap()
}

/// 2027-03-01, noon.
fn now() -> u64 {
    day("2027-03-01").start_unix() + 43_200
}

struct Reg {
    issuer: SecretKey,
    stranger: SecretKey,
    compromised: SecretKey,
    trust: TrustList,
    /// Signed claims and record files, by serial.
    items: Vec<(SignedClaim, Vec<u8>)>,
}

fn record_text(
    serial: u64,
    maker: &str,
    en: Option<&str>,
    model: &str,
    tier: u8,
    from: &str,
    until: &str,
) -> String {
    let en = en
        .map(|e| format!("manufacturer_en = \"{e}\"\n"))
        .unwrap_or_default();
    format!(
        "+++\nserial = {serial}\nmanufacturer = \"{maker}\"\n{en}product = \"产品 {model}\"\nmodel = \"{model}\"\ncategory = \"router\"\nfirmware = [\"1.0\"]\ntier = {tier}\nissued = {from}\nvalid_from = {from}\nvalid_until = {until}\nlab = \"lab\"\n+++\nbody\n"
    )
}

fn sign(key: &SecretKey, text: &str) -> (SignedClaim, Vec<u8>) {
    let bytes = text.as_bytes().to_vec();
    let record = Record::parse(text).unwrap();
    let signed = record
        .claim(key.public_key().key_id(), &bytes)
        .sign(key)
        .unwrap();
    (signed, bytes)
}

impl Reg {
    fn new() -> Reg {
        let root = SecretKey::from_seed(&[1; 32]);
        let issuer = SecretKey::from_seed(&[2; 32]);
        let stranger = SecretKey::from_seed(&[3; 32]);
        let compromised = SecretKey::from_seed(&[4; 32]);
        let mut bad = IssuerKey::new(
            compromised.public_key(),
            "bad".into(),
            day("2026-01-01"),
            day("2030-12-31"),
        );
        bad.compromised_since = Some(day("2026-12-01"));
        let trust_bytes = TrustList {
            sequence: 1,
            issued_at: 0,
            issuers: vec![
                IssuerKey::new(
                    issuer.public_key(),
                    "issuer".into(),
                    day("2026-01-01"),
                    day("2030-12-31"),
                ),
                bad,
            ],
            log_keys: Vec::new(),
        }
        .sign(&root)
        .unwrap();
        let trust = TrustList::decode_verified(&trust_bytes, &root.public_key()).unwrap();
        let valid = ("2026-07-01", "2029-06-30");
        let items = vec![
            sign(
                &issuer,
                &record_text(
                    1,
                    XINGLIAN,
                    Some(XINGLIAN_EN),
                    "XL-AX3000",
                    2,
                    valid.0,
                    valid.1,
                ),
            ),
            sign(
                &issuer,
                &record_text(2, XINGLIAN, None, "XL-BE3600", 1, valid.0, valid.1),
            ),
            sign(
                &issuer,
                &record_text(3, XINGLIAN, None, "XL-BE3600", 1, valid.0, valid.1),
            ),
            sign(
                &issuer,
                &record_text(
                    4,
                    "武汉楚天智网科技有限公司",
                    None,
                    "CT-R1200",
                    1,
                    valid.0,
                    valid.1,
                ),
            ),
            sign(
                &issuer,
                &record_text(
                    5,
                    "成都蜀安物联科技有限公司",
                    None,
                    "SA-CAM1",
                    1,
                    "2026-07-01",
                    "2026-10-31",
                ),
            ),
            sign(
                &issuer,
                &record_text(
                    6,
                    "天津渤海工控网络有限公司",
                    None,
                    "BH-EG200",
                    2,
                    "2027-06-01",
                    "2030-05-31",
                ),
            ),
            sign(
                &issuer,
                &record_text(
                    7,
                    "莱茵费尔德自动化有限公司",
                    Some("Rheinfeld Automation GmbH"),
                    "RA-C820",
                    3,
                    valid.0,
                    valid.1,
                ),
            ),
        ];
        Reg {
            issuer,
            stranger,
            compromised,
            trust,
            items,
        }
    }

    fn revocations(&self, sequence: u64, next_update: u64) -> RevocationList {
        let bytes = RevocationList {
            key_id: self.issuer.public_key().key_id(),
            sequence,
            issued_at: day("2027-02-01").start_unix(),
            next_update,
            entries: vec![Revocation {
                serial: 4,
                date: day("2026-09-28"),
                reason: Reason::UnreportedChange,
            }],
        }
        .sign(&self.issuer)
        .unwrap();
        RevocationList::decode_verified(&bytes, &self.trust).unwrap()
    }

    fn certifications(&self, basis: Basis) -> Certifications {
        let certified: Vec<_> = self
            .items
            .iter()
            .map(|(s, _)| basis.certify(s).unwrap())
            .collect();
        let names: Vec<_> = self
            .items
            .iter()
            .map(|(_, b)| RecordNames::read(b).unwrap())
            .collect();
        let (c, problems) = Certifications::new(basis, certified, names);
        assert_eq!(problems, vec![]);
        c
    }

    fn fresh(&self) -> Certifications {
        let list = self.revocations(2, day("2027-04-01").start_unix());
        self.certifications(
            Basis::new(self.trust.clone(), Some(list), now(), None).with_base_url(BASE),
        )
    }

    fn label(&self, serial: u64) -> String {
        let (s, _) = &self.items[usize::try_from(serial - 1).unwrap()];
        verify_url(BASE, s.as_bytes())
    }
}

fn columns() -> Columns {
    let mut c = Columns::default();
    for (i, role) in Role::ALL.into_iter().enumerate() {
        c.set(
            role,
            starmark_core::listings::spreadsheet_column(i, role.name()),
        );
    }
    c
}

/// A listing with these cells; `None` where the row leaves the cell empty.
fn row<'a>(
    cert: Option<&'a str>,
    label: Option<&'a str>,
    maker: Option<&'a str>,
    model: Option<&'a str>,
    tier: Option<&'a str>,
) -> Listing<'a> {
    Listing {
        row: 2,
        listing_id: Some("L1"),
        shop: Some("shop"),
        manufacturer: Some(maker.unwrap_or("")),
        model: Some(model.unwrap_or("")),
        tier: Some(tier.unwrap_or("")),
        certificate: Some(cert.unwrap_or("")),
        label: Some(label.unwrap_or("")),
        duplicate_of: None,
    }
}

fn check(c: &Certifications, l: Listing<'_>) -> RowResult {
    c.check(&l, &columns())
}

#[test]
fn ok_by_number_label_and_identity() {
    let reg = Reg::new();
    let c = reg.fresh();
    for cert in ["00000001", "1", "０００００００１", " 0000 0001 "] {
        let r = check(
            &c,
            row(
                Some(cert),
                None,
                Some(XINGLIAN),
                Some("XL-AX3000"),
                Some("2"),
            ),
        );
        assert_eq!(r.result, Outcome::Ok, "{cert}: {}", r.reason);
        let a = r.registry.unwrap();
        assert_eq!(
            (a.serial, a.certificate.as_str(), a.tier, a.status),
            (1, "00000001", 2, "valid")
        );
        assert_eq!(a.manufacturer_en, XINGLIAN_EN);
    }
    let label = reg.label(1);
    let r = check(&c, row(None, Some(&label), None, None, None));
    assert_eq!(r.result, Outcome::Ok, "{}", r.reason);
    assert_eq!(r.registry.unwrap().serial, 1);
    // Found by manufacturer and model alone, written as a person would.
    let r = check(
        &c,
        row(
            None,
            None,
            Some("深圳市星联科技"),
            Some("xl ax3000"),
            Some("★★"),
        ),
    );
    assert_eq!(r.result, Outcome::Ok, "{}", r.reason);
    assert!(r.reason.contains("found by manufacturer and model"));
    // A lower tier than certified is no problem.
    let r = check(&c, row(Some("1"), None, None, None, Some("1星")));
    assert_eq!(r.result, Outcome::Ok);
    assert!(r.also.is_empty());
}

#[test]
fn makers_by_english_name_and_legal_form() {
    let reg = Reg::new();
    let c = reg.fresh();
    for maker in [
        XINGLIAN_EN,
        "SHENZHEN XINGLIAN TECHNOLOGY",
        "Shenzhen Xinglian Technology Co.,Ltd",
        "深圳市星联科技股份有限公司",
        "深圳市星联科技",
        "ｓｈｅｎｚｈｅｎ　ｘｉｎｇｌｉａｎ　ｔｅｃｈｎｏｌｏｇｙ",
    ] {
        // Serial 2's own record has no English name: the manufacturer's other record proves it.
        let r = check(
            &c,
            row(Some("2"), None, Some(maker), Some("XL-BE3600"), None),
        );
        assert_eq!(r.result, Outcome::Ok, "{maker}: {}", r.reason);
    }
    let r = check(
        &c,
        row(
            Some("7"),
            None,
            Some("Rheinfeld Automation"),
            Some("RA-C820"),
            Some("3"),
        ),
    );
    assert_eq!(r.result, Outcome::Ok, "{}", r.reason);
}

#[test]
fn every_problem_class() {
    let reg = Reg::new();
    let c = reg.fresh();
    let case = |l: Listing<'_>| check(&c, l);

    let r = case(row(Some("4"), None, None, None, None));
    assert_eq!(r.result, Outcome::Revoked);
    let a = r.registry.as_ref().unwrap();
    assert_eq!(
        (a.revoked_on, a.revocation_reason),
        (Some(day("2026-09-28")), Some(Reason::UnreportedChange))
    );
    assert!(
        r.reason
            .contains("revoked on 2026-09-28 (unreported_change)"),
        "{}",
        r.reason
    );

    let r = case(row(Some("5"), None, None, None, None));
    assert_eq!(r.result, Outcome::Expired, "{}", r.reason);
    let r = case(row(Some("6"), None, None, None, None));
    assert_eq!(r.result, Outcome::NotYetValid, "{}", r.reason);

    let r = case(row(
        Some("1"),
        None,
        Some("杭州云眸智能科技有限公司"),
        None,
        None,
    ));
    assert_eq!(r.result, Outcome::MakerMismatch);
    assert!(
        r.reason.contains(XINGLIAN) && r.reason.contains(XINGLIAN_EN),
        "{}",
        r.reason
    );
    let r = case(row(Some("1"), None, None, Some("XL-AX3001"), None));
    assert_eq!(r.result, Outcome::ModelMismatch);
    let r = case(row(Some("1"), None, None, None, Some("三星")));
    assert_eq!(r.result, Outcome::TierOverclaimed);
    assert!(
        r.reason
            .contains("claims 3 stars but certification 00000001 has 2"),
        "{}",
        r.reason
    );

    let r = case(row(Some("99"), None, None, None, None));
    assert_eq!(r.result, Outcome::NotFound);
    assert!(r.registry.is_none());
    let r = case(row(None, None, Some(XINGLIAN), Some("XL-NOPE"), None));
    assert_eq!(r.result, Outcome::NotFound);

    let r = case(row(None, None, Some(XINGLIAN_EN), Some("XL-BE3600"), None));
    assert_eq!(r.result, Outcome::Ambiguous);
    assert_eq!(r.candidates, vec![2, 3]);
    assert!(r.reason.contains("00000002, 00000003"), "{}", r.reason);

    // Several problems: the first in precedence is the result, the others follow in `also`.
    let r = case(row(
        Some("4"),
        None,
        Some("someone else"),
        Some("XL-1"),
        Some("3"),
    ));
    assert_eq!(r.result, Outcome::Revoked);
    assert_eq!(
        r.also,
        vec![
            Outcome::MakerMismatch,
            Outcome::ModelMismatch,
            Outcome::TierOverclaimed
        ]
    );
    assert_eq!(r.reason.split("; ").count(), 4);

    // No certificate number, and the model is certified for another manufacturer only.
    let r = case(row(None, None, Some("Acme"), Some("RA-C820"), None));
    assert_eq!(r.result, Outcome::MakerMismatch, "{}", r.reason);
}

#[test]
fn counterfeit_labels() {
    let reg = Reg::new();
    let c = reg.fresh();
    // A signature that does not verify.
    let (signed, _) = &reg.items[0];
    let mut bytes = signed.as_bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let tampered = verify_url(BASE, &bytes);
    let r = check(&c, row(None, Some(&tampered), None, None, None));
    assert_eq!(r.result, Outcome::CounterfeitLabel);
    assert!(r.registry.is_none());
    // A label of another registry: signed by a key this trust list does not hold.
    let (other, _) = sign(
        &reg.stranger,
        &record_text(
            1,
            XINGLIAN,
            None,
            "XL-AX3000",
            3,
            "2026-07-01",
            "2029-06-30",
        ),
    );
    let r = check(
        &c,
        row(
            None,
            Some(&verify_url(
                "https://other-registry.example",
                other.as_bytes(),
            )),
            None,
            None,
            None,
        ),
    );
    assert_eq!(r.result, Outcome::CounterfeitLabel);
    assert!(
        r.reason.contains("not signed by a key of this registry"),
        "{}",
        r.reason
    );
    // Signed by a compromised key.
    let (bad, _) = sign(
        &reg.compromised,
        &record_text(
            1,
            XINGLIAN,
            None,
            "XL-AX3000",
            3,
            "2026-07-01",
            "2029-06-30",
        ),
    );
    let r = check(
        &c,
        row(
            None,
            Some(&verify_url(BASE, bad.as_bytes())),
            None,
            None,
            None,
        ),
    );
    assert_eq!(r.result, Outcome::CounterfeitLabel);
    assert!(r.reason.contains("compromised"), "{}", r.reason);
    // A genuine claim behind another site's address.
    let moved = verify_url("https://label.example.cn.evil.example", signed.as_bytes());
    let r = check(&c, row(None, Some(&moved), None, None, None));
    assert_eq!(r.result, Outcome::CounterfeitLabel);
    assert!(
        r.reason.contains("label.example.cn.evil.example"),
        "{}",
        r.reason
    );
    // The same address in other case and scheme, or the digits alone, are fine.
    for ok in [
        verify_url("HTTP://LABEL.EXAMPLE.CN/", signed.as_bytes()),
        format!("#{}", starmark_core::qr::encode_digits(signed.as_bytes())),
        starmark_core::qr::encode_digits(signed.as_bytes()),
    ] {
        let r = check(&c, row(None, Some(&ok), None, None, None));
        assert_eq!(r.result, Outcome::Ok, "{ok}: {}", r.reason);
    }
    // A genuine label of an earlier version of certification 1 (another record, re-signed): it
    // is verified in full, and the listing is compared with the registry's current values.
    let (earlier, _) = sign(
        &reg.issuer,
        &record_text(
            1,
            XINGLIAN,
            None,
            "XL-AX3000",
            3,
            "2026-07-01",
            "2029-06-30",
        ),
    );
    let r = check(
        &c,
        row(
            None,
            Some(&verify_url(BASE, earlier.as_bytes())),
            None,
            None,
            Some("3"),
        ),
    );
    assert_eq!(r.result, Outcome::TierOverclaimed, "{}", r.reason);
    assert!(r.reason.contains("earlier signature"), "{}", r.reason);
    // A genuine label whose certification the registry does not publish.
    let (unpublished, _) = sign(
        &reg.issuer,
        &record_text(50, XINGLIAN, None, "XL-9", 1, "2026-07-01", "2029-06-30"),
    );
    let r = check(
        &c,
        row(
            None,
            Some(&verify_url(BASE, unpublished.as_bytes())),
            None,
            None,
            None,
        ),
    );
    assert_eq!(r.result, Outcome::NotFound);
    assert!(r.reason.contains("genuine"), "{}", r.reason);
}

#[test]
fn bad_rows_name_column_and_value() {
    let reg = Reg::new();
    let c = reg.fresh();
    let r = check(&c, row(Some("No. 12"), None, None, None, None));
    assert_eq!(r.result, Outcome::BadRow);
    assert_eq!(r.column.as_deref(), Some("F \"certificate\""));
    assert_eq!(
        r.reason,
        "column F \"certificate\": \"No. 12\" is not a certificate number ('n' is not a digit)"
    );
    let r = check(&c, row(Some("1"), None, None, None, Some("4星")));
    assert_eq!(r.result, Outcome::BadRow);
    assert_eq!(
        r.reason,
        "column E \"tier\": \"4星\" is not a tier (1, 2 or 3 stars)"
    );
    let r = check(
        &c,
        row(
            None,
            Some("https://label.example.cn/cert/1.html"),
            None,
            None,
            None,
        ),
    );
    assert_eq!(r.result, Outcome::BadRow);
    assert_eq!(r.reason, "column G \"label\": \"https://label.example.cn/cert/1.html\" is not a label link: the address has no #fragment with the label code");
    let r = check(
        &c,
        row(
            None,
            Some("https://label.example.cn/verify/#12345"),
            None,
            None,
            None,
        ),
    );
    assert_eq!(r.result, Outcome::BadRow);
    assert!(
        r.reason
            .starts_with("column G \"label\": the label link's code is damaged"),
        "{}",
        r.reason
    );
    let label = reg.label(1);
    let r = check(&c, row(Some("2"), Some(&label), None, None, None));
    assert_eq!(r.result, Outcome::BadRow);
    assert_eq!(r.reason, "column F \"certificate\": certificate number 00000002 is not the label's certification 00000001");
    let r = check(&c, row(None, None, Some(XINGLIAN), None, None));
    assert_eq!(r.result, Outcome::BadRow);
    assert_eq!(r.column.as_deref(), Some("D \"model\""));
    let mut dup = row(Some("1"), None, None, None, None);
    dup.duplicate_of = Some(7);
    let r = check(&c, dup);
    assert_eq!(r.result, Outcome::BadRow);
    assert_eq!(r.reason, "column A \"listing_id\": listing id \"L1\" is also on row 7; each listing id must appear once");
    // Markup stays text, control characters are escaped, and long values are cut.
    let script = "<script>alert(1)</script>\u{7}".repeat(10);
    let r = check(&c, row(Some(&script), None, None, None, None));
    assert_eq!(r.result, Outcome::BadRow);
    assert!(
        r.reason.contains("\\u{7}") && r.reason.contains('…'),
        "{}",
        r.reason
    );
}

#[test]
fn stale_and_rolled_back_revocation_data() {
    let reg = Reg::new();
    // Past next update: an otherwise good listing is stale, never plainly ok; a revoked one
    // stays revoked.
    let old = reg.revocations(2, day("2027-02-15").start_unix());
    let c = reg.certifications(Basis::new(
        reg.trust.clone(),
        Some(old.clone()),
        now(),
        None,
    ));
    let r = check(&c, row(Some("1"), None, None, None, None));
    assert_eq!(r.result, Outcome::StaleData);
    assert!(r.reason.contains("past its next update"), "{}", r.reason);
    assert_eq!(
        check(&c, row(Some("4"), None, None, None, None)).result,
        Outcome::Revoked
    );
    let r = check(&c, row(Some("1"), None, None, None, Some("3")));
    assert_eq!(
        (r.result, r.also),
        (Outcome::TierOverclaimed, vec![Outcome::StaleData])
    );
    // No list at all.
    let c = reg.certifications(Basis::new(reg.trust.clone(), None, now(), None));
    let r = check(&c, row(Some("4"), None, None, None, None));
    assert_eq!(r.result, Outcome::StaleData, "{}", r.reason);
    assert!(r.reason.contains("no revocation list"));
    // An older list than one seen before is ignored.
    let fresh = reg.revocations(2, day("2027-04-01").start_unix());
    let basis = Basis::new(reg.trust.clone(), Some(fresh), now(), Some(3));
    assert!(basis.revocations().is_none() && basis.offered_revocations().is_some());
    let c = reg.certifications(basis);
    let r = check(&c, row(Some("4"), None, None, None, None));
    assert_eq!(r.result, Outcome::StaleData);
    assert!(r.reason.contains("rollback"), "{}", r.reason);
}

#[test]
fn only_verified_data_enters() {
    let reg = Reg::new();
    let basis = Basis::new(reg.trust.clone(), None, now(), None);
    // Claims that do not verify are refused with their verdict.
    let (stranger, _) = sign(
        &reg.stranger,
        &record_text(8, "x", None, "m", 1, "2026-07-01", "2029-06-30"),
    );
    assert_eq!(
        basis.certify(&stranger).unwrap_err().verdict,
        starmark_core::Verdict::UnknownIssuer
    );
    // A record file no verified claim signs proves nothing.
    let forged = record_text(
        2,
        XINGLIAN,
        Some("Forged Name Ltd"),
        "XL-BE3600",
        1,
        "2026-07-01",
        "2029-06-30",
    );
    let certified: Vec<_> = reg
        .items
        .iter()
        .map(|(s, _)| basis.certify(s).unwrap())
        .collect();
    let mut names: Vec<_> = reg
        .items
        .iter()
        .map(|(_, b)| RecordNames::read(b).unwrap())
        .collect();
    names.push(RecordNames::read(forged.as_bytes()).unwrap());
    let dup = certified[0].clone();
    let (c, problems) = Certifications::new(basis, certified.into_iter().chain([dup]), names);
    assert_eq!(
        problems,
        vec![
            SourceProblem::DuplicateSerial { serial: 1 },
            SourceProblem::UnsignedRecord { serial: 2 }
        ]
    );
    assert_eq!(c.english_names(XINGLIAN), [XINGLIAN_EN]);
    let r = check(&c, row(Some("2"), None, Some("Forged Name"), None, None));
    assert_eq!(r.result, Outcome::MakerMismatch);
}

#[test]
fn a_bundle_carries_claims_and_names() {
    let reg = Reg::new();
    let claims: Vec<&[u8]> = reg.items.iter().map(|(s, _)| s.as_bytes()).collect();
    let records: Vec<&[u8]> = vec![&reg.items[0].1];
    let bytes = Bundle { claims, records }.encode().unwrap();
    let bundle = Bundle::decode(&bytes).unwrap();
    let list = reg.revocations(2, day("2027-04-01").start_unix());
    let basis = Basis::new(reg.trust.clone(), Some(list), now(), None);
    let certified: Vec<_> = bundle
        .claims
        .iter()
        .map(|b| basis.certify(&SignedClaim::decode(b).unwrap()).unwrap())
        .collect();
    let names: Vec<_> = bundle
        .records
        .iter()
        .map(|b| RecordNames::read(b).unwrap())
        .collect();
    let (c, problems) = Certifications::new(basis, certified, names);
    assert!(problems.is_empty());
    assert_eq!(c.len(), 7);
    let r = check(&c, row(Some("3"), None, Some(XINGLIAN_EN), None, None));
    assert_eq!(r.result, Outcome::Ok, "{}", r.reason);
}
