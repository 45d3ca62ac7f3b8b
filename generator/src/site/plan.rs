//! The plan of a build: every output of the site as a [`Job`] with its content key. One function
//! per kind of page or file, named for it (`certificate_page`, `label`, `maker_pages`,
//! `category_pages`, `home_page`, `about_page`, `revoked_page`, `api_index`, `search_index`,
//! `feed`, `sitemap`, ...); the verify and listings pages plan their own jobs in their modules.
//! [`plan`] calls them in the order the outputs are listed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use foldhash::HashMapExt as _;

use anyhow::Result;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use starmark_core::Day;

use super::load::{Status, Summary, VerifiedCert};
use super::output::JobId;
use super::theme::{self, LANGS};
use super::views::{self, category_name, maker_slug, number, CertView, Row};
use super::{
    api, key_of, lang_path, listings, log, markdown, verifier, Job, Key, Site, LABEL_DPI, LATEST,
};
use crate::label::{self, LabelFont, LabelInput};
use crate::registry::Category;

/// The content keys the jobs are made with.
struct Keys {
    /// The build's theme and configuration key.
    global: Key,
    /// Per certification: the keys of its pages, its label and its row on list pages.
    certs: foldhash::HashMap<u64, CertKeys>,
    /// The key of every certification's row together.
    all_rows: Key,
}

/// The keys of one certification.
#[derive(Clone, Copy, Default)]
struct CertKeys {
    /// Its own pages: changes with anything of it (body, signature, status).
    page: Key,
    /// Its label.
    label: Key,
    /// Its row on pages and files that list it (category, maker, home, revoked, search, API,
    /// feed): changes only with what a row shows, so that a change to a record's body or a new
    /// signature renders its own pages again but no list.
    row: Key,
}

impl Keys {
    fn of(site: &Site<'_>, font: &LabelFont, global: &Key) -> Keys {
        let base_url = site.reg.config.base_url.as_str();
        let font_id = font.id();
        let certs: foldhash::HashMap<u64, CertKeys> = site
            .loaded
            .certs
            .par_iter()
            .map(|(s, c)| {
                let keys = CertKeys {
                    page: cert_key(global, c),
                    label: label_key(&font_id, base_url, site.reg.config.label, c),
                    row: row_key(c),
                };
                (*s, keys)
            })
            .collect();
        let mut keys = Keys {
            global: *global,
            certs,
            all_rows: Key::default(),
        };
        keys.all_rows = keys.rows(site.loaded.certs.keys().copied());
        keys
    }

    /// The key of a page that lists `serials`: changes when any of their pages' keys does.
    fn members(&self, serials: impl Iterator<Item = u64>) -> Key {
        self.combined(serials, |k| &k.page)
    }

    /// The key of a page that shows the rows of `serials`: changes when any of their rows does.
    fn rows(&self, serials: impl Iterator<Item = u64>) -> Key {
        self.combined(serials, |k| &k.row)
    }

    fn combined(&self, serials: impl Iterator<Item = u64>, pick: fn(&CertKeys) -> &Key) -> Key {
        let mut h = Sha256::new();
        h.update(self.global);
        for s in serials {
            h.update(s.to_le_bytes());
            if let Some(k) = self.certs.get(&s) {
                h.update(pick(k));
            }
        }
        let mut key = [0u8; 16];
        key.copy_from_slice(&h.finalize()[..16]);
        key
    }
}

/// Plans every output of the site.
pub(super) fn plan<'a>(
    site: &'a Site<'a>,
    font: &'a LabelFont,
    global: &Key,
) -> Result<Vec<Job<'a>>> {
    let loaded = site.loaded;
    let keys = Keys::of(site, font, global);
    let mut jobs: Vec<Job<'a>> = Vec::with_capacity(2 * loaded.certs.len() + 64);
    for (serial, c) in &loaded.certs {
        let Some(category) = site.categories.get(c.summary.category.as_str()).copied() else {
            continue;
        };
        let k = keys.certs.get(serial).copied().unwrap_or_default();
        jobs.push(certificate_page(site, c, category, k.page));
        jobs.push(label(site, font, c, k.label));
    }
    let (by_maker, by_category) = grouped(&loaded.certs);
    jobs.extend(maker_pages(site, &keys, by_maker));
    jobs.extend(category_pages(site, &keys, by_category));
    jobs.push(home_page(site, &keys));
    jobs.extend(verifier::jobs(site, global)?);
    jobs.extend(listings::jobs(site, global)?);
    jobs.push(about_page(site, &keys));
    jobs.push(revoked_page(site, &keys));
    jobs.push(api_index(site, &keys));
    jobs.push(api_lists(site));
    jobs.push(api_superseded(site));
    jobs.extend(api_claims(site, &keys));
    jobs.push(api_categories(site, &keys));
    jobs.push(api_build(site, &keys));
    jobs.extend(search_index(site, &keys));
    jobs.push(feed(site, &keys));
    let sitemap = sitemap(site, &keys, &jobs);
    jobs.push(sitemap);
    // After the sitemap, which lists neither.
    jobs.push(super::not_found::job(site, global));
    jobs.push(super::favicon::job(site)?);
    if let Some(published) = site.log {
        jobs.extend(log::jobs(published));
        jobs.push(log::witnesses_job(published, &site.reg.witness_keys()?)?);
    }
    jobs.push(assets(site));
    Ok(jobs)
}

