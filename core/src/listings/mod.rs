//! The listings check: what a retailer's product listing claims (a certificate number, a label
//! link, a manufacturer, a model, a tier) against the registry's verified certifications, one
//! [`RowResult`] per listing. The CLI (`starmark check-listings`) and the browser page both call
//! [`Certifications::check`] and serialise the same [`RowResult`], so their reports agree.
//!
//! Only verified data decides: a certification enters [`Certifications`] only through
//! [`Basis::certify`] (the verdict of [`crate::verify`] under the verified trust list and
//! revocation list), an English name only through a record file whose SHA-256 a verified claim
//! signs, and a label link only through its own signature.

mod certifications;
mod check;
pub mod normalise;

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use crate::date::Day;
use crate::revocation::Reason;

pub use certifications::{Basis, Certifications, Certified, RecordNames, SourceProblem};

/// What a column of a listings file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The listing's id in the retailer's system (商品编号).
    ListingId,
    /// The shop or seller (店铺).
    Shop,
    /// The manufacturer (制造商).
    Manufacturer,
    /// The model (型号).
    Model,
    /// The claimed star tier (星级).
    Tier,
    /// The certificate number (证书编号).
    Certificate,
    /// The label's verify link, as its QR code holds it (标签链接).
    Label,
}

impl Role {
    /// Every role, in report order.
    pub const ALL: [Role; 7] = [
        Role::ListingId,
        Role::Shop,
        Role::Manufacturer,
        Role::Model,
        Role::Tier,
        Role::Certificate,
        Role::Label,
    ];

    /// The role's name, as `--column NAME=HEADER` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Role::ListingId => "listing_id",
            Role::Shop => "shop",
            Role::Manufacturer => "manufacturer",
            Role::Model => "model",
            Role::Tier => "tier",
            Role::Certificate => "certificate",
            Role::Label => "label",
        }
    }

    /// The role named `name` (also `maker` for the manufacturer, `id` for the listing id).
    pub fn from_name(name: &str) -> Option<Role> {
        match name {
            "maker" => Some(Role::Manufacturer),
            "id" => Some(Role::ListingId),
            _ => Role::ALL.into_iter().find(|r| r.name() == name),
        }
    }

    /// The headers recognised for this role, compared after NFKC, lower case, and without white
    /// space, hyphens, underscores and dots.
    pub fn headers(self) -> &'static [&'static str] {
        match self {
            Role::ListingId => &[
                "商品编号",
                "商品id",
                "商品编码",
                "商品链接id",
                "宝贝id",
                "listingid",
                "listing",
                "itemid",
                "productid",
                "sku",
            ],
            Role::Shop => &[
                "店铺",
                "店铺名称",
                "店铺名",
                "商家",
                "卖家",
                "shop",
                "store",
                "seller",
                "merchant",
            ],
            Role::Manufacturer => &[
                "制造商",
                "制造商名称",
                "生产商",
                "生产厂家",
                "生产厂商",
                "生产企业",
                "厂家",
                "厂商",
                "manufacturer",
                "maker",
            ],
            Role::Model => &[
                "型号",
                "产品型号",
                "规格型号",
                "model",
                "modelnumber",
                "modelno",
            ],
            Role::Tier => &[
                "星级",
                "标识星级",
                "安全星级",
                "等级",
                "tier",
                "stars",
                "startier",
            ],
            Role::Certificate => &[
                "证书编号",
                "证书号",
                "证书号码",
                "标识编号",
                "认证编号",
                "certificatenumber",
                "certificateno",
                "certificate",
                "certno",
                "serial",
            ],
            Role::Label => &[
                "标签链接",
                "标识链接",
                "标签网址",
                "二维码链接",
                "二维码",
                "labelurl",
                "labellink",
                "label",
                "qrlink",
                "qrurl",
                "verifyurl",
            ],
        }
    }

    /// The role a header names, if any (see [`Role::headers`]).
    pub fn of_header(header: &str) -> Option<Role> {
        let key = header_key(header);
        Role::ALL
            .into_iter()
            .find(|r| r.headers().contains(&key.as_str()))
    }
}

/// A header as [`Role::of_header`] compares it.
pub fn header_key(header: &str) -> String {
    normalise::model_key(header)
        .chars()
        .filter(|c| !matches!(c, '_' | '.'))
        .collect()
}

/// Where each role's column is, as messages name it: `C "证书编号"` (the spreadsheet column letter
/// and the header).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    names: [Option<String>; 7],
}

impl Columns {
    /// Records that `role` is the column messages call `name` (see [`spreadsheet_column`]).
    pub fn set(&mut self, role: Role, name: String) {
        self.names[role as usize] = Some(name);
    }

    /// How messages name the column of `role` (the role's name when it has no column).
    pub fn name(&self, role: Role) -> String {
        self.names[role as usize]
            .clone()
            .unwrap_or_else(|| String::from(role.name()))
    }

