//! `starmark mirror SOURCE DIR --root HEX [--json]`.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use starmark_core::{from_hex, PublicKey};

use crate::cli::MirrorArgs;
use crate::mirror::{run as mirror, Options, Report, Status};
use crate::source::Limits;

pub fn run(args: &MirrorArgs) -> Result<u8> {
    let bytes = from_hex::<32>(args.root.trim())
        .with_context(|| format!("--root {:?} is not 64 hex digits", args.root))?;
    let root_key =
        PublicKey::from_bytes(&bytes).with_context(|| format!("--root {}: refused", args.root))?;
    let opts = Options {
        source: args.source.clone(),
        dir: args.dir.clone(),
        root_key,
        limits: Limits::from_env()?,
    };
    let report = mirror(&opts, progress(args.quiet))?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print(&report);
    }
    Ok(match report.status {
        Status::Refused => crate::EXIT_NOT_VALID,
        Status::Updated | Status::UpToDate => crate::EXIT_OK,
    })
}

/// A bar of the bytes of files fetched, on stderr (drawn only on a terminal).
fn progress(quiet: bool) -> ProgressBar {
    let target = if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(0), target);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} mirror: {msg} [{bar:30}] {bytes}/{total_bytes}, {bytes_per_sec}, {eta} left",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn print(r: &Report) {
    let what = match r.status {
        Status::Updated => "updated".to_string(),
        Status::UpToDate => "already up to date".to_string(),
        Status::Refused => format!(
            "refused, {} is as it was ({})",
            r.dir.display(),
            plural(r.problems.len() as u64, "problem", "problems")
        ),
    };
    outln!("mirror of {} in {}: {what}", r.source, r.dir.display());
    if let (Some(m), Some(k)) = (&r.manifest, &r.signed_by) {
        outln!("  manifest {m}, signed by issuer key {k}");
    }
    if r.status == Status::Updated {
        let unchanged = r
            .unchanged
            .map_or_else(String::new, |n| format!(", {n} unchanged"));
        outln!(
            "  files: {} added or changed, {} removed{unchanged}",
            r.changed,
            r.removed
        );
    }
    outln!(
        "  fetched {}, {}, {} in all{}",
        plural(r.files_fetched, "file", "files"),
        plural(r.listings_fetched, "listing", "listings"),
        plural(r.bytes_fetched, "byte", "bytes"),
        if r.files_resumed > 0 {
            format!(
                "; {} fetched by an earlier run",
                plural(r.files_resumed, "file", "files")
            )
        } else {
            String::new()
        }
    );
    let change = |c: &crate::mirror::Change| match (c.old, c.new) {
        (Some(a), Some(b)) if a != b => format!("{a} -> {b}"),
        (_, Some(b)) => b.to_string(),
        (Some(a), None) => format!("{a} (mirror)"),
        (None, None) => "none".to_string(),
    };
    let log = match (r.checkpoint.old, r.checkpoint.new) {
        (None, None) => "no log".to_string(),
        _ => format!("log of {} entries", change(&r.checkpoint)),
    };
    outln!(
        "  {log}; trust list sequence {}; revocation list sequence {}; {:.2} s",
        change(&r.trust_list),
        change(&r.revocation_list),
        r.seconds
    );
    for p in &r.problems {
        outln!("  {p}");
    }
}
