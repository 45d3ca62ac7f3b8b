//! The signed lists the site publishes: the trust list under the root key, the revocation list
//! under the trust list and its freshness, and both against the log (the served list must be the
//! newest of its kind that the log holds).

use anyhow::Result;
use serde::Serialize;
use sha2::{Digest, Sha256};
use starmark_core::log::merkle::Hash;
use starmark_core::{to_hex, Day, PublicKey, RevocationList, TrustList};

use super::log::Outcome as Log;
use super::target::Target;
use super::{Check, Finding};

/// Where the site publishes its trust list.
pub const TRUST_LIST_PATH: &str = "api/v1/trust-list.bin";
/// Where the site publishes its revocation list.
pub const REVOCATION_LIST_PATH: &str = "api/v1/revocation-list.bin";
/// The largest trust list read.
const MAX_TRUST_LIST: usize = 1 << 20;
/// The largest revocation list read.
const MAX_REVOCATION_LIST: usize = 64 << 20;

/// The trust list, verified under the root key.
pub struct TrustSeen {
    /// The list.
    pub list: TrustList,
    /// SHA-256 of its signed bytes.
    pub sha256: Hash,
}

/// The revocation list, verified under the trust list.
pub struct RevocationSeen {
    /// The list.
    pub list: RevocationList,
    /// SHA-256 of its signed bytes.
    pub sha256: Hash,
}

/// What the lists check saw.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// The trust list's sequence, when it verified.
    pub trust_list_sequence: Option<u64>,
    /// Its issuer keys.
    pub issuer_keys: usize,
    /// Its log keys.
    pub log_keys: usize,
    /// The revocation list's sequence, when it verified.
    pub revocation_list_sequence: Option<u64>,
    /// Certifications it revokes.
    pub revoked: usize,
    /// Its issue day.
    pub revocation_issued: Option<String>,
    /// Its next-update day.
    pub revocation_next_update: Option<String>,
    /// Whether its next update is still ahead.
    pub fresh: bool,
}

impl Summary {
    /// The summary of what was read.
    pub fn of(trust: Option<&TrustSeen>, revocation: Option<&RevocationSeen>, at: u64) -> Summary {
        let mut s = Summary::default();
        if let Some(t) = trust {
            s.trust_list_sequence = Some(t.list.sequence);
            s.issuer_keys = t.list.issuers.len();
            s.log_keys = t.list.log_keys.len();
        }
        if let Some(r) = revocation {
            s.revocation_list_sequence = Some(r.list.sequence);
            s.revoked = r.list.entries.len();
            s.revocation_issued = Some(Day::from_unix(r.list.issued_at).to_string());
            s.revocation_next_update = Some(Day::from_unix(r.list.next_update).to_string());
            s.fresh = at <= r.list.next_update;
        }
        s
    }
}

/// Reads `path`: a missing or unreadable file is a finding, `None`.
fn read(
    target: &dyn Target,
    path: &str,
    max: usize,
    problems: &mut Vec<Finding>,
) -> Option<Vec<u8>> {
    match target.read(path, max) {
        Ok(Some(b)) => Some(b),
        Ok(None) => {
            problems.push(Finding::at(
                Check::Lists,
                "missing",
                path,
                format!("{path}: missing"),
            ));
            None
        }
        Err(e) => {
            problems.push(Finding::at(
                Check::Lists,
                "unreadable",
                path,
                format!("{e:#}"),
            ));
            None
        }
    }
}

/// The site's trust list, verified under `root`; a missing or refused list is a finding.
pub fn trust(
    target: &dyn Target,
    root: &PublicKey,
    problems: &mut Vec<Finding>,
) -> Result<Option<TrustSeen>> {
    let Some(bytes) = read(target, TRUST_LIST_PATH, MAX_TRUST_LIST, problems) else {
        return Ok(None);
    };
    match TrustList::decode_verified(&bytes, root) {
        Ok(list) => Ok(Some(TrustSeen {
            list,
            sha256: Sha256::digest(&bytes).into(),
        })),
        Err(e) => {
            problems.push(Finding::at(
                Check::Lists,
                "trust_list_refused",
                TRUST_LIST_PATH,
                format!(
                    "{TRUST_LIST_PATH}: refused under the root key {}: {e}; nothing signed can be checked",
                    to_hex(&root.to_bytes())
                ),
            ));
            Ok(None)
        }
    }
}

