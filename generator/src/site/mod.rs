//! `starmark build`: the public registry site, its labels and its API, from verified records.
//!
//! Steps: (1) load and verify every record, collecting every error, before anything is written;
//! (2) plan the outputs as jobs, each with a content key; (3) run the jobs whose key changed, in
//! parallel, into a temporary directory; (4) swap the result in. The same registry always builds
//! to the same bytes: no clock is read (statuses are as of the revocation list's issue time) and
//! every collection is ordered.

mod api;
mod favicon;
mod listings;
mod load;
mod log;
mod manifest;
mod markdown;
mod not_found;
pub mod output;
mod plan;
mod theme;
mod verifier;
mod views;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use starmark_core::manifest::FileMeta;
use starmark_core::Day;

use crate::label::LabelFont;
use crate::lock::Lock;
use crate::registry::{Category, Registry};
use load::{Loaded, VerifiedCert};
use output::{JobId, State};
use theme::{Theme, LANGS};
use views::{category_name, CategoryView};

/// Content-Security-Policy of every page: no inline script or style, nothing from elsewhere.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'";
/// Pixels per inch of label PNGs.
pub const LABEL_DPI: f32 = 300.0;
/// Certifications listed as "latest" on the home page.
const LATEST: usize = 20;

/// What `starmark build` was asked to do.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The registry directory.
    pub registry: PathBuf,
    /// The output directory; default `REGISTRY/public`.
    pub out: Option<PathBuf>,
    /// No progress bar, no summary.
    pub quiet: bool,
    /// Ignore the build cache.
    pub full: bool,
    /// Reference time of statuses (Unix seconds); default the revocation list's issue time.
    pub at: Option<u64>,
    /// Sign the manifest with the registry's issuer key (and keep the signature in
    /// `REGISTRY/manifest.sig`).
    pub sign_manifest: bool,
}

pub use api::{BuildInfo, BUILD_PATH};
pub use manifest::SIGNATURE_FILE as MANIFEST_SIGNATURE_FILE;
pub use not_found::PATH as NOT_FOUND_PAGE;

/// The SHA-256 that `api/v1/build.json` gives for the templates: of starmark's own, with the
/// registry's overrides in `templates` (which need not exist).
pub fn templates_digest(templates: &Path) -> Result<[u8; 32]> {
    Ok(Theme::load(templates)?.digest)
}

/// What a build did.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The output directory.
    pub out: PathBuf,
    /// Certifications published.
    pub certs: usize,
    /// Files rendered in this build.
    pub rendered: usize,
    /// Files kept from the previous build.
    pub reused: usize,
    /// Whether the whole tree was rebuilt and swapped in.
    pub full: bool,
    /// Wall time.
    pub elapsed: Duration,
    /// Entries of the transparency log published, `None` without a log.
    pub log_size: Option<u64>,
    /// The registry, as given (for advice in messages).
    pub registry: PathBuf,
    /// The published manifest.
    pub manifest: manifest::Published,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "built {} into {} in {:.2} s ({} build: {} rendered, {} unchanged)",
            crate::plural::count(self.certs, "certification", "certifications"),
            self.out.display(),
            self.elapsed.as_secs_f64(),
            if self.full { "full" } else { "incremental" },
            crate::plural::count(self.rendered, "file", "files"),
            self.reused
        )?;
        if let Some(n) = self.log_size {
            write!(
                f,
                "; transparency log of {}",
                crate::plural::count(n, "entry", "entries")
            )?;
        }
        write!(f, "\n{}", self.manifest.describe(&self.registry))
    }
}

/// A content key: the first 16 bytes of a SHA-256 over everything an output depends on.
type Key = [u8; 16];

fn key_of(parts: &[&[u8]]) -> Key {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let mut key = [0u8; 16];
    key.copy_from_slice(&h.finalize()[..16]);
    key
}

type Render<'a> = Box<dyn Fn() -> Result<Vec<Vec<u8>>> + Send + Sync + 'a>;

