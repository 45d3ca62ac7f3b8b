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

/// A site over HTTP(S): its base URL (ending in `/`) and the client.
pub struct HttpSite {
    base: String,
    origin: Origin,
    agent: ureq::Agent,
    limits: Limits,
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
            Site::Http(h) => h.base.clone(),
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

/// Scheme, host and port of a URL (the port made explicit), compared for same-origin redirects.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin and the path (with any query) of an absolute `http(s)://` URL.
    fn parse(url: &str) -> Option<(Origin, String)> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && !p.contains(']') => (h, p.parse().ok()?),
            _ => (authority, default_port),
        };
        let path = if path.is_empty() { "/" } else { path };
        Some((
            Origin {
                scheme,
                host: host.to_ascii_lowercase(),
                port,
            },
            path.to_string(),
        ))
    }
}

/// Bytes kept as they are in a URL path segment; every other byte is percent-encoded.
fn keep_in_segment(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b)
}

fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b == b'/' || keep_in_segment(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The most redirects followed for one file.
const MAX_REDIRECTS: u32 = 5;

/// What one attempt at a URL gave.
enum Attempt {
    Done,
    Redirect(String),
    Retry(FetchErrorKind),
}

impl HttpSite {
    fn new(spec: &str, limits: Limits) -> Result<HttpSite> {
        if spec.contains(['?', '#']) {
            bail!("{spec}: a site URL has no query or fragment");
        }
        let Some((origin, path)) = Origin::parse(spec) else {
            bail!("{spec}: not a URL of a site (http(s)://host[:port]/path/, no user info)");
        };
        if !path.starts_with('/') {
            bail!("{spec}: not a URL of a site");
        }
        let mut base = spec.to_string();
        if !base.ends_with('/') {
            base.push('/');
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .accept_encoding("identity")
            .user_agent(concat!("starmark/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(limits.connect))
            .timeout_resolve(Some(limits.connect))
            .timeout_per_read(Some(limits.read))
            .timeout_recv_response(Some(limits.read))
            .max_idle_connections_per_host(16)
            .build()
            .into();
        Ok(HttpSite {
            base,
            origin,
            agent,
            limits,
        })
    }

    fn url_of(&self, path: &str) -> String {
        format!("{}{}", self.base, encode_path(path))
    }

    fn get_into(
        &self,
        path: &str,
        max: u64,
        why: &str,
        sink: &mut dyn Sink,
    ) -> Result<(), FetchError> {
        let first = self.url_of(path);
        let mut url = first.clone();
        let mut redirects = 0;
        let mut attempt = 1;
        loop {
            match self.once(&url, max, why, sink) {
                Ok(Attempt::Done) => return Ok(()),
                Ok(Attempt::Redirect(to)) => {
                    redirects += 1;
                    if redirects > MAX_REDIRECTS {
                        return Err(FetchError::new(
                            &first,
                            FetchErrorKind::BadRedirect(format!(
                                "more than {MAX_REDIRECTS} redirects"
                            )),
                        ));
                    }
                    url = self
                        .follow(&url, &to)
                        .map_err(|kind| FetchError::new(&url, kind))?;
                }
                Ok(Attempt::Retry(_)) if attempt < self.limits.attempts => {
                    std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
                    attempt += 1;
                }
                Ok(Attempt::Retry(kind)) => {
                    return Err(FetchError::new(&url, with_attempts(kind, attempt)))
                }
                Err(kind) => return Err(FetchError::new(&url, kind)),
            }
        }
    }

    /// The URL a redirect from `from` to `location` leads to, if it stays in the origin.
    fn follow(&self, from: &str, location: &str) -> Result<String, FetchErrorKind> {
        let target = if location.contains("://") {
            location.to_string()
        } else if let Some(rest) = location.strip_prefix("//") {
            format!("{}://{rest}", self.origin.scheme)
        } else if location.starts_with('/') {
            let (o, _) = Origin::parse(from)
                .ok_or_else(|| FetchErrorKind::BadRedirect(format!("bad URL {from}")))?;
            format!("{}://{}:{}{location}", o.scheme, o.host, o.port)
        } else {
            let dir = from.rsplit_once('/').map_or(from, |(d, _)| d);
            format!("{dir}/{location}")
        };
        match Origin::parse(&target) {
            Some((o, _)) if o == self.origin => Ok(target),
            Some(_) => Err(FetchErrorKind::OtherOrigin { to: target }),
            None => Err(FetchErrorKind::BadRedirect(format!(
                "redirected to {location:?}, not an http(s) URL"
            ))),
        }
    }

    fn once(
        &self,
        url: &str,
        max: u64,
        why: &str,
        sink: &mut dyn Sink,
    ) -> Result<Attempt, FetchErrorKind> {
        let request = self
            .agent
            .get(url)
            .config()
            .timeout_per_call(Some(self.limits.total_for(max)))
            .build();
        let response = match request.call() {
            Ok(r) => r,
            Err(e) => return transient(e),
        };
        let status = response.status().as_u16();
        if (300..400).contains(&status) && status != 304 {
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    FetchErrorKind::BadRedirect(format!("status {status} without a Location"))
                })?;
            return Ok(Attempt::Redirect(location.to_string()));
        }
        match status {
            404 | 410 => {
                return Err(FetchErrorKind::NotFound {
                    status: Some(status),
                })
            }
            500..=599 => {
                return Ok(Attempt::Retry(FetchErrorKind::Status {
                    status,
                    attempts: 1,
                }))
            }
            200..=299 if status != 206 => {}
            _ => {
                return Err(FetchErrorKind::Status {
                    status,
                    attempts: 1,
                })
            }
        }
        let too_large = || FetchErrorKind::TooLarge {
            max,
            why: why.to_string(),
        };
        let mut body = response.into_body();
        if body.content_length().is_some_and(|n| n > max) {
            return Err(too_large());
        }
        sink.reset().map_err(FetchErrorKind::Local)?;
        let mut reader = body.with_config().limit(max).reader();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => return Ok(Attempt::Done),
                Ok(n) => n,
                Err(e) => {
                    return match ureq::Error::from(e) {
                        ureq::Error::BodyExceedsLimit(_) => Err(too_large()),
                        other => transient(other),
                    };
                }
            };
            sink.write_all(&buf[..n])
                .map_err(|e| FetchErrorKind::Local(format!("cannot write: {e}")))?;
        }
    }
}

