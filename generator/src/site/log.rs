//! The transparency log under `log/` of the site: the checkpoint, the tiles and the entry
//! bundles of the registry's log (`REGISTRY/log/`, see `crate::log`), byte for byte, after the
//! whole log verified. No secret key is needed: the log is signed when it is appended to.

use super::{key_of, Job};
use crate::log::Published;

/// Where the log is in the site.
pub const SITE_DIR: &str = "log";

/// One job per file of the log, keyed by its path and bytes (a full tile or bundle never
/// changes, so an append renders only the files it changed).
pub fn jobs(log: &Published) -> Vec<Job<'_>> {
    log.files
        .iter()
        .map(|(path, bytes)| {
            let out = format!("{SITE_DIR}/{path}");
            Job::named(
                &out,
                key_of(&[b"log", path.as_bytes(), bytes]),
                vec![out.clone()],
                Box::new(move || Ok(vec![bytes.clone()])),
            )
        })
        .collect()
}
