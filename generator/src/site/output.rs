//! Writing a build so that the published output survives any crash. The output directory
//! (`public`) has a spare beside it (`.public.spare`), holding the generation before it. A build
//! writes only into the spare: an incremental build brings it up to date (files that changed
//! since it was published are linked from `public` or rendered), a full build empties it first.
//! Then the two directories are exchanged in one `rename` step. At every moment, a kill -9
//! included, `public` is a whole site, the previous one or the new one, and a web server reading
//! it never sees a mix. Each generation's state (one content key per job) lives in the
//! registry's `.starmark-cache/`, found by the directory's identity; a build forgets the spare's
//! state before it touches the spare, so a killed build's spare is redone, never trusted.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::lang_path;
use super::theme::LANGS;

/// Version of the state file and of everything that decides output bytes besides the inputs.
pub const STATE_VERSION: u32 = 5;

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

/// What a build wrote into one generation directory: per job, its key, and the files of named
/// jobs. Each of the two generations (the published output and its spare) has its own state,
/// found by the directory's identity (device, inode, birth time), which a swap does not change.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// [`STATE_VERSION`].
    pub version: u32,
    /// The output path (absolute) of the build that wrote the generation.
    pub out: PathBuf,
    /// The identity of the generation directory the state describes.
    pub dir: DirId,
    /// The theme and configuration key of that build.
    pub global: [u8; 16],
    /// Job -> (key, files of a named job; empty for derived ones).
    pub jobs: foldhash::HashMap<JobId, ([u8; 16], Vec<String>)>,
}

/// Identity of a directory that survives renames and swaps, and that a directory made later in
/// its place does not share (the birth time, where the file system keeps one).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirId {
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// Birth time in nanoseconds since the epoch, 0 where unknown.
    pub born: u128,
}

impl DirId {
    /// The identity of the directory at `path`, `None` when there is none.
    pub fn of(path: &Path) -> Option<DirId> {
        use std::os::unix::fs::MetadataExt;
        let meta = fs::symlink_metadata(path).ok().filter(|m| m.is_dir())?;
        let born = meta
            .created()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Some(DirId {
            dev: meta.dev(),
            ino: meta.ino(),
            born,
        })
    }

    /// The state file of this directory in the cache directory.
    pub fn state_path(&self, cache: &Path) -> PathBuf {
        cache.join(format!(
            "build-state-{:x}-{:x}-{:x}.bin",
            self.dev, self.ino, self.born
        ))
    }
}

impl State {
    /// Reads the state of the generation directory `dir` built for `out`; `None` when missing,
    /// unreadable, of another version or of another output.
    pub fn read(cache: &Path, dir: &Path, out: &Path) -> Option<State> {
        let id = DirId::of(dir)?;
        fs::read(id.state_path(cache))
            .ok()
            .and_then(|b| postcard::from_bytes::<State>(&b).ok())
            .filter(|s| s.version == STATE_VERSION && s.dir == id && s.out == out)
    }

    /// The key of a job in this generation.
    pub fn key(&self, id: &JobId) -> Option<&[u8; 16]> {
        self.jobs.get(id).map(|(k, _)| k)
    }
}

/// One job as the state file records it: id, key, and the files of a named job.
pub type StateEntry<'a> = (&'a JobId, (&'a [u8; 16], &'a [String]));

/// Writes the state of the generation directory `dir` atomically: the same bytes as a [`State`]
/// with these jobs (a map and a list of pairs encode alike), without building the map.
pub fn write_state(
    cache: &Path,
    dir: &Path,
    out: &Path,
    global: &[u8; 16],
    jobs: &[StateEntry<'_>],
) -> Result<()> {
    #[derive(Serialize)]
    struct StateOut<'a> {
        version: u32,
        out: &'a Path,
        dir: DirId,
        global: &'a [u8; 16],
        jobs: &'a [StateEntry<'a>],
    }
    let id = DirId::of(dir).with_context(|| format!("{}: not a directory", dir.display()))?;
    fs::create_dir_all(cache).with_context(|| format!("{}: cannot create", cache.display()))?;
    let state = StateOut {
        version: STATE_VERSION,
        out,
        dir: id,
        global,
        jobs,
    };
    crate::fsutil::write_cache(&id.state_path(cache), &postcard::to_stdvec(&state)?)
}

/// Forgets the state of the generation directory `dir` (before it is changed: a build killed
/// while changing it leaves a directory that no state describes, which the next build redoes).
pub fn forget_state(cache: &Path, dir: &Path) -> Result<()> {
    let Some(id) = DirId::of(dir) else {
        return Ok(());
    };
    remove_if_there(&id.state_path(cache))
}

