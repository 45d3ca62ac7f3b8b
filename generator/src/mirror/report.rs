//! What a run of `mirror` reports: why an update was refused ([`Problem`]), and the counts and
//! sizes of what it did ([`Report`]), printed for people or as JSON.

use std::path::PathBuf;

use serde::Serialize;

use crate::source::FetchError;

/// One reason an update was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// The manifest root is missing or damaged, or a listing is.
    Manifest {
        /// Why.
        detail: String,
    },
    /// The manifest is unsigned or its signature is refused.
    Signature {
        /// Why.
        detail: String,
    },
    /// The trust list is refused (signature, rollback, not the manifest's).
    TrustList {
        /// Why.
        detail: String,
    },
    /// The revocation list is refused (signature, rollback).
    RevocationList {
        /// Why.
        detail: String,
    },
    /// The log is refused (checkpoint, fork, shrink, tiles, entries).
    Log {
        /// Why.
        detail: String,
    },
    /// A file the manifest lists is not on the site.
    Missing {
        /// The file.
        path: String,
        /// Where it was looked for.
        detail: String,
    },
    /// A file whose size or SHA-256 is not the manifest's.
    Altered {
        /// The file.
        path: String,
        /// What differs.
        detail: String,
    },
    /// A file that could not be fetched (timeout, connection, status, redirect, size cap).
    Fetch {
        /// The file.
        path: String,
        /// What went wrong, naming the URL.
        detail: String,
    },
    /// A certification whose claim or record is refused.
    Claim {
        /// The file at fault.
        path: String,
        /// Why.
        detail: String,
    },
    /// A certification removed from the site without being revoked.
    DeletedCertification {
        /// Its serial.
        serial: u64,
        /// What is gone.
        detail: String,
    },
    /// A file of the site (a directory) that its manifest does not list.
    Extra {
        /// The file.
        path: String,
    },
    /// A local file of the store that cannot be written.
    Local {
        /// Why.
        detail: String,
    },
}

impl Problem {
    /// A failed fetch of `path`, as a problem.
    pub fn fetch(path: &str, e: FetchError) -> Problem {
        if e.is_not_found() {
            Problem::Missing {
                path: path.to_string(),
                detail: e.to_string(),
            }
        } else {
            Problem::Fetch {
                path: path.to_string(),
                detail: e.to_string(),
            }
        }
    }

    /// The file a problem is about, `""` for none.
    pub fn path(&self) -> &str {
        match self {
            Problem::Missing { path, .. }
            | Problem::Altered { path, .. }
            | Problem::Fetch { path, .. }
            | Problem::Claim { path, .. }
            | Problem::Extra { path } => path,
            _ => "",
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Manifest { detail } => write!(f, "manifest: {detail}"),
            Problem::Signature { detail } => write!(f, "manifest signature: {detail}"),
            Problem::TrustList { detail } => write!(f, "trust list: {detail}"),
            Problem::RevocationList { detail } => write!(f, "revocation list: {detail}"),
            Problem::Log { detail } => write!(f, "log: {detail}"),
            Problem::Missing { path, detail } => write!(f, "missing: {path}: {detail}"),
            Problem::Altered { path, detail } => write!(f, "altered: {path}: {detail}"),
            Problem::Fetch { path, detail } => write!(f, "cannot fetch {path}: {detail}"),
            Problem::Claim { path, detail } => write!(f, "certification: {path}: {detail}"),
            Problem::DeletedCertification { serial, detail } => {
                write!(f, "deleted certification {serial}: {detail}")
            }
            Problem::Extra { path } => write!(f, "extra: {path} (not in the manifest)"),
            Problem::Local { detail } => write!(f, "{detail}"),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The mirror is now the site's new generation.
    Updated,
    /// The site has not changed since the mirror was made.
    UpToDate,
    /// The update was refused; the mirror is as it was.
    Refused,
}

/// A value before and after.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Change {
    /// In the mirror before.
    pub old: Option<u64>,
    /// On the site (and in the mirror, when updated).
    pub new: Option<u64>,
}

/// What a run did, for people and (as JSON) for machines.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The site.
    pub source: String,
    /// The mirror directory.
    pub dir: PathBuf,
    /// How it ended.
    pub status: Status,
    /// SHA-256 of the site's manifest root.
    pub manifest: Option<String>,
    /// The issuer key that signed it.
    pub signed_by: Option<String>,
    /// Files the site's manifest lists.
    pub files: Option<u64>,
    /// Files the mirror already had, unchanged.
    pub unchanged: Option<u64>,
    /// Files added or changed.
    pub changed: u64,
    /// Files removed.
    pub removed: u64,
    /// Files fetched in this run.
    pub files_fetched: u64,
    /// Files an earlier, interrupted or refused run had fetched and verified.
    pub files_resumed: u64,
    /// Manifest listings fetched.
    pub listings_fetched: u64,
    /// Bytes received in all (root, signature, trust list, listings, files).
    pub bytes_fetched: u64,
    /// Entries of the log.
    pub checkpoint: Change,
    /// Sequence of the trust list.
    pub trust_list: Change,
    /// Sequence of the revocation list.
    pub revocation_list: Change,
    /// Wall time.
    pub seconds: f64,
    /// Why the update was refused; empty otherwise. Each with its `message` as printed.
    #[serde(serialize_with = "with_messages")]
    pub problems: Vec<Problem>,
}

/// Problems as JSON: their fields and the line printed for people.
fn with_messages<S: serde::Serializer>(problems: &[Problem], s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Shown<'a> {
        #[serde(flatten)]
        problem: &'a Problem,
        message: String,
    }
    s.collect_seq(problems.iter().map(|problem| Shown {
        problem,
        message: problem.to_string(),
    }))
}
