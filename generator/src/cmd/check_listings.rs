//! `starmark check-listings FILE --registry SOURCE`: every listing of a retailer's file checked
//! against the registry's signed certifications, streamed: rows are read in order, checked in
//! parallel batches, and written to the report in order, so memory stays bounded by the batch.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use starmark_core::listings::{Certifications, Columns, Role, RowResult};
use starmark_core::Day;
use starmark_listings::report::{self, Meta, Summary};
use starmark_listings::state::{self, State};
use starmark_listings::{Checker, Format, InputError, Mapping, Prepared};

use crate::cli::{CheckListingsArgs, ReportFormat};
use crate::listings::source::{self, Loaded};
use crate::listings::xlsx::XlsxReport;
use crate::{fsutil, time};

/// Rows checked per parallel batch.
const BATCH: usize = 8192;
/// Files at least this large (in the units of their rows' positions) get a progress bar.
const PROGRESS_FROM: u64 = 4 << 20;
/// Problems of the source shown one by one; the rest are counted.
const SHOWN_PROBLEMS: usize = 10;

pub fn run(args: &CheckListingsArgs) -> Result<u8> {
    let chosen = chosen_columns(&args.columns)?;
    let format = report_format(args)?;
    let now = match &args.at {
        Some(s) => time::parse_instant(s)?,
        None => time::now(),
    };
    let previous = match &args.state {
        Some(p) => read_state(p)?,
        None => None,
    };
    let started = std::time::Instant::now();
    let timings = std::env::var_os("STARMARK_TIMINGS").is_some();
    let phase = |name: &str| {
        if timings {
            errln!("[{:>8.3} s] {name}", started.elapsed().as_secs_f64());
        }
    };
    let file = &args.file;
    let bytes = read_listings(file, args.max_bytes)?;
    let name = file.to_string_lossy();
    let in_file = |e: InputError| anyhow::anyhow!("{}: {e}", file.display());
    let decoded =
        starmark_listings::decode(&bytes, &name, args.sheet.as_deref()).map_err(in_file)?;
    let rows = decoded.rows().map_err(in_file)?;
    let mapping =
        Mapping::new(&rows.headers, &chosen, decoded.format != Format::Jsonl).map_err(in_file)?;
    let header_row = rows.header_row;
    phase("listings file read and decoded");

    let highest_seen = previous.as_ref().and_then(|s| s.revocation_sequence);
    let loaded = source::load(
        &args.registry,
        &source::Options {
            root: args.root.as_deref(),
            base_url: args.base_url.as_deref(),
            now,
            highest_seen,
        },
    )?;
    phase("certifications loaded and verified");
    warn_problems(&loaded.problems);
    let certs = &loaded.certs;
    if let Some(list) = certs.basis().offered_revocations() {
        if highest_seen.is_some_and(|seen| list.sequence < seen) {
            errln!(
                "starmark: warning: the revocation list (sequence {}) is older than the one the last run saw ({}): refused as a rollback; every result is at best stale_data",
                list.sequence,
                highest_seen.unwrap_or_default()
            );
        }
    }

    let with_changes = args.state.is_some();
    let mut report = Report::open(format, args.out.as_deref(), with_changes, certs)?;
    let bar = progress(rows.total, args.quiet);
    let columns = mapping.columns().clone();
    let mut checker = Checker::new(mapping);
    let mut summary = Summary::default();
    let mut next_state = with_changes.then(|| State::new(None));
    let kind = report.kind();
    let mut rows = rows;
    // A pipeline: while one batch is checked and encoded (in parallel), the next is read.
    let mut batch = read_batch(&mut rows, &mut checker);
    let mut first = true;
    while !batch.rows.is_empty() {
        let (next, done) = rayon::join(
            || read_batch(&mut rows, &mut checker),
            || {
                let mut results = check_batch(&batch.rows, certs, &columns);
                if let Some(next) = next_state.as_mut() {
                    for r in &mut results {
                        next.observe(r, previous.as_ref());
                    }
                }
                let encoded = kind.encode(&results, first);
                (results, encoded)
            },
        );
        let (results, encoded) = done;
        for r in &results {
            summary.add(r);
        }
        report.write(&results, encoded?)?;
        bar.set_position(batch.position);
        first = false;
        batch = next;
    }
    bar.finish_and_clear();
    phase("listings checked and the report written");
    if summary.rows() == 0 {
        report.abandon();
        bail!(
            "{}: {}",
            file.display(),
            InputError::HeadersOnly { header_row }
        );
    }
    let written = report.finish(&summary)?;

    if let (Some(path), Some(mut next)) = (&args.state, next_state) {
        let used = certs.basis().revocations().map(|l| l.sequence);
        next.revocation_sequence = highest_seen.max(used);
        let gone = previous.as_ref().map_or(0, |p| p.gone(&next));
        let mut json = serde_json::to_vec(&next)?;
        json.push(b'\n');
        fsutil::write_atomic(path, &json)?;
        if !args.quiet && gone > 0 {
            errln!(
                "starmark: {} of the last run {} no longer in the file",
                crate::plural::count(gone, "listing", "listings"),
                crate::plural::noun(gone, "is", "are")
            );
        }
    }
    if !args.quiet {
        print_summary(
            args,
            &decoded,
            &loaded,
            &summary,
            with_changes,
            written.as_deref(),
        );
    }
    Ok(if summary.problems() == 0 {
        crate::EXIT_OK
    } else {
        crate::EXIT_NOT_VALID
    })
}