/// A client error: worth another attempt, unless it is about the request itself.
fn transient(e: ureq::Error) -> Result<Attempt, FetchErrorKind> {
    match e {
        ureq::Error::Timeout(t) => Ok(Attempt::Retry(FetchErrorKind::Timeout {
            what: t.to_string(),
            attempts: 1,
        })),
        ureq::Error::BodyExceedsLimit(n) => Err(FetchErrorKind::TooLarge {
            max: n,
            why: "the limit".into(),
        }),
        ureq::Error::BadUri(u) => Err(FetchErrorKind::BadRedirect(format!("bad URL {u}"))),
        ureq::Error::LargeResponseHeader(..) | ureq::Error::Tls(_) | ureq::Error::Rustls(_) => {
            Err(FetchErrorKind::Connection {
                detail: e.to_string(),
                attempts: 1,
            })
        }
        other => Ok(Attempt::Retry(FetchErrorKind::Connection {
            detail: other.to_string(),
            attempts: 1,
        })),
    }
}

fn with_attempts(kind: FetchErrorKind, n: u32) -> FetchErrorKind {
    match kind {
        FetchErrorKind::Timeout { what, .. } => FetchErrorKind::Timeout { what, attempts: n },
        FetchErrorKind::Connection { detail, .. } => FetchErrorKind::Connection {
            detail,
            attempts: n,
        },
        FetchErrorKind::Status { status, .. } => FetchErrorKind::Status {
            status,
            attempts: n,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use std::io::BufRead;
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Instant;

    /// What the test server answers.
    #[derive(Clone)]
    enum Reply {
        Body(Vec<u8>),
        Status(u16),
        Redirect(String),
        /// 200 without a length, then bytes until the client goes.
        Endless,
        /// 200 announcing this length.
        Announce(u64),
        /// Accepts, reads the request, says nothing.
        Silent,
        /// Announces 100 bytes, sends 10, closes.
        Dropped,
        /// 200 with a length, then one byte every 100 ms.
        Trickle(u64),
    }

    struct Server {
        base: String,
        hits: Arc<AtomicUsize>,
    }

    fn serve(handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let (h, handler) = (hits.clone(), Arc::new(handler));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (h, handler) = (h.clone(), handler.clone());
                std::thread::spawn(move || answer(stream, &*handler, &h));
            }
        });
        Server { base, hits }
    }

    fn answer(mut stream: TcpStream, handler: &dyn Fn(&str) -> Reply, hits: &AtomicUsize) {
        let mut reader = io::BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let path = line.split(' ').nth(1).unwrap_or("/").to_string();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                break;
            }
        }
        hits.fetch_add(1, Ordering::SeqCst);
        let head = |status: &str, extra: &str| {
            format!("HTTP/1.1 {status}\r\nConnection: close\r\n{extra}\r\n")
        };
        let _ = match handler(&path) {
            Reply::Body(b) => stream
                .write_all(head("200 OK", &format!("Content-Length: {}\r\n", b.len())).as_bytes())
                .and_then(|()| stream.write_all(&b)),
            Reply::Status(code) => {
                stream.write_all(head(&format!("{code} X"), "Content-Length: 0\r\n").as_bytes())
            }
            Reply::Redirect(to) => stream.write_all(
                head(
                    "302 Found",
                    &format!("Location: {to}\r\nContent-Length: 0\r\n"),
                )
                .as_bytes(),
            ),
            Reply::Endless => {
                let chunk = vec![b'x'; 64 * 1024];
                let _ = stream.write_all(head("200 OK", "").as_bytes());
                while stream.write_all(&chunk).is_ok() {}
                Ok(())
            }
            Reply::Announce(n) => {
                stream.write_all(head("200 OK", &format!("Content-Length: {n}\r\n")).as_bytes())
            }
            Reply::Silent => {
                std::thread::sleep(Duration::from_secs(5));
                Ok(())
            }
            Reply::Dropped => stream
                .write_all(head("200 OK", "Content-Length: 100\r\n").as_bytes())
                .and_then(|()| stream.write_all(&[b'y'; 10])),
            Reply::Trickle(n) => {
                let _ = stream
                    .write_all(head("200 OK", &format!("Content-Length: {n}\r\n")).as_bytes());
                for _ in 0..n {
                    std::thread::sleep(Duration::from_millis(100));
                    if stream.write_all(b"z").is_err() {
                        break;
                    }
                }
                Ok(())
            }
        };
    }

    fn quick() -> Limits {
        Limits {
            connect: Duration::from_millis(500),
            read: Duration::from_millis(500),
            total: Duration::from_millis(1500),
            attempts: 3,
        }
    }

    fn site(server: &Server, path: &str) -> Site {
        Site::open(&format!("{}{path}", server.base), quick()).unwrap()
    }

    #[test]
    fn files_are_read_under_the_base_path_with_their_names_encoded() {
        let server = serve(|p| match p {
            "/mirror/reg/api/v1/index.json" => Reply::Body(b"{}".to_vec()),
            "/mirror/reg/a%20b/%E6%98%9F.html" => Reply::Body(b"star".to_vec()),
            _ => Reply::Status(404),
        });
        let s = site(&server, "mirror/reg");
        assert_eq!(s.name(), format!("{}mirror/reg/", server.base));
        assert_eq!(s.get("api/v1/index.json", 10, "test").unwrap(), b"{}");
        assert_eq!(s.get("a b/星.html", 10, "test").unwrap(), b"star");
        let e = s.get("none.html", 10, "test").unwrap_err();
        assert!(e.is_not_found());
        assert_eq!(
            e.to_string(),
            format!("{}mirror/reg/none.html: not found (HTTP 404)", server.base)
        );
        // No attempt again for a 404.
        assert_eq!(server.hits.load(Ordering::SeqCst), 3);
        for bad in ["../x", "a//b", "", "/abs", "a/./b"] {
            assert!(matches!(
                s.get(bad, 10, "test").unwrap_err().kind,
                FetchErrorKind::Local(_)
            ));
        }
    }

    #[test]
    fn a_file_is_written_and_hashed_as_received() {
        let server = serve(|_| Reply::Body(b"hello".to_vec()));
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("f");
        let meta = site(&server, "")
            .get_to_file("f", 5, "test", &dest)
            .unwrap();
        assert_eq!(meta, FileMeta::of(b"hello"));
        assert_eq!(fs::read(&dest).unwrap(), b"hello");
    }

    #[test]
    fn redirects_stay_within_the_origin() {
        let server = serve(|p| match p {
            "/a" => Reply::Redirect("/b".into()),
            "/b" => Reply::Redirect("c".into()),
            "/c" => Reply::Body(b"here".to_vec()),
            "/loop" => Reply::Redirect("/loop".into()),
            "/away" => Reply::Redirect("http://localhost:1/x".into()),
            "/scheme" => Reply::Redirect("ftp://example.org/x".into()),
            _ => Reply::Status(404),
        });
        let s = site(&server, "");
        assert_eq!(s.get("a", 10, "test").unwrap(), b"here");
        let e = s.get("away", 10, "test").unwrap_err();
        assert_eq!(
            e.kind,
            FetchErrorKind::OtherOrigin {
                to: "http://localhost:1/x".into()
            }
        );
        assert!(e
            .to_string()
            .contains("redirected to http://localhost:1/x, another origin: refused"));
        assert!(s
            .get("scheme", 10, "test")
            .unwrap_err()
            .to_string()
            .contains("redirected to \"ftp://example.org/x\", not an http(s) URL"));
        assert!(s
            .get("loop", 10, "test")
            .unwrap_err()
            .to_string()
            .contains("more than 5 redirects"));
    }

    #[test]
    fn large_bodies_are_cut_off_early() {
        let server = serve(|p| match p {
            "/endless" => Reply::Endless,
            _ => Reply::Announce(1 << 30),
        });
        let s = site(&server, "");
        let t = Instant::now();
        let e = s.get("endless", 1000, "the manifest's size").unwrap_err();
        assert_eq!(
            e.kind,
            FetchErrorKind::TooLarge {
                max: 1000,
                why: "the manifest's size".into()
            }
        );
        assert!(e
            .to_string()
            .ends_with("endless: larger than 1000 bytes (the manifest's size): cut off"));
        let e = s.get("announced", 1000, "a cap").unwrap_err();
        assert!(matches!(e.kind, FetchErrorKind::TooLarge { max: 1000, .. }));
        assert!(t.elapsed() < Duration::from_secs(5));
        // Not tried again.
        assert_eq!(server.hits.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn stalled_trickling_and_dropped_connections_are_named_after_a_few_attempts() {
        let server = serve(|p| match p {
            "/silent" => Reply::Silent,
            "/trickle" => Reply::Trickle(1000),
            "/dropped" => Reply::Dropped,
            _ => Reply::Status(503),
        });
        let s = site(&server, "");
        let t = Instant::now();
        let e = s.get("silent", 100, "test").unwrap_err();
        assert!(
            matches!(e.kind, FetchErrorKind::Timeout { attempts: 3, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("silent: timed out"), "{e}");
        let e = s.get("trickle", 1000, "test").unwrap_err();
        assert!(
            matches!(e.kind, FetchErrorKind::Timeout { attempts: 3, .. }),
            "{e}"
        );
        let e = s.get("dropped", 100, "test").unwrap_err();
        assert!(
            matches!(e.kind, FetchErrorKind::Connection { attempts: 3, .. }),
            "{e}"
        );
        let e = s.get("busy", 100, "test").unwrap_err();
        assert_eq!(
            e.kind,
            FetchErrorKind::Status {
                status: 503,
                attempts: 3
            }
        );
        assert!(e
            .to_string()
            .ends_with("busy: HTTP status 503 (after 3 attempts)"));
        assert_eq!(server.hits.load(Ordering::SeqCst), 12);
        assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    }

    #[test]
    fn other_statuses_are_named_once() {
        let server = serve(|_| Reply::Status(403));
        let e = site(&server, "").get("x", 10, "test").unwrap_err();
        assert_eq!(
            e.kind,
            FetchErrorKind::Status {
                status: 403,
                attempts: 1
            }
        );
        assert!(e.to_string().ends_with("/x: HTTP status 403"));
    }

    #[test]
    fn a_directory_site_reads_its_files_with_the_same_caps() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("a")).unwrap();
        fs::write(tmp.path().join("a/f.html"), "0123456789").unwrap();
        let s = Site::open(tmp.path().to_str().unwrap(), Limits::default()).unwrap();
        assert_eq!(s.dir(), Some(tmp.path()));
        assert_eq!(s.get("a/f.html", 10, "test").unwrap(), b"0123456789");
        let e = s.get("a/f.html", 9, "the cap").unwrap_err();
        assert!(matches!(e.kind, FetchErrorKind::TooLarge { max: 9, .. }));
        assert!(s.get("a/none", 9, "test").unwrap_err().is_not_found());
        assert!(matches!(
            s.get("a", 9, "test").unwrap_err().kind,
            FetchErrorKind::Local(_)
        ));
        assert!(Site::open(tmp.path().join("none").to_str().unwrap(), Limits::default()).is_err());
    }

    #[test]
    fn site_specs_and_timeouts_are_checked() {
        for bad in [
            "ftp://host/",
            "http://",
            "http://user@host/",
            "http://host/?q=1",
            "http://host/#f",
            "http://host:port/",
        ] {
            assert!(Site::open(bad, Limits::default()).is_err(), "{bad}");
        }
        let s = Site::open("https://Label.Example.cn:443", Limits::default()).unwrap();
        assert_eq!(s.name(), "https://Label.Example.cn:443/");
        assert_eq!(Limits::with_timeout(None).unwrap(), Limits::default());
        let l = Limits::with_timeout(Some("0.5")).unwrap();
        assert_eq!(l.read, Duration::from_millis(500));
        assert_eq!(l.total, Duration::from_secs(2));
        for bad in ["0", "-1", "x", "inf"] {
            let e = Limits::with_timeout(Some(bad)).unwrap_err();
            assert!(e.to_string().starts_with(TIMEOUT_ENV), "{e}");
        }
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let (a, path) = Origin::parse("http://Host/x/y?z").unwrap();
        assert_eq!(path, "/x/y?z");
        assert_eq!(a, Origin::parse("http://host:80/").unwrap().0);
        assert_ne!(a, Origin::parse("https://host/").unwrap().0);
        assert_ne!(a, Origin::parse("http://host:8080/").unwrap().0);
        assert_eq!(Origin::parse("http://[::1]:8000/").unwrap().0.host, "[::1]");
    }
}