/// One unit of output: its files, its content key, and how to make them.
struct Job<'a> {
    id: JobId,
    key: Key,
    /// The files of a named job; certification and label jobs derive theirs from the serial.
    paths: Vec<String>,
    /// Jobs with the same group run one after the other on one thread (a manufacturer's
    /// labels share their text lines, which the label renderer then draws once).
    group: &'a str,
    run: Render<'a>,
}

impl<'a> Job<'a> {
    fn named(id: &str, key: Key, paths: Vec<String>, run: Render<'a>) -> Job<'a> {
        Job {
            id: JobId::Named(id.to_string()),
            key,
            paths,
            group: "",
            run,
        }
    }

    /// The files this job writes.
    fn paths(&self) -> std::borrow::Cow<'_, [String]> {
        match self.id.derived_paths() {
            Some(p) => std::borrow::Cow::Owned(p),
            None => std::borrow::Cow::Borrowed(&self.paths),
        }
    }

    /// Labels survive theme changes: a full build reuses them when their key is unchanged.
    fn is_label(&self) -> bool {
        matches!(self.id, JobId::Label(_))
    }
}

/// Everything the page renderers share.
struct Site<'a> {
    reg: &'a Registry,
    loaded: &'a Loaded,
    theme: &'a Theme,
    categories: BTreeMap<&'a str, &'a Category>,
    /// Per language (in [`LANGS`] order), the context every page starts from.
    base: Vec<tera::Context>,
    /// The registry's transparency log, verified; `None` when it has none.
    log: Option<&'a crate::log::Published>,
    /// The bytes of `api/v1/build.json`.
    build_info: Vec<u8>,
}

/// The registry's name in a language: the English name, when there is one, for every language
/// but Chinese.
fn site_name<'a>(reg: &'a Registry, lang: &str) -> &'a str {
    match &reg.config.name_en {
        Some(en) if lang != "zh" => en,
        _ => &reg.config.name,
    }
}

/// The path of a page in a language: the first language at the root, the others under `<lang>/`.
fn lang_path(lang: &str, rel: &str) -> String {
    if lang == LANGS[0] {
        rel.to_string()
    } else {
        format!("{lang}/{rel}")
    }
}

impl Site<'_> {
    fn strings(&self, lang: &str) -> &BTreeMap<String, String> {
        self.theme.strings_of(lang)
    }

    /// Renders `template` for `rel` (the page's path within a language) in every language.
    fn page(
        &self,
        template: &str,
        rel: &str,
        fill: &dyn Fn(&str, &mut tera::Context),
    ) -> Result<Vec<Vec<u8>>> {
        LANGS
            .iter()
            .zip(&self.base)
            .map(|(lang, base)| {
                let full = lang_path(lang, rel);
                let root = "../".repeat(full.matches('/').count());
                let other = LANGS.iter().find(|l| *l != lang).copied().unwrap_or(lang);
                let mut ctx = base.clone();
                ctx.insert("home", &format!("{root}{}", lang_path(lang, "")));
                ctx.insert("alt", &format!("{root}{}", lang_path(other, rel)));
                ctx.insert("root", &root);
                fill(lang, &mut ctx);
                self.theme.render(template, &ctx).map(String::into_bytes)
            })
            .collect()
    }

    /// What every page of a language sees, whatever the page: made once per build.
    fn base_contexts(reg: &Registry, theme: &Theme) -> Vec<tera::Context> {
        LANGS
            .iter()
            .map(|lang| {
                let mut ctx = tera::Context::new();
                ctx.insert("lang", lang);
                ctx.insert("t", theme.strings_of(lang));
                ctx.insert("csp", CSP);
                ctx.insert("assets", &theme.assets);
                ctx.insert("site_name", site_name(reg, lang));
                ctx
            })
            .collect()
    }

    fn category_views(&self, lang: &str, counts: &HashMap<&str, usize>) -> Vec<CategoryView<'_>> {
        self.reg
            .config
            .categories
            .iter()
            .map(|c| CategoryView {
                code: &c.code,
                name: category_name(c, lang),
                count: counts.get(c.code.as_str()).copied().unwrap_or(0),
            })
            .collect()
    }
}

