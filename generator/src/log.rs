//! The registry's transparency log on disk, `REGISTRY/log/`: its checkpoint, tiles and entry
//! bundles in the C2SP tlog-tiles layout (the formats are `starmark_core::log`).
//!
//! `init` makes it, `sign`, `revoke` and `trust` append to it (while they hold the registry
//! lock), `log backfill` makes it for a registry made before it, `log verify` recomputes it and
//! `build` publishes it (verified, needing no secret key).
//!
//! Crash safety: an append reads the checkpoint and the right edge only, writes every new tile
//! and bundle (new names: a tile's or bundle's width is in its name), then replaces the
//! checkpoint atomically, and only then removes the partial files of the previous tree. Killed at
//! any point, the log is the previous tree or the new one, each whole. An entry is appended
//! before the file it logs is written, so nothing is published that the log misses; a crash
//! between the two leaves an entry whose file was never written, and the command run again
//! appends it again.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use starmark_core::log::{
    check_log, origin_of, sign_checkpoint, verify_checkpoint, Appender, Checkpoint, Entry,
    LogFiles, Problem, Update, VerifiedCheckpoint,
};
use starmark_core::{SecretKey, TrustList};

use crate::fsutil;
use crate::registry::{Registry, LOG_DIR};
use crate::time;

/// The checkpoint's file name in the log directory.
pub const CHECKPOINT: &str = "checkpoint";

/// A log directory, as the core reads a log.
pub struct Dir {
    root: PathBuf,
}

impl Dir {
    /// The log in directory `root`.
    pub fn new(root: &Path) -> Dir {
        Dir {
            root: root.to_path_buf(),
        }
    }
}

impl LogFiles for Dir {
    type Error = anyhow::Error;

    fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>> {
        let full = self.root.join(path);
        match fs::read(&full) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("{}: cannot read", full.display())),
        }
    }
}

/// The log directory of a registry.
pub fn dir(reg: &Registry) -> PathBuf {
    reg.path(LOG_DIR)
}

/// Whether the registry has a log.
pub fn exists(reg: &Registry) -> bool {
    fs::symlink_metadata(dir(reg)).is_ok()
}

/// What to tell the user of a registry without a log.
pub fn missing_hint(reg: &Registry) -> String {
    format!(
        "{}: no transparency log; make it with `starmark log backfill` (after adding a log key: see `starmark log --help`)",
        dir(reg).display()
    )
}

/// Reads the checkpoint and verifies it under `trust`'s log keys.
pub fn checkpoint(reg: &Registry, trust: &TrustList) -> Result<VerifiedCheckpoint> {
    let path = dir(reg).join(CHECKPOINT);
    let text = fsutil::read_text(&path)?;
    verify_checkpoint(&text, trust, None)
        .with_context(|| format!("{}: checkpoint refused", path.display()))
}

/// The log secret key, checked against `trust`: a log key of the list, not compromised, and
/// today within its dates.
fn signer(reg: &Registry, trust: &TrustList) -> Result<SecretKey> {
    let key = reg.log_secret()?;
    let id = key.public_key().key_id();
    let Some(entry) = trust.log_key(id) else {
        bail!(
            "the log key {id} is not a log key of the trust list; add it with `starmark trust add KEY.pub --purpose log --name NAME`"
        );
    };
    if let Some(since) = entry.compromised_since {
        bail!("the log key {id} is marked compromised since {since}: add a new log key and set [keys] log_secret to it");
    }
    let today = time::today();
    if today < entry.valid_from || today > entry.valid_until {
        bail!(
            "the log key {id} may sign from {} to {}, not today ({today}): add a new log key and set [keys] log_secret to it",
            entry.valid_from,
            entry.valid_until
        );
    }
    Ok(key)
}

/// What an append did.
#[derive(Debug, Clone, Copy)]
pub struct Appended {
    /// The size before.
    pub from: u64,
    /// The size after.
    pub to: u64,
}

impl std::fmt::Display for Appended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.to - self.from;
        write!(
            f,
            "transparency log: {n} entr{} appended, {} in all",
            if n == 1 { "y" } else { "ies" },
            self.to
        )
    }
}