    /// Whether the file has a column for `role`.
    pub fn has(&self, role: Role) -> bool {
        self.names[role as usize].is_some()
    }
}

/// How a spreadsheet's column is named in messages: its letter and its header, `C "证书编号"`.
pub fn spreadsheet_column(index: usize, header: &str) -> String {
    alloc::format!("{} {header:?}", column_letter(index))
}

/// The spreadsheet letter of a 0-based column index: A, B, ..., Z, AA, AB, ...
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// One listing, as read from its row. `None` means the file has no such column; `Some("")` an
/// empty cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Listing<'a> {
    /// The row number in the file (1-based, the header row included; for JSONL the line).
    pub row: u64,
    /// The listing id.
    pub listing_id: Option<&'a str>,
    /// The shop.
    pub shop: Option<&'a str>,
    /// The claimed manufacturer.
    pub manufacturer: Option<&'a str>,
    /// The claimed model.
    pub model: Option<&'a str>,
    /// The claimed tier.
    pub tier: Option<&'a str>,
    /// The claimed certificate number.
    pub certificate: Option<&'a str>,
    /// The label's verify link.
    pub label: Option<&'a str>,
    /// The earlier row with the same listing id, if any.
    pub duplicate_of: Option<u64>,
}

/// The result of one listing, in order of precedence: when a listing has several problems, the
/// first in this order is its result and the others are listed in [`RowResult::also`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The row cannot be read (a named column and value), or contradicts itself.
    BadRow,
    /// The label link's signature fails, it was signed by a key this registry does not trust,
    /// or it leads to another site than the registry's.
    CounterfeitLabel,
    /// No verified certification has this number, label or manufacturer and model.
    NotFound,
    /// No certificate number or label, and several certifications match.
    Ambiguous,
    /// The certification was revoked (date, reason).
    Revoked,
    /// The certification belongs to another manufacturer.
    MakerMismatch,
    /// The certification is for another model.
    ModelMismatch,
    /// The listing claims more stars than the certification has.
    TierOverclaimed,
    /// The certification's validity period has ended.
    Expired,
    /// The certification's validity period has not started.
    NotYetValid,
    /// Nothing wrong, but the revocation data is stale: whether it was revoked since is unknown.
    StaleData,
    /// The listing's claim matches a valid certification, with fresh revocation data.
    Ok,
}

impl Outcome {
    /// Every result, in order of precedence (`ok` last).
    pub const ALL: [Outcome; 12] = [
        Outcome::BadRow,
        Outcome::CounterfeitLabel,
        Outcome::NotFound,
        Outcome::Ambiguous,
        Outcome::Revoked,
        Outcome::MakerMismatch,
        Outcome::ModelMismatch,
        Outcome::TierOverclaimed,
        Outcome::Expired,
        Outcome::NotYetValid,
        Outcome::StaleData,
        Outcome::Ok,
    ];

    /// The snake_case name, as in reports.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::BadRow => "bad_row",
            Outcome::CounterfeitLabel => "counterfeit_label",
            Outcome::NotFound => "not_found",
            Outcome::Ambiguous => "ambiguous",
            Outcome::Revoked => "revoked",
            Outcome::MakerMismatch => "maker_mismatch",
            Outcome::ModelMismatch => "model_mismatch",
            Outcome::TierOverclaimed => "tier_overclaimed",
            Outcome::Expired => "expired",
            Outcome::NotYetValid => "not_yet_valid",
            Outcome::StaleData => "stale_data",
            Outcome::Ok => "ok",
        }
    }

    /// The result with this name.
    pub fn from_name(name: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.name() == name)
    }
}

/// The listing's own values, as they are in the file (cells of absent columns are empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Claimed {
    /// The manufacturer cell.
    pub manufacturer: String,
    /// The model cell.
    pub model: String,
    /// The tier cell.
    pub tier: String,
    /// The certificate number cell.
    pub certificate: String,
    /// The label link cell.
    pub label: String,
}

/// The registry's authoritative values for the certification a listing was matched with: all
/// from a claim whose signature verified under a trusted issuer key, and the verified revocation
/// list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Authoritative {
    /// The certification's serial.
    pub serial: u64,
    /// The certificate number as the registry prints it (8 digits, zero-padded).
    pub certificate: String,
    /// The manufacturer's registered name.
    pub manufacturer: String,
    /// The manufacturer's English names proven by its record files, joined with ` / `.
    pub manufacturer_en: String,
    /// The model.
    pub model: String,
    /// The tier (stars).
    pub tier: u8,
    /// The catalogue category.
    pub category: String,
    /// First day of validity.
    pub valid_from: Day,
    /// Last day of validity.
    pub valid_until: Day,
    /// The verdict at the check's time (`valid`, `expired`, `not_yet_valid`, `revoked`).
    pub status: &'static str,
    /// The day of revocation, if revoked.
    pub revoked_on: Option<Day>,
    /// Why it was revoked.
    pub revocation_reason: Option<Reason>,
}

