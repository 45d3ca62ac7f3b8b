//! The "check listings" page: a retailer drops a listings file (CSV, XLSX, JSONL) and it is checked
//! in the browser, against the site's signed data, by the WebAssembly build of the same code as
//! `starmark check-listings` (built by `scripts/build-verifier` into `generator/assets/verifier/`
//! and embedded here). The file never leaves the computer.
//!
//! Outputs (paths relative to the site root):
//!
//! - `check/index.html`, `en/check/index.html`: the page, with the pinned root public key and the
//!   registry's base URL as data attributes;
//! - `assets/<name>.<hash>.<ext>`: `listings.js` and `listings.css` (the page's script and style,
//!   loaded with the page) and the `listings` module (glue and wasm, loaded only when a file is
//!   checked), all under Subresource Integrity.
//!
//! The page reads `api/v1/trust-list.bin`, `api/v1/revocation-list.bin` and the claims shards (`api/v1/claims/index.json` and the shards it names).

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;

use super::theme::{Asset, LANGS};
use super::{key_of, lang_path, verifier, Job, Key, Site};

/// The listings checker's WebAssembly and JS glue, as built by `scripts/build-verifier`.
const GLUE: &[u8] = include_bytes!("../../assets/verifier/starmark_listings.js");
const WASM: &[u8] = include_bytes!("../../assets/verifier/starmark_listings_bg.wasm");

/// The page's own files under `templates/static/`; a registry may override each with a file of
/// the same name in `REGISTRY/templates/`.
const EMBEDDED: [(&str, &[u8]); 2] = [
    (
        "static/listings.js",
        include_bytes!("../../../templates/static/listings.js"),
    ),
    (
        "static/listings.css",
        include_bytes!("../../../templates/static/listings.css"),
    ),
];

/// The page, relative to a language's root.
pub const PAGE: &str = "check/index.html";

fn file(site: &Site<'_>, name: &str) -> Result<Vec<u8>> {
    super::verifier::page_file(site, &EMBEDDED, "listings", name)
}

/// The page's assets.
#[derive(Debug, Serialize)]
struct Assets {
    js: Asset,
    css: Asset,
    glue: Asset,
    wasm: Asset,
}

impl Assets {
    fn all(&self) -> [&Asset; 4] {
        [&self.js, &self.css, &self.glue, &self.wasm]
    }
}

/// The strings the page script needs, as a JSON attribute value: every `listings_*` string.
fn script_strings(t: &BTreeMap<String, String>) -> String {
    let picked: BTreeMap<&str, &str> = t
        .iter()
        .filter(|(k, _)| k.starts_with("listings_"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    serde_json::to_string(&picked).unwrap_or_default()
}

/// The page's jobs: the page in every language and its assets.
pub(super) fn jobs<'a>(site: &'a Site<'a>, global: &Key) -> Result<Vec<Job<'a>>> {
    let assets = Assets {
        js: Asset::new("listings", "js", file(site, "static/listings.js")?),
        css: Asset::new("listings", "css", file(site, "static/listings.css")?),
        glue: Asset::new("starmark_listings", "js", GLUE.to_vec()),
        wasm: Asset::new("starmark_listings", "wasm", WASM.to_vec()),
    };
    let root_key = starmark_core::to_hex(&site.reg.root_public_key()?.to_bytes());
    let base_url = site.reg.config.base_url.clone();
    let csp = verifier::csp()?;
    let asset_key: Vec<&str> = assets.all().iter().map(|a| a.path.as_str()).collect();
    let asset_key = asset_key.join("\n");
    let page_key = key_of(&[
        global,
        b"listings page",
        root_key.as_bytes(),
        asset_key.as_bytes(),
    ]);
    let pages: Vec<String> = LANGS.iter().map(|l| lang_path(l, PAGE)).collect();
    let assets = std::sync::Arc::new(assets);
    let a = assets.clone();
    let mut jobs = vec![Job::named(
        "listings/page",
        page_key,
        pages,
        Box::new(move || {
            site.page("listings.html", PAGE, &|lang, ctx| {
                ctx.insert("csp", &csp);
                ctx.insert("listings", a.as_ref());
                ctx.insert("root_key", &root_key);
                ctx.insert("base_url", &base_url);
                ctx.insert("listings_strings", &script_strings(site.strings(lang)));
            })
        }),
    )];
    let a = assets;
    jobs.push(Job::named(
        "listings/assets",
        key_of(&[b"listings assets", asset_key.as_bytes()]),
        a.all().iter().map(|x| x.path.clone()).collect(),
        Box::new(move || Ok(a.all().iter().map(|x| x.bytes.clone()).collect())),
    ));
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_checker_is_wasm_with_its_entry_point() {
        assert_eq!(&WASM[..4], b"\0asm");
        assert!(String::from_utf8_lossy(GLUE).contains("export function check_listings("));
    }

    #[test]
    fn strings_for_the_script() {
        let t: BTreeMap<String, String> = [("listings_ok", "OK"), ("verify_valid", "Genuine")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(script_strings(&t), r#"{"listings_ok":"OK"}"#);
    }
}
