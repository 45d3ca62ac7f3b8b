//! `starmark audit`: checks a published site (a directory or a URL) from its pinned root key
//! alone, and names every problem.
//!
//! In order: the trust list under the root key; every file against the signed manifest
//! ([`files`]); the revocation list and its freshness ([`lists`]); the transparency log: its
//! checkpoint and the whole tree recomputed from the entry bundles ([`log`]); every certification's
//! signed claim and record ([`records`]); completeness both ways between the site and the log
//! ([`completeness`]); the lists against the log; with a state file, consistency with the
//! checkpoint and lists seen last time ([`state`]); which known witnesses cosigned the checkpoint
//! ([`witness`]); optionally the rebuild of the site from its signed inputs ([`rebuild`]).
//! Nothing is written but the state file (only when everything held) and a witness's
//! cosignature.

pub mod completeness;
pub mod files;
pub mod lists;
pub mod log;
pub mod rebuild;
pub mod records;
pub mod state;
pub mod target;
pub mod witness;

use std::fmt;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use starmark_core::{to_hex, PublicKey};

use target::Target;

/// Which part of the audit found a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Files against the manifest, and its signature.
    Manifest,
    /// The trust list and the revocation list.
    Lists,
    /// Signed claims and record files.
    Certifications,
    /// The transparency log.
    Log,
    /// Completeness between the site and the log.
    Completeness,
    /// Against what the state file remembers.
    State,
    /// Witnesses' cosignatures.
    Witnesses,
    /// The rebuild from the signed inputs.
    Rebuild,
}

impl Check {
    /// The name shown before a problem.
    pub fn name(self) -> &'static str {
        match self {
            Check::Manifest => "manifest",
            Check::Lists => "lists",
            Check::Certifications => "certifications",
            Check::Log => "log",
            Check::Completeness => "completeness",
            Check::State => "state",
            Check::Witnesses => "witnesses",
            Check::Rebuild => "rebuild",
        }
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The part of the audit.
    pub check: Check,
    /// What kind of problem, a stable word for machines (`missing`, `altered`, `fork`...).
    pub kind: &'static str,
    /// The file it is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What is wrong, naming the file, serial, entry or key.
    pub message: String,
}

impl Finding {
    /// A finding about the site as a whole or about no one file.
    pub fn new(check: Check, kind: &'static str, message: impl Into<String>) -> Finding {
        Finding {
            check,
            kind,
            path: None,
            message: message.into(),
        }
    }

    /// A finding about one file.
    pub fn at(
        check: Check,
        kind: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            check,
            kind,
            path: Some(path.into()),
            message: message.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check.name(), self.message)
    }
}

/// What to audit and how.
pub struct Options<'a> {
    /// The site.
    pub target: &'a dyn Target,
    /// The registry's pinned root key.
    pub root_key: PublicKey,
    /// The time freshness is judged at (Unix seconds).
    pub at: u64,
    /// What the state file remembers.
    pub state: state::Remembered<'a>,
    /// Rebuild the site from its signed inputs, with this registry's configuration, templates
    /// and font when given.
    pub rebuild: Option<rebuild::Inputs>,
    /// Show a progress bar.
    pub progress: bool,
}

/// What the audit found.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The site audited.
    pub target: String,
    /// The root key, hex.
    pub root_key: String,
    /// The time freshness was judged at.
    pub at: u64,
    /// Whether everything held.
    pub ok: bool,
    /// The manifest and the files.
    pub manifest: files::Summary,
    /// The trust list and the revocation list.
    pub lists: lists::Summary,
    /// The certifications.
    pub certifications: records::Summary,
    /// The log.
    pub log: log::Summary,
    /// Completeness both ways.
    pub completeness: completeness::Summary,
    /// Against the state file.
    pub state: state::Summary,
    /// Witnesses.
    pub witnesses: witness::Summary,
    /// The rebuild, when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebuild: Option<rebuild::Summary>,
    /// Every problem, in the order of the checks.
    pub problems: Vec<Finding>,
    /// The checkpoint audited, as served (for the state file and a witness's cosignature).
    #[serde(skip)]
    pub checkpoint: Option<log::Seen>,
}

