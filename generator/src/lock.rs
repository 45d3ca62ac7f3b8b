//! One writer at a time: an advisory lock on a registry (held by `build`, `serve` while it
//! rebuilds, `sign`, `revoke` and `trust`) and on a build's output directory.
//!
//! The lock is the operating system's file lock (`flock`) on a small file that also names the
//! holder's process id and command. The system releases it when the holder exits in any way,
//! kill -9 included, so a lock file left by a dead process is simply taken over.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::{Context, Result};

/// The lock file of a registry, relative to the registry directory.
pub const REGISTRY_LOCK_FILE: &str = ".starmark.lock";

/// A held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct Lock {
    file: File,
}

/// Another process holds the lock. Callers that can retry later (`serve`) look for this error.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {what} is in use by another starmark process ({holder}); wait for it to finish, or stop it")]
pub struct Busy {
    /// The lock file.
    pub path: String,
    /// What is locked: "the registry" or "the output directory".
    pub what: &'static str,
    /// The holder as its lock file names it, e.g. `pid 1234 (build)`.
    pub holder: String,
}

impl Lock {
    /// Takes the lock of the registry in `dir` for `command`, or fails at once naming the holder.
    pub fn registry(dir: &Path, command: &str) -> Result<Lock> {
        Lock::take(&dir.join(REGISTRY_LOCK_FILE), "the registry", command)
    }

    /// Takes the lock of the output directory `out` (a file `.<name>.lock` beside it), or fails
    /// at once naming the holder.
    pub fn output(out: &Path, command: &str) -> Result<Lock> {
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "public".into());
        let path = out.with_file_name(format!(".{name}.lock"));
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("{}: cannot create", parent.display()))?;
        }
        Lock::take(&path, "the output directory", command)
    }

    fn take(path: &Path, what: &'static str, command: &str) -> Result<Lock> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .with_context(|| format!("{}: cannot open the lock file", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(Busy {
                    path: path.display().to_string(),
                    what,
                    holder: if holder.is_empty() {
                        "its pid not yet written".to_string()
                    } else {
                        holder.to_string()
                    },
                }
                .into());
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("{}: cannot lock", path.display()));
            }
        }
        let note = format!("pid {} ({command})\n", std::process::id());
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(note.as_bytes()))
            .with_context(|| format!("{}: cannot write the lock file", path.display()))?;
        Ok(Lock { file })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Clear the holder's name first, so nobody reads a pid that no longer holds it.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Whether an error chain says that a lock was busy.
pub fn is_busy(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<Busy>().is_some())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_first_ones_pid_then_takes_over() {
        let dir = tempfile::tempdir().unwrap();
        let first = Lock::registry(dir.path(), "build").unwrap();
        let e = Lock::registry(dir.path(), "sign").unwrap_err();
        assert!(is_busy(&e));
        let msg = format!("{e:#}");
        assert!(
            msg.contains(&format!("pid {} (build)", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains("the registry is in use"), "{msg}");
        drop(first);
        let _again = Lock::registry(dir.path(), "sign").unwrap();
        let text = std::fs::read_to_string(dir.path().join(REGISTRY_LOCK_FILE)).unwrap();
        assert_eq!(text, format!("pid {} (sign)\n", std::process::id()));
    }

    #[test]
    fn a_lock_file_left_by_a_dead_process_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(REGISTRY_LOCK_FILE), "pid 999999 (build)\n").unwrap();
        let _lock = Lock::registry(dir.path(), "build").unwrap();
        let text = std::fs::read_to_string(dir.path().join(REGISTRY_LOCK_FILE)).unwrap();
        assert!(text.starts_with(&format!("pid {} ", std::process::id())));
    }

    #[test]
    fn output_lock_sits_beside_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("www").join("public");
        let _lock = Lock::output(&out, "build").unwrap();
        assert!(dir.path().join("www").join(".public.lock").is_file());
        assert!(Lock::output(&out, "build").is_err());
    }
}
