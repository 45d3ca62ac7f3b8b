//! The HTTP(S) side of a [`Site`](super::Site): one agent (ureq, rustls), redirects followed by
//! hand within the origin, attempts again after a timeout, a dropped connection or a 5xx.

use std::io::Read;
use std::time::Duration;

use anyhow::{bail, Result};

use super::{FetchError, FetchErrorKind, Limits, Sink};

/// A site over HTTP(S): its base URL (ending in `/`) and the client.
pub struct HttpSite {
    base: String,
    origin: Origin,
    agent: ureq::Agent,
    limits: Limits,
}

/// Scheme, host and port of a URL (the port made explicit), compared for same-origin redirects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Origin {
    pub(super) scheme: String,
    pub(super) host: String,
    pub(super) port: u16,
}

impl Origin {
    /// The origin and the path (with any query) of an absolute `http(s)://` URL.
    pub(super) fn parse(url: &str) -> Option<(Origin, String)> {
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
    pub(super) fn new(spec: &str, limits: Limits) -> Result<HttpSite> {
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

    /// The base URL, ending in `/`.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub(super) fn url_of(&self, path: &str) -> String {
        format!("{}{}", self.base, encode_path(path))
    }

    pub(super) fn get_into(
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