/// The result of checking one listing: one line of the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowResult {
    /// The row number in the file (1-based, the header row included; for JSONL the line).
    pub row: u64,
    /// The listing id cell.
    pub listing_id: String,
    /// The shop cell.
    pub shop: String,
    /// The result.
    pub result: Outcome,
    /// Why, in one sentence per problem, with the values compared.
    pub reason: String,
    /// The other problems found, in order of precedence.
    pub also: Vec<Outcome>,
    /// The column a `bad_row` is about (`C "证书编号"`), if one is.
    pub column: Option<String>,
    /// The serials that match an `ambiguous` listing.
    pub candidates: Vec<u64>,
    /// What changed since the previous run (`new`, `fixed`, `newly_revoked`...); present only
    /// when the check remembers a previous run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<String>,
    /// The listing's values.
    pub listing: Claimed,
    /// The registry's values for the certification the listing was matched with.
    pub registry: Option<Authoritative>,
}

impl RowResult {
    /// A `bad_row` result for a row that could not be read at all (too many columns, not a JSON
    /// object...), or whose `column` holds a value that cannot be read.
    pub fn bad_row(listing: &Listing<'_>, column: Option<String>, reason: String) -> RowResult {
        let mut r = RowResult::of(listing);
        r.result = Outcome::BadRow;
        r.column = column;
        r.reason = reason;
        r
    }

    /// An `ok` result carrying the listing's values, to be filled in.
    fn of(listing: &Listing<'_>) -> RowResult {
        let cell = |c: Option<&str>| String::from(c.unwrap_or(""));
        RowResult {
            row: listing.row,
            listing_id: cell(listing.listing_id),
            shop: cell(listing.shop),
            result: Outcome::Ok,
            reason: String::new(),
            also: Vec::new(),
            column: None,
            candidates: Vec::new(),
            changed: None,
            listing: Claimed {
                manufacturer: cell(listing.manufacturer),
                model: cell(listing.model),
                tier: cell(listing.tier),
                certificate: cell(listing.certificate),
                label: cell(listing.label),
            },
            registry: None,
        }
    }

    /// Whether the listing needs no action (`ok`).
    pub fn is_ok(&self) -> bool {
        self.result == Outcome::Ok
    }
}

/// The certificate number as the registry prints it: the serial, zero-padded to 8 digits.
pub fn certificate_number(serial: u64) -> String {
    alloc::format!("{serial:08}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_both_languages() {
        assert_eq!(Role::of_header("证书编号"), Some(Role::Certificate));
        assert_eq!(
            Role::of_header("Certificate Number"),
            Some(Role::Certificate)
        );
        assert_eq!(Role::of_header("certificate_no."), Some(Role::Certificate));
        assert_eq!(Role::of_header("  制造商 "), Some(Role::Manufacturer));
        assert_eq!(Role::of_header("Manufacturer"), Some(Role::Manufacturer));
        assert_eq!(Role::of_header("型号"), Some(Role::Model));
        assert_eq!(Role::of_header("MODEL"), Some(Role::Model));
        assert_eq!(Role::of_header("星级"), Some(Role::Tier));
        assert_eq!(Role::of_header("标签链接"), Some(Role::Label));
        assert_eq!(Role::of_header("Label URL"), Some(Role::Label));
        assert_eq!(Role::of_header("商品编号"), Some(Role::ListingId));
        assert_eq!(Role::of_header("Listing ID"), Some(Role::ListingId));
        assert_eq!(Role::of_header("店铺"), Some(Role::Shop));
        assert_eq!(Role::of_header("品牌"), None);
        assert_eq!(Role::of_header("price"), None);
        // No header is claimed by two roles.
        for a in Role::ALL {
            for h in a.headers() {
                assert_eq!(header_key(h), *h, "{h} is not in key form");
                assert_eq!(Role::of_header(h), Some(a), "{h}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::from_name(r.name()), Some(r));
        }
        assert_eq!(Role::from_name("maker"), Some(Role::Manufacturer));
        assert_eq!(Role::from_name("brand"), None);
        for o in Outcome::ALL {
            assert_eq!(Outcome::from_name(o.name()), Some(o));
        }
        let mut sorted = Outcome::ALL;
        sorted.sort();
        assert_eq!(sorted, Outcome::ALL, "precedence is the declaration order");
    }

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
        assert_eq!(column_letter(39_999), "BGDL");
        let mut c = Columns::default();
        c.set(Role::Certificate, spreadsheet_column(2, "证书编号"));
        assert_eq!(c.name(Role::Certificate), "C \"证书编号\"");
        assert_eq!(c.name(Role::Model), "model");
        assert!(c.has(Role::Certificate) && !c.has(Role::Model));
    }
}
