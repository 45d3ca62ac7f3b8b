//! `starmark serve`: build, serve the output on 127.0.0.1 (crate::http), rebuild on changes; the
//! open pages reload after every rebuild and show its error while it fails (crate::http's live
//! reload, only in what is served: the built files never change for it).

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use notify::{RecursiveMode, Watcher};

use crate::cli::ServeArgs;
use crate::http::{Limits, Server, Site};
use crate::site::{build, BuildOptions};

pub fn run(args: &ServeArgs) -> Result<u8> {
    let opts = BuildOptions {
        registry: args.registry.clone(),
        out: args.out.clone(),
        quiet: false,
        full: false,
        at: None,
        sign_manifest: false,
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.registry.join("public"));
    outln!("{}", build(&opts)?);

    let prefix = format!("/{}/", args.prefix.trim_matches('/')).replace("//", "/");
    let limits = Limits {
        timeout: Duration::from_millis(args.request_timeout_ms),
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
    };
    let site = Site {
        root: out.clone(),
        prefix: prefix.clone(),
    };
    let mut server = Server::bind(args.port, site, limits)?;
    let notifier = server.live()?;
    let port = server.port()?;
    outln!(
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
            let result = match build(&rebuild_opts) {
                Ok(s) => {
                    // The server keeps serving when nobody reads its output any more.
                    let _ = writeln!(std::io::stdout(), "{s}");
                    Ok(())
                }
                Err(e) if crate::lock::is_busy(&e) => {
                    // Another command (sign, revoke, a build) holds the registry: try again.
                    dirty.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(500));
                    continue;
                }
                Err(e) => {
                    errln!("starmark: rebuild failed, still serving the previous output: {e:#}");
                    Err(format!("{e:#}"))
                }
            };
            if let Err(e) = notifier.rebuilt(result) {
                errln!("starmark: {e:#}");
            }
        }
    });

    server.run()?;
    Ok(crate::EXIT_OK)
}

/// Watches the registry (not the output or cache) and sets `dirty` on any change.
fn watch(
    registry: &Path,
    out: &Path,
    dirty: Arc<AtomicBool>,
) -> Result<notify::RecommendedWatcher> {
    let out = out.canonicalize().unwrap_or_else(|_| out.to_path_buf());
    let given = registry.to_path_buf();
    let root = registry.canonicalize().unwrap_or_else(|_| given.clone());
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(e) = event {
            let relevant = e.paths.iter().any(|p| {
                let p = p.canonicalize().unwrap_or_else(|_| p.clone());
                // Hidden names inside the registry only: the registry may itself be under a
                // hidden directory (a temp dir such as /tmp/.tmpXXXX).
                let inside = p
                    .strip_prefix(&root)
                    .or_else(|_| p.strip_prefix(&given))
                    .unwrap_or(&p);
                !p.starts_with(&out)
                    && !inside.components().any(|c| {
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
