//! Completeness both ways between the site and its log.
//!
//! - Every certification on the site is in the log: its signed claim (the bytes of
//!   `records/<serial>.sig`) is a claim entry, byte for byte.
//! - Every claim in the log is on the site or revoked. A serial signed more than once (a record
//!   changed and re-signed with `sign --force`) counts by its **newest** claim, the last in log
//!   order: the site must serve exactly that one, and the earlier claims of the serial are
//!   *superseded*: they need not be on the site, and a site serving one of them instead of the
//!   newest is named. A serial whose newest claim is not on the site is named unless the served
//!   revocation list revokes it. (A certification that another one `supersedes` by its record is
//!   still a certification of its own, with its own serial: it stays on the site.)

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use starmark_core::SignedClaim;

use super::lists::RevocationSeen;
use super::log::Outcome as Log;
use super::records::SiteClaim;
use super::{Check, Finding};

/// What the completeness check saw.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Whether it ran (it needs every entry of a verified log).
    pub checked: bool,
    /// Certifications on the site whose claim is in the log.
    pub site_in_log: usize,
    /// Serials the log holds claims of.
    pub log_serials: usize,
    /// Of those, on the site with their newest claim.
    pub log_on_site: usize,
    /// Of those, not on the site but revoked.
    pub revoked_not_on_site: usize,
    /// Claims of the log that a later claim of the same serial superseded.
    pub superseded_claims: usize,
}

/// Compares the site's claims with the log's.
pub fn check(
    site: &[SiteClaim],
    log: Option<&Log>,
    revocation: Option<&RevocationSeen>,
    problems: &mut Vec<Finding>,
) -> Summary {
    let Some(log) = log.filter(|l| l.entries_complete) else {
        return Summary::default();
    };
    let mut summary = Summary {
        checked: true,
        ..Summary::default()
    };
    let by_bytes: HashMap<&[u8], u64> =
        log.claims.iter().map(|(i, c)| (c.as_bytes(), *i)).collect();
    let mut newest: BTreeMap<u64, (u64, &SignedClaim)> = BTreeMap::new();
    for (i, c) in &log.claims {
        newest.insert(c.claim().serial, (*i, c));
    }
    summary.log_serials = newest.len();
    summary.superseded_claims = log.claims.len() - newest.len();
    let mut on_site: BTreeMap<u64, &SiteClaim> = BTreeMap::new();
    for s in site {
        let sig = format!("records/{}.sig", s.serial);
        let serial = s.signed.claim().serial;
        on_site.insert(serial, s);
        let Some(index) = by_bytes.get(s.signed.as_bytes()) else {
            problems.push(Finding::at(
                Check::Completeness,
                "not_in_log",
                sig.as_str(),
                format!("{sig}: certification {serial} is on the site but its signed claim is in no entry of the log"),
            ));
            continue;
        };
        summary.site_in_log += 1;
        if let Some((j, latest)) = newest.get(&serial) {
            if latest.as_bytes() != s.signed.as_bytes() {
                problems.push(Finding::at(
                    Check::Completeness,
                    "superseded_on_site",
                    sig.as_str(),
                    format!("{sig}: serves the claim of log entry {index}, which log entry {j} (a later signature of serial {serial}) superseded"),
                ));
            }
        }
    }
    for (serial, (index, latest)) in &newest {
        match on_site.get(serial) {
            Some(s) if s.signed.as_bytes() == latest.as_bytes() => summary.log_on_site += 1,
            Some(_) => {}
            None if revocation.is_some_and(|r| r.list.lookup(*serial).is_some()) => {
                summary.revoked_not_on_site += 1;
            }
            None => problems.push(Finding::new(
                Check::Completeness,
                "not_on_site",
                format!("certification {serial} (log entry {index}) is in the log but not on the site (no records/{serial}.sig) and not revoked"),
            )),
        }
    }
    summary
}