/// `--column ROLE=HEADER` arguments.
fn chosen_columns(args: &[String]) -> Result<Vec<(Role, String)>> {
    args.iter()
        .map(|a| {
            let roles: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
            let Some((role, header)) = a.split_once('=') else {
                bail!(
                    "--column {a}: expected ROLE=HEADER, ROLE one of {}",
                    roles.join(", ")
                );
            };
            let Some(r) = Role::from_name(role.trim()) else {
                bail!(
                    "--column {a}: unknown role {:?}; roles: {}",
                    role.trim(),
                    roles.join(", ")
                );
            };
            Ok((r, header.to_string()))
        })
        .collect()
}

fn report_format(args: &CheckListingsArgs) -> Result<ReportFormat> {
    if let Some(f) = args.format {
        if f == ReportFormat::Xlsx && args.out.is_none() {
            bail!("--format xlsx needs --out FILE.xlsx");
        }
        return Ok(f);
    }
    let ext = args
        .out
        .as_ref()
        .and_then(|p| p.extension())
        .map(|e| e.to_string_lossy().to_lowercase());
    Ok(match ext.as_deref() {
        Some("json") => ReportFormat::Json,
        Some("xlsx") => ReportFormat::Xlsx,
        _ => ReportFormat::Csv,
    })
}

fn read_state(path: &Path) -> Result<Option<State>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("{}: cannot read", path.display())))
        }
    };
    let s: State = serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a listings state file", path.display()))?;
    if s.format != state::FORMAT {
        bail!(
            "{}: not a listings state file (format {:?}, expected {:?})",
            path.display(),
            s.format,
            state::FORMAT
        );
    }
    Ok(Some(s))
}

