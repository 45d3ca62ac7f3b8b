//! The transparency log under `log/` of the site: the checkpoint, the tiles and the entry
//! bundles of the registry's log (`REGISTRY/log/`, see `crate::log`), byte for byte, after the
//! whole log verified. No secret key is needed: the log is signed when it is appended to. Beside
//! it, `api/v1/witnesses.json` says which known witnesses cosigned the checkpoint.

use anyhow::{Context, Result};
use starmark_core::log::WitnessKey;

use super::{key_of, Job};
use crate::log::Published;
use crate::witness::WITNESSES_PATH;

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

/// The job that writes `api/v1/witnesses.json`: which known witnesses (`[[witness]]`) cosigned
/// the published checkpoint. A cosignature of a known witness that does not verify stops the
/// build, naming it.
pub fn witnesses_job<'a>(log: &Published, keys: &[WitnessKey]) -> Result<Job<'a>> {
    let status = crate::witness::published(&log.checkpoint.checkpoint, &log.checkpoint.note, keys)
        .with_context(|| {
            format!("{SITE_DIR}/{}: a known witness's cosignature is refused (remove its line, or add it again with `starmark witness add`)", crate::log::CHECKPOINT)
        })?;
    let mut bytes = serde_json::to_vec_pretty(&status)?;
    bytes.push(b'\n');
    Ok(Job::named(
        WITNESSES_PATH,
        key_of(&[b"witnesses", &bytes]),
        vec![WITNESSES_PATH.to_string()],
        Box::new(move || Ok(vec![bytes.clone()])),
    ))
}
