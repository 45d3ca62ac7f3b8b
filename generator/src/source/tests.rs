//! Unit tests of the source: a directory, and a server here that misbehaves on request.
#![allow(clippy::unwrap_used, clippy::panic)]
use super::http::Origin;
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
            let _ =
                stream.write_all(head("200 OK", &format!("Content-Length: {n}\r\n")).as_bytes());
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