/// Appends `entries` to the registry's log, signed so that the new checkpoint verifies under
/// `next` (the trust list the registry publishes after this command); the current checkpoint is
/// verified under `current` (the list it was signed under). A registry without a log gets a
/// warning and `None`. The caller holds the registry lock.
pub fn append(
    reg: &Registry,
    current: &TrustList,
    next: &TrustList,
    entries: &[Entry],
) -> Result<Option<Appended>> {
    if !exists(reg) {
        errln!("starmark: warning: {}", missing_hint(reg));
        return Ok(None);
    }
    let started = Instant::now();
    let key = signer(reg, next)?;
    let root = dir(reg);
    let old = checkpoint(reg, current)?.checkpoint;
    let mut files = Dir::new(&root);
    let mut appender = Appender::load(&mut files, old.size, &old.root).with_context(|| {
        format!(
            "{}: cannot append (run `starmark log verify`)",
            root.display()
        )
    })?;
    for e in entries {
        appender.append(e.encode())?;
    }
    let update = appender.finish()?;
    let new = Checkpoint {
        origin: old.origin.clone(),
        size: update.size,
        root: update.root,
        extensions: Vec::new(),
    };
    write(&root, &update, &sign_checkpoint(&new, &key)?)?;
    if std::env::var_os("STARMARK_TIMINGS").is_some() {
        errln!(
            "[log] appended {} entr{} to a log of {} in {:.1} ms",
            entries.len(),
            if entries.len() == 1 { "y" } else { "ies" },
            old.size,
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    Ok(Some(Appended {
        from: old.size,
        to: update.size,
    }))
}

/// Writes an update into the log at `root`: the new files, then the checkpoint, then removes
/// the previous tree's partial files (and any a crashed append left beside the current ones).
fn write(root: &Path, update: &Update, checkpoint: &str) -> Result<()> {
    for (path, bytes) in &update.files {
        let full = root.join(path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("{}: cannot create", parent.display()))?;
        }
        fsutil::write_atomic(&full, bytes)?;
    }
    fsutil::write_atomic(&root.join(CHECKPOINT), checkpoint.as_bytes())?;
    for path in &update.stale {
        let full = root.join(path);
        remove_if_there(&full)?;
        if let Some(parent) = full.parent() {
            // `<N>.p/` once its last partial file is gone.
            let _ = fs::remove_dir(parent);
        }
    }
    sweep(root, update)
}

/// Removes what an append killed before its checkpoint left in the directories this update
/// wrote to: partial files of other widths beside the current ones, which no checkpoint uses,
/// and temporary files of interrupted writes.
fn sweep(root: &Path, update: &Update) -> Result<()> {
    use starmark_core::log::{BundleId, TileId};
    use std::collections::BTreeSet;
    let current: BTreeSet<PathBuf> = TileId::partial(update.size)
        .map(|t| t.path())
        .chain(BundleId::partial(update.size).map(|b| b.path()))
        .map(|p| root.join(p))
        .collect();
    let dirs: BTreeSet<PathBuf> = current
        .iter()
        .cloned()
        .chain(update.files.iter().map(|(p, _)| root.join(p)))
        .chain(std::iter::once(root.join(CHECKPOINT)))
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    // The partial files of the last full tile of each level (and of the last full bundle), left
    // when an append was killed after its checkpoint, before it removed them.
    let mut last_full: Vec<String> = Vec::new();
    for level in 0..=starmark_core::log::tile::MAX_LEVEL {
        let count = update.size >> (u32::from(level) * 8);
        if count >= 256 {
            last_full.push(
                TileId {
                    level,
                    index: count / 256 - 1,
                    width: 256,
                }
                .path(),
            );
        }
    }
    if update.size >= 256 {
        last_full.push(
            BundleId {
                index: update.size / 256 - 1,
                width: 256,
            }
            .path(),
        );
    }
    for path in last_full {
        let dir = root.join(format!("{path}.p"));
        if fs::symlink_metadata(&dir).is_ok() {
            fs::remove_dir_all(&dir)
                .with_context(|| format!("{}: cannot remove", dir.display()))?;
        }
    }
    for dir in dirs {
        let Ok(listing) = fs::read_dir(&dir) else {
            continue;
        };
        let partial_dir = dir.extension().is_some_and(|e| e == "p");
        for e in listing.filter_map(|e| e.ok()) {
            let p = e.path();
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            let temporary = name.starts_with('.') && name.contains(".tmp-");
            let other_width =
                partial_dir && name.bytes().all(|b| b.is_ascii_digit()) && !current.contains(&p);
            if temporary || other_width {
                remove_if_there(&p)?;
            }
        }
    }
    Ok(())
}

/// Removes a file; a missing one is fine.
fn remove_if_there(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("{}: cannot remove", path.display()))
        }
        _ => Ok(()),
    }
}

