//! Reading a published site, from a local directory or over `http://` / `https://`: what
//! `mirror` and `audit` fetch from. Paths are relative to the site root (names joined by `/`),
//! so a site works under any base path.
//!
//! Every read has a size cap: a body larger than it is cut off as soon as it passes the cap (or
//! refused at once when the server announces its length), never buffered whole. Over HTTP:
//! connect and read timeouts and a total time per request (so a stalled or trickling server is
//! an error naming the URL), a few attempts at most for a timeout, a dropped connection or a 5xx
//! status, redirects followed only within the same origin (scheme, host and port: a redirect to
//! another one is refused and named), any other status than 2xx named. TLS is rustls with the
//! Mozilla root certificates (no OpenSSL). Nothing is decompressed: a server is asked for, and
//! must send, the files' exact bytes.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use starmark_core::manifest::FileMeta;

mod http;

pub use http::HttpSite;

/// Environment variable: seconds (a decimal number) allowed to connect and for each read,
/// instead of [`Limits::default`]'s; for tests and slow links.
pub const TIMEOUT_ENV: &str = "STARMARK_HTTP_TIMEOUT";

/// How long a request may take and how often it is tried.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// To open a connection (TCP and TLS).
    pub connect: Duration,
    /// For each read of the response (a server that sends nothing for this long is dropped).
    pub read: Duration,
    /// Base of the total time of one request; each full 64 KiB the file may hold adds a second,
    /// so that a server that trickles bytes is dropped too.
    pub total: Duration,
    /// Attempts for a timeout, a dropped connection or a 5xx status.
    pub attempts: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            connect: Duration::from_secs(15),
            read: Duration::from_secs(30),
            total: Duration::from_secs(120),
            attempts: 3,
        }
    }
}

impl Limits {
    /// The default limits, or those that [`TIMEOUT_ENV`] sets (connect and read timeouts of
    /// that many seconds, a total of four times as many). A value that is not a positive number
    /// is an error naming the variable.
    pub fn from_env() -> Result<Limits> {
        Limits::with_timeout(std::env::var(TIMEOUT_ENV).ok().as_deref())
    }

    /// The default limits, or those of a [`TIMEOUT_ENV`] value.
    fn with_timeout(value: Option<&str>) -> Result<Limits> {
        let mut limits = Limits::default();
        if let Some(v) = value {
            let secs: f64 = v
                .trim()
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s < 86_400.0)
                .with_context(|| {
                    format!("{TIMEOUT_ENV}={v:?}: not a number of seconds (e.g. 2.5)")
                })?;
            let t = Duration::from_secs_f64(secs);
            limits.connect = t;
            limits.read = t;
            limits.total = t * 4;
        }
        Ok(limits)
    }

    /// The total time allowed for a file of at most `max` bytes.
    fn total_for(&self, max: u64) -> Duration {
        self.total + Duration::from_secs(max / (64 * 1024))
    }
}

/// Why a file could not be had from a site. The URL (or local path) is always named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url}: {kind}")]
pub struct FetchError {
    /// The URL or path read.
    pub url: String,
    /// What went wrong.
    pub kind: FetchErrorKind,
}

