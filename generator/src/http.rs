//! The static file server of `starmark serve`: HTTP/1.1 `GET` and `HEAD` on 127.0.0.1, with a
//! fixed number of threads (one event loop, whatever the number of connections), a bounded number
//! of connections, a deadline for every request head and a limit on its size.
//!
//! tiny_http, used before, took one thread per connection and had no timeout, so idle or
//! half-sent requests piled up threads without bound. This is one `mio` poll loop (mio is already
//! built for `notify`) and `httparse` for the request head.
//!
//! Live reload ([`Server::live`]): the HTML pages served to a browser (a request whose `Accept`
//! lists `text/html`, as browsers send for pages; never the files on disk, and never to tools such
//! as `mirror`, `audit` or curl, which get the built bytes the manifest lists) get a small script
//! and, while the last rebuild failed, that error over the page. The script long-polls
//! `PREFIX__starmark/events?since=GENERATION`: the request is held in the same event loop, without
//! a thread, until a rebuild finishes ([`Notifier::rebuilt`] wakes the loop) or [`POLL_WAIT`]
//! passes; at most [`MAX_WAITING`] requests wait at once, more get 503. Long-polling rather than
//! Server-Sent Events keeps every response a plain one with a length, so the loop has one way of
//! writing.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

/// The largest request head (request line and headers) accepted; a longer one gets 431.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// The most header lines in a request head; more get 431.
const MAX_HEADERS: usize = 64;
const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
/// The longest a live-reload request waits for a rebuild before it is answered with the
/// unchanged state (and the page asks again).
pub const POLL_WAIT: Duration = Duration::from_secs(25);
/// The most live-reload requests waiting at once; more are answered 503 at once.
pub const MAX_WAITING: usize = 32;
/// The reserved path, under the prefix, of the live-reload script, its style and its events.
pub const RESERVED: &str = "__starmark/";
const RELOAD_JS: &str = include_str!("../../templates/serve/reload.js");
const OVERLAY_CSS: &str = include_str!("../../templates/serve/overlay.css");

/// The state of the served output that pages learn about: how many rebuilds finished, and the
/// error of the last one if it failed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Live {
    /// Bumped by every finished rebuild, failed or not.
    pub generation: u64,
    /// The last rebuild's error; `None` when it succeeded (the pages are current).
    pub error: Option<String>,
}

/// Tells a live server that a rebuild finished; wakes its event loop. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    live: Arc<Mutex<Live>>,
    waker: Arc<Waker>,
}

impl Notifier {
    /// Records a finished rebuild (`Err` with its message when it failed) and wakes the server,
    /// which answers every waiting live-reload request.
    pub fn rebuilt(&self, result: Result<(), String>) -> Result<()> {
        {
            let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
            live.generation += 1;
            live.error = result.err();
        }
        self.waker.wake().context("cannot wake the server")
    }
}

/// How long a connection may wait and how many may be open.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Time allowed for a whole request head, from the connection (or from the end of the
    /// previous response on a kept-alive connection), however slowly it trickles in; also the
    /// longest a response may stall while the client does not read it.
    pub timeout: Duration,
    /// Connections held at once. A new connection beyond it closes the one that has been waiting
    /// longest for a request head (so idle connections cannot lock a client out), or is closed
    /// itself when every connection is being answered.
    pub max_connections: usize,
}

/// What is served: the files under `root`, at URL paths starting with `prefix`.
#[derive(Clone, Debug)]
pub struct Site {
    /// The output directory.
    pub root: PathBuf,
    /// The URL path prefix, starting and ending with `/`.
    pub prefix: String,
}

/// A server listening on 127.0.0.1.
pub struct Server {
    poll: Poll,
    listener: TcpListener,
    site: Site,
    limits: Limits,
    connections: HashMap<Token, Connection>,
    next_token: usize,
    /// Live reload, when enabled: the shared state, the copy the loop serves from, the waker.
    live: Option<(Arc<Mutex<Live>>, Live, Arc<Waker>)>,
}