/// Makes the log of `entries` in `REGISTRY/log/` (which must not exist): written into
/// `REGISTRY/.log.new/`, then renamed into place, so a killed run leaves no log at all (and the
/// next run starts again). The origin is the one of the registry's base URL.
pub fn create(reg: &Registry, trust: &TrustList, entries: &[Entry]) -> Result<Checkpoint> {
    let root = dir(reg);
    if exists(reg) {
        bail!(
            "{}: the registry has a log already; `sign`, `revoke` and `trust` append to it (check it with `starmark log verify`)",
            root.display()
        );
    }
    let key = signer(reg, trust)?;
    let origin = origin_of(&reg.config.base_url).with_context(|| {
        format!(
            "{}: field base_url: cannot name the log",
            reg.path(crate::registry::CONFIG_FILE).display()
        )
    })?;
    let mut appender = Appender::new();
    for e in entries {
        appender.append(e.encode())?;
    }
    let update = appender.finish()?;
    let checkpoint = Checkpoint {
        origin,
        size: update.size,
        root: update.root,
        extensions: Vec::new(),
    };
    let tmp = reg.path(".log.new");
    if fs::symlink_metadata(&tmp).is_ok() {
        fs::remove_dir_all(&tmp).with_context(|| format!("{}: cannot remove", tmp.display()))?;
    }
    fs::create_dir_all(&tmp).with_context(|| format!("{}: cannot create", tmp.display()))?;
    write(&tmp, &update, &sign_checkpoint(&checkpoint, &key)?)?;
    fs::rename(&tmp, &root)
        .with_context(|| format!("{}: cannot rename to {}", tmp.display(), root.display()))?;
    Ok(checkpoint)
}

/// What `log verify` found.
pub struct Report {
    /// The verified checkpoint.
    pub checkpoint: VerifiedCheckpoint,
    /// Entries by kind: claims, revocation lists, trust lists.
    pub claims: u64,
    /// Revocation list entries.
    pub revocation_lists: u64,
    /// Trust list entries.
    pub trust_lists: u64,
    /// What is wrong, none when the log is whole.
    pub problems: Vec<Problem>,
}

/// Verifies the checkpoint under `trust`, then recomputes the whole tree from the entry
/// bundles and compares it with every tile and the checkpoint.
pub fn verify(reg: &Registry, trust: &TrustList) -> Result<Report> {
    let checkpoint = checkpoint(reg, trust)?;
    let (mut claims, mut revocation_lists, mut trust_lists) = (0, 0, 0);
    let cp = &checkpoint.checkpoint;
    let problems = check_log(
        &mut Dir::new(&dir(reg)),
        cp.size,
        &cp.root,
        |_, e| match e {
            Entry::Claim(_) => claims += 1,
            Entry::RevocationList { .. } => revocation_lists += 1,
            Entry::TrustList { .. } => trust_lists += 1,
        },
    )?;
    Ok(Report {
        checkpoint,
        claims,
        revocation_lists,
        trust_lists,
        problems,
    })
}

/// A log verified for publishing: every file the checkpoint's tree uses.
pub struct Published {
    /// The verified checkpoint.
    pub checkpoint: VerifiedCheckpoint,
    /// (path relative to the log, bytes): the checkpoint, the tiles and the bundles.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Remembers every file read, for publishing exactly what was verified.
struct Recording {
    dir: Dir,
    read: Vec<(String, Vec<u8>)>,
}

impl LogFiles for Recording {
    type Error = anyhow::Error;

    fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>> {
        let bytes = self.dir.read(path)?;
        if let Some(b) = &bytes {
            self.read.push((path.to_string(), b.clone()));
        }
        Ok(bytes)
    }
}

/// The registry's log for `build`, verified whole (checkpoint under `trust`, every tile and
/// bundle recomputed); `None` when the registry has none. A log with any problem is refused,
/// listing every one.
pub fn published(reg: &Registry, trust: &TrustList) -> Result<Option<Published>> {
    if !exists(reg) {
        return Ok(None);
    }
    let root = dir(reg);
    let path = root.join(CHECKPOINT);
    let text = fsutil::read_text(&path)?;
    let checkpoint = verify_checkpoint(&text, trust, None)
        .with_context(|| format!("{}: checkpoint refused", path.display()))?;
    let cp = &checkpoint.checkpoint;
    let mut files = Recording {
        dir: Dir::new(&root),
        read: Vec::new(),
    };
    let problems = check_log(&mut files, cp.size, &cp.root, |_, _| {})?;
    if !problems.is_empty() {
        bail!(
            "{}: the transparency log does not verify ({} problem{}); nothing was written:\n  {}\n(`starmark log verify` checks it)",
            root.display(),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
    let mut published = vec![(CHECKPOINT.to_string(), text.into_bytes())];
    published.extend(files.read);
    Ok(Some(Published {
        checkpoint,
        files: published,
    }))
}
