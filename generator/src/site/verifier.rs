//! The verify page and what makes it work offline: the WebAssembly verifier and its JS glue (built
//! by `scripts/build-verifier` into `generator/assets/verifier/` and embedded here, so a build
//! needs no wasm toolchain), the page script and stylesheet, the service worker and the web app
//! manifests.
//!
//! Outputs (paths relative to the site root):
//!
//! - `verify/index.html`, `en/verify/index.html`: the page, with the pinned root public key as a
//!   data attribute and every script, stylesheet and module under Subresource Integrity;
//! - `assets/<name>.<hash>.<ext>`: `verify.js`, `verify.css`, the `verify` module (glue and wasm),
//!   the `scan` module (the camera's QR decoder, loaded only when the camera is used), the icons;
//! - `verify-sw.js`: the service worker, registered by each verify page for its own directory;
//!   it precaches the page, its assets and the lists, so a page once loaded verifies offline;
//! - `verify/manifest.webmanifest`, `en/verify/manifest.webmanifest`: the installable app.
//!
//! The page never embeds anything from records and never sends the label's digits anywhere: they
//! stay in the URL fragment.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use super::theme::{Asset, LANGS};
use super::{key_of, lang_path, site_name, Job, Key, Site, CSP};

/// The verifier's WebAssembly and JS glue, as built by `scripts/build-verifier`.
const VERIFY_GLUE: &[u8] = include_bytes!("../../assets/verifier/starmark_verify.js");
const VERIFY_WASM: &[u8] = include_bytes!("../../assets/verifier/starmark_verify_bg.wasm");
const SCAN_GLUE: &[u8] = include_bytes!("../../assets/verifier/starmark_scan.js");
const SCAN_WASM: &[u8] = include_bytes!("../../assets/verifier/starmark_scan_bg.wasm");

/// The page's own files under `templates/static/`; a registry may override each with a file of
/// the same name in `REGISTRY/templates/`.
const EMBEDDED: [(&str, &[u8]); 7] = [
    (
        "static/verify.js",
        include_bytes!("../../../templates/static/verify.js"),
    ),
    (
        "static/verify.css",
        include_bytes!("../../../templates/static/verify.css"),
    ),
    (
        "static/sw.js",
        include_bytes!("../../../templates/static/sw.js"),
    ),
    (
        "static/manifest.webmanifest",
        include_bytes!("../../../templates/static/manifest.webmanifest"),
    ),
    (
        "static/icon.svg",
        include_bytes!("../../../templates/static/icon.svg"),
    ),
    (
        "static/icon-192.png",
        include_bytes!("../../../templates/static/icon-192.png"),
    ),
    (
        "static/icon-512.png",
        include_bytes!("../../../templates/static/icon-512.png"),
    ),
];

/// Where the service worker is: at the site root, so that one script can serve the verify page of
/// every language (each registers it with its own directory as scope).
pub const SERVICE_WORKER: &str = "verify-sw.js";
/// The lists the page verifies with, relative to the site root.
pub const LISTS: [&str; 2] = ["api/v1/trust-list.bin", "api/v1/revocation-list.bin"];

/// The verify page's Content-Security-Policy: the site's, plus `'wasm-unsafe-eval'`, which
/// WebAssembly needs and which allows no JavaScript `eval`.
pub fn csp() -> Result<String> {
    const FROM: &str = "script-src 'self'";
    if !CSP.contains(FROM) {
        bail!("site CSP has no {FROM:?} to extend with 'wasm-unsafe-eval'");
    }
    Ok(CSP.replacen(FROM, "script-src 'self' 'wasm-unsafe-eval'", 1))
}

/// Reads a page file, or the registry's override of it (`REGISTRY/templates/<name>`).
fn file(site: &Site<'_>, name: &str) -> Result<Vec<u8>> {
    page_file(site, &EMBEDDED, "verify", name)
}

/// Reads the file `name` of a page that embeds `embedded` (the verify page, the check listings
/// page), or the registry's override of it (`REGISTRY/templates/<name>`).
pub(super) fn page_file(
    site: &Site<'_>,
    embedded: &[(&str, &[u8])],
    page: &str,
    name: &str,
) -> Result<Vec<u8>> {
    let over = site.reg.path("templates").join(name);
    if over.is_file() {
        return crate::fsutil::read(&over);
    }
    embedded
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| b.to_vec())
        .with_context(|| format!("built-in {page} page file {name} is missing"))
}

/// The verify page's assets, by name.
#[derive(Debug, Serialize)]
struct Assets {
    js: Asset,
    css: Asset,
    glue: Asset,
    wasm: Asset,
    scan_glue: Asset,
    scan_wasm: Asset,
    icon: Asset,
    icon_192: Asset,
    icon_512: Asset,
}

