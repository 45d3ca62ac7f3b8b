//! File writing that never leaves a half-written file: write a temporary file beside the target,
//! then rename it over the target.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Writes `bytes` to `path` atomically (temporary file + rename), mode 0644.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with_mode(path, bytes, 0o644)
}

/// Writes a cache file atomically (complete or not at all, never torn) but without waiting for
/// the disk: a cache lost in a crash only costs work, and readers validate it anyway.
pub fn write_cache(path: &Path, bytes: &[u8]) -> Result<()> {
    write_file(path, bytes, 0o644, false)
}

/// Writes a secret atomically with mode 0600 from the first byte on.
pub fn write_secret(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with_mode(path, bytes, 0o600)
}

fn write_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    write_file(path, bytes, mode, true)
}

fn write_file(path: &Path, bytes: &[u8], mode: u32, sync: bool) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut file =
        open_new(&tmp, mode).with_context(|| format!("{}: cannot create", tmp.display()))?;
    file.write_all(bytes)
        .and_then(|()| if sync { file.sync_all() } else { Ok(()) })
        .with_context(|| format!("{}: cannot write", tmp.display()))?;
    drop(file);
    fs::rename(&tmp, path).with_context(|| format!("{}: cannot replace", path.display()))?;
    Ok(())
}

#[cfg(unix)]
fn open_new(path: &Path, mode: u32) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
}

#[cfg(not(unix))]
fn open_new(path: &Path, _mode: u32) -> std::io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Reads a file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("{}: cannot read", path.display()))
}

/// Reads a UTF-8 file, naming it in the error.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = read(path)?;
    String::from_utf8(bytes).with_context(|| format!("{}: not valid UTF-8", path.display()))
}