/// Certifications by manufacturer and by category, in serial order, in one pass.
type Groups<'a> = foldhash::HashMap<&'a str, Vec<&'a VerifiedCert>>;

fn grouped(certs: &BTreeMap<u64, VerifiedCert>) -> (Groups<'_>, Groups<'_>) {
    let mut by_maker: Groups<'_> = Groups::new();
    let mut by_category: Groups<'_> = Groups::new();
    for c in certs.values() {
        by_maker
            .entry(c.summary.manufacturer.as_str())
            .or_default()
            .push(c);
        by_category
            .entry(c.summary.category.as_str())
            .or_default()
            .push(c);
    }
    (by_maker, by_category)
}

/// `cert/<serial>.html` in every language, `records/<serial>.md` and `.sig`, and
/// `api/v1/certificates/<serial>.json`.
fn certificate_page<'a>(
    site: &'a Site<'a>,
    c: &'a VerifiedCert,
    category: &'a Category,
    key: Key,
) -> Job<'a> {
    let serial = c.summary.serial;
    Job {
        id: JobId::Cert(serial),
        key,
        paths: Vec::new(),
        group: "",
        run: Box::new(move || {
            let full = c.full()?;
            let body = markdown::render(&full.record.body);
            let digits = c.digits();
            let mut files =
                site.page("cert.html", &format!("cert/{serial}.html"), &|lang, ctx| {
                    ctx.insert("c", &CertView::of(c, full, category, lang, &body, &digits));
                })?;
            files.push(full.bytes.clone());
            files.push(format!("{digits}\n").into_bytes());
            files.push(api::cert_json(c, full, category, &digits)?);
            Ok(files)
        }),
    }
}

/// `labels/<serial>.svg` and `.png`.
fn label<'a>(site: &'a Site<'a>, font: &'a LabelFont, c: &'a VerifiedCert, key: Key) -> Job<'a> {
    let base_url = site.reg.config.base_url.as_str();
    Job {
        id: JobId::Label(c.summary.serial),
        key,
        paths: Vec::new(),
        group: c.summary.manufacturer.as_str(),
        run: Box::new(move || {
            let r = &c.summary;
            let number = number(r.serial);
            let url = starmark_core::qr::verify_url(base_url, c.signed.as_bytes());
            let input = LabelInput {
                manufacturer: &r.manufacturer,
                manufacturer_en: r.manufacturer_en.as_deref(),
                model: &r.model,
                tier: r.tier,
                certificate_number: &number,
                valid_from: r.valid_from,
                valid_until: r.valid_until,
                verify_url: &url,
                void: c.revocation.is_some(),
                size: site.reg.config.label,
            };
            let (svg, png) = label::render(&input, font, LABEL_DPI)?;
            Ok(vec![svg.into_bytes(), png])
        }),
    }
}