/// One client connection: reading a request head, or writing a response.
struct Connection {
    stream: TcpStream,
    /// Bytes read and not yet parsed (at most one head and a read more).
    inbox: Vec<u8>,
    /// The response being written, and how much of it has been.
    outbox: Vec<u8>,
    sent: usize,
    writing: bool,
    close_after: bool,
    /// Reading: when the head must be complete; writing: when the next progress must be made;
    /// waiting: when to answer anyway.
    deadline: Instant,
    /// A live-reload request held until the generation changes.
    waiting: Option<Waiting>,
}

/// A held live-reload request.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Waiting {
    since: u64,
    head_only: bool,
    close: bool,
}

/// What a request gets: a response now, or (live reload) a wait.
enum Reply {
    Now(Vec<u8>, bool),
    Wait(Waiting),
}

/// What answering a request needs besides the request.
struct Ctx<'a> {
    site: &'a Site,
    limits: &'a Limits,
    live: Option<&'a Live>,
    /// Whether another live-reload request may wait ([`MAX_WAITING`]).
    may_wait: bool,
}

impl Server {
    /// Listens on 127.0.0.1:`port` (0 picks a free port).
    pub fn bind(port: u16, site: Site, limits: Limits) -> Result<Server> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut listener =
            TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
        let poll = Poll::new().context("cannot create the server's poll")?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)
            .context("cannot poll the listening socket")?;
        Ok(Server {
            poll,
            listener,
            site,
            limits,
            connections: HashMap::new(),
            next_token: 2,
            live: None,
        })
    }

    /// Turns on live reload (see the module doc); the notifier tells the server of rebuilds.
    pub fn live(&mut self) -> Result<Notifier> {
        let waker = Arc::new(
            Waker::new(self.poll.registry(), WAKER).context("cannot create the server's waker")?,
        );
        let shared = Arc::new(Mutex::new(Live::default()));
        self.live = Some((Arc::clone(&shared), Live::default(), Arc::clone(&waker)));
        Ok(Notifier {
            live: shared,
            waker,
        })
    }

    /// The port listened on.
    pub fn port(&self) -> Result<u16> {
        Ok(self
            .listener
            .local_addr()
            .context("the listening socket has no address")?
            .port())
    }

    /// Serves until an error of the poll itself; connection errors only close the connection.
    pub fn run(mut self) -> Result<()> {
        let mut events = Events::with_capacity(256);
        loop {
            let now = Instant::now();
            let wait = self
                .connections
                .values()
                .map(|c| c.deadline.saturating_duration_since(now))
                .min();
            match self.poll.poll(&mut events, wait) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).context("the server's poll failed"),
            }
            for event in &events {
                if event.token() == LISTENER {
                    self.accept();
                } else if event.token() == WAKER {
                    self.rebuilt();
                } else {
                    self.drive(event.token());
                }
            }
            let now = Instant::now();
            let expired: Vec<Token> = self
                .connections
                .iter()
                .filter(|(_, c)| c.deadline <= now)
                .map(|(t, _)| *t)
                .collect();
            for token in expired {
                // A waiting live-reload request is answered (nothing changed); others are closed.
                if self
                    .connections
                    .get(&token)
                    .is_some_and(|c| c.waiting.is_some())
                {
                    self.answer_waiting(token);
                } else {
                    self.close(token);
                }
            }
        }
    }

    fn drive(&mut self, token: Token) {
        let waiting = self
            .connections
            .values()
            .filter(|c| c.waiting.is_some())
            .count();
        let ctx = Ctx {
            site: &self.site,
            limits: &self.limits,
            live: self.live.as_ref().map(|(_, l, _)| l),
            may_wait: waiting < MAX_WAITING,
        };
        if let Some(c) = self.connections.get_mut(&token) {
            if !c.drive(&ctx) {
                self.close(token);
            }
        }
    }

    /// A rebuild finished: takes the new state and answers the requests waiting for it.
    fn rebuilt(&mut self) {
        let Some((shared, current, _)) = &mut self.live else {
            return;
        };
        *current = shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let generation = current.generation;
        let changed: Vec<Token> = self
            .connections
            .iter()
            .filter(|(_, c)| c.waiting.is_some_and(|w| w.since != generation))
            .map(|(t, _)| *t)
            .collect();
        for token in changed {
            self.answer_waiting(token);
        }
    }

    /// Answers a waiting live-reload request with the current state.
    fn answer_waiting(&mut self, token: Token) {
        let Some(live) = self.live.as_ref().map(|(_, l, _)| l.clone()) else {
            return;
        };
        let Some(c) = self.connections.get_mut(&token) else {
            return;
        };
        let Some(w) = c.waiting.take() else {
            return;
        };
        c.start_writing(
            events_response(&live, w.head_only, w.close),
            w.close,
            &self.limits,
        );
        self.drive(token);
    }

    fn accept(&mut self) {
        loop {
            let mut stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    continue
                }
                Err(e) => {
                    errln!("starmark: cannot accept a connection: {e}");
                    return;
                }
            };
            if self.connections.len() >= self.limits.max_connections {
                let oldest_idle = self
                    .connections
                    .iter()
                    .filter(|(_, c)| !c.writing)
                    .min_by_key(|(_, c)| c.deadline)
                    .map(|(t, _)| *t);
                match oldest_idle {
                    Some(token) => self.close(token),
                    None => continue, // every connection is being answered: drop the new one
                }
            }
            let token = self.new_token();
            if self
                .poll
                .registry()
                .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
                .is_err()
            {
                continue;
            }
            self.connections.insert(
                token,
                Connection {
                    stream,
                    inbox: Vec::new(),
                    outbox: Vec::new(),
                    sent: 0,
                    writing: false,
                    close_after: false,
                    deadline: Instant::now() + self.limits.timeout,
                    waiting: None,
                },
            );
        }
    }

    fn new_token(&mut self) -> Token {
        loop {
            let token = Token(self.next_token);
            self.next_token = self.next_token.wrapping_add(1).max(1);
            if !self.connections.contains_key(&token) {
                return token;
            }
        }
    }

    fn close(&mut self, token: Token) {
        if let Some(mut c) = self.connections.remove(&token) {
            let _ = self.poll.registry().deregister(&mut c.stream);
            let _ = c.stream.shutdown(Shutdown::Both);
        }
    }
}

