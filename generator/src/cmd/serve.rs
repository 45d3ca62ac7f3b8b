//! `starmark serve`: build, serve the output on 127.0.0.1, rebuild on changes.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use notify::{RecursiveMode, Watcher};

use crate::cli::ServeArgs;
use crate::site::{build, BuildOptions};

pub fn run(args: &ServeArgs) -> Result<u8> {
    let opts = BuildOptions {
        registry: args.registry.clone(),
        out: args.out.clone(),
        quiet: false,
        full: false,
        at: None,
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.registry.join("public"));
    println!("{}", build(&opts)?);

    let prefix = format!("/{}/", args.prefix.trim_matches('/')).replace("//", "/");
    let server = tiny_http::Server::http(("127.0.0.1", args.port))
        .map_err(|e| anyhow::anyhow!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .unwrap_or(args.port);
    println!(
        "serving {} at http://127.0.0.1:{port}{prefix} (Ctrl-C to stop)",
        out.display()
    );

    let dirty = Arc::new(AtomicBool::new(false));
    let _watcher = watch(&args.registry, &out, Arc::clone(&dirty))?;
    let rebuild_opts = opts.clone();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(300));
        if dirty.swap(false, Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(200));
            dirty.store(false, Ordering::SeqCst);
            match build(&rebuild_opts) {
                Ok(s) => println!("{s}"),
                Err(e) if crate::lock::is_busy(&e) => {
                    // Another command (sign, revoke, a build) holds the registry: try again.
                    dirty.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e) => {
                    eprintln!("starmark: rebuild failed, still serving the previous output: {e:#}")
                }
            }
        }
    });

    for request in server.incoming_requests() {
        let response = respond(&out, &prefix, request.url());
        let _ = request.respond(response);
    }
    Ok(crate::EXIT_OK)
}

/// Watches the registry (not the output or cache) and sets `dirty` on any change.
fn watch(
    registry: &Path,
    out: &Path,
    dirty: Arc<AtomicBool>,
) -> Result<notify::RecommendedWatcher> {
    let out = out.canonicalize().unwrap_or_else(|_| out.to_path_buf());
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(e) = event {
            let relevant = e.paths.iter().any(|p| {
                let p = p.canonicalize().unwrap_or_else(|_| p.clone());
                !p.starts_with(&out)
                    && !p.components().any(|c| {
                        let s = c.as_os_str().to_string_lossy();
                        s == ".starmark-cache" || s.starts_with(".public") || s.starts_with('.')
                    })
            });
            if relevant && !e.kind.is_access() {
                dirty.store(true, Ordering::SeqCst);
            }
        }
    })
    .context("cannot watch the registry")?;
    watcher
        .watch(registry, RecursiveMode::Recursive)
        .with_context(|| format!("{}: cannot watch", registry.display()))?;
    Ok(watcher)
}

fn respond(out: &Path, prefix: &str, url: &str) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let not_found = || tiny_http::Response::from_string("not found\n").with_status_code(404);
    let Some(rel) = path
        .strip_prefix(prefix)
        .or_else(|| (path.to_string() + "/").strip_prefix(prefix).map(|_| ""))
    else {
        return not_found();
    };
    let Some(file) = resolve(out, &percent_decode(rel)) else {
        return not_found();
    };
    match std::fs::read(&file) {
        Ok(bytes) => {
            let mut r = tiny_http::Response::from_data(bytes);
            if let Ok(h) = tiny_http::Header::from_bytes("Content-Type", content_type(&file)) {
                r = r.with_header(h);
            }
            if let Ok(h) = tiny_http::Header::from_bytes("Cache-Control", "no-cache") {
                r = r.with_header(h);
            }
            r
        }
        Err(_) => not_found(),
    }
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
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "xml" => "application/xml",
        "md" => "text/markdown; charset=utf-8",
        "sig" | "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
