//! What `audit` reads: a published site, by paths relative to its root, from a directory or over
//! HTTP(S) (`crate::source`, shared with `mirror`).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use starmark_core::log::LogFiles;
use starmark_core::manifest::FileMeta;

use crate::manifest::{hash_file, list_files, Listing};
use crate::source::{Limits, Site};

/// A published site being audited. Reads never follow a path outside the site; a file that is
/// not there is `None`, an error is a file that is there but cannot be read (or is too large).
pub trait Target: Sync {
    /// What the target is, for messages (a directory or a URL).
    fn describe(&self) -> String;

    /// The bytes of the file at `path`, at most `max` bytes (a larger file is an error).
    fn read(&self, path: &str, max: usize) -> Result<Option<Vec<u8>>>;

    /// The size and SHA-256 of the file at `path`, which is expected to be at most `max` bytes
    /// (a larger file is an error over HTTP, where it is cut off; a local file is hashed whole).
    fn hash(&self, path: &str, max: u64) -> Result<Option<FileMeta>>;

    /// Every file present, when the target can be listed (a directory); `None` when it cannot
    /// (a web server), then only the files the manifest names are looked at.
    fn list(&self) -> Result<Option<Listing>>;
}

/// A site in a local directory (a build's output or a mirror).
pub struct DirTarget {
    root: PathBuf,
}

impl DirTarget {
    /// The site in `root`, which must be a directory.
    pub fn open(root: &Path) -> Result<DirTarget> {
        if !root.is_dir() {
            bail!("{}: not a directory", root.display());
        }
        Ok(DirTarget {
            root: root.to_path_buf(),
        })
    }

    /// The file at `path` when it is a regular file (a symbolic link or anything else is not a
    /// file of a site: `list` names it, `read` does not follow it).
    fn regular(&self, path: &str) -> Result<Option<PathBuf>> {
        let full = self.root.join(path);
        match fs::symlink_metadata(&full) {
            Ok(m) if m.is_file() => Ok(Some(full)),
            Ok(_) => Ok(None),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e).with_context(|| format!("{}: cannot read", full.display())),
        }
    }
}

impl Target for DirTarget {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn read(&self, path: &str, max: usize) -> Result<Option<Vec<u8>>> {
        let Some(full) = self.regular(path)? else {
            return Ok(None);
        };
        let file =
            fs::File::open(&full).with_context(|| format!("{}: cannot read", full.display()))?;
        let mut bytes = Vec::new();
        file.take(max as u64 + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("{}: cannot read", full.display()))?;
        if bytes.len() > max {
            bail!("{path}: larger than {max} bytes");
        }
        Ok(Some(bytes))
    }

    fn hash(&self, path: &str, _max: u64) -> Result<Option<FileMeta>> {
        match self.regular(path)? {
            Some(full) => hash_file(&full).map(Some),
            None => Ok(None),
        }
    }

    fn list(&self) -> Result<Option<Listing>> {
        list_files(&self.root, &[]).map(Some)
    }
}

/// A site over HTTP(S) (`crate::source`: size caps, timeouts, same-origin redirects). It cannot
/// be listed: only the files the manifest names are looked at.
pub struct UrlTarget {
    site: Site,
}

impl UrlTarget {
    fn get(&self, path: &str, max: u64) -> Result<Option<Vec<u8>>> {
        match self.site.get(path, max, "the size the audit expects") {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

impl Target for UrlTarget {
    fn describe(&self) -> String {
        self.site.name()
    }

    fn read(&self, path: &str, max: usize) -> Result<Option<Vec<u8>>> {
        self.get(path, max as u64)
    }

    fn hash(&self, path: &str, max: u64) -> Result<Option<FileMeta>> {
        Ok(self.get(path, max)?.map(|b| FileMeta::of(&b)))
    }

    fn list(&self) -> Result<Option<Listing>> {
        Ok(None)
    }
}

/// Opens TARGET: an `http://` or `https://` URL of a site's root (timeouts from
/// `STARMARK_HTTP_TIMEOUT`), or a directory.
pub fn open(target: &str) -> Result<Box<dyn Target>> {
    match Site::open(target, Limits::from_env()?)? {
        Site::Dir(dir) => Ok(Box::new(DirTarget::open(&dir)?)),
        site @ Site::Http(_) => Ok(Box::new(UrlTarget { site })),
    }
}

/// The largest tile or entry bundle read (a bundle holds at most 256 entries of at most 65,535
/// bytes, each with a 2-byte length).
pub const MAX_LOG_FILE: usize = 256 * (2 + 65_535);

/// The log under `log/` of a target, as the core reads a log.
pub struct TargetLog<'a> {
    /// The site.
    pub target: &'a dyn Target,
}

impl LogFiles for TargetLog<'_> {
    type Error = anyhow::Error;

    fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>> {
        self.target.read(&format!("log/{path}"), MAX_LOG_FILE)
    }
}