impl Connection {
    /// Reads, answers and writes as far as the socket allows; false when the connection is done.
    fn drive(&mut self, ctx: &Ctx<'_>) -> bool {
        let limits = ctx.limits;
        if self.waiting.is_some() {
            return self.watch_while_waiting();
        }
        loop {
            if self.writing {
                while self.sent < self.outbox.len() {
                    match self.stream.write(&self.outbox[self.sent..]) {
                        Ok(0) => return false,
                        Ok(n) => {
                            self.sent += n;
                            self.deadline = Instant::now() + limits.timeout;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => return false,
                    }
                }
                if self.close_after {
                    return false;
                }
                self.writing = false;
                self.outbox = Vec::new();
                self.sent = 0;
                self.deadline = Instant::now() + limits.timeout;
            }
            match parse_head(&self.inbox) {
                Head::Partial => {}
                Head::Complete { len, request } => {
                    self.inbox.drain(..len);
                    match respond(ctx, &request) {
                        Reply::Now(bytes, close) => self.start_writing(bytes, close, limits),
                        Reply::Wait(w) => {
                            self.waiting = Some(w);
                            self.deadline = Instant::now() + POLL_WAIT;
                            return self.watch_while_waiting();
                        }
                    }
                    continue;
                }
                Head::Bad(status) => {
                    self.inbox.clear();
                    let text = if status == 431 {
                        "request head too large\n"
                    } else {
                        "bad request\n"
                    };
                    let bytes = Response::text(status, text).bytes(false, true);
                    self.start_writing(bytes, true, limits);
                    continue;
                }
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return false,
                Ok(n) => self.inbox.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }

    /// While a request waits, reads only to learn that the client has gone (a request sent
    /// meanwhile is kept for later, up to one head's size); false when the connection is done.
    fn watch_while_waiting(&mut self) -> bool {
        let mut chunk = [0u8; 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return false,
                Ok(n) => {
                    self.inbox.extend_from_slice(&chunk[..n]);
                    if self.inbox.len() > MAX_HEAD_BYTES {
                        return false;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }

    fn start_writing(&mut self, bytes: Vec<u8>, close: bool, limits: &Limits) {
        self.outbox = bytes;
        self.sent = 0;
        self.writing = true;
        self.close_after = close;
        self.deadline = Instant::now() + limits.timeout;
    }
}

/// A parsed request: what the response depends on.
#[derive(Debug, PartialEq)]
struct Request {
    method: String,
    target: String,
    /// HTTP/1.1 without `Connection: close`, and no request body to skip.
    keep_alive: bool,
    /// `Accept` lists `text/html`: a browser loading a page.
    wants_html: bool,
}

#[derive(Debug, PartialEq)]
enum Head {
    Partial,
    Complete { len: usize, request: Request },
    Bad(u16),
}

/// Parses a request head from the start of `bytes`: 431 when it is longer than
/// [`MAX_HEAD_BYTES`] or has more than 64 headers, 400 when it is not HTTP/1.x.
fn parse_head(bytes: &[u8]) -> Head {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(bytes) {
        Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD_BYTES => len,
        Ok(httparse::Status::Partial) if bytes.len() <= MAX_HEAD_BYTES => return Head::Partial,
        Ok(_) | Err(httparse::Error::TooManyHeaders) => return Head::Bad(431),
        Err(_) => return Head::Bad(400),
    };
    let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version) else {
        return Head::Bad(400);
    };
    let mut keep_alive = version == 1;
    let mut wants_html = false;
    for h in req.headers.iter() {
        let value = String::from_utf8_lossy(h.value);
        if h.name.eq_ignore_ascii_case("accept") {
            wants_html |= value
                .split(',')
                .any(|t| t.trim().to_ascii_lowercase().starts_with("text/html"));
        }
        if h.name.eq_ignore_ascii_case("connection")
            && value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("close"))
        {
            keep_alive = false;
        }
        // A body is never read: after it, the next request could not be found.
        if h.name.eq_ignore_ascii_case("transfer-encoding")
            || (h.name.eq_ignore_ascii_case("content-length") && value.trim() != "0")
        {
            keep_alive = false;
        }
    }
    Head::Complete {
        len,
        request: Request {
            method: method.to_string(),
            target: target.to_string(),
            keep_alive,
            wants_html,
        },
    }
}

/// A response before serialisation.
struct Response {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
}

impl Response {
    fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.as_bytes().to_vec(),
        }
    }

    /// The bytes on the wire; a `HEAD` response has the headers of the `GET` one and no body.
    fn bytes(self, head_only: bool, close: bool) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            431 => "Request Header Fields Too Large",
            503 => "Service Unavailable",
            _ => "Error",
        };
        let allow = if self.status == 405 {
            "Allow: GET, HEAD\r\n"
        } else {
            ""
        };
        let mut out = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
             Cache-Control: no-cache\r\n{allow}Connection: {}\r\n\r\n",
            self.status,
            self.content_type,
            self.body.len(),
            if close { "close" } else { "keep-alive" },
        )
        .into_bytes();
        if !head_only {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

/// The response to `request` (as bytes, and whether to close the connection after it), or a
/// live-reload wait.
fn respond(ctx: &Ctx<'_>, request: &Request) -> Reply {
    let site = ctx.site;
    let head_only = request.method == "HEAD";
    if request.method != "GET" && !head_only {
        let r = Response::text(405, "method not allowed\n");
        return Reply::Now(r.bytes(false, true), true);
    }
    let close = !request.keep_alive;
    if let Some(live) = ctx.live {
        if let Some(reply) = respond_reserved(ctx, live, request, head_only, close) {
            return reply;
        }
    }
    let response = match lookup(site, &request.target) {
        Some(file) => match std::fs::read(&file) {
            Ok(body) => {
                let content_type = content_type(&file);
                let body = match ctx.live {
                    Some(live) if request.wants_html && content_type.starts_with("text/html") => {
                        with_live_reload(body, &site.prefix, live)
                    }
                    _ => body,
                };
                Response {
                    status: 200,
                    content_type,
                    body,
                }
            }
            Err(_) => not_found(site),
        },
        None => not_found(site),
    };
    Reply::Now(response.bytes(head_only, close), close)
}

/// The reply to a request for the reserved live-reload paths; `None` for any other path.
fn respond_reserved(
    ctx: &Ctx<'_>,
    live: &Live,
    request: &Request,
    head_only: bool,
    close: bool,
) -> Option<Reply> {
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((request.target.as_str(), ""));
    let name = path
        .strip_prefix(ctx.site.prefix.as_str())?
        .strip_prefix(RESERVED)?;
    let asset = |content_type: &'static str, body: &str| {
        let r = Response {
            status: 200,
            content_type,
            body: body.as_bytes().to_vec(),
        };
        Reply::Now(r.bytes(head_only, close), close)
    };
    Some(match name {
        "reload.js" => asset("text/javascript; charset=utf-8", RELOAD_JS),
        "overlay.css" => asset("text/css; charset=utf-8", OVERLAY_CSS),
        "events" => {
            let since = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("since="))
                .and_then(|v| v.parse::<u64>().ok());
            match since {
                Some(since) if since == live.generation => {
                    if ctx.may_wait {
                        Reply::Wait(Waiting {
                            since,
                            head_only,
                            close,
                        })
                    } else {
                        let r = Response::text(503, "too many pages waiting for a rebuild\n");
                        Reply::Now(r.bytes(head_only, true), true)
                    }
                }
                _ => Reply::Now(events_response(live, head_only, close), close),
            }
        }
        _ => Reply::Now(
            Response::text(404, "not found\n").bytes(head_only, close),
            close,
        ),
    })
}