/// `maker/<slug>.html` in every language, one per manufacturer, in name order.
fn maker_pages<'a>(site: &'a Site<'a>, keys: &Keys, by_maker: Groups<'a>) -> Vec<Job<'a>> {
    let mut makers: Vec<(&str, Vec<&VerifiedCert>)> = by_maker.into_iter().collect();
    makers.sort_unstable_by_key(|(name, _)| *name);
    makers
        .into_iter()
        .map(|(name, certs)| {
            let slug = maker_slug(name);
            let key = keys.rows(certs.iter().map(|c| c.summary.serial));
            let rel = format!("maker/{slug}.html");
            Job::named(
                &format!("maker/{slug}"),
                key,
                both(&rel),
                Box::new(move || {
                    let rows: Vec<Row<'_>> = certs.iter().map(|c| Row::of(c)).collect();
                    let name_en = certs
                        .iter()
                        .find_map(|c| c.summary.manufacturer_en.as_deref());
                    let revoked = certs.iter().filter(|c| c.status == Status::Revoked).count();
                    // Every code the records give (one, unless the maker's records disagree).
                    let uscc: BTreeSet<&str> = certs
                        .iter()
                        .filter_map(|c| c.summary.manufacturer_uscc.as_deref())
                        .collect();
                    site.page("maker.html", &rel, &|_, ctx| {
                        ctx.insert(
                            "maker",
                            &serde_json::json!({ "name": name, "name_en": name_en, "uscc": uscc, "revoked": revoked }),
                        );
                        ctx.insert("certs", &rows);
                    })
                }),
            )
        })
        .collect()
}

/// `category/<code>.html` in every language, one per catalogue entry, in catalogue order.
fn category_pages<'a>(
    site: &'a Site<'a>,
    keys: &Keys,
    mut by_category: Groups<'a>,
) -> Vec<Job<'a>> {
    site.reg
        .config
        .categories
        .iter()
        .map(|cat| {
            let members = by_category.remove(cat.code.as_str()).unwrap_or_default();
            let key = keys.rows(members.iter().map(|c| c.summary.serial));
            let rel = format!("category/{}.html", cat.code);
            Job::named(
                &format!("category/{}", cat.code),
                key,
                both(&rel),
                Box::new(move || {
                    let rows: Vec<Row<'_>> = members.iter().map(|c| Row::of(c)).collect();
                    site.page("category.html", &rel, &|lang, ctx| {
                        ctx.insert(
                            "category",
                            &serde_json::json!({ "code": cat.code, "name": category_name(cat, lang) }),
                        );
                        ctx.insert("certs", &rows);
                    })
                }),
            )
        })
        .collect()
}

/// `index.html` in every language: the counts, the search form, the categories and the latest
/// certifications.
fn home_page<'a>(site: &'a Site<'a>, keys: &Keys) -> Job<'a> {
    let loaded = site.loaded;
    Job::named(
        "home",
        keys.all_rows,
        both("index.html"),
        Box::new(move || {
            let newest_first = |a: &&VerifiedCert, b: &&VerifiedCert| {
                b.summary
                    .issued
                    .cmp(&a.summary.issued)
                    .then(b.summary.serial.cmp(&a.summary.serial))
            };
            let mut latest: Vec<&VerifiedCert> = loaded.certs.values().collect();
            if latest.len() > LATEST {
                latest.select_nth_unstable_by(LATEST - 1, newest_first);
                latest.truncate(LATEST);
            }
            latest.sort_by(newest_first);
            let latest: Vec<Row<'_>> = latest.into_iter().map(Row::of).collect();
            let (mut valid, mut revoked) = (0usize, 0usize);
            let mut per_category: HashMap<&str, usize> = HashMap::new();
            for c in loaded.certs.values() {
                valid += usize::from(c.status == Status::Valid);
                revoked += usize::from(c.status == Status::Revoked);
                *per_category.entry(c.summary.category.as_str()).or_default() += 1;
            }
            site.page("index.html", "index.html", &|lang, ctx| {
                ctx.insert("total", &loaded.certs.len());
                ctx.insert(
                    "counts",
                    &serde_json::json!({ "valid": valid, "revoked": revoked }),
                );
                ctx.insert("as_of", &Day::from_unix(loaded.as_of).to_string());
                ctx.insert("latest", &latest);
                ctx.insert("categories", &site.category_views(lang, &per_category));
                ctx.insert("statuses", &views::status_names());
                ctx.insert("search_strings", &search_strings(site.strings(lang)));
                ctx.insert("search_placeholder", &search_placeholder(site, lang));
            })
        }),
    )
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
        "result": get("search_result"),
        "results": get("search_results"),
        "more": get("search_more"),
        "none": get("search_none"),
        "status": status,
        "stars": [get("stars_1"), get("stars_2"), get("stars_3")],
    })
    .to_string()
}

/// The search field's placeholder in a language: the theme's `search_placeholder` with
/// `{category}`, `{model}` and `{number}` filled in from the first certification, so that every
/// example finds something; empty when the registry has no certification.
fn search_placeholder(site: &Site<'_>, lang: &str) -> String {
    let Some(first) = site.loaded.certs.values().next() else {
        return String::new();
    };
    let r = &first.summary;
    let category = site
        .categories
        .get(r.category.as_str())
        .map_or(r.category.clone(), |c| {
            category_name(c, lang).to_lowercase()
        });
    site.strings(lang)
        .get("search_placeholder")
        .map(String::as_str)
        .unwrap_or_default()
        .replace("{category}", &category)
        .replace("{model}", &r.model)
        .replace("{number}", &number(r.serial))
}

