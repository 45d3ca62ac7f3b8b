//! `starmark serve` as an HTTP server: a fixed number of threads whatever the number of
//! connections, a deadline for request heads (even trickled ones) and idle kept-alive
//! connections, a bounded number of connections, GET and HEAD only, no path traversal.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{find_files, s, RecordText, Reg};

/// A running `starmark serve` on a fresh registry; killed when dropped.
struct Served {
    child: Child,
    addr: String,
    reg: Reg,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn start(extra: &[&str]) -> Served {
        let reg = Reg::new();
        let mut child = Command::new(env!("CARGO_BIN_EXE_starmark"))
            .args(["serve", "--port", "0"])
            .args(extra)
            .arg(s(&reg.dir))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut addr = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(rest) = line.split("http://").nth(1) {
                addr = Some(rest.split('/').next().unwrap().to_string());
                break;
            }
        }
        Served {
            child,
            addr: addr.expect("serve printed its address"),
            reg,
        }
    }

    fn connect(&self) -> TcpStream {
        TcpStream::connect(&self.addr).unwrap()
    }

    /// The server process's thread count (Linux /proc).
    fn threads(&self) -> usize {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }
}

/// One response read off `stream` (by its Content-Length, so the connection may stay open):
/// status, head, body. `head_only` for the response to a HEAD request.
fn response(stream: &mut TcpStream, head_only: bool) -> (u16, String, Vec<u8>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).unwrap(),
            1,
            "connection closed in the head"
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    let mut body = vec![0; if head_only { 0 } else { length }];
    stream.read_exact(&mut body).unwrap();
    (status, head, body)
}

/// GET `path` on a new connection that asks to be closed; the status and body.
fn get(served: &Served, path: &str) -> (u16, Vec<u8>) {
    let mut c = served.connect();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let (status, _, body) = response(&mut c, false);
    (status, body)
}

/// The site's 404 page, as built.
fn not_found_page(served: &Served) -> Vec<u8> {
    std::fs::read(served.reg.dir.join("public/404.html")).unwrap()
}

/// How long until the server closes `stream`, sending one byte every 100 ms when `trickle`
/// (a slow-loris request head); panics after 8 s.
fn closed_after(mut stream: TcpStream, trickle: bool) -> Duration {
    let start = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = [0u8; 256];
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "the server kept the connection open"
        );
        if trickle && stream.write_all(b"a").is_err() {
            return start.elapsed();
        }
        match stream.read(&mut buf) {
            Ok(0) => return start.elapsed(),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return start.elapsed(),
        }
    }
}

/// True when the server has closed `stream` (read within `wait` gives end of file or reset).
fn is_closed(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 16];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(n) => panic!("unexpected bytes from the server: {:?}", &buf[..n]),
        Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    }
}

#[test]
fn idle_connections_take_no_thread_and_a_request_is_still_answered() {
    let served = Served::start(&[]);
    let before = served.threads();
    let mut idle = Vec::new();
    for i in 0..300 {
        let mut c = served.connect();
        if i % 2 == 1 {
            c.write_all(b"GET /index.html HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
        }
        idle.push(c);
    }
    let start = Instant::now();
    let (status, body) = get(&served, "/index.html");
    let took = start.elapsed();
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("<html"));
    assert!(
        took < Duration::from_secs(5),
        "answered in {took:?} with 300 idle connections"
    );
    let during = served.threads();
    assert!(
        during <= before + 2,
        "{during} threads with 300 idle connections open ({before} before)"
    );
    // The idle connections were held open (accepted, not refused) all along.
    assert!(!is_closed(&mut idle[0], Duration::from_millis(50)));
    assert!(!is_closed(&mut idle[299], Duration::from_millis(50)));
}

