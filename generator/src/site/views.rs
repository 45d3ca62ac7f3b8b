//! What templates see: borrowed views of verified certifications, per language.

use serde::Serialize;
use sha2::{Digest, Sha256};
use starmark_core::to_hex;

use super::load::{Full, Status, VerifiedCert};
use crate::registry::Category;

/// The certificate number as printed: the serial, at least eight digits.
pub fn number(serial: u64) -> String {
    format!("{serial:08}")
}

/// The manufacturer's page name: stable, ASCII, from the registered name.
pub fn maker_slug(manufacturer: &str) -> String {
    to_hex(&Sha256::digest(manufacturer.as_bytes())[..6])
}

/// A revocation as shown.
#[derive(Serialize)]
pub struct RevocationView {
    /// YYYY-MM-DD.
    pub date: String,
    /// Reason name.
    pub reason: &'static str,
}

/// One row of a certification table.
#[derive(Serialize)]
pub struct Row<'a> {
    pub serial: u64,
    pub number: String,
    pub manufacturer: &'a str,
    /// The manufacturer's English name, when the record has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer_en: Option<&'a str>,
    /// The manufacturer's unified social credit code, when the record has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer_uscc: Option<&'a str>,
    pub maker_slug: String,
    pub model: &'a str,
    pub product: &'a str,
    pub tier: u8,
    pub category: &'a str,
    pub valid_from: String,
    pub valid_until: String,
    pub status: &'static str,
}

impl<'a> Row<'a> {
    /// The row of a certification.
    pub fn of(c: &'a VerifiedCert) -> Row<'a> {
        let r = &c.summary;
        Row {
            serial: r.serial,
            number: number(r.serial),
            manufacturer: &r.manufacturer,
            manufacturer_en: r.manufacturer_en.as_deref(),
            manufacturer_uscc: r.manufacturer_uscc.as_deref(),
            maker_slug: maker_slug(&r.manufacturer),
            model: &r.model,
            product: &r.product,
            tier: r.tier,
            category: &r.category,
            valid_from: r.valid_from.to_string(),
            valid_until: r.valid_until.to_string(),
            status: c.status.name(),
        }
    }
}

/// An evidence document as shown.
#[derive(Serialize)]
pub struct EvidenceView<'a> {
    pub name: &'a str,
    pub sha256: String,
}

/// Everything a certification page shows.
#[derive(Serialize)]
pub struct CertView<'a> {
    #[serde(flatten)]
    pub row: Row<'a>,
    pub local_agent: Option<&'a str>,
    pub local_agent_uscc: Option<&'a str>,
    pub category_name: &'a str,
    pub firmware: &'a [String],
    pub issued: String,
    pub lab: &'a str,
    pub evidence: Vec<EvidenceView<'a>>,
    pub supersedes: Option<u64>,
    pub supersedes_number: Option<String>,
    pub superseded_by: Option<u64>,
    pub superseded_by_number: Option<String>,
    pub revocation: Option<RevocationView>,
    pub body_html: &'a str,
    pub key_id: String,
    pub record_sha256: String,
    pub digits: &'a str,
}

impl<'a> CertView<'a> {
    /// The view of a certification in one language.
    pub fn of(
        c: &'a VerifiedCert,
        full: &'a Full,
        category: &'a Category,
        lang: &str,
        body_html: &'a str,
        digits: &'a str,
    ) -> CertView<'a> {
        let r = &full.record;
        let claim = c.signed.claim();
        CertView {
            row: Row::of(c),
            local_agent: r.local_agent.as_deref(),
            local_agent_uscc: r.local_agent_uscc.as_deref(),
            category_name: category_name(category, lang),
            firmware: &r.firmware,
            issued: r.issued.to_string(),
            lab: &r.lab,
            evidence: r
                .evidence
                .iter()
                .map(|e| EvidenceView {
                    name: &e.name,
                    sha256: to_hex(&e.sha256),
                })
                .collect(),
            supersedes: r.supersedes,
            supersedes_number: r.supersedes.map(number),
            superseded_by: c.superseded_by,
            superseded_by_number: c.superseded_by.map(number),
            revocation: c.revocation.map(|rv| RevocationView {
                date: rv.date.to_string(),
                reason: rv.reason.name(),
            }),
            body_html,
            key_id: claim.key_id.to_string(),
            record_sha256: to_hex(&claim.record_sha256),
            digits,
        }
    }
}

/// A category's name in a language.
pub fn category_name<'a>(c: &'a Category, lang: &str) -> &'a str {
    if lang == "zh" {
        &c.zh
    } else {
        &c.en
    }
}

/// A category with its count, for the home page.
#[derive(Serialize)]
pub struct CategoryView<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub count: usize,
}

/// The statuses offered by the search filter.
pub fn status_names() -> Vec<&'static str> {
    Status::ALL.iter().map(|s| s.name()).collect()
}