/// The answer of the event path: `{"generation":N,"error":null|"..."}`.
fn events_response(live: &Live, head_only: bool, close: bool) -> Vec<u8> {
    let body = serde_json::json!({ "generation": live.generation, "error": live.error });
    Response {
        status: 200,
        content_type: "application/json",
        body: body.to_string().into_bytes(),
    }
    .bytes(head_only, close)
}

/// An HTML page as `serve` sends it: the live-reload script and, while the last rebuild failed,
/// its error (HTML-escaped) before `</body>`. The file on disk is not changed.
fn with_live_reload(body: Vec<u8>, prefix: &str, live: &Live) -> Vec<u8> {
    let base = html_escape(&format!("{prefix}{RESERVED}"));
    let mut added = String::new();
    if let Some(error) = &live.error {
        added.push_str(&format!(
            "<link rel=\"stylesheet\" href=\"{base}overlay.css\">\n\
             <div id=\"starmark-build-error\" role=\"alert\"><strong>starmark serve: the last \
             rebuild failed.</strong> This page is from the build before it. Fix the error and \
             save: the page reloads by itself.<pre>{}</pre></div>\n",
            html_escape(error)
        ));
    }
    added.push_str(&format!(
        "<script src=\"{base}reload.js\" data-events=\"{base}events\" \
         data-generation=\"{}\"></script>\n",
        live.generation
    ));
    let at = body
        .windows(7)
        .rposition(|w| w.eq_ignore_ascii_case(b"</body>"))
        .unwrap_or(body.len());
    let mut out = Vec::with_capacity(body.len() + added.len());
    out.extend_from_slice(&body[..at]);
    out.extend_from_slice(added.as_bytes());
    out.extend_from_slice(&body[at..]);
    out
}

