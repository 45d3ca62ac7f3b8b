//! `starmark build`: the public registry site, its labels and its API, from verified records.
//!
//! Steps: (1) load and verify every record, collecting every error, before anything is written;
//! (2) plan the outputs as jobs, each with a content key; (3) run the jobs whose key changed, in
//! parallel, into a temporary directory; (4) swap the result in. The same registry always builds
//! to the same bytes: no clock is read (statuses are as of the revocation list's issue time) and
//! every collection is ordered.

mod api;
mod load;
mod markdown;
mod output;
mod theme;
mod verifier;
mod views;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use starmark_core::Day;

use crate::label::{self, LabelFont, LabelInput};
use crate::registry::{Category, Registry};
use load::{Loaded, Status, VerifiedCert};
use output::State;
use theme::{Theme, LANGS};
use views::{category_name, maker_slug, number, CategoryView, CertView, Row};

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
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "built {} certifications into {} in {:.2} s ({} build: {} files rendered, {} unchanged)",
            self.certs,
            self.out.display(),
            self.elapsed.as_secs_f64(),
            if self.full { "full" } else { "incremental" },
            self.rendered,
            self.reused
        )
    }
}

type Key = String;

fn key_of(parts: &[&[u8]]) -> Key {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    starmark_core::to_hex(&h.finalize()[..16])
}

/// One unit of output: its files, its content key, and how to make them.
struct Job<'a> {
    id: String,
    key: Key,
    paths: Vec<String>,
    /// Labels survive theme changes: a full build reuses them when their key is unchanged.
    label: bool,
    run: Box<dyn Fn() -> Result<Vec<Vec<u8>>> + Send + Sync + 'a>,
}

/// Everything the page renderers share.
struct Site<'a> {
    reg: &'a Registry,
    loaded: &'a Loaded,
    theme: &'a Theme,
    categories: BTreeMap<&'a str, &'a Category>,
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
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.theme.strings.get(lang).unwrap_or(&EMPTY)
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
            .map(|lang| {
                let full = lang_path(lang, rel);
                let root = "../".repeat(full.matches('/').count());
                let other = LANGS.iter().find(|l| *l != lang).copied().unwrap_or(lang);
                let mut ctx = tera::Context::new();
                ctx.insert("lang", lang);
                ctx.insert("t", self.strings(lang));
                ctx.insert("home", &format!("{root}{}", lang_path(lang, "")));
                ctx.insert("alt", &format!("{root}{}", lang_path(other, rel)));
                ctx.insert("root", &root);
                ctx.insert("csp", CSP);
                ctx.insert("assets", &self.theme.assets);
                let name = match (lang, &self.reg.config.name_en) {
                    (l, Some(en)) if *l != "zh" => en.as_str(),
                    _ => self.reg.config.name.as_str(),
                };
                ctx.insert("site_name", name);
                fill(lang, &mut ctx);
                self.theme.render(template, &ctx).map(String::into_bytes)
            })
            .collect()
    }

    fn category_views(&self, lang: &str) -> Vec<CategoryView<'_>> {
        self.reg
            .config
            .categories
            .iter()
            .map(|c| CategoryView {
                code: &c.code,
                name: category_name(c, lang),
                count: self
                    .loaded
                    .certs
                    .values()
                    .filter(|v| v.summary.category == c.code)
                    .count(),
            })
            .collect()
    }
}