/// Threads for the audit's parallel steps: most of their time is waiting for files (a cold
/// page cache, a web server), so more than the cores; `RAYON_NUM_THREADS` sets it.
fn threads() -> usize {
    if let Some(n) = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    (cores * 4).max(16)
}

/// Audits the site. Fails only on an input error (the target cannot be read at all); every
/// problem of the site is a [`Finding`] in the report.
pub fn audit(opts: Options<'_>) -> Result<Report> {
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads())
        .build()
    {
        Ok(pool) => pool.install(|| run(opts)),
        Err(_) => run(opts),
    }
}

/// `STARMARK_TIMINGS`: prints how long each step took, on stderr.
struct Phases {
    start: Option<std::time::Instant>,
}

impl Phases {
    fn new() -> Phases {
        Phases {
            start: std::env::var_os("STARMARK_TIMINGS").map(|_| std::time::Instant::now()),
        }
    }

    fn done(&self, step: &str) {
        if let Some(start) = self.start {
            errln!("[{:8.3} s] {step}", start.elapsed().as_secs_f64());
        }
    }
}

fn run(opts: Options<'_>) -> Result<Report> {
    let phases = Phases::new();
    let target = opts.target;
    let mut problems = Vec::new();
    let trust = lists::trust(target, &opts.root_key, &mut problems)?;
    let trust_list = trust.as_ref().map(|t| &t.list);
    let manifest = files::check(target, trust_list, bar(opts.progress), &mut problems)?;
    phases.done("manifest and files");
    let revocation = match trust_list {
        Some(t) => lists::revocation(target, t, opts.at, &mut problems)?,
        None => None,
    };
    let log = match trust_list {
        Some(t) => log::check(target, t, &mut problems)?,
        None => None,
    };
    phases.done("lists and log");
    let (certifications, claims) = match trust_list {
        Some(t) => records::check(target, t, &manifest.paths, &mut problems)?,
        None => (records::Summary::default(), Vec::new()),
    };
    phases.done("certifications");
    let completeness =
        completeness::check(&claims, log.as_ref(), revocation.as_ref(), &mut problems);
    let lists = lists::Summary::of(trust.as_ref(), revocation.as_ref(), opts.at);
    if let Some(log) = &log {
        lists::against_log(trust.as_ref(), revocation.as_ref(), log, &mut problems);
    }
    let state = state::check(
        opts.state,
        target,
        log.as_ref(),
        trust.as_ref(),
        revocation.as_ref(),
        &mut problems,
    );
    let witnesses = witness::count(target, log.as_ref(), &mut problems)?;
    phases.done("completeness, state and witnesses");
    let rebuild = match opts.rebuild {
        Some(inputs) => Some(rebuild::check(
            target,
            &inputs,
            &opts.root_key,
            &manifest.paths,
            &mut problems,
        )?),
        None => None,
    };
    if rebuild.is_some() {
        phases.done("rebuild");
    }
    let manifest_summary = manifest.summary;
    Ok(Report {
        target: target.describe(),
        root_key: to_hex(&opts.root_key.to_bytes()),
        at: opts.at,
        ok: problems.is_empty(),
        manifest: manifest_summary,
        lists,
        certifications,
        log: log.as_ref().map(log::Summary::of).unwrap_or_default(),
        completeness,
        state,
        witnesses,
        rebuild,
        problems,
        checkpoint: log.map(|l| l.seen),
    })
}

/// The progress bar of the long steps (hashing every file), on stderr when asked.
fn bar(show: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    if show {
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {msg} [{bar:40}] {pos}/{len} files, {eta} left")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_draw_target(ProgressDrawTarget::stderr());
    }
    bar
}