/// `about.html` in every language.
fn about_page<'a>(site: &'a Site<'a>, keys: &Keys) -> Job<'a> {
    Job::named(
        "about.html",
        key_of(&[&keys.global, b"about.html"]),
        both("about.html"),
        Box::new(move || site.page("about.html", "about.html", &|_, _| {})),
    )
}

/// `revoked.html` in every language: the public blacklist, newest revocation first.
fn revoked_page<'a>(site: &'a Site<'a>, keys: &Keys) -> Job<'a> {
    let loaded = site.loaded;
    Job::named(
        "revoked",
        key_of(&[&keys.all_rows, &loaded.revocation_bytes]),
        both("revoked.html"),
        Box::new(move || {
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
    )
}

/// `api/v1/index.json`: every certification, one row each.
fn api_index<'a>(site: &'a Site<'a>, keys: &Keys) -> Job<'a> {
    let loaded = site.loaded;
    let config = &site.reg.config;
    let head = api::IndexHead {
        registry: &config.name,
        registry_en: config.name_en.as_deref(),
        categories: &config.categories,
    };
    Job::named(
        "api/v1/index.json",
        keys.all_rows,
        vec!["api/v1/index.json".into()],
        Box::new(move || Ok(vec![api::index_json(&loaded.certs, loaded.as_of, &head)?])),
    )
}

/// `api/v1/trust-list.*` and `api/v1/revocation-list.*`, binary and JSON.
fn api_lists<'a>(site: &'a Site<'a>) -> Job<'a> {
    let loaded = site.loaded;
    Job::named(
        "api/v1/lists",
        key_of(&[&loaded.trust_bytes, &loaded.revocation_bytes]),
        vec![
            "api/v1/trust-list.bin".into(),
            "api/v1/trust-list.json".into(),
            "api/v1/revocation-list.bin".into(),
            "api/v1/revocation-list.json".into(),
        ],
        Box::new(move || {
            Ok(vec![
                loaded.trust_bytes.clone(),
                api::trust_json(&loaded.trust)?,
                loaded.revocation_bytes.clone(),
                api::revocation_json(&loaded.revocations)?,
            ])
        }),
    )
}

/// `api/v1/superseded.json`: which certification replaced which, for the verify page.
fn api_superseded<'a>(site: &'a Site<'a>) -> Job<'a> {
    let loaded = site.loaded;
    let supersessions: Vec<u8> = loaded
        .certs
        .values()
        .filter_map(|c| c.superseded_by.map(|new| (c.summary.serial, new)))
        .flat_map(|(old, new)| [old.to_le_bytes(), new.to_le_bytes()].concat())
        .collect();
    Job::named(
        api::SUPERSEDED_PATH,
        key_of(&[&supersessions, b"superseded"]),
        vec![api::SUPERSEDED_PATH.into()],
        Box::new(move || Ok(vec![api::superseded_json(&loaded.certs)?])),
    )
}

/// `api/v1/claims/index.json` and its shards, one job each: every signed claim, for the listings
/// check. A changed record renders its own shard only.
fn api_claims<'a>(site: &'a Site<'a>, keys: &Keys) -> Vec<Job<'a>> {
    let certs = &site.loaded.certs;
    let blocks = api::claims_shards(certs.keys().copied());
    // The proofs (in serial order) of each block, in one pass.
    let mut proofs_of: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for s in api::claims_proofs(certs) {
        proofs_of.entry(s / api::CLAIMS_SHARD).or_default().push(s);
    }
    let block_bytes: Vec<u8> = blocks.iter().flat_map(|b| b.to_le_bytes()).collect();
    let index_path = format!("{}/index.json", api::CLAIMS_DIR);
    let mut jobs = vec![Job::named(
        &index_path,
        key_of(&[
            &keys.global,
            b"claims index",
            &certs.len().to_le_bytes(),
            &block_bytes,
        ]),
        vec![index_path.clone()],
        Box::new(move || Ok(vec![api::claims_index(certs)?])),
    )];
    for block in blocks {
        let proofs = proofs_of.remove(&block).unwrap_or_default();
        let proof_bytes: Vec<u8> = proofs.iter().flat_map(|s| s.to_le_bytes()).collect();
        let members = keys.members(certs.range(api::claims_block(block)).map(|(s, _)| *s));
        let path = api::claims_shard_path(block);
        jobs.push(Job::named(
            &path,
            key_of(&[&members, b"claims shard", &proof_bytes]),
            vec![path.clone()],
            Box::new(move || Ok(vec![api::claims_shard(certs, block, &proofs)?])),
        ));
    }
    jobs
}

/// `api/v1/categories.json`: the catalogue.
fn api_categories<'a>(site: &'a Site<'a>, keys: &Keys) -> Job<'a> {
    Job::named(
        "api/v1/categories.json",
        key_of(&[&keys.global, b"categories"]),
        vec!["api/v1/categories.json".into()],
        Box::new(move || {
            let mut v = serde_json::to_vec_pretty(&site.reg.config.categories)?;
            v.push(b'\n');
            Ok(vec![v])
        }),
    )
}

/// `api/v1/build.json`: what a rebuild of the site needs besides its signed inputs.
fn api_build<'a>(site: &'a Site<'a>, keys: &Keys) -> Job<'a> {
    Job::named(
        api::BUILD_PATH,
        key_of(&[&keys.global, b"build"]),
        vec![api::BUILD_PATH.into()],
        Box::new(move || Ok(vec![site.build_info.clone()])),
    )
}

/// `search/shard-NNN.json`, one per [`api::SHARD_SIZE`] certifications, and `search/meta.json`.
fn search_index<'a>(site: &'a Site<'a>, keys: &Keys) -> Vec<Job<'a>> {
    let loaded = site.loaded;
    let codes: Vec<String> = site
        .reg
        .config
        .categories
        .iter()
        .map(|c| c.code.clone())
        .collect();
    let all_certs: Vec<&VerifiedCert> = loaded.certs.values().collect();
    let mut jobs = Vec::new();
    let mut shard_names = Vec::new();
    for (i, chunk) in all_certs.chunks(api::SHARD_SIZE).enumerate() {
        let name = format!("shard-{i:03}.json");
        let codes = codes.clone();
        let chunk: Vec<&VerifiedCert> = chunk.to_vec();
        jobs.push(Job::named(
            &format!("search/{name}"),
            keys.rows(chunk.iter().map(|c| c.summary.serial)),
            vec![format!("search/{name}")],
            Box::new(move || Ok(vec![api::search_shard(&chunk, &codes)?])),
        ));
        shard_names.push(name);
    }
    let meta_key = key_of(&[
        &keys.global,
        shard_names.join(",").as_bytes(),
        &loaded.certs.len().to_le_bytes(),
    ]);
    jobs.push(Job::named(
        "search/meta.json",
        meta_key,
        vec!["search/meta.json".into()],
        Box::new(move || {
            Ok(vec![api::search_meta(
                loaded.certs.len(),
                &shard_names,
                &site.reg.config.categories,
            )?])
        }),
    ));
    jobs
}

/// `feed.xml`: the newest certifications and revocations.
fn feed<'a>(site: &'a Site<'a>, keys: &Keys) -> Job<'a> {
    let loaded = site.loaded;
    let base_url = site.reg.config.base_url.as_str();
    let registry_name = site.reg.config.name.as_str();
    Job::named(
        "feed.xml",
        key_of(&[&keys.all_rows, &loaded.revocation_bytes]),
        vec!["feed.xml".into()],
        Box::new(move || {
            Ok(vec![api::feed(
                &loaded.certs,
                &loaded.revocations,
                base_url,
                registry_name,
            )])
        }),
    )
}

/// `sitemap.xml` (and its parts at scale): every page of `jobs`, certification pages by serial
/// first, then the named pages in plan order.
fn sitemap<'a>(site: &'a Site<'a>, keys: &Keys, jobs: &[Job<'a>]) -> Job<'a> {
    let base_url = site.reg.config.base_url.as_str();
    let named_pages: Vec<String> = jobs
        .iter()
        .filter(|j| matches!(j.id, JobId::Named(_)))
        .flat_map(|j| j.paths.iter())
        .filter(|p| p.ends_with(".html"))
        .cloned()
        .collect();
    let cert_serials: Vec<u64> = jobs
        .iter()
        .filter_map(|j| match j.id {
            JobId::Cert(s) => Some(s),
            _ => None,
        })
        .collect();
    let mut h = Sha256::new();
    h.update(keys.global);
    for s in &cert_serials {
        h.update(s.to_le_bytes());
    }
    for p in &named_pages {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let mut sitemap_key = [0u8; 16];
    sitemap_key.copy_from_slice(&h.finalize()[..16]);
    let page_count = cert_serials.len() * LANGS.len() + named_pages.len();
    Job::named(
        "sitemap",
        sitemap_key,
        api::sitemap_names(page_count),
        Box::new(move || {
            let mut pages: Vec<String> = Vec::with_capacity(page_count);
            for s in &cert_serials {
                pages.extend(
                    LANGS
                        .iter()
                        .map(|l| lang_path(l, &format!("cert/{s}.html"))),
                );
            }
            pages.extend(named_pages.iter().cloned());
            Ok(api::sitemaps(&pages, base_url))
        }),
    )
}