/// Builds the site. On any bad record it lists every one and writes nothing.
pub fn build(opts: &BuildOptions) -> Result<Summary> {
    let start = Instant::now();
    let reg = Registry::open(&opts.registry)?;
    let out = opts.out.clone().unwrap_or_else(|| reg.path("public"));
    // One build at a time, on the registry and on the output; then whatever a killed build left
    // is put right before anything else is done.
    let _registry_lock = Lock::registry(&reg.dir, "build")?;
    let _output_lock = Lock::output(&out, "build")?;
    output::recover(&out)?;
    let timings = std::env::var_os("STARMARK_TIMINGS").is_some();
    let phase = |name: &str| {
        if timings {
            errln!("[{:>8.3} s] {name}", start.elapsed().as_secs_f64());
        }
    };
    let lists = load::lists(&reg, opts.at)?;
    let published_log = crate::log::published(&reg, &lists.trust)?;
    let log_size = published_log.as_ref().map(|l| l.checkpoint.checkpoint.size);
    if published_log.is_none() {
        errln!(
            "starmark: warning: {}; the site is built without log/",
            crate::log::missing_hint(&reg)
        );
    }
    let sign_key = if opts.sign_manifest {
        Some(manifest_key(&reg, &lists.trust)?)
    } else {
        None
    };
    let sign_with = match &sign_key {
        Some(k) => manifest::SignWith::Key(k),
        None => manifest::SignWith::Registry,
    };
    let theme = Theme::load(&reg.path("templates"))?;
    let font_path = reg.config.label_font.as_ref().map(|p| reg.path(p));
    let font = LabelFont::load(font_path.as_deref())?;
    phase("lists, theme and font");
    // The configuration as published in api/v1/build.json: everything but [keys], whose file
    // paths change no output (the root key itself is part of the pages' keys), so that a rebuild
    // from the published configuration gives the same bytes.
    let build_info = api::build_info(&reg.config, &theme.digest)?;
    let as_of_day = Day::from_unix(lists.as_of).to_string();
    let global = key_of(&[
        &output::STATE_VERSION.to_le_bytes(),
        &theme.digest,
        &build_info,
        as_of_day.as_bytes(),
    ]);
    let loaded = load::load(&reg, lists, !opts.full)?;
    phase("loaded and verified");
    let site = Site {
        reg: &reg,
        loaded: &loaded,
        theme: &theme,
        categories: reg
            .config
            .categories
            .iter()
            .map(|c| (c.code.as_str(), c))
            .collect(),
        base: Site::base_contexts(&reg, &theme),
        log: published_log.as_ref(),
        build_info,
    };
    let jobs = plan::plan(&site, &font, &global)?;
    phase("planned");

    let out_abs = absolute(&out);
    let cache_dir = reg.path(".starmark-cache");
    let spare = output::sibling(&out, "spare");
    let live = State::read(&cache_dir, &out, &out_abs);
    let total_files: usize = jobs
        .iter()
        .map(|j| match &j.id {
            JobId::Named(_) => j.paths.len(),
            other => other.derived_count().unwrap_or(0),
        })
        .sum();
    let current = (!opts.full && live.as_ref().is_some_and(|l| describes(l, &jobs, &global)))
        .then(|| manifest::current(&out, &reg, &loaded.trust, &sign_with))
        .flatten();
    if let Some(published) = current {
        // The published generation is this build already, signature included: nothing to write.
        loaded.save_cache(&reg)?;
        phase("unchanged");
        return Ok(Summary {
            out,
            certs: loaded.certs.len(),
            rendered: 0,
            reused: total_files,
            full: false,
            elapsed: start.elapsed(),
            log_size,
            registry: opts.registry.clone(),
            manifest: published,
        });
    }
    // The build goes into the spare generation: brought up to date when its state is known,
    // emptied and filled otherwise (and with --full). Files whose job is unchanged since the
    // published generation are linked from it; --full links only labels.
    let spare_state = if opts.full {
        None
    } else {
        State::read(&cache_dir, &spare, &out_abs)
    };
    let fresh = spare_state.is_none();
    let live_has = |j: &Job<'_>| {
        (!opts.full || j.is_label()) && live.as_ref().and_then(|l| l.key(&j.id)) == Some(&j.key)
    };
    let (mut todo, reuse): (Vec<&Job<'_>>, Vec<&Job<'_>>) = jobs
        .par_iter()
        .filter(|j| spare_state.as_ref().and_then(|s| s.key(&j.id)) != Some(&j.key))
        .partition_map(|j| {
            if live_has(j) {
                rayon::iter::Either::Right(j)
            } else {
                rayon::iter::Either::Left(j)
            }
        });
    // A group's jobs one after the other (stable: otherwise in plan order).
    todo.sort_by_key(|j| j.group);
    // Only labels about to be drawn need their glyphs checked (cached ones were drawn before).
    let to_draw: foldhash::HashSet<u64> = todo
        .iter()
        .filter_map(|j| match j.id {
            JobId::Label(s) => Some(s),
            _ => None,
        })
        .collect();
    check_label_glyphs(&loaded, &font, &to_draw)?;

    phase("compared with the published and the spare generation");
    output::forget_state(&cache_dir, &spare)?;
    let bar = progress(todo.len() + reuse.len(), opts.quiet);
    let shown = AtomicBool::new(false);
    let tick = || {
        bar.inc(1);
        if !opts.quiet && !shown.load(Ordering::Relaxed) && start.elapsed() > Duration::from_secs(1)
        {
            shown.store(true, Ordering::Relaxed);
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    };
    let rendered = AtomicUsize::new(0);
    // Each file written is hashed from the bytes in memory, for the manifest.
    let render = |job: &Job<'_>| -> Result<Vec<(String, FileMeta)>> {
        let started = Instant::now();
        let files = (job.run)().with_context(|| format!("rendering {}", job.id))?;
        let mut hashed = Vec::with_capacity(files.len());
        for (path, bytes) in job.paths().iter().zip(files) {
            output::put_in(&spare, path, &bytes, !fresh)?;
            hashed.push((path.clone(), FileMeta::of(&bytes)));
            rendered.fetch_add(1, Ordering::Relaxed);
        }
        if timings && started.elapsed() > Duration::from_millis(20) {
            errln!("  {:>8.3} s  {}", started.elapsed().as_secs_f64(), job.id);
        }
        Ok(hashed)
    };
    let result: Result<manifest::Changes> = (|| {
        if fresh {
            output::clear_dir(&spare)?;
        }
        // The directories of derived jobs do not depend on the serial: one job of each kind
        // stands for all (no paths made for 200,000 jobs just to find five directories).
        let mut dirs: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        let (mut cert_seen, mut label_seen) = (false, false);
        for j in todo.iter().chain(reuse.iter()) {
            let first_of_kind = match j.id {
                JobId::Cert(_) => !std::mem::replace(&mut cert_seen, true),
                JobId::Label(_) => !std::mem::replace(&mut label_seen, true),
                JobId::Named(_) => true,
            };
            if !first_of_kind {
                continue;
            }
            for p in j.paths().iter() {
                let dir = p.rsplit_once('/').map_or("", |(d, _)| d);
                if !dirs.contains(dir) {
                    dirs.insert(dir.to_string());
                }
            }
        }
        for d in dirs {
            let dir = spare.join(d);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("{}: cannot create", dir.display()))?;
        }
        let written: Vec<Vec<(String, FileMeta)>> = todo
            .par_iter()
            .map(|job| -> Result<Vec<(String, FileMeta)>> {
                let hashed = render(job)?;
                tick();
                Ok(hashed)
            })
            .collect::<Result<_>>()?;
        let reused: Vec<Reused> = reuse
            .par_iter()
            .map(|job| -> Result<Reused> {
                let paths = job.paths();
                let linked = paths
                    .iter()
                    .try_for_each(|path| output::reuse_in(&out, &spare, path, !fresh));
                let done = match linked {
                    Ok(()) => Reused::Linked(paths.into_owned()),
                    // The published file is gone or unreadable: make it again.
                    Err(_) => Reused::Rendered(render(job)?),
                };
                tick();
                Ok(done)
            })
            .collect::<Result<_>>()?;
        let mut removed = Vec::new();
        if let Some(previous) = &spare_state {
            for rel in gone_files(previous, &jobs, &loaded) {
                output::remove_if_there(&spare.join(&rel))?;
                removed.push(rel);
            }
            // Directories left empty go too (a log's partial tile `log/tile/0/390.p/` once the
            // tile is full), deepest first: a site holds no directory its manifest does not.
            let mut dirs: Vec<&str> = removed
                .iter()
                .flat_map(|rel| {
                    let mut d = rel.as_str();
                    std::iter::from_fn(move || {
                        d = d.rsplit_once('/')?.0;
                        Some(d)
                    })
                })
                .collect();
            dirs.sort_unstable_by(|a, b| {
                b.matches('/')
                    .count()
                    .cmp(&a.matches('/').count())
                    .then(b.cmp(a))
            });
            dirs.dedup();
            for d in dirs {
                // Fails, and is left, while the directory holds anything.
                let _ = std::fs::remove_dir(spare.join(d));
            }
        }
        let mut changes = manifest::Changes {
            fresh,
            rendered: written.into_iter().flatten().collect(),
            linked: Vec::new(),
            removed,
        };
        for r in reused {
            match r {
                Reused::Linked(paths) => changes.linked.extend(paths),
                Reused::Rendered(hashed) => changes.rendered.extend(hashed),
            }
        }
        Ok(changes)
    })();
    bar.finish_and_clear();
    phase("rendered");
    let published = result.and_then(|changes| {
        manifest::update(&reg, &spare, &out, changes, &loaded.trust, &sign_with)
    });
    let published = match published {
        Ok(p) => p,
        Err(e) => return Err(e.context("build failed; the published output is untouched")),
    };
    phase(&format!(
        "manifest ({} written)",
        crate::plural::count(published.listings_written, "listing", "listings")
    ));
    let rendered = rendered.into_inner();
    // The spare's state and the record cache, written side by side, then the spare published.
    let (state_written, cache_saved) = rayon::join(
        || -> Result<()> {
            let jobs: Vec<output::StateEntry<'_>> = jobs
                .iter()
                .map(|j| {
                    let named: &[String] = match j.id {
                        JobId::Named(_) => &j.paths,
                        _ => &[],
                    };
                    (&j.id, (&j.key, named))
                })
                .collect();
            output::write_state(&cache_dir, &spare, &out_abs, &global, &jobs)
        },
        || loaded.save_cache(&reg),
    );
    state_written?;
    cache_saved?;
    phase("state written");
    output::publish(&spare, &out)?;
    phase("published");
    let summary = Summary {
        out,
        certs: loaded.certs.len(),
        rendered,
        reused: total_files - rendered,
        full: fresh,
        elapsed: start.elapsed(),
        log_size,
        registry: opts.registry.clone(),
        manifest: published,
    };
    // Freeing a large build's data takes a while (0.7 s at 100,000 certifications): a command
    // line run exits without waiting for it, `serve` frees it in the background.
    drop(jobs);
    drop(site);
    std::thread::spawn(move || drop((loaded, live, spare_state)));
    Ok(summary)
}