impl Assets {
    fn load(site: &Site<'_>) -> Result<Assets> {
        Ok(Assets {
            js: Asset::new("verify", "js", file(site, "static/verify.js")?),
            css: Asset::new("verify", "css", file(site, "static/verify.css")?),
            glue: Asset::new("starmark_verify", "js", VERIFY_GLUE.to_vec()),
            wasm: Asset::new("starmark_verify", "wasm", VERIFY_WASM.to_vec()),
            scan_glue: Asset::new("starmark_scan", "js", SCAN_GLUE.to_vec()),
            scan_wasm: Asset::new("starmark_scan", "wasm", SCAN_WASM.to_vec()),
            icon: Asset::new("icon", "svg", file(site, "static/icon.svg")?),
            icon_192: Asset::new("icon-192", "png", file(site, "static/icon-192.png")?),
            icon_512: Asset::new("icon-512", "png", file(site, "static/icon-512.png")?),
        })
    }

    fn all(&self) -> [&Asset; 9] {
        [
            &self.js,
            &self.css,
            &self.glue,
            &self.wasm,
            &self.scan_glue,
            &self.scan_wasm,
            &self.icon,
            &self.icon_192,
            &self.icon_512,
        ]
    }

    /// What a verdict needs, offline: precached by the service worker. The camera's decoder is
    /// cached when first used.
    fn precached(&self) -> [&Asset; 7] {
        [
            &self.js,
            &self.css,
            &self.glue,
            &self.wasm,
            &self.icon,
            &self.icon_192,
            &self.icon_512,
        ]
    }
}

/// The strings the page script needs, as a JSON attribute value: every `verify_*`, `verdict_*`
/// and `reason_*` string of the language.
fn script_strings(t: &BTreeMap<String, String>) -> String {
    let picked: BTreeMap<&str, &str> = t
        .iter()
        .filter(|(k, _)| {
            ["verify_", "verdict_", "reason_"]
                .iter()
                .any(|p| k.starts_with(p))
        })
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    serde_json::to_string(&picked).unwrap_or_default()
}

/// The service worker: `templates/static/sw.js` after a first line that names its version and
/// the files to precache (paths relative to the site root, where the worker is).
fn service_worker(body: &[u8], version: &str, precache: &[String]) -> Result<Vec<u8>> {
    let head = format!(
        "const VERSION = {};\nconst PRECACHE = {};\n",
        serde_json::to_string(version)?,
        serde_json::to_string(precache)?
    );
    Ok([head.as_bytes(), body].concat())
}

/// The web app manifest of one language's verify page (the manifest sits beside the page).
fn manifest(
    base: &[u8],
    lang: &str,
    name: &str,
    t: &BTreeMap<String, String>,
    assets: &Assets,
) -> Result<Vec<u8>> {
    let mut m: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(base)
        .context("templates/static/manifest.webmanifest: not a JSON object")?;
    let root = "../".repeat(lang_path(lang, "verify/x").matches('/').count());
    let get = |k: &str| t.get(k).cloned().unwrap_or_default();
    let icon = |a: &Asset, sizes: &str, kind: &str| serde_json::json!({ "src": format!("{root}{}", a.path), "sizes": sizes, "type": kind });
    m.insert(
        "name".into(),
        format!("{} · {name}", get("verify_title")).into(),
    );
    m.insert("short_name".into(), get("verify_app_name").into());
    m.insert("description".into(), get("verify_intro").into());
    m.insert("lang".into(), get("html_lang").into());
    m.insert("id".into(), "./".into());
    m.insert("start_url".into(), "./".into());
    m.insert("scope".into(), "./".into());
    m.insert(
        "icons".into(),
        serde_json::json!([
            icon(&assets.icon_192, "192x192", "image/png"),
            icon(&assets.icon_512, "512x512", "image/png"),
            icon(&assets.icon, "any", "image/svg+xml"),
        ]),
    );
    let mut out = serde_json::to_vec_pretty(&m)?;
    out.push(b'\n');
    Ok(out)
}