#[test]
fn half_sent_trickled_and_idle_connections_are_closed_after_the_timeout() {
    let served = Served::start(&["--request-timeout-ms", "1000"]);
    let mut half = served.connect();
    half.write_all(b"GET /index.html HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut slow = served.connect();
    slow.write_all(b"GET /index.html HTTP/1.1\r\nX-Slow: ")
        .unwrap();
    let silent = served.connect();
    // A kept-alive connection after its response.
    let mut kept = served.connect();
    kept.write_all(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (status, head, _) = response(&mut kept, false);
    assert_eq!(status, 200);
    assert!(head.contains("Connection: keep-alive\r\n"), "{head}");

    let handles: Vec<_> = [(half, false), (slow, true), (silent, false), (kept, false)]
        .into_iter()
        .map(|(c, trickle)| std::thread::spawn(move || closed_after(c, trickle)))
        .collect();
    for (what, h) in ["half-sent", "trickled", "silent", "kept-alive idle"]
        .iter()
        .zip(handles)
    {
        let took = h.join().unwrap();
        assert!(
            took < Duration::from_secs(3),
            "{what} connection closed after {took:?}"
        );
    }
    // And the server still answers.
    assert_eq!(get(&served, "/index.html").0, 200);
}

#[test]
fn beyond_the_connection_limit_the_longest_idle_connection_is_closed() {
    let served = Served::start(&["--max-connections", "20"]);
    let mut idle: Vec<TcpStream> = Vec::new();
    for _ in 0..40 {
        idle.push(served.connect());
        // Accepted in this order, so the server knows which waited longest.
        std::thread::sleep(Duration::from_millis(5));
    }
    let start = Instant::now();
    assert_eq!(get(&served, "/index.html").0, 200);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "answered after {:?}",
        start.elapsed()
    );
    assert!(
        is_closed(&mut idle[0], Duration::from_secs(2)),
        "the first idle connection was closed"
    );
    assert!(
        !is_closed(&mut idle[39], Duration::from_millis(100)),
        "the newest idle connection is still open"
    );
}

#[test]
fn keep_alive_head_and_methods() {
    let served = Served::start(&[]);
    let mut c = served.connect();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(c, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (status, head, page) = response(&mut c, false);
    assert_eq!(status, 200);
    assert!(
        head.contains("Content-Type: text/html; charset=utf-8\r\n"),
        "{head}"
    );
    assert!(head.contains("Cache-Control: no-cache\r\n"), "{head}");
    // The same connection: HEAD (same length, no body), then a directory means its index.html,
    // then a request for the verify module's content type.
    write!(c, "HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (status, head, _) = response(&mut c, true);
    assert_eq!(status, 200);
    assert!(
        head.contains(&format!("Content-Length: {}\r\n", page.len())),
        "{head}"
    );
    write!(c, "GET /?q=1 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (status, _, body) = response(&mut c, false);
    assert_eq!((status, body), (200, page.clone()));
    write!(c, "GET /api/v1/index.json HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (status, head, _) = response(&mut c, false);
    assert_eq!(status, 200);
    assert!(
        head.contains("Content-Type: application/json\r\n"),
        "{head}"
    );
    // Two pipelined requests in one write.
    write!(
        c,
        "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\nGET /nothing.html HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    .unwrap();
    assert_eq!(response(&mut c, false).0, 200);
    assert_eq!(response(&mut c, false).0, 404);

    // Other methods: 405, naming the allowed ones, and the connection is closed.
    let mut c = served.connect();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        c,
        "POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    )
    .unwrap();
    let (status, head, _) = response(&mut c, false);
    assert_eq!(status, 405);
    assert!(head.contains("Allow: GET, HEAD\r\n"), "{head}");
    assert!(head.contains("Connection: close\r\n"), "{head}");
    assert!(is_closed(&mut c, Duration::from_secs(2)));

    // A request head over 8 KiB: 431, closed.
    let mut c = served.connect();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let long = "a".repeat(9000);
    let _ = write!(c, "GET /index.html HTTP/1.1\r\nX-Long: {long}\r\n\r\n");
    assert_eq!(response(&mut c, false).0, 431);

    // Not HTTP: 400.
    let mut c = served.connect();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n")
        .unwrap();
    assert_eq!(response(&mut c, false).0, 400);
}

#[test]
fn no_path_leaves_the_output_directory() {
    let served = Served::start(&[]);
    // The output is REGISTRY/public, so ../starmark.toml is the registry's configuration.
    for path in [
        "/../starmark.toml",
        "/%2e%2e/starmark.toml",
        "/..%2fstarmark.toml",
        "/en/../../starmark.toml",
        "/en/%2e%2e/%2e%2e/starmark.toml",
        "/%2fetc%2fpasswd",
        "//etc/passwd",
        "/..\\starmark.toml",
    ] {
        let (status, body) = get(&served, path);
        assert_eq!(status, 404, "{path}");
        assert_eq!(body, not_found_page(&served), "{path}");
    }
    assert_eq!(get(&served, "/en/../index.html").0, 404, "no `..` at all");
}

#[test]
fn a_missing_path_is_the_404_page_and_the_favicon_is_an_icon() {
    let served = Served::start(&[]);
    for path in ["/nothing.html", "/cert/999999.html", "/en/no/such/page/"] {
        let mut c = served.connect();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            c,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let (status, head, body) = response(&mut c, false);
        assert_eq!(status, 404, "{path}");
        assert!(
            head.contains("Content-Type: text/html; charset=utf-8\r\n"),
            "{head}"
        );
        assert_eq!(body, not_found_page(&served), "{path}");
        assert!(String::from_utf8_lossy(&body).contains("Page not found"));
    }
    let mut c = served.connect();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        c,
        "GET /favicon.ico HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let (status, head, body) = response(&mut c, false);
    assert_eq!(status, 200);
    assert!(head.contains("Content-Type: image/x-icon\r\n"), "{head}");
    assert_eq!(&body[..4], &[0, 0, 1, 0]);
}

#[test]
fn without_a_404_page_a_missing_path_is_plain_text() {
    let served = Served::start(&[]);
    std::fs::remove_file(served.reg.dir.join("public/404.html")).unwrap();
    let (status, body) = get(&served, "/nothing.html");
    assert_eq!((status, body.as_slice()), (404, b"not found\n".as_slice()));
}

/// Sends `GET /__starmark/events?since=N` on a new connection; the connection, to read the answer
/// from.
fn ask_events(served: &Served, since: u64) -> TcpStream {
    let mut c = served.connect();
    write!(
        c,
        "GET /__starmark/events?since={since} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    c
}

/// The answer of the event path: generation and error.
fn events_answer(c: &mut TcpStream) -> (u64, Option<String>) {
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let (status, head, body) = response(c, false);
    assert_eq!(status, 200, "{head}");
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    (
        v["generation"].as_u64().unwrap(),
        v["error"].as_str().map(str::to_string),
    )
}

/// Long-polls until a rebuild after `since` ends as `ok` wants (an error or none); the state.
fn wait_for(served: &Served, mut since: u64, ok: bool) -> (u64, Option<String>) {
    let start = Instant::now();
    loop {
        let (generation, error) = events_answer(&mut ask_events(served, since));
        if generation != since && error.is_none() == ok {
            return (generation, error);
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "no rebuild ended so"
        );
        since = generation;
    }
}

/// GET `path` as a browser loads a page (`Accept: text/html,...`); the status and body as text.
fn get_page(served: &Served, path: &str) -> (u16, String) {
    let mut c = served.connect();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/html,application/xhtml+xml,*/*;q=0.8\r\n\
         Connection: close\r\n\r\n"
    )
    .unwrap();
    let (status, _, body) = response(&mut c, false);
    (status, String::from_utf8(body).unwrap())
}

/// The home page as a browser gets it.
fn home(served: &Served) -> String {
    let (status, page) = get_page(served, "/");
    assert_eq!(status, 200);
    page
}

#[test]
fn pages_reload_after_a_rebuild_and_show_its_error_until_fixed() {
    let served = Served::start(&[]);
    let page = home(&served);
    assert!(
        page.contains("<script src=\"/__starmark/reload.js\" data-events=\"/__starmark/events\" data-generation=\"0\"></script>\n</body>"),
        "{page}"
    );
    assert!(!page.contains("starmark-build-error"), "{page}");
    let (status, js) = get(&served, "/__starmark/reload.js");
    assert_eq!(status, 200);
    assert!(String::from_utf8(js).unwrap().contains("location.reload()"));
    assert_eq!(get(&served, "/__starmark/overlay.css").0, 200);

    // A page waiting on the event path is not answered while nothing changes...
    let mut waiting = ask_events(&served, 0);
    waiting
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let mut byte = [0u8; 1];
    let early = waiting.peek(&mut byte);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "answered before any change: {early:?}"
    );
    // ...and is answered once a record changes and the rebuild finishes.
    served.reg.signed("1.md", &RecordText::new(1).text());
    let (first, _) = events_answer(&mut waiting);
    assert!(first >= 1);
    let (generation, _) = wait_for(&served, first - 1, true);
    let page = home(&served);
    assert!(
        page.contains(&format!("data-generation=\"{generation}\"")),
        "{page}"
    );
    assert!(
        page.contains("XL-AX3000"),
        "the rebuilt page lists the record: {page}"
    );

    // A broken record: the pages served carry the error, escaped, until it is fixed.
    let bad = served
        .reg
        .write_record("<i>bad</i>.md", &RecordText::new(2).text());
    let (broken, error) = wait_for(&served, generation, false);
    let error = error.unwrap();
    assert!(error.contains("<i>bad</i>.md"), "{error}");
    let page = home(&served);
    assert!(
        page.contains("<div id=\"starmark-build-error\" role=\"alert\">"),
        "{page}"
    );
    assert!(page.contains("&lt;i&gt;bad&lt;/i&gt;.md"), "{page}");
    assert!(!page.contains("<i>bad</i>"), "unescaped: {page}");
    assert!(page.contains("/__starmark/overlay.css"), "{page}");
    let (status, other) = get_page(&served, "/en/");
    assert_eq!(status, 200);
    assert!(other.contains("&lt;i&gt;bad&lt;/i&gt;.md"), "{other}");
    // A tool (no text/html in Accept: mirror, audit, curl) gets the built bytes as they are.
    let (status, raw) = get(&served, "/");
    assert_eq!(status, 200);
    assert_eq!(
        raw,
        std::fs::read(served.reg.path("public/index.html")).unwrap()
    );

    std::fs::remove_file(&bad).unwrap();
    let (fixed, error) = wait_for(&served, broken, true);
    assert_eq!(error, None);
    let page = home(&served);
    assert!(!page.contains("starmark-build-error"), "{page}");
    assert!(
        page.contains(&format!("data-generation=\"{fixed}\"")),
        "{page}"
    );

    // The built files carry none of it.
    let mut files = Vec::new();
    find_files(&served.reg.path("public"), "html", &mut files);
    assert!(files.len() > 3);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(!text.contains("__starmark"), "{}", f.display());
        assert!(!text.contains("starmark-build-error"), "{}", f.display());
    }
}

#[test]
fn waiting_pages_take_no_thread_and_are_capped() {
    let served = Served::start(&[]);
    let before = served.threads();
    let waiting: Vec<TcpStream> = (0..32).map(|_| ask_events(&served, 0)).collect();
    std::thread::sleep(Duration::from_millis(500));
    // As for idle connections: the watcher's and the rebuild's threads may start meanwhile.
    let during = served.threads();
    assert!(
        during <= before + 2,
        "{during} threads with 32 pages waiting ({before} before)"
    );
    let mut extra = ask_events(&served, 0);
    extra
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (status, _, _) = response(&mut extra, false);
    assert_eq!(status, 503);
    // A page that knows an older generation is answered at once, cap or not.
    let (generation, error) = events_answer(&mut ask_events(&served, 7));
    assert_eq!((generation, error), (0, None));
    // Every waiting page is answered by the next rebuild.
    served.reg.signed("1.md", &RecordText::new(1).text());
    for mut c in waiting {
        assert!(events_answer(&mut c).0 >= 1);
    }
}