/// Text as HTML text or attribute value.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The site's 404 page with status 404, or a line of text when the site has none.
fn not_found(site: &Site) -> Response {
    match std::fs::read(site.root.join(crate::site::NOT_FOUND_PAGE)) {
        Ok(body) => Response {
            status: 404,
            content_type: "text/html; charset=utf-8",
            body,
        },
        Err(_) => Response::text(404, "not found\n"),
    }
}

/// The file a request target names: under the prefix (the prefix without its trailing slash
/// means its index), percent-decoded, without `..` or absolute components; a directory means
/// its `index.html`.
fn lookup(site: &Site, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let rel = path.strip_prefix(site.prefix.as_str()).or_else(|| {
        (path.to_string() + "/")
            .strip_prefix(site.prefix.as_str())
            .map(|_| "")
    })?;
    resolve(&site.root, &percent_decode(rel))
}

/// Maps a request path to a file under `out`; refuses `..` and absolute components.
fn resolve(out: &Path, rel: &str) -> Option<PathBuf> {
    let rel = Path::new(rel.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let mut path = out.join(rel);
    if path.is_dir() {
        path = path.join("index.html");
    }
    path.is_file().then_some(path)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The Content-Type of a file by its extension.
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "xml" => "application/xml",
        "md" => "text/markdown; charset=utf-8",
        "sig" | "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn complete(head: &str) -> Request {
        match parse_head(head.as_bytes()) {
            Head::Complete { len, request } => {
                assert_eq!(len, head.len());
                request
            }
            other => panic!("{head:?}: {other:?}"),
        }
    }

    #[test]
    fn request_heads() {
        assert_eq!(parse_head(b""), Head::Partial);
        assert_eq!(parse_head(b"GET / HTTP/1.1\r\nHost: x\r\n"), Head::Partial);
        let r = complete("GET /a?b HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!((r.method.as_str(), r.target.as_str()), ("GET", "/a?b"));
        assert!(r.keep_alive);
        assert!(!complete("GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(!complete("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n").keep_alive);
        assert!(!complete("GET / HTTP/1.1\r\nContent-Length: 2\r\n\r\n").keep_alive);
        assert!(!complete("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").keep_alive);
        assert!(complete("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").keep_alive);
        assert!(!complete("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n").wants_html);
        assert!(
            complete("GET / HTTP/1.1\r\nAccept: application/xhtml+xml, Text/HTML;q=0.9\r\n\r\n")
                .wants_html
        );
        assert_eq!(parse_head(b"\x16\x03\x01\r\n\r\n"), Head::Bad(400));
        let long = format!("GET / HTTP/1.1\r\nX: {}", "a".repeat(MAX_HEAD_BYTES));
        assert_eq!(parse_head(long.as_bytes()), Head::Bad(431));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X{i}: y\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(parse_head(many.as_bytes()), Head::Bad(431));
    }

    #[test]
    fn lookup_under_a_prefix() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("out/en")).unwrap();
        std::fs::write(dir.path().join("out/index.html"), "root").unwrap();
        std::fs::write(dir.path().join("out/en/index.html"), "en").unwrap();
        std::fs::write(dir.path().join("out/a b.css"), "css").unwrap();
        std::fs::write(dir.path().join("secret"), "no").unwrap();
        let site = Site {
            root: dir.path().join("out"),
            prefix: "/m/r/".into(),
        };
        let found =
            |t: &str| lookup(&site, t).map(|p| p.strip_prefix(&site.root).unwrap().to_path_buf());
        assert_eq!(found("/m/r/"), Some("index.html".into()));
        assert_eq!(found("/m/r"), Some("index.html".into()));
        assert_eq!(found("/m/r/en/?x#y"), Some("en/index.html".into()));
        assert_eq!(found("/m/r/a%20b.css"), Some("a b.css".into()));
        assert_eq!(found("/index.html"), None, "outside the prefix");
        assert_eq!(found("/m/r/../secret"), None);
        assert_eq!(found("/m/r/%2e%2e/secret"), None);
        assert_eq!(found("/m/r/en/%2E%2E%2F..%2fsecret"), None);
        assert_eq!(content_type(Path::new("a.wasm")), "application/wasm");
    }

    #[test]
    fn live_reload_goes_before_the_last_body_end_and_escapes_the_error() {
        let live = Live {
            generation: 3,
            error: Some("records/<b>.md: \"bad\" & worse".into()),
        };
        let page = with_live_reload(b"<p></body></BODY>".to_vec(), "/m/", &live);
        let page = String::from_utf8(page).unwrap();
        assert!(
            page.starts_with(
                "<p></body><link rel=\"stylesheet\" href=\"/m/__starmark/overlay.css\">"
            ),
            "{page}"
        );
        assert!(
            page.contains("<pre>records/&lt;b&gt;.md: &quot;bad&quot; &amp; worse</pre>"),
            "{page}"
        );
        assert!(
            page.ends_with(
                "data-events=\"/m/__starmark/events\" data-generation=\"3\"></script>\n</BODY>"
            ),
            "{page}"
        );
        let fine = Live {
            generation: 4,
            error: None,
        };
        let page =
            String::from_utf8(with_live_reload(b"no body end".to_vec(), "/", &fine)).unwrap();
        assert!(
            page.starts_with("no body end<script src=\"/__starmark/reload.js\""),
            "{page}"
        );
        assert!(!page.contains("starmark-build-error"));
    }
}