/// A sibling path of `out` with a suffix, e.g. `public` -> `.public.spare`.
pub fn sibling(out: &Path, what: &str) -> PathBuf {
    out.with_file_name(format!(".{}.{what}", out_name(out)))
}

fn out_name(out: &Path) -> String {
    out.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public".into())
}

/// Writes one file under `root` whose directory exists already. With `replace`, an existing
/// file is unlinked first, never written through: it may be a hard link shared with the other
/// generation.
pub fn put_in(root: &Path, rel: &str, bytes: &[u8], replace: bool) -> Result<()> {
    let path = root.join(rel);
    if replace {
        remove_if_there(&path)?;
    }
    fs::write(&path, bytes).with_context(|| format!("{}: cannot write", path.display()))
}

/// Links (or copies) a file of the other generation into `new_root`, whose directory exists
/// already; an existing file there is replaced.
pub fn reuse_in(old_root: &Path, new_root: &Path, rel: &str, replace: bool) -> Result<()> {
    let (from, to) = (old_root.join(rel), new_root.join(rel));
    if replace {
        remove_if_there(&to)?;
    }
    if fs::hard_link(&from, &to).is_err() {
        fs::copy(&from, &to)
            .with_context(|| format!("{}: cannot copy to {}", from.display(), to.display()))?;
    }
    Ok(())
}

/// Removes a file; a missing one is fine.
pub fn remove_if_there(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("{}: cannot remove", path.display()))
        }
        _ => Ok(()),
    }
}

/// Makes `dir` an empty directory.
pub fn clear_dir(dir: &Path) -> Result<()> {
    if fs::symlink_metadata(dir).is_ok() {
        fs::remove_dir_all(dir).with_context(|| format!("{}: cannot remove", dir.display()))?;
    }
    fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))
}

/// Puts things right after a build that was killed, before anything else touches `out`:
/// finishes or undoes a swap that was under way (only where the file system cannot swap two
/// directories in one step), and removes what earlier versions of starmark left behind
/// (`.public.tmp-*`, `.public.staging-*`, `.public.old-*`).
pub fn recover(out: &Path) -> Result<()> {
    let (spare, swapping) = (sibling(out, "spare"), sibling(out, "swap"));
    if fs::symlink_metadata(&swapping).is_ok() {
        if fs::symlink_metadata(out).is_err() {
            rename(&swapping, out)?;
        } else if fs::symlink_metadata(&spare).is_err() {
            rename(&swapping, &spare)?;
        } else {
            fs::remove_dir_all(&swapping)
                .with_context(|| format!("{}: cannot remove", swapping.display()))?;
        }
    }
    let Some(parent) = out.parent() else {
        return Ok(());
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let Ok(listing) = fs::read_dir(parent) else {
        return Ok(());
    };
    let name = out_name(out);
    let leftovers: Vec<PathBuf> = listing
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                ["tmp", "staging", "old"]
                    .iter()
                    .any(|w| n.starts_with(&format!(".{name}.{w}-")))
            })
        })
        .collect();
    // An earlier version killed between its two renames left the previous site aside.
    if fs::symlink_metadata(out).is_err() {
        if let Some(old) = leftovers.iter().find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!(".{name}.old-")))
        }) {
            rename(old, out)?;
        }
    }
    for p in leftovers.iter().filter(|p| fs::symlink_metadata(p).is_ok()) {
        if fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()) {
            fs::remove_dir_all(p)
        } else {
            fs::remove_file(p)
        }
        .with_context(|| {
            format!(
                "{}: cannot remove a leftover of a killed build",
                p.display()
            )
        })?;
    }
    Ok(())
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to)
        .with_context(|| format!("{}: cannot rename to {}", from.display(), to.display()))
}