/// Builds the site. On any bad record it lists every one and writes nothing.
pub fn build(opts: &BuildOptions) -> Result<Summary> {
    let start = Instant::now();
    let reg = Registry::open(&opts.registry)?;
    let out = opts.out.clone().unwrap_or_else(|| reg.path("public"));
    let timings = std::env::var_os("STARMARK_TIMINGS").is_some();
    let phase = |name: &str| {
        if timings {
            eprintln!("[{:>8.3} s] {name}", start.elapsed().as_secs_f64());
        }
    };
    let lists = load::lists(&reg, opts.at)?;
    let theme = Theme::load(&reg.path("templates"))?;
    let font_path = reg.config.label_font.as_ref().map(|p| reg.path(p));
    let font = LabelFont::load(font_path.as_deref())?;
    let config_toml = toml::to_string(&reg.config).context("configuration")?;
    let as_of_day = Day::from_unix(lists.as_of).to_string();
    let global = key_of(&[
        &output::STATE_VERSION.to_le_bytes(),
        &theme.digest,
        config_toml.as_bytes(),
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
    };
    let jobs = plan(&site, &font, &global)?;
    phase("planned");

    let out_canon = absolute(&out);
    let state_path = reg.path(".starmark-cache").join("build-state.bin");
    let previous = State::read(&state_path);
    let incremental =
        !opts.full && out.is_dir() && previous.out == out_canon && previous.global == global;

    // Incremental builds trust the state for what is in the output; full builds reuse only
    // labels, and only those still there.
    let (todo, reuse): (Vec<&Job<'_>>, Vec<&Job<'_>>) = jobs.par_iter().partition_map(|j| {
        let same_key = previous.jobs.get(&j.id).is_some_and(|(k, _)| *k == j.key);
        let keep =
            same_key && (incremental || (j.label && j.paths.iter().all(|p| out.join(p).is_file())));
        if keep {
            rayon::iter::Either::Right(j)
        } else {
            rayon::iter::Either::Left(j)
        }
    });
    let reuse: Vec<&Job<'_>> = if incremental { Vec::new() } else { reuse };
    // Only labels about to be drawn need their glyphs checked (cached ones were drawn before).
    let to_draw: std::collections::HashSet<u64> = todo
        .iter()
        .filter(|j| j.label)
        .filter_map(|j| j.id.strip_prefix("label/").and_then(|s| s.parse().ok()))
        .collect();
    check_label_glyphs(&loaded, &font, &to_draw)?;

    phase("compared with the previous build");
    let tmp = output::sibling(&out, if incremental { "staging" } else { "tmp" });
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)
            .with_context(|| format!("{}: cannot remove", tmp.display()))?;
    }
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
    let result: Result<()> = (|| {
        let dirs: std::collections::BTreeSet<&str> = todo
            .iter()
            .chain(reuse.iter())
            .flat_map(|j| j.paths.iter())
            .map(|p| p.rsplit_once('/').map_or("", |(d, _)| d))
            .collect();
        std::fs::create_dir_all(&tmp)
            .with_context(|| format!("{}: cannot create", tmp.display()))?;
        for d in dirs {
            let dir = tmp.join(d);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("{}: cannot create", dir.display()))?;
        }
        todo.par_iter().try_for_each(|job| -> Result<()> {
            let files = (job.run)().with_context(|| format!("rendering {}", job.id))?;
            for (path, bytes) in job.paths.iter().zip(files) {
                output::put_in(&tmp, path, &bytes)?;
                rendered.fetch_add(1, Ordering::Relaxed);
            }
            tick();
            Ok(())
        })?;
        reuse.par_iter().try_for_each(|job| -> Result<()> {
            for path in &job.paths {
                output::reuse_in(&out, &tmp, path)?;
            }
            tick();
            Ok(())
        })
    })();
    bar.finish_and_clear();
    phase("rendered");
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e.context("build failed; the previous output is untouched"));
    }

    let mut state = State {
        version: output::STATE_VERSION,
        out: out_canon,
        global,
        jobs: std::collections::HashMap::with_capacity(jobs.len()),
    };
    for j in &jobs {
        state
            .jobs
            .insert(j.id.clone(), (j.key.clone(), j.paths.clone()));
    }
    let total_files: usize = jobs.iter().map(|j| j.paths.len()).sum();
    let rendered = rendered.into_inner();
    let mut unchanged_tree = false;
    if incremental {
        let staged: Vec<String> = todo.iter().flat_map(|j| j.paths.iter().cloned()).collect();
        let current: std::collections::HashMap<&str, &Vec<String>> =
            jobs.iter().map(|j| (j.id.as_str(), &j.paths)).collect();
        let gone: Vec<String> = previous
            .jobs
            .iter()
            .flat_map(|(id, (_, old))| {
                let now = current.get(id.as_str());
                old.iter()
                    .filter(move |p| now.is_none_or(|n| !n.contains(p)))
            })
            .cloned()
            .collect();
        unchanged_tree = staged.is_empty() && gone.is_empty() && previous.jobs.len() == jobs.len();
        output::apply_staged(&tmp, &out, &staged, &gone)?;
    } else {
        output::swap_in(&tmp, &out)?;
    }
    phase("swapped in");
    if !unchanged_tree {
        state.write(&state_path)?;
    }
    loaded.save_cache(&reg)?;
    phase("state written");
    Ok(Summary {
        out,
        certs: loaded.certs.len(),
        rendered,
        reused: total_files - rendered,
        full: !incremental,
        elapsed: start.elapsed(),
    })
}

fn absolute(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    abs.canonicalize().unwrap_or(abs)
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
    serials: &std::collections::HashSet<u64>,
) -> Result<()> {
    let mut errors: Vec<String> = loaded
        .certs
        .values()
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
                    "{}: field {field}: the label font has no glyph for {ch:?} (U+{:04X})",
                    c.path.display(),
                    ch as u32
                )
            })
        })
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    errors.sort();
    anyhow::bail!(
        "{} record(s) cannot be printed on a label; nothing was written:\n  {}",
        errors.len(),
        errors.join("\n  ")
    )
}