/// Reads the listings file, refusing one over `max` bytes before reading it.
fn read_listings(path: &Path, max: u64) -> Result<Vec<u8>> {
    let cannot = || format!("{}: cannot read", path.display());
    let meta = std::fs::metadata(path).with_context(cannot)?;
    if !meta.is_file() {
        bail!("{}: not a file", path.display());
    }
    if meta.len() > max {
        bail!(
            "{}: {} bytes, more than the limit of {max} (--max-bytes); split the file, or raise the limit",
            path.display(),
            meta.len()
        );
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    File::open(path)
        .with_context(cannot)?
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(cannot)?;
    if bytes.len() as u64 > max {
        bail!(
            "{}: more than the limit of {max} bytes (--max-bytes)",
            path.display()
        );
    }
    Ok(bytes)
}

fn warn_problems(problems: &[String]) {
    for p in problems.iter().take(SHOWN_PROBLEMS) {
        errln!("starmark: warning: {p}");
    }
    if problems.len() > SHOWN_PROBLEMS {
        errln!(
            "starmark: warning: and {} more in the source",
            crate::plural::count(problems.len() - SHOWN_PROBLEMS, "problem", "problems")
        );
    }
}

/// Rows read and ready to check, and how far into the file they end.
struct Batch {
    rows: Vec<Prepared>,
    position: u64,
}

/// Reads the next [`BATCH`] rows that are not blank (fewer at the end of the file).
fn read_batch(rows: &mut starmark_listings::Rows<'_>, checker: &mut Checker) -> Batch {
    let mut batch = Batch {
        rows: Vec::with_capacity(BATCH),
        position: 0,
    };
    for row in rows.by_ref() {
        batch.position = row.position;
        batch.rows.extend(checker.prepare(row));
        if batch.rows.len() >= BATCH {
            break;
        }
    }
    batch
}

/// Checks rows in parallel, in order.
fn check_batch(batch: &[Prepared], certs: &Certifications, columns: &Columns) -> Vec<RowResult> {
    batch.par_iter().map(|p| p.check(certs, columns)).collect()
}

fn progress(total: u64, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} checking listings [{bar:40}] {percent}%, {eta} left",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    if !quiet && total >= PROGRESS_FROM {
        bar.set_draw_target(ProgressDrawTarget::stderr());
    }
    bar
}

/// A report file being written under a temporary name beside its final one.
struct Temp {
    tmp: PathBuf,
    path: PathBuf,
}

/// A report's byte sink, and its temporary file when it goes to one.
type Sink = (Box<dyn Write>, Option<Temp>);

/// Where the report goes, while it is written: stdout, or a temporary file renamed over
/// `--out` at the end (a failed check leaves no half-written report). CSV and JSON lines are
/// encoded in parallel chunks ([`Kind::encode`]) and written in order.
enum Report {
    Csv(BufWriter<Box<dyn Write>>, Option<Temp>, bool),
    Json(BufWriter<Box<dyn Write>>, Option<Temp>),
    Xlsx(Box<XlsxReport>, PathBuf),
}

/// How a report's lines are encoded.
#[derive(Clone, Copy)]
enum Kind {
    Csv(bool),
    Json,
    Xlsx,
}

impl Kind {
    /// The report lines of `rows`, encoded in parallel chunks (empty for XLSX, which is written
    /// row by row); `first` when they start the report.
    fn encode(self, rows: &[RowResult], first: bool) -> Result<Vec<u8>> {
        let chunks: Vec<std::io::Result<Vec<u8>>> = match self {
            Kind::Csv(with_changes) => rows
                .par_chunks(ENCODE_CHUNK)
                .map(|c| report::csv_rows(c, with_changes))
                .collect(),
            Kind::Json => rows
                .par_chunks(ENCODE_CHUNK)
                .enumerate()
                .map(|(i, c)| report::json_rows(c, first && i == 0))
                .collect(),
            Kind::Xlsx => return Ok(Vec::new()),
        };
        let mut out = Vec::new();
        for c in chunks {
            out.extend_from_slice(&c.map_err(write_failed)?);
        }
        Ok(out)
    }
}

/// Rows per chunk encoded by one task.
const ENCODE_CHUNK: usize = 1024;

fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// The io::Error stays in the chain: a closed pipe then ends the process quietly (crate::output).
fn write_failed(e: std::io::Error) -> anyhow::Error {
    anyhow::Error::new(e).context("cannot write the report")
}

impl Report {
    fn open(
        format: ReportFormat,
        out: Option<&Path>,
        with_changes: bool,
        certs: &Certifications,
    ) -> Result<Report> {
        let sink = |out: Option<&Path>| -> Result<Sink> {
            match out {
                None => Ok((Box::new(std::io::stdout().lock()), None)),
                Some(p) => {
                    let tmp = temp_beside(p);
                    let f = File::create(&tmp)
                        .with_context(|| format!("{}: cannot create", tmp.display()))?;
                    Ok((
                        Box::new(f),
                        Some(Temp {
                            tmp,
                            path: p.to_path_buf(),
                        }),
                    ))
                }
            }
        };
        Ok(match format {
            ReportFormat::Csv => {
                let (w, paths) = sink(out)?;
                let mut w = BufWriter::with_capacity(1 << 20, w);
                w.write_all(&report::csv_head(with_changes).map_err(write_failed)?)
                    .map_err(write_failed)?;
                Report::Csv(w, paths, with_changes)
            }
            ReportFormat::Json => {
                let (w, paths) = sink(out)?;
                let mut w = BufWriter::with_capacity(1 << 20, w);
                w.write_all(&report::json_head(&Meta::of(certs)).map_err(write_failed)?)
                    .map_err(write_failed)?;
                Report::Json(w, paths)
            }
            ReportFormat::Xlsx => match out {
                Some(p) => Report::Xlsx(Box::new(XlsxReport::new(with_changes)?), p.to_path_buf()),
                None => bail!("--format xlsx needs --out FILE.xlsx"),
            },
        })
    }