/// What went wrong with one read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchErrorKind {
    /// No such file (HTTP 404 or 410, or not in the directory).
    #[error("not found{}", status_suffix(*.status))]
    NotFound {
        /// The HTTP status, `None` for a directory.
        status: Option<u16>,
    },
    /// More bytes than allowed: cut off there (or refused on the announced length).
    #[error("larger than {max} bytes ({why}): cut off")]
    TooLarge {
        /// The cap.
        max: u64,
        /// Where the cap comes from, e.g. "the manifest's size".
        why: String,
    },
    /// A status that is neither 2xx nor a redirect within the origin.
    #[error("HTTP status {status}{}", if *attempts > 1 { format!(" (after {attempts} attempts)") } else { String::new() })]
    Status {
        /// The status code.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// A redirect to another origin (scheme, host or port).
    #[error("redirected to {to}, another origin: refused")]
    OtherOrigin {
        /// The location redirected to.
        to: String,
    },
    /// A redirect without a usable `Location`, or too many redirects.
    #[error("{0}")]
    BadRedirect(String),
    /// The server did not answer in time (connect, a read, or the whole request).
    #[error("timed out ({what}) after {attempts} attempt{}", if *attempts == 1 { "" } else { "s" })]
    Timeout {
        /// Which limit: "connect", "read", "request".
        what: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The connection failed or was dropped.
    #[error("{detail} (after {attempts} attempt{})", if *attempts == 1 { "" } else { "s" })]
    Connection {
        /// What the client said.
        detail: String,
        /// Attempts made.
        attempts: u32,
    },
    /// A local file that cannot be read, or a local write that failed.
    #[error("{0}")]
    Local(String),
}

fn status_suffix(status: Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

impl FetchError {
    fn new(url: &str, kind: FetchErrorKind) -> FetchError {
        FetchError {
            url: url.to_string(),
            kind,
        }
    }

    /// Whether the file is simply not there.
    pub fn is_not_found(&self) -> bool {
        matches!(self.kind, FetchErrorKind::NotFound { .. })
    }
}

/// A published site to read from.
pub enum Site {
    /// A local directory.
    Dir(PathBuf),
    /// A site over HTTP(S).
    Http(HttpSite),
}

impl Site {
    /// Opens `spec`: an `http://` or `https://` URL of the site root (a base path is kept), or a
    /// local directory. A URL with a query or fragment, user info or no host, or a path that is
    /// not a directory, is an error.
    pub fn open(spec: &str, limits: Limits) -> Result<Site> {
        if spec.starts_with("http://") || spec.starts_with("https://") {
            return HttpSite::new(spec, limits).map(Site::Http);
        }
        if spec.contains("://") {
            bail!("{spec}: only http:// and https:// URLs, or a local directory");
        }
        let dir = PathBuf::from(spec);
        if !dir.is_dir() {
            bail!("{spec}: not a directory (nor an http:// or https:// URL)");
        }
        Ok(Site::Dir(dir))
    }

    /// The site as shown in messages: the base URL or the directory.
    pub fn name(&self) -> String {
        match self {
            Site::Dir(d) => d.display().to_string(),
            Site::Http(h) => h.base().to_string(),
        }
    }

    /// Where `path` is read from: its URL or local path (for messages).
    pub fn locate(&self, path: &str) -> String {
        match self {
            Site::Dir(d) => d.join(path).display().to_string(),
            Site::Http(h) => h.url_of(path),
        }
    }

    /// The local directory, for a directory site.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Site::Dir(d) => Some(d),
            Site::Http(_) => None,
        }
    }

    /// The bytes of the file at `path`, at most `max` (`why` says where the cap comes from, for
    /// the message).
    pub fn get(&self, path: &str, max: u64, why: &str) -> Result<Vec<u8>, FetchError> {
        let mut bytes = Vec::new();
        self.get_into(path, max, why, &mut bytes)?;
        Ok(bytes)
    }

    /// Streams the file at `path` into the file `dest` (created, or emptied for each attempt),
    /// at most `max` bytes, and returns its size and SHA-256 as received.
    pub fn get_to_file(
        &self,
        path: &str,
        max: u64,
        why: &str,
        dest: &Path,
    ) -> Result<FileMeta, FetchError> {
        let mut sink = FileSink {
            dest,
            file: None,
            hasher: Sha256::new(),
            size: 0,
        };
        self.get_into(path, max, why, &mut sink)?;
        if sink.file.take().is_none() {
            fs::File::create(dest).map_err(|e| {
                FetchError::new(
                    &dest.display().to_string(),
                    FetchErrorKind::Local(format!("cannot write: {e}")),
                )
            })?;
        }
        Ok(FileMeta {
            size: sink.size,
            sha256: sink.hasher.finalize().into(),
        })
    }

    /// Reads `path` into `sink`, which is reset before each attempt.
    fn get_into(
        &self,
        path: &str,
        max: u64,
        why: &str,
        sink: &mut dyn Sink,
    ) -> Result<(), FetchError> {
        check_path(path).map_err(|e| FetchError::new(path, FetchErrorKind::Local(e)))?;
        match self {
            Site::Dir(d) => read_local(&d.join(path), max, why, sink),
            Site::Http(h) => h.get_into(path, max, why, sink),
        }
    }
}

/// Where a body goes: emptied before each attempt.
trait Sink: Write {
    /// Starts again from nothing.
    fn reset(&mut self) -> Result<(), String>;
}

impl Sink for Vec<u8> {
    fn reset(&mut self) -> Result<(), String> {
        self.clear();
        Ok(())
    }
}

/// A file, written and hashed.
struct FileSink<'a> {
    dest: &'a Path,
    file: Option<fs::File>,
    hasher: Sha256,
    size: u64,
}

impl Sink for FileSink<'_> {
    fn reset(&mut self) -> Result<(), String> {
        self.file = Some(
            fs::File::create(self.dest)
                .map_err(|e| format!("{}: cannot write: {e}", self.dest.display()))?,
        );
        self.hasher = Sha256::new();
        self.size = 0;
        Ok(())
    }
}

impl Write for FileSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("written before reset"))?;
        let n = file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), |f| f.flush())
    }
}

/// A site path: names joined by `/`, none empty, `.` or `..`, no NUL or backslash.
fn check_path(path: &str) -> Result<(), String> {
    let bad = path.is_empty()
        || path
            .split('/')
            .any(|n| n.is_empty() || n == "." || n == ".." || n.contains(['\0', '\\']));
    if bad {
        return Err(format!("{path:?} is not a path of the site"));
    }
    Ok(())
}

fn read_local(file: &Path, max: u64, why: &str, sink: &mut dyn Sink) -> Result<(), FetchError> {
    let name = file.display().to_string();
    let local = |e: String| FetchError::new(&name, FetchErrorKind::Local(e));
    let meta = match fs::metadata(file) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(FetchError::new(
                &name,
                FetchErrorKind::NotFound { status: None },
            ))
        }
        Err(e) => return Err(local(format!("cannot read: {e}"))),
    };
    if !meta.is_file() {
        return Err(local("not a regular file".into()));
    }
    if meta.len() > max {
        return Err(FetchError::new(
            &name,
            FetchErrorKind::TooLarge {
                max,
                why: why.to_string(),
            },
        ));
    }
    let f = fs::File::open(file).map_err(|e| local(format!("cannot read: {e}")))?;
    sink.reset().map_err(local)?;
    let copied = io::copy(&mut f.take(max + 1), sink).map_err(|e| local(format!("{e}")))?;
    if copied > max {
        return Err(FetchError::new(
            &name,
            FetchErrorKind::TooLarge {
                max,
                why: why.to_string(),
            },
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
