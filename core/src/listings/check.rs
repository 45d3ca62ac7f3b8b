//! The check of one listing, in steps: (1) read the row's cells, (2) find the certification it
//! claims (label link, else certificate number, else manufacturer and model), (3) compare the
//! listing with the certification's verified values and status.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::claim::{Claim, SignedClaim};
use crate::qr::{decode_digits, digits_of};
use crate::verdict::{verify_payload, Verdict};

use super::certifications::{site_of, Certifications, Certified};
use super::normalise::{
    clean, maker_key, model_key, parse_certificate_number, parse_tier, NumberError,
};
use super::{certificate_number, Authoritative, Columns, Listing, Outcome, Role, RowResult};

/// The longest cell value quoted in a reason, in characters.
const SHOWN: usize = 80;

/// A cell value quoted for a reason: Rust string syntax (control characters escaped), cut to
/// [`SHOWN`] characters.
fn shown(s: &str) -> String {
    match s.char_indices().nth(SHOWN) {
        Some((i, _)) => format!("{:?}…", &s[..i]),
        None => format!("{s:?}"),
    }
}

/// The certification a listing claims, found in step 2, and a note on how.
struct Found<'a> {
    cert: &'a Certified,
    note: Option<String>,
}

impl Certifications {
    /// Checks one listing. Never panics; every problem with the row itself is a `bad_row` result
    /// naming the column (as `columns` names it) and the value.
    pub fn check(&self, listing: &Listing<'_>, columns: &Columns) -> RowResult {
        let mut r = RowResult::of(listing);
        let bad = |mut r: RowResult, role: Option<Role>, reason: String| {
            r.result = Outcome::BadRow;
            r.column = role.map(|role| columns.name(role));
            r.reason = match role {
                Some(role) => format!("column {}: {reason}", columns.name(role)),
                None => reason,
            };
            r
        };

        // 1. Read the cells.
        if let Some(first) = listing.duplicate_of {
            let id = shown(listing.listing_id.unwrap_or(""));
            return bad(
                r,
                Some(Role::ListingId),
                format!("listing id {id} is also on row {first}; each listing id must appear once"),
            );
        }
        let cell = |c: Option<&str>| c.map(clean).filter(|s| !s.is_empty());
        let certificate = match listing.certificate.map(parse_certificate_number) {
            None | Some(Ok(None)) => None,
            Some(Ok(Some(n))) => Some(n),
            Some(Err(e)) => {
                let why = match e {
                    NumberError::NotADigit(c) => format!("{c:?} is not a digit"),
                    NumberError::TooLarge => String::from("too large"),
                };
                let value = shown(listing.certificate.unwrap_or(""));
                return bad(
                    r,
                    Some(Role::Certificate),
                    format!("{value} is not a certificate number ({why})"),
                );
            }
        };
        let tier = match listing.tier.map(parse_tier) {
            None | Some(Ok(None)) => None,
            Some(Ok(Some(t))) => Some(t),
            Some(Err(_)) => {
                let value = shown(listing.tier.unwrap_or(""));
                return bad(
                    r,
                    Some(Role::Tier),
                    format!("{value} is not a tier (1, 2 or 3 stars)"),
                );
            }
        };
        let label = cell(listing.label);
        let maker = cell(listing.manufacturer)
            .map(|m| maker_key(&m))
            .filter(|k| !k.is_empty());
        let model = cell(listing.model)
            .map(|m| model_key(&m))
            .filter(|k| !k.is_empty());

        // 2. Find the certification.
        let found = if let Some(label) = label {
            let ctx = self.basis().context();
            let payload = match digits_of(&label).and_then(decode_digits) {
                Ok(p) => p,
                Err(e) => {
                    return bad(
                        r,
                        Some(Role::Label),
                        format!("{} is not a label link: {e}", shown(&label)),
                    )
                }
            };
            // A label that is a certification's signed claim byte for byte verifies as it did
            // when the certifications were made (same bytes, same basis): no need to verify it
            // again. Anything else is verified in full.
            let known = SignedClaim::decode(&payload)
                .ok()
                .and_then(|sc| self.get(sc.claim().serial))
                .filter(|c| c.is_payload(&payload));
            let v = match known {
                Some(c) => {
                    let mut v = c.verification().clone();
                    v.claim = Some(c.claim().clone());
                    v
                }
                None => verify_payload(&payload, &ctx),
            };
            let detail = v.detail.clone().unwrap_or_default();
            let counterfeit = |mut r: RowResult, reason: String| {
                r.result = Outcome::CounterfeitLabel;
                r.reason = reason;
                r
            };
            let claim: Claim = match v.verdict {
                Verdict::Malformed => {
                    return bad(
                        r,
                        Some(Role::Label),
                        format!("the label link's code is damaged: {detail}"),
                    );
                }
                Verdict::Counterfeit => {
                    return counterfeit(
                        r,
                        String::from(
                            "the label's signature does not verify: it was not issued as shown",
                        ),
                    );
                }
                Verdict::UnknownIssuer => {
                    return counterfeit(r, format!(
                        "the label is not signed by a key of this registry ({detail}): a label of another registry, or forged"
                    ));
                }
                Verdict::IssuerCompromised => {
                    return counterfeit(
                        r,
                        format!(
                            "the label is signed by a compromised key ({detail}): do not trust it"
                        ),
                    );
                }
                Verdict::Valid | Verdict::Expired | Verdict::NotYetValid | Verdict::Revoked => {
                    match v.claim {
                        Some(claim) => claim,
                        None => {
                            return bad(
                                r,
                                Some(Role::Label),
                                String::from("the label link carries no certification"),
                            );
                        }
                    }
                }
            };
            let number = certificate_number(claim.serial);
            if let (Some(base), Some(site)) = (self.basis().base_url(), label_site(&label)) {
                if site != base {
                    return counterfeit(r, format!(
                        "the label carries the genuine signature of certification {number}, but links to {site}, not to this registry's {base}: its QR code takes buyers to another site"
                    ));
                }
            }
            if let Some(n) = certificate.filter(|n| *n != claim.serial) {
                return bad(
                    r,
                    Some(Role::Certificate),
                    format!(
                        "certificate number {} is not the label's certification {number}",
                        certificate_number(n)
                    ),
                );
            }
            match self.get(claim.serial) {
                None => {
                    r.result = Outcome::NotFound;
                    r.reason = format!(
                        "the label's certification {number} is genuine, but it is not among the registry's {} verified certifications",
                        self.len()
                    );
                    return r;
                }
                Some(cert) => Found {
                    cert,
                    note: (cert.claim() != &claim).then(|| {
                        String::from("the label carries an earlier signature of this certification")
                    }),
                },
            }
        } else if let Some(n) = certificate {
            match self.get(n) {
                Some(cert) => Found { cert, note: None },
                None => {
                    r.result = Outcome::NotFound;
                    r.reason = format!(
                        "certificate number {} is not among the registry's {} verified certifications",
                        certificate_number(n),
                        self.len()
                    );
                    return r;
                }
            }
        } else {
            let (Some(maker), Some(model)) = (&maker, &model) else {
                let missing = match (&maker, &model) {
                    (Some(_), None) => Some(Role::Model),
                    (None, Some(_)) => Some(Role::Manufacturer),
                    _ => None,
                };
                return bad(
                    r,
                    missing,
                    String::from(
                        "nothing to look up: the row has no certificate number and no label link, and not both a manufacturer and a model",
                    ),
                );
            };
            match self.by_identity(maker, model) {
                [serial] => match self.get(*serial) {
                    Some(cert) => Found {
                        cert,
                        note: Some(String::from("found by manufacturer and model")),
                    },
                    None => return not_found_identity(r, listing),
                },
                [] => match self.by_model(model) {
                    [serial] => match self.get(*serial) {
                        Some(cert) => Found {
                            cert,
                            note: Some(String::from(
                                "the only certification of this model, found by model",
                            )),
                        },
                        None => return not_found_identity(r, listing),
                    },
                    _ => return not_found_identity(r, listing),
                },
                several => {
                    r.result = Outcome::Ambiguous;
                    r.candidates = several.to_vec();
                    let numbers: Vec<String> =
                        several.iter().map(|s| certificate_number(*s)).collect();
                    r.reason = format!(
                        "no certificate number or label link, and {} certifications match this manufacturer and model: {}",
                        several.len(),
                        numbers.join(", ")
                    );
                    return r;
                }
            }
        };

        // 3. Compare.
        let cert = found.cert;
        let claim = cert.claim();
        let v = cert.verification();
        let number = certificate_number(claim.serial);
        let english = self.english_of(cert);
        r.registry = Some(Authoritative {
            serial: claim.serial,
            certificate: number.clone(),
            manufacturer: claim.manufacturer.clone(),
            manufacturer_en: english.join(" / "),
            model: claim.model.clone(),
            tier: claim.tier.stars(),
            category: claim.category.clone(),
            valid_from: claim.valid_from,
            valid_until: claim.valid_until,
            status: cert.verdict().name(),
            revoked_on: v.revocation.map(|x| x.date),
            revocation_reason: v.revocation.map(|x| x.reason),
        });
        let mut problems: Vec<(Outcome, String)> = Vec::new();
        if let Some(rev) = v.revocation.filter(|_| cert.verdict() == Verdict::Revoked) {
            problems.push((
                Outcome::Revoked,
                format!(
                    "certification {number} was revoked on {} ({})",
                    rev.date,
                    rev.reason.name()
                ),
            ));
        }
        if let Some(m) = maker.as_deref() {
            if !self.maker_matches(cert, m) {
                let en = if english.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", english.join(" / "))
                };
                problems.push((
                    Outcome::MakerMismatch,
                    format!(
                        "the listing says manufacturer {} but certification {number} is of {:?}{en}",
                        shown(listing.manufacturer.unwrap_or("")),
                        claim.manufacturer
                    ),
                ));
            }
        }
        if let Some(m) = model.as_deref() {
            if model_key(&claim.model) != m {
                problems.push((
                    Outcome::ModelMismatch,
                    format!(
                        "the listing says model {} but certification {number} is for {:?}",
                        shown(listing.model.unwrap_or("")),
                        claim.model
                    ),
                ));
            }
        }
        if let Some(t) = tier.filter(|t| *t > claim.tier) {
            problems.push((
                Outcome::TierOverclaimed,
                format!(
                    "the listing claims {} stars but certification {number} has {}",
                    t.stars(),
                    claim.tier.stars()
                ),
            ));
        }
        match cert.verdict() {
            Verdict::Expired => problems.push((
                Outcome::Expired,
                format!("certification {number} expired after {}", claim.valid_until),
            )),
            Verdict::NotYetValid => problems.push((
                Outcome::NotYetValid,
                format!(
                    "certification {number} is valid only from {}",
                    claim.valid_from
                ),
            )),
            _ => {}
        }
        if v.stale {
            let why = if v.rollback {
                "the revocation list offered is older than one seen before (a rollback) and was ignored"
            } else if v.revocation_sequence.is_none() {
                "there is no revocation list"
            } else {
                "the revocation list is past its next update"
            };
            problems.push((
                Outcome::StaleData,
                format!("{why}: whether certification {number} was revoked since is unknown"),
            ));
        }
        let mut sentences: Vec<String> = Vec::with_capacity(problems.len() + 2);
        match problems.first() {
            None => {
                r.result = Outcome::Ok;
                sentences.push(format!(
                    "matches certification {number}, valid until {}",
                    claim.valid_until
                ));
            }
            Some((first, _)) => {
                r.result = *first;
                r.also = problems.iter().skip(1).map(|(o, _)| *o).collect();
            }
        }
        sentences.extend(problems.into_iter().map(|(_, s)| s));
        sentences.extend(found.note);
        r.reason = sentences.join("; ");
        r
    }
}