    /// How its lines are encoded.
    fn kind(&self) -> Kind {
        match self {
            Report::Csv(_, _, with_changes) => Kind::Csv(*with_changes),
            Report::Json(..) => Kind::Json,
            Report::Xlsx(..) => Kind::Xlsx,
        }
    }

    /// Writes the lines [`Report::encode`] made of `rows`.
    fn write(&mut self, rows: &[RowResult], encoded: Vec<u8>) -> Result<()> {
        match self {
            Report::Csv(w, ..) | Report::Json(w, _) => w.write_all(&encoded).map_err(write_failed),
            Report::Xlsx(x, _) => rows.iter().try_for_each(|r| x.row(r)),
        }
    }

    /// Removes the temporary file of a report that will not be finished.
    fn abandon(self) {
        if let Report::Csv(_, Some(Temp { tmp, .. }), _) | Report::Json(_, Some(Temp { tmp, .. })) =
            self
        {
            let _ = std::fs::remove_file(tmp);
        }
    }

    /// Ends the report; returns the file written, if any.
    fn finish(self, summary: &Summary) -> Result<Option<PathBuf>> {
        let (mut w, paths) = match self {
            Report::Xlsx(x, path) => {
                x.save(&path)?;
                return Ok(Some(path));
            }
            Report::Csv(w, paths, _) => (w, paths),
            Report::Json(mut w, paths) => {
                w.write_all(&report::json_tail(summary).map_err(write_failed)?)
                    .map_err(write_failed)?;
                (w, paths)
            }
        };
        w.flush().map_err(write_failed)?;
        drop(w);
        match paths {
            None => Ok(None),
            Some(Temp { tmp, path }) => {
                std::fs::rename(&tmp, &path)
                    .with_context(|| format!("{}: cannot write", path.display()))?;
                Ok(Some(path))
            }
        }
    }
}

fn print_summary(
    args: &CheckListingsArgs,
    decoded: &starmark_listings::Decoded<'_>,
    loaded: &Loaded,
    summary: &Summary,
    with_changes: bool,
    written: Option<&Path>,
) {
    let certs = &loaded.certs;
    let how = match (decoded.format, decoded.delimiter) {
        (Format::Csv, Some(d)) => format!(
            "CSV, {}, {} separated",
            decoded.encoding,
            match d {
                '\t' => "tab",
                ';' => "semicolon",
                _ => "comma",
            }
        ),
        (Format::Xlsx, _) => String::from("XLSX"),
        (Format::Jsonl, _) => format!("JSON lines, {}", decoded.encoding),
        (Format::Csv, None) => String::from("CSV"),
    };
    let list = certs.basis().revocations().map_or_else(
        || String::from("no revocation list"),
        |l| format!("revocation list {}", l.sequence),
    );
    errln!(
        "starmark: {} in {} ({how}) checked against {} of {} ({list}) as of {}:",
        crate::plural::count(summary.rows(), "listing", "listings"),
        args.file.display(),
        crate::plural::count(certs.len(), "certification", "certifications"),
        loaded.description,
        Day::from_unix(certs.basis().now())
    );
    for line in summary.lines() {
        errln!("{line}");
    }
    if with_changes {
        errln!("  {:<18} {:>9}", "changed", summary.changed());
    }
    if let Some(p) = written {
        errln!("starmark: report written to {}", p.display());
    }
}