fn cert_key(global: &str, c: &VerifiedCert) -> Key {
    let rev = c
        .revocation
        .map(|r| format!("{}/{}", r.date, r.reason.name()))
        .unwrap_or_default();
    key_of(&[
        global.as_bytes(),
        &c.signed.claim().record_sha256,
        c.digits.as_bytes(),
        c.status.name().as_bytes(),
        rev.as_bytes(),
        &c.superseded_by.unwrap_or(u64::MAX).to_le_bytes(),
    ])
}

/// Plans every output of the site.
fn plan<'a>(site: &'a Site<'a>, font: &'a LabelFont, global: &str) -> Result<Vec<Job<'a>>> {
    let loaded = site.loaded;
    let mut jobs: Vec<Job<'a>> = Vec::new();
    let cert_keys: BTreeMap<u64, Key> = loaded
        .certs
        .par_iter()
        .map(|(s, c)| (*s, cert_key(global, c)))
        .collect();
    let members_key = |serials: &mut dyn Iterator<Item = u64>| {
        let mut h = Sha256::new();
        h.update(global.as_bytes());
        for s in serials {
            h.update(s.to_le_bytes());
            if let Some(k) = cert_keys.get(&s) {
                h.update(k.as_bytes());
            }
        }
        starmark_core::to_hex(&h.finalize()[..16])
    };
    let all_key = members_key(&mut loaded.certs.keys().copied());
    let base_url = site.reg.config.base_url.as_str();

    for (serial, c) in &loaded.certs {
        let serial = *serial;
        let category = site.categories.get(c.summary.category.as_str()).copied();
        let Some(category) = category else { continue };
        jobs.push(Job {
            id: format!("cert/{serial}"),
            key: cert_keys.get(&serial).cloned().unwrap_or_default(),
            paths: vec![
                format!("cert/{serial}.html"),
                lang_path(LANGS[1], &format!("cert/{serial}.html")),
                format!("records/{serial}.md"),
                format!("records/{serial}.sig"),
                format!("api/v1/certificates/{serial}.json"),
            ],
            label: false,
            run: Box::new(move || {
                let full = c.full()?;
                let body = markdown::render(&full.record.body);
                let mut files =
                    site.page("cert.html", &format!("cert/{serial}.html"), &|lang, ctx| {
                        ctx.insert("c", &CertView::of(c, full, category, lang, &body));
                    })?;
                files.push(full.bytes.clone());
                files.push(format!("{}\n", c.digits).into_bytes());
                files.push(api::cert_json(c, full)?);
                Ok(files)
            }),
        });
        let r = &c.summary;
        let url = starmark_core::qr::verify_url(base_url, c.signed.as_bytes());
        let label_key = key_of(&[
            b"label",
            label::VERSION.as_bytes(),
            font.id().as_bytes(),
            r.manufacturer.as_bytes(),
            r.manufacturer_en.as_deref().unwrap_or("").as_bytes(),
            r.model.as_bytes(),
            &[r.tier],
            r.valid_from.to_string().as_bytes(),
            r.valid_until.to_string().as_bytes(),
            url.as_bytes(),
        ]);
        jobs.push(Job {
            id: format!("label/{serial}"),
            key: label_key,
            paths: vec![
                format!("labels/{serial}.svg"),
                format!("labels/{serial}.png"),
            ],
            label: true,
            run: Box::new(move || {
                let r = &c.summary;
                let number = number(r.serial);
                let input = LabelInput {
                    manufacturer: &r.manufacturer,
                    manufacturer_en: r.manufacturer_en.as_deref(),
                    model: &r.model,
                    tier: r.tier,
                    certificate_number: &number,
                    valid_from: r.valid_from,
                    valid_until: r.valid_until,
                    verify_url: &url,
                };
                let svg = label::render_svg(&input, font)?;
                let png = label::render_png(&svg, LABEL_DPI)?;
                Ok(vec![svg.into_bytes(), png])
            }),
        });
    }

    // Manufacturer pages.
    let mut makers: BTreeMap<&str, Vec<&VerifiedCert>> = BTreeMap::new();
    for c in loaded.certs.values() {
        makers
            .entry(c.summary.manufacturer.as_str())
            .or_default()
            .push(c);
    }
    for (name, certs) in makers {
        let slug = maker_slug(name);
        let key = members_key(&mut certs.iter().map(|c| c.summary.serial));
        jobs.push(Job {
            id: format!("maker/{slug}"),
            key,
            paths: both(&format!("maker/{slug}.html")),
            label: false,
            run: Box::new(move || {
                let rows: Vec<Row<'_>> = certs.iter().map(|c| Row::of(c)).collect();
                let name_en = certs.iter().find_map(|c| c.summary.manufacturer_en.as_deref());
                let revoked = certs.iter().filter(|c| c.status == Status::Revoked).count();
                site.page("maker.html", &format!("maker/{}.html", maker_slug(name)), &|_, ctx| {
                    ctx.insert("maker", &serde_json::json!({ "name": name, "name_en": name_en, "revoked": revoked }));
                    ctx.insert("certs", &rows);
                })
            }),
        });
    }

    // Category pages, one per catalogue entry.
    for cat in &site.reg.config.categories {
        let members: Vec<&VerifiedCert> = loaded
            .certs
            .values()
            .filter(|c| c.summary.category == cat.code)
            .collect();
        let key = members_key(&mut members.iter().map(|c| c.summary.serial));
        jobs.push(Job {
            id: format!("category/{}", cat.code),
            key,
            paths: both(&format!("category/{}.html", cat.code)),
            label: false,
            run: Box::new(move || {
                let rows: Vec<Row<'_>> = members.iter().map(|c| Row::of(c)).collect();
                site.page("category.html", &format!("category/{}.html", cat.code), &|lang, ctx| {
                    ctx.insert("category", &serde_json::json!({ "code": cat.code, "name": category_name(cat, lang) }));
                    ctx.insert("certs", &rows);
                })
            }),
        });
    }

    // Home, about, verify, revoked.
    jobs.push(Job {
        id: "home".into(),
        key: all_key.clone(),
        paths: both("index.html"),
        label: false,
        run: Box::new(move || {
            let mut latest: Vec<&VerifiedCert> = loaded.certs.values().collect();
            latest.sort_by(|a, b| b.summary.issued.cmp(&a.summary.issued).then(b.summary.serial.cmp(&a.summary.serial)));
            let latest: Vec<Row<'_>> = latest.into_iter().take(LATEST).map(Row::of).collect();
            let count = |s: Status| loaded.certs.values().filter(|c| c.status == s).count();
            site.page("index.html", "index.html", &|lang, ctx| {
                ctx.insert("total", &loaded.certs.len());
                ctx.insert("counts", &serde_json::json!({ "valid": count(Status::Valid), "revoked": count(Status::Revoked) }));
                ctx.insert("as_of", &Day::from_unix(loaded.as_of).to_string());
                ctx.insert("latest", &latest);
                ctx.insert("categories", &site.category_views(lang));
                ctx.insert("statuses", &views::status_names());
                ctx.insert("search_strings", &search_strings(site.strings(lang)));
            })
        }),
    });
    jobs.extend(verifier::jobs(site, global)?);
    jobs.push(Job {
        id: "about.html".into(),
        key: key_of(&[global.as_bytes(), b"about.html"]),
        paths: both("about.html"),
        label: false,
        run: Box::new(move || site.page("about.html", "about.html", &|_, _| {})),
    });
    jobs.push(Job {
        id: "revoked".into(),
        key: key_of(&[all_key.as_bytes(), &loaded.revocation_bytes]),
        paths: both("revoked.html"),
        label: false,
        run: Box::new(move || {
            let mut entries = loaded.revocations.entries.clone();
            entries.sort_by(|a, b| b.date.cmp(&a.date).then(a.serial.cmp(&b.serial)));
            let rows: Vec<serde_json::Value> = entries
                .iter()
                .map(|r| {
                    let cert = loaded.certs.get(&r.serial).map(Row::of);
                    serde_json::json!({ "serial": r.serial, "date": r.date, "reason": r.reason.name(), "cert": cert })
                })
                .collect();
            let list = &loaded.revocations;
            site.page("revoked.html", "revoked.html", &|_, ctx| {
                ctx.insert("revoked", &rows);
                ctx.insert(
                    "revocation",
                    &serde_json::json!({
                        "sequence": list.sequence,
                        "issued_at": Day::from_unix(list.issued_at),
                        "next_update": Day::from_unix(list.next_update),
                    }),
                );
            })
        }),
    });

    // Machine-readable outputs.
    let registry_name = site.reg.config.name.as_str();
    jobs.push(Job {
        id: "api/v1/index.json".into(),
        key: all_key.clone(),
        paths: vec!["api/v1/index.json".into()],
        label: false,
        run: Box::new(move || {
            Ok(vec![api::index_json(
                &loaded.certs,
                loaded.as_of,
                registry_name,
            )?])
        }),
    });
    jobs.push(Job {
        id: "api/v1/lists".into(),
        key: key_of(&[&loaded.trust_bytes, &loaded.revocation_bytes]),
        paths: vec![
            "api/v1/trust-list.bin".into(),
            "api/v1/trust-list.json".into(),
            "api/v1/revocation-list.bin".into(),
            "api/v1/revocation-list.json".into(),
        ],
        label: false,
        run: Box::new(move || {
            Ok(vec![
                loaded.trust_bytes.clone(),
                api::trust_json(&loaded.trust)?,
                loaded.revocation_bytes.clone(),
                api::revocation_json(&loaded.revocations)?,
            ])
        }),
    });
    jobs.push(Job {
        id: "api/v1/categories.json".into(),
        key: key_of(&[global.as_bytes(), b"categories"]),
        paths: vec!["api/v1/categories.json".into()],
        label: false,
        run: Box::new(move || {
            let mut v = serde_json::to_vec_pretty(&site.reg.config.categories)?;
            v.push(b'\n');
            Ok(vec![v])
        }),
    });
    let codes: Vec<String> = site
        .reg
        .config
        .categories
        .iter()
        .map(|c| c.code.clone())
        .collect();
    let all_certs: Vec<&VerifiedCert> = loaded.certs.values().collect();
    let mut shard_names = Vec::new();
    for (i, chunk) in all_certs.chunks(api::SHARD_SIZE).enumerate() {
        let name = format!("shard-{i:03}.json");
        let codes = codes.clone();
        let chunk: Vec<&VerifiedCert> = chunk.to_vec();
        jobs.push(Job {
            id: format!("search/{name}"),
            key: members_key(&mut chunk.iter().map(|c| c.summary.serial)),
            paths: vec![format!("search/{name}")],
            label: false,
            run: Box::new(move || Ok(vec![api::search_shard(&chunk, &codes)?])),
        });
        shard_names.push(name);
    }
    let meta_key = key_of(&[
        global.as_bytes(),
        shard_names.join(",").as_bytes(),
        &loaded.certs.len().to_le_bytes(),
    ]);
    jobs.push(Job {
        id: "search/meta.json".into(),
        key: meta_key,
        paths: vec!["search/meta.json".into()],
        label: false,
        run: Box::new(move || {
            Ok(vec![api::search_meta(
                loaded.certs.len(),
                &shard_names,
                &codes,
            )?])
        }),
    });
    jobs.push(Job {
        id: "feed.xml".into(),
        key: key_of(&[all_key.as_bytes(), &loaded.revocation_bytes]),
        paths: vec!["feed.xml".into()],
        label: false,
        run: Box::new(move || {
            Ok(vec![api::feed(
                &loaded.certs,
                &loaded.revocations,
                base_url,
                registry_name,
            )])
        }),
    });
    let page_paths: Vec<String> = jobs
        .iter()
        .flat_map(|j| j.paths.iter())
        .filter(|p| p.ends_with(".html"))
        .cloned()
        .collect();
    let sitemap_key = key_of(&[global.as_bytes(), page_paths.join("\n").as_bytes()]);
    jobs.push(Job {
        id: "sitemap".into(),
        key: sitemap_key,
        paths: api::sitemap_names(page_paths.len()),
        label: false,
        run: Box::new(move || Ok(api::sitemaps(&page_paths, base_url))),
    });
    let assets: Vec<&theme::Asset> = site.theme.assets.values().collect();
    jobs.push(Job {
        id: "assets".into(),
        key: key_of(&[&site.theme.digest]),
        paths: assets.iter().map(|a| a.path.clone()).collect(),
        label: false,
        run: Box::new(move || Ok(assets.iter().map(|a| a.bytes.clone()).collect())),
    });
    Ok(jobs)
}

/// A page's paths in every language.
fn both(rel: &str) -> Vec<String> {
    LANGS.iter().map(|l| lang_path(l, rel)).collect()
}

/// The strings the search script needs, as a JSON attribute value.
fn search_strings(t: &BTreeMap<String, String>) -> String {
    let get = |k: &str| t.get(k).cloned().unwrap_or_default();
    let status: BTreeMap<&str, String> = Status::ALL
        .iter()
        .map(|s| (s.name(), get(&format!("status_{}", s.name()))))
        .collect();
    serde_json::json!({
        "loading": get("search_loading"),
        "results": get("search_results"),
        "more": get("search_more"),
        "none": get("search_none"),
        "status": status,
    })
    .to_string()
}