/// Publishes the finished generation `spare` as `out` in one step: the two directories are
/// exchanged (Linux `renameat2(RENAME_EXCHANGE)`), so a reader of `out` sees the whole previous
/// site or the whole new one, and the previous one becomes the spare. Without `out` yet, `spare`
/// is renamed to it. Where the file system cannot exchange, three renames through `.NAME.swap`,
/// which [`recover`] completes after a crash.
pub fn publish(spare: &Path, out: &Path) -> Result<()> {
    if fs::symlink_metadata(out).is_err() {
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)
                .with_context(|| format!("{}: cannot create", parent.display()))?;
        }
        return rename(spare, out);
    }
    match exchange(spare, out) {
        Ok(()) => Ok(()),
        Err(e)
            if e.raw_os_error()
                .is_some_and(|c| c == 22 || c == 38 || c == 95) =>
        {
            // EINVAL / ENOSYS / EOPNOTSUPP: no exchange on this file system.
            let swapping = sibling(out, "swap");
            rename(out, &swapping)?;
            rename(spare, out)?;
            rename(&swapping, spare)
        }
        Err(e) => Err(e).with_context(|| {
            format!(
                "{}: cannot exchange with {}",
                out.display(),
                spare.display()
            )
        }),
    }
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from_raw_os_error(38))
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
    fn written_state_reads_back_for_its_directory_only() {
        let tmp = tempfile::tempdir().unwrap();
        let (cache, gen, other) = (
            tmp.path().join("cache"),
            tmp.path().join("gen"),
            tmp.path().join("other"),
        );
        fs::create_dir_all(&gen).unwrap();
        fs::create_dir_all(&other).unwrap();
        let (cert, named) = (JobId::Cert(7), JobId::Named("home".into()));
        let files = vec!["index.html".to_string(), "en/index.html".to_string()];
        let jobs = [
            (&cert, (&[1u8; 16], &[][..])),
            (&named, (&[2u8; 16], &files[..])),
        ];
        let out = Path::new("/out");
        write_state(&cache, &gen, out, &[9; 16], &jobs).unwrap();
        let state = State::read(&cache, &gen, out).unwrap();
        assert_eq!(state.version, STATE_VERSION);
        assert_eq!(state.global, [9; 16]);
        assert_eq!(state.jobs.len(), 2);
        assert_eq!(state.jobs[&cert], ([1; 16], Vec::new()));
        assert_eq!(state.jobs[&named], ([2; 16], files));
        assert!(State::read(&cache, &other, out).is_none());
        assert!(State::read(&cache, &gen, Path::new("/elsewhere")).is_none());
        // A directory made in the place of a removed one is not described by its state.
        fs::remove_dir(&gen).unwrap();
        fs::create_dir(&gen).unwrap();
        if DirId::of(&gen).unwrap().born != 0 {
            assert!(State::read(&cache, &gen, out).is_none());
        }
        forget_state(&cache, &other).unwrap();
        for id in [JobId::Cert(7), JobId::Label(7)] {
            assert_eq!(id.derived_count(), id.derived_paths().map(|p| p.len()));
        }
    }

    #[test]
    fn publish_exchanges_the_generations() {
        let tmp = tempfile::tempdir().unwrap();
        let (out, spare) = (tmp.path().join("public"), tmp.path().join(".public.spare"));
        fs::create_dir_all(&spare).unwrap();
        fs::write(spare.join("a"), "1").unwrap();
        publish(&spare, &out).unwrap();
        assert_eq!(fs::read_to_string(out.join("a")).unwrap(), "1");
        fs::create_dir_all(&spare).unwrap();
        fs::write(spare.join("a"), "2").unwrap();
        publish(&spare, &out).unwrap();
        assert_eq!(fs::read_to_string(out.join("a")).unwrap(), "2");
        assert_eq!(fs::read_to_string(spare.join("a")).unwrap(), "1");
    }

    #[test]
    fn recover_finishes_an_interrupted_swap_and_removes_leftovers() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        // Killed after moving the published site aside, before moving the new one in.
        fs::create_dir_all(tmp.path().join(".public.swap")).unwrap();
        fs::write(tmp.path().join(".public.swap/a"), "old").unwrap();
        fs::create_dir_all(tmp.path().join(".public.spare")).unwrap();
        // Left by earlier versions.
        for d in [".public.tmp-12", ".public.staging-13"] {
            fs::create_dir_all(tmp.path().join(d).join("x")).unwrap();
        }
        fs::write(tmp.path().join(".public.old-14"), "").unwrap();
        fs::create_dir_all(tmp.path().join(".publicity.tmp-1")).unwrap();
        recover(&out).unwrap();
        assert_eq!(fs::read_to_string(out.join("a")).unwrap(), "old");
        let mut left: Vec<String> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".public.spare", ".publicity.tmp-1", "public"]);
    }

    #[test]
    fn recover_restores_a_site_an_earlier_version_left_aside() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        fs::create_dir_all(tmp.path().join(".public.old-99")).unwrap();
        fs::write(tmp.path().join(".public.old-99/index.html"), "x").unwrap();
        fs::create_dir_all(tmp.path().join(".public.tmp-99")).unwrap();
        recover(&out).unwrap();
        assert_eq!(fs::read_to_string(out.join("index.html")).unwrap(), "x");
        assert!(!tmp.path().join(".public.tmp-99").exists());
    }
}