/// A job of files linked from the published generation, or made again when it could not be.
enum Reused {
    Linked(Vec<String>),
    Rendered(Vec<(String, FileMeta)>),
}

/// The issuer key that signs the manifest: the registry's, in the trust list, not compromised.
fn manifest_key(
    reg: &Registry,
    trust: &starmark_core::TrustList,
) -> Result<starmark_core::SecretKey> {
    let key = reg.issuer_secret()?;
    let key_id = key.public_key().key_id();
    let Some(issuer) = trust.issuer(key_id) else {
        anyhow::bail!(
            "the issuer key {key_id} is not in the trust list; add it with `starmark trust add`"
        );
    };
    if let Some(since) = issuer.compromised_since {
        anyhow::bail!(
            "the issuer key {key_id} is marked compromised since {since}; sign the manifest with another key"
        );
    }
    Ok(key)
}

/// Whether a generation's state is exactly this build: the same jobs with the same keys and files.
fn describes(state: &State, jobs: &[Job<'_>], global: &Key) -> bool {
    state.global == *global
        && state.jobs.len() == jobs.len()
        && jobs.iter().all(|j| {
            state.jobs.get(&j.id).is_some_and(|(k, named)| {
                *k == j.key && (!matches!(j.id, JobId::Named(_)) || *named == j.paths)
            })
        })
}

/// Files of a generation that no job of this build writes any more.
fn gone_files(previous: &State, jobs: &[Job<'_>], loaded: &Loaded) -> Vec<String> {
    let named: foldhash::HashMap<&JobId, &Job<'_>> = jobs
        .iter()
        .filter(|j| matches!(j.id, JobId::Named(_)))
        .map(|j| (&j.id, j))
        .collect();
    let mut gone = Vec::new();
    for (id, (_, old_named)) in &previous.jobs {
        let now = match id {
            // Derived from the serial: the same files while the certification is there.
            JobId::Cert(s) | JobId::Label(s) if loaded.certs.contains_key(s) => continue,
            JobId::Cert(_) | JobId::Label(_) => None,
            JobId::Named(_) => named.get(id),
        };
        let old = id.derived_paths().unwrap_or_else(|| old_named.clone());
        let now_paths = now.map(|j| j.paths().into_owned()).unwrap_or_default();
        gone.extend(old.into_iter().filter(|p| !now_paths.contains(p)));
    }
    gone
}

/// The absolute path of `p`, its directory canonical (the same whether `p` exists yet or not).
fn absolute(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    match (abs.parent(), abs.file_name()) {
        (Some(dir), Some(name)) => dir.canonicalize().map_or(abs.clone(), |d| d.join(name)),
        _ => abs,
    }
}

fn progress(len: usize, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::hidden());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} building [{bar:40}] {pos}/{len} jobs, {eta} left")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    if quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

/// Refuses a build in which a label would need a glyph the font lacks, naming record and field.
fn check_label_glyphs(
    loaded: &Loaded,
    font: &LabelFont,
    serials: &foldhash::HashSet<u64>,
) -> Result<()> {
    let certs: Vec<&VerifiedCert> = loaded.certs.values().collect();
    let font_name = if font.is_embedded() {
        "the built-in label font".to_string()
    } else {
        format!("the label font {}", font.source().display())
    };
    let font_name = font_name.as_str();
    let mut errors: Vec<String> = certs
        .par_iter()
        .filter(|c| serials.contains(&c.summary.serial))
        .filter_map(|c| {
            let r = &c.summary;
            let fields = [
                ("manufacturer", r.manufacturer.as_str()),
                (
                    "manufacturer_en",
                    r.manufacturer_en.as_deref().unwrap_or(""),
                ),
                ("model", r.model.as_str()),
            ];
            let missing = fields.iter().find_map(|(field, text)| {
                text.chars()
                    .find(|ch| !font.has_glyph(*ch))
                    .map(|ch| (field, ch))
            });
            missing.map(|(field, ch)| {
                format!(
                    "{}: field {field}: {} has no glyph for {ch:?} (U+{:04X})",
                    c.path.display(),
                    font_name,
                    ch as u32
                )
            })
        })
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    errors.sort();
    let hint = if font.is_embedded() {
        "the built-in label font covers GB 2312, Latin and common punctuation; set label_font in \
         starmark.toml to a font file that has these characters (for example Debian \
         fonts-noto-cjk's /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc)"
    } else {
        "set label_font in starmark.toml to a font file that has these characters"
    };
    anyhow::bail!(
        "{} cannot be printed on a label; nothing was written:\n  {}\n{hint}",
        crate::plural::count(errors.len(), "record", "records"),
        errors.join("\n  ")
    )
}