/// The theme's static files (stylesheet, search script, icons), named by their content.
fn assets<'a>(site: &'a Site<'a>) -> Job<'a> {
    let assets: Vec<&theme::Asset> = site.theme.assets.values().collect();
    Job::named(
        "assets",
        key_of(&[&site.theme.digest]),
        assets.iter().map(|a| a.path.clone()).collect(),
        Box::new(move || Ok(assets.iter().map(|a| a.bytes.clone()).collect())),
    )
}

/// A page's paths in every language.
fn both(rel: &str) -> Vec<String> {
    LANGS.iter().map(|l| lang_path(l, rel)).collect()
}

/// The key of a certification's pages, record files and JSON.
fn cert_key(global: &Key, c: &VerifiedCert) -> Key {
    let (rev_date, rev_reason) = c
        .revocation
        .map_or((u16::MAX, ""), |r| (r.date.0, r.reason.name()));
    key_of(&[
        global,
        &c.signed.claim().record_sha256,
        c.signed.as_bytes(),
        c.status.name().as_bytes(),
        &rev_date.to_le_bytes(),
        rev_reason.as_bytes(),
        &c.superseded_by.unwrap_or(u64::MAX).to_le_bytes(),
    ])
}

/// The key of a certification's row: what [`Summary`] holds (the fields
/// that pages other than its own show) and its status, revocation and successor.
fn row_key(c: &VerifiedCert) -> Key {
    // Every field, by name: a field added to the summary does not compile until it is keyed.
    let Summary {
        serial,
        manufacturer,
        manufacturer_en,
        manufacturer_uscc,
        product,
        model,
        category,
        tier,
        issued,
        valid_from,
        valid_until,
        supersedes,
    } = &c.summary;
    // 0xff is no UTF-8: an absent name differs from every name.
    fn opt(o: &Option<String>) -> &[u8] {
        o.as_deref().map_or(&[0xff], str::as_bytes)
    }
    let (rev_date, rev_reason) = c
        .revocation
        .map_or((u16::MAX, ""), |r| (r.date.0, r.reason.name()));
    key_of(&[
        b"row",
        &serial.to_le_bytes(),
        manufacturer.as_bytes(),
        opt(manufacturer_en),
        opt(manufacturer_uscc),
        product.as_bytes(),
        model.as_bytes(),
        category.as_bytes(),
        &[*tier],
        &issued.0.to_le_bytes(),
        &valid_from.0.to_le_bytes(),
        &valid_until.0.to_le_bytes(),
        &supersedes.unwrap_or(u64::MAX).to_le_bytes(),
        c.status.name().as_bytes(),
        &rev_date.to_le_bytes(),
        rev_reason.as_bytes(),
        &c.superseded_by.unwrap_or(u64::MAX).to_le_bytes(),
    ])
}

/// The key of a certification's label: what it prints (void when revoked), its size, the font and
/// the base URL (not the theme: labels survive theme changes).
fn label_key(font_id: &str, base_url: &str, size: label::LabelSize, c: &VerifiedCert) -> Key {
    let r = &c.summary;
    key_of(&[
        b"label",
        label::VERSION.as_bytes(),
        &size.width_mm.to_le_bytes(),
        &size.height_mm.to_le_bytes(),
        &[u8::from(c.revocation.is_some())],
        font_id.as_bytes(),
        base_url.as_bytes(),
        r.manufacturer.as_bytes(),
        r.manufacturer_en.as_deref().unwrap_or("").as_bytes(),
        r.model.as_bytes(),
        &[r.tier],
        &r.valid_from.0.to_le_bytes(),
        &r.valid_until.0.to_le_bytes(),
        c.signed.as_bytes(),
    ])
}