fn not_found_identity(mut r: RowResult, listing: &Listing<'_>) -> RowResult {
    r.result = Outcome::NotFound;
    r.reason = format!(
        "no verified certification of manufacturer {} for model {}",
        shown(listing.manufacturer.unwrap_or("")),
        shown(listing.model.unwrap_or(""))
    );
    r
}

/// The site a label link leads to, as [`site_of`] writes it: the part of an absolute URL before
/// its `#`, without a trailing `/verify...`. `None` for digits alone or a relative link.
fn label_site(label: &str) -> Option<String> {
    let (before, _) = label.split_once('#')?;
    if !before.contains("://") {
        return None;
    }
    let base = match before.rfind("/verify") {
        Some(i) => &before[..i],
        None => before,
    };
    Some(site_of(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_sites() {
        assert_eq!(
            label_site("https://Label.Example.cn/verify/#123").as_deref(),
            Some("label.example.cn")
        );
        assert_eq!(
            label_site("http://x.cn/reg/verify/index.html#1").as_deref(),
            Some("x.cn/reg")
        );
        assert_eq!(label_site("#123"), None);
        assert_eq!(label_site("123"), None);
        assert_eq!(label_site("/verify/#123"), None);
    }

    #[test]
    fn long_values_are_cut_and_escaped() {
        let long = "x".repeat(200);
        let s = shown(&long);
        assert_eq!(s.chars().count(), SHOWN + 3);
        assert!(s.ends_with('…'));
        assert_eq!(shown("a\"b\n"), r#""a\"b\n""#);
    }
}
