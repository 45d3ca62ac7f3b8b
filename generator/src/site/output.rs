//! Writing a build: a full build renders into a temporary directory beside the target and swaps it
//! in at the end; an incremental build stages only the changed files in a temporary directory and
//! moves them in at the end. Either way, a build that fails leaves the published output untouched.
//! The build state (one content key per job) lives in the registry's `.starmark-cache/`.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::lang_path;
use super::theme::LANGS;

/// Version of the state file and of everything that decides output bytes besides the inputs.
pub const STATE_VERSION: u32 = 3;

/// Which output a job makes. Certification and label jobs, one each per certification, derive
/// their files from the serial, so the state of 100,000 certifications stays small.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JobId {
    /// A certification's page in every language, its record and signature files, its JSON.
    Cert(u64),
    /// A certification's label, SVG and PNG.
    Label(u64),
    /// Any other output, by name; the state lists its files.
    Named(String),
}

impl JobId {
    /// How many files a certification or label job writes; `None` for a named job.
    pub fn derived_count(&self) -> Option<usize> {
        match self {
            JobId::Cert(_) => Some(LANGS.len() + 3),
            JobId::Label(_) => Some(2),
            JobId::Named(_) => None,
        }
    }

    /// The files of a certification or label job; `None` for a named job.
    pub fn derived_paths(&self) -> Option<Vec<String>> {
        match self {
            JobId::Cert(s) => {
                let mut paths: Vec<String> = LANGS
                    .iter()
                    .map(|l| lang_path(l, &format!("cert/{s}.html")))
                    .collect();
                paths.push(format!("records/{s}.md"));
                paths.push(format!("records/{s}.sig"));
                paths.push(format!("api/v1/certificates/{s}.json"));
                Some(paths)
            }
            JobId::Label(s) => Some(vec![format!("labels/{s}.svg"), format!("labels/{s}.png")]),
            JobId::Named(_) => None,
        }
    }
}

/// What the previous build wrote: per job, its key, and the files of named jobs.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// [`STATE_VERSION`].
    pub version: u32,
    /// The output directory (canonical) the state describes.
    pub out: PathBuf,
    /// The theme and configuration key of that build.
    pub global: [u8; 16],
    /// Job -> (key, files of a named job; empty for derived ones).
    pub jobs: HashMap<JobId, ([u8; 16], Vec<String>)>,
}

impl State {
    /// Reads the state, or an empty one when missing or unreadable (the build is then full).
    pub fn read(path: &Path) -> State {
        fs::read(path)
            .ok()
            .and_then(|b| postcard::from_bytes::<State>(&b).ok())
            .filter(|s| s.version == STATE_VERSION)
            .unwrap_or_default()
    }
}

/// One job as the state file records it: id, key, and the files of a named job.
pub type StateEntry<'a> = (&'a JobId, (&'a [u8; 16], &'a [String]));

/// Writes the state of a build atomically: the same bytes as a [`State`] with these jobs (a map
/// and a list of pairs encode alike), without building the map.
pub fn write_state(
    path: &Path,
    out: &Path,
    global: &[u8; 16],
    jobs: &[StateEntry<'_>],
) -> Result<()> {
    #[derive(Serialize)]
    struct StateOut<'a> {
        version: u32,
        out: &'a Path,
        global: &'a [u8; 16],
        jobs: &'a [StateEntry<'a>],
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    let state = StateOut {
        version: STATE_VERSION,
        out,
        global,
        jobs,
    };
    crate::fsutil::write_cache(path, &postcard::to_stdvec(&state)?)
}

/// A sibling path of `out` with a suffix, e.g. `public` -> `.public.tmp-123`.
pub fn sibling(out: &Path, what: &str) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public".into());
    out.with_file_name(format!(".{name}.{what}-{}", std::process::id()))
}

/// Writes one file under `root` whose directory exists already.
pub fn put_in(root: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
    let path = root.join(rel);
    fs::write(&path, bytes).with_context(|| format!("{}: cannot write", path.display()))
}

/// Links (or copies) an unchanged file of the previous output into the new tree, whose directory
/// exists already.
pub fn reuse_in(old_root: &Path, new_root: &Path, rel: &str) -> Result<()> {
    let (from, to) = (old_root.join(rel), new_root.join(rel));
    if fs::hard_link(&from, &to).is_err() {
        fs::copy(&from, &to)
            .with_context(|| format!("{}: cannot copy to {}", from.display(), to.display()))?;
    }
    Ok(())
}

/// Replaces `out` by the finished tree `tmp`; the old tree is removed afterwards.
pub fn swap_in(tmp: &Path, out: &Path) -> Result<()> {
    if out.exists() {
        let old = sibling(out, "old");
        fs::rename(out, &old)
            .with_context(|| format!("{}: cannot move the previous output aside", out.display()))?;
        fs::rename(tmp, out)
            .with_context(|| format!("{}: cannot move the new output in", out.display()))?;
        fs::remove_dir_all(&old)
            .with_context(|| format!("{}: cannot remove the previous output", old.display()))?;
    } else {
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("{}: cannot create", parent.display()))?;
        }
        fs::rename(tmp, out)
            .with_context(|| format!("{}: cannot move the new output in", out.display()))?;
    }
    Ok(())
}

/// Moves every staged file into `out` (rename per file), then removes `gone` files from `out`.
pub fn apply_staged(staging: &Path, out: &Path, staged: &[String], gone: &[String]) -> Result<()> {
    for rel in staged {
        let to = out.join(rel);
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
        }
        fs::rename(staging.join(rel), &to)
            .with_context(|| format!("{}: cannot replace", to.display()))?;
    }
    for rel in gone {
        let path = out.join(rel);
        if path.exists() {
            fs::remove_file(&path).with_context(|| format!("{}: cannot remove", path.display()))?;
        }
    }
    fs::remove_dir_all(staging).with_context(|| format!("{}: cannot remove", staging.display()))?;
    Ok(())
}

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobId::Cert(s) => write!(f, "cert/{s}"),
            JobId::Label(s) => write!(f, "label/{s}"),
            JobId::Named(n) => f.write_str(n),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn written_state_reads_back() {
        let dir = std::env::temp_dir().join(format!("starmark-state-{}", std::process::id()));
        let path = dir.join("build-state.bin");
        let (cert, named) = (JobId::Cert(7), JobId::Named("home".into()));
        let files = vec!["index.html".to_string(), "en/index.html".to_string()];
        let jobs = [
            (&cert, (&[1u8; 16], &[][..])),
            (&named, (&[2u8; 16], &files[..])),
        ];
        write_state(&path, Path::new("/out"), &[9; 16], &jobs).unwrap();
        let state = State::read(&path);
        assert_eq!(state.version, STATE_VERSION);
        assert_eq!(state.out, PathBuf::from("/out"));
        assert_eq!(state.global, [9; 16]);
        assert_eq!(state.jobs.len(), 2);
        assert_eq!(state.jobs[&cert], ([1; 16], Vec::new()));
        assert_eq!(state.jobs[&named], ([2; 16], files));
        for id in [JobId::Cert(7), JobId::Label(7)] {
            assert_eq!(id.derived_count(), id.derived_paths().map(|p| p.len()));
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