/// The verify page's jobs: the page in every language, its assets, the service worker and the
/// manifests. `global` is the build's theme and configuration key.
pub(super) fn jobs<'a>(site: &'a Site<'a>, global: &Key) -> Result<Vec<Job<'a>>> {
    let assets = Assets::load(site)?;
    let root_key = starmark_core::to_hex(&site.reg.root_public_key()?.to_bytes());
    let csp = csp()?;
    let sw_body = file(site, "static/sw.js")?;
    let manifest_base = file(site, "static/manifest.webmanifest")?;
    let asset_key: Vec<&str> = assets.all().iter().map(|a| a.path.as_str()).collect();
    let asset_key = asset_key.join("\n");
    // With a log, the build publishes the witnesses' count, which the page shows and the worker
    // precaches.
    let witnesses = site.log.is_some();
    let page_key = key_of(&[
        global,
        b"verify page",
        root_key.as_bytes(),
        asset_key.as_bytes(),
        &[u8::from(witnesses)],
    ]);

    let pages: Vec<String> = LANGS
        .iter()
        .map(|l| lang_path(l, "verify/index.html"))
        .collect();
    let manifests: Vec<String> = LANGS
        .iter()
        .map(|l| lang_path(l, "verify/manifest.webmanifest"))
        .collect();
    let mut precache: Vec<String> = pages.clone();
    precache.extend(manifests.iter().cloned());
    if let Some(css) = site.theme.assets.get("css") {
        precache.push(css.path.clone());
    }
    precache.extend(assets.precached().iter().map(|a| a.path.clone()));
    precache.extend(LISTS.iter().map(|s| s.to_string()));
    precache.push(super::api::SUPERSEDED_PATH.to_string());
    if witnesses {
        precache.push(crate::witness::WITNESSES_PATH.to_string());
    }
    // The worker changes, and so reinstalls and precaches again, whenever the page or its
    // assets may have: its version is the page's key.
    let sw = service_worker(&sw_body, &starmark_core::to_hex(&page_key), &precache)?;

    let mut jobs: Vec<Job<'a>> = Vec::new();
    let assets = std::sync::Arc::new(assets);
    let a = assets.clone();
    jobs.push(Job::named(
        "verify/page",
        page_key,
        pages,
        Box::new(move || {
            site.page("verify.html", "verify/index.html", &|lang, ctx| {
                ctx.insert("csp", &csp);
                ctx.insert("verifier", a.as_ref());
                ctx.insert("root_key", &root_key);
                ctx.insert("service_worker", SERVICE_WORKER);
                ctx.insert("verify_strings", &script_strings(site.strings(lang)));
            })
        }),
    ));
    let a = assets.clone();
    jobs.push(Job::named(
        "verify/assets",
        key_of(&[b"verify assets", asset_key.as_bytes()]),
        assets.all().iter().map(|x| x.path.clone()).collect(),
        Box::new(move || Ok(a.all().iter().map(|x| x.bytes.clone()).collect())),
    ));
    jobs.push(Job::named(
        "verify/sw",
        key_of(&[b"verify sw", &sw]),
        vec![SERVICE_WORKER.into()],
        Box::new(move || Ok(vec![sw.clone()])),
    ));
    let a = assets;
    jobs.push(Job::named(
        "verify/manifest",
        key_of(&[
            global,
            b"verify manifest",
            &manifest_base,
            asset_key.as_bytes(),
        ]),
        manifests,
        Box::new(move || {
            LANGS
                .iter()
                .map(|lang| {
                    let name = site_name(site.reg, lang);
                    manifest(&manifest_base, lang, name, site.strings(lang), &a)
                })
                .collect()
        }),
    ));
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_allows_wasm_and_nothing_else_more() {
        let c = csp().unwrap();
        assert!(c.contains("script-src 'self' 'wasm-unsafe-eval';"));
        assert!(!c.contains("unsafe-inline"));
        assert_eq!(c.replace(" 'wasm-unsafe-eval'", ""), CSP);
    }

    #[test]
    fn embedded_verifier_is_wasm() {
        for w in [VERIFY_WASM, SCAN_WASM] {
            assert_eq!(&w[..4], b"\0asm");
        }
        let glue = String::from_utf8_lossy(VERIFY_GLUE);
        assert!(glue.contains("export function verify("));
        assert!(glue.contains("export function inspect("));
        assert!(String::from_utf8_lossy(SCAN_GLUE).contains("export function decode_qr("));
    }

    #[test]
    fn service_worker_names_its_precache() {
        let sw = service_worker(b"self;", "v1", &["verify/index.html".into()]).unwrap();
        assert_eq!(
            String::from_utf8(sw).unwrap(),
            "const VERSION = \"v1\";\nconst PRECACHE = [\"verify/index.html\"];\nself;"
        );
    }

    #[test]
    fn strings_for_the_script() {
        let t: BTreeMap<String, String> = [
            ("verify_valid", "Genuine"),
            ("reason_other", "Other"),
            ("nav_search", "Search"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            script_strings(&t),
            r#"{"reason_other":"Other","verify_valid":"Genuine"}"#
        );
    }
}