/// The site's revocation list, verified under `trust`, and fresh at `at`; each problem is a
/// finding (a stale list is still returned).
pub fn revocation(
    target: &dyn Target,
    trust: &TrustList,
    at: u64,
    problems: &mut Vec<Finding>,
) -> Result<Option<RevocationSeen>> {
    let Some(bytes) = read(target, REVOCATION_LIST_PATH, MAX_REVOCATION_LIST, problems) else {
        return Ok(None);
    };
    let list = match RevocationList::decode_verified(&bytes, trust) {
        Ok(l) => l,
        Err(e) => {
            problems.push(Finding::at(
                Check::Lists,
                "revocation_list_refused",
                REVOCATION_LIST_PATH,
                format!("{REVOCATION_LIST_PATH}: refused: {e}"),
            ));
            return Ok(None);
        }
    };
    if at > list.next_update {
        problems.push(Finding::at(
            Check::Lists,
            "stale",
            REVOCATION_LIST_PATH,
            format!(
                "{REVOCATION_LIST_PATH}: stale: revocation list #{} was due for an update on {} (checked at {})",
                list.sequence,
                Day::from_unix(list.next_update),
                Day::from_unix(at)
            ),
        ));
    }
    Ok(Some(RevocationSeen {
        list,
        sha256: Sha256::digest(&bytes).into(),
    }))
}

/// Each served list must be the newest list of its kind in the log: an older one (a rollback)
/// or one the log does not hold is a finding. Only when every entry of the log was read.
pub fn against_log(
    trust: Option<&TrustSeen>,
    revocation: Option<&RevocationSeen>,
    log: &Log,
    problems: &mut Vec<Finding>,
) {
    if !log.entries_complete {
        return;
    }
    if let Some(t) = trust {
        compare(
            "trust list",
            TRUST_LIST_PATH,
            t.list.sequence,
            &t.sha256,
            &log.trust_lists,
            problems,
        );
    }
    if let Some(r) = revocation {
        compare(
            "revocation list",
            REVOCATION_LIST_PATH,
            r.list.sequence,
            &r.sha256,
            &log.revocation_lists,
            problems,
        );
    }
}

/// `entries`: (log index, sequence, SHA-256) of every list of this kind in the log, in order.
fn compare(
    what: &str,
    path: &str,
    sequence: u64,
    sha256: &Hash,
    entries: &[(u64, u64, Hash)],
    problems: &mut Vec<Finding>,
) {
    let newest = entries.iter().max_by_key(|(i, seq, _)| (*seq, *i));
    let logged = entries.iter().find(|(_, _, h)| h == sha256);
    let (kind, message) = match (logged, newest) {
        (_, None) => (
            "not_in_log",
            format!("{path}: {what} #{sequence} is served, but the log holds no {what}"),
        ),
        (None, Some(_)) => (
            "not_in_log",
            format!("{path}: {what} #{sequence} (SHA-256 {}) is in no entry of the log", to_hex(sha256)),
        ),
        (Some((i, _, _)), Some((j, newest_seq, _))) if *newest_seq > sequence => (
            "older_list",
            format!(
                "{path}: older {what}: #{sequence} (log entry {i}) is served, but the log holds #{newest_seq} (log entry {j})"
            ),
        ),
        (Some((i, _, _)), Some((j, _, newest_hash))) if newest_hash != sha256 => (
            "not_newest",
            format!(
                "{path}: {what} #{sequence} of log entry {i} is served, but log entry {j} holds a later list of that sequence"
            ),
        ),
        (Some(_), Some(_)) => return,
    };
    problems.push(Finding::at(Check::Lists, kind, path, message));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sequence: u64, sha256: &Hash, entries: &[(u64, u64, Hash)]) -> Vec<&'static str> {
        let mut problems = Vec::new();
        compare(
            "trust list",
            TRUST_LIST_PATH,
            sequence,
            sha256,
            entries,
            &mut problems,
        );
        problems.iter().map(|p| p.kind).collect()
    }

    #[test]
    fn the_served_list_must_be_the_newest_the_log_holds() {
        let (a, b, c) = ([1; 32], [2; 32], [3; 32]);
        let log = [(0, 1, a), (5, 2, b)];
        assert!(kinds(2, &b, &log).is_empty());
        assert_eq!(kinds(1, &a, &log), ["older_list"]);
        assert_eq!(kinds(3, &c, &log), ["not_in_log"]);
        assert_eq!(kinds(1, &a, &[]), ["not_in_log"]);
        // Two lists of one sequence (a command run again after a crash): the later one counts.
        assert_eq!(kinds(2, &b, &[(0, 2, b), (7, 2, c)]), ["not_newest"]);
        assert!(kinds(2, &c, &[(0, 2, b), (7, 2, c)]).is_empty());
    }
}
