//! The theme of a build: Tera templates, strings per language and static assets, embedded in the
//! binary from `templates/`, each overridable by a file of the same name in `REGISTRY/templates/`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use base64::Engine;
use include_dir::{include_dir, Dir};
use sha2::{Digest, Sha256, Sha384};

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../templates");

/// The languages of the site, in order; the first is served at the root, the others under
/// `<code>/`.
pub const LANGS: [&str; 2] = ["zh", "en"];

/// A static asset with a content-hashed file name and its Subresource Integrity value.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Asset {
    /// Path relative to the site root, e.g. `assets/style.1a2b3c4d.css`.
    pub path: String,
    /// `sha384-...`.
    pub sri: String,
    /// The bytes.
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

impl Asset {
    /// An asset named `assets/<stem>.<hash8>.<ext>`.
    pub fn new(stem: &str, ext: &str, bytes: Vec<u8>) -> Asset {
        let hash = Sha256::digest(&bytes);
        let path = format!("assets/{stem}.{}.{ext}", starmark_core::to_hex(&hash[..4]));
        let sri = format!(
            "sha384-{}",
            base64::engine::general_purpose::STANDARD.encode(Sha384::digest(&bytes))
        );
        Asset { path, sri, bytes }
    }
}

/// Templates, strings and assets of a build.
pub struct Theme {
    /// The Tera engine with every template.
    pub tera: tera::Tera,
    /// Strings per language.
    pub strings: BTreeMap<&'static str, BTreeMap<String, String>>,
    /// Assets by name (`css`, `search`, ...).
    pub assets: BTreeMap<&'static str, Asset>,
    /// SHA-256 over every template, string and asset: part of every page's cache key.
    pub digest: [u8; 32],
}

/// Reads an embedded file, or the registry's override of it.
pub(super) fn file(overrides: &Path, name: &str) -> Result<Vec<u8>> {
    let over = overrides.join(name);
    if over.is_file() {
        return crate::fsutil::read(&over);
    }
    EMBEDDED
        .get_file(name)
        .map(|f| f.contents().to_vec())
        .with_context(|| format!("built-in template {name} is missing"))
}

impl Theme {
    /// Loads the theme; `overrides` is `REGISTRY/templates`.
    pub fn load(overrides: &Path) -> Result<Theme> {
        let mut digest = Sha256::new();
        let mut tera = tera::Tera::default();
        let mut templates = Vec::new();
        for f in EMBEDDED.files() {
            let name = f.path().to_string_lossy().into_owned();
            if name.ends_with(".html") {
                let bytes = file(overrides, &name)?;
                let text = String::from_utf8(bytes)
                    .with_context(|| format!("template {name}: not UTF-8"))?;
                digest.update(name.as_bytes());
                digest.update(text.as_bytes());
                templates.push((name, text));
            }
        }
        templates.sort();
        tera.add_raw_templates(templates)
            .map_err(|e| anyhow::anyhow!("templates: {}", tera_error(&e)))?;
        tera.autoescape_on(vec![".html", ".xml"]);
        tera.register_filter("lang_attr", lang_attr_filter);

        let mut strings = BTreeMap::new();
        for lang in LANGS {
            let name = format!("i18n/{lang}.toml");
            let bytes = file(overrides, &name)?;
            digest.update(&bytes);
            let text = String::from_utf8(bytes).with_context(|| format!("{name}: not UTF-8"))?;
            let map: BTreeMap<String, String> =
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{name}: {}", e.message()))?;
            strings.insert(lang, map);
        }
        let keys = |l: &str| {
            strings
                .get(l)
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        let first = keys(LANGS[0]);
        for lang in &LANGS[1..] {
            let other = keys(lang);
            if let Some(k) = first
                .iter()
                .find(|k| !other.contains(k))
                .or_else(|| other.iter().find(|k| !first.contains(k)))
            {
                bail!(
                    "i18n: string {k:?} is not defined in every language ({})",
                    LANGS.join(", ")
                );
            }
        }

        let mut assets = BTreeMap::new();
        for (key, name, stem, ext) in [
            ("css", "static/style.css", "style", "css"),
            ("search", "static/search.js", "search", "js"),
        ] {
            let bytes = file(overrides, name)?;
            digest.update(&bytes);
            assets.insert(key, Asset::new(stem, ext, bytes));
        }
        Ok(Theme {
            tera,
            strings,
            assets,
            digest: digest.finalize().into(),
        })
    }

    /// The strings of a language (empty for a language without strings).
    pub fn strings_of(&self, lang: &str) -> &BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.strings.get(lang).unwrap_or(&EMPTY)
    }

    /// Renders a template with a context; errors name the template and the cause.
    pub fn render(&self, template: &str, ctx: &tera::Context) -> Result<String> {
        self.tera
            .render(template, ctx)
            .map_err(|e| anyhow::anyhow!("template {template}: {}", tera_error(&e)))
    }
}

/// The `lang` attribute (with its leading space) that a text needs on a page in language `page`:
/// ` lang="zh-Hans"` for text with Han characters on a page in another language, ` lang="en"` for
/// Latin text without Han on a Chinese page, and nothing when the text is in the page's language
/// (or has no letters), so that screen readers pronounce names in their own language.
pub fn lang_attr(text: &str, page: &str) -> &'static str {
    let han = text.chars().any(is_han);
    if page == "zh" {
        if !han && text.chars().any(|c| c.is_ascii_alphabetic()) {
            return " lang=\"en\"";
        }
        ""
    } else if han {
        " lang=\"zh-Hans\""
    } else {
        ""
    }
}

/// Han ideographs (the unified blocks and their extensions, compatibility ideographs).
fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{3134F}')
}

/// `{{ text | lang_attr(page=lang) | safe }}` in templates: see [`lang_attr`]. A value that is
/// not a string needs no attribute.
fn lang_attr_filter(
    value: &tera::Value,
    args: &std::collections::HashMap<String, tera::Value>,
) -> tera::Result<tera::Value> {
    let page = args
        .get("page")
        .and_then(tera::Value::as_str)
        .ok_or_else(|| tera::Error::msg("lang_attr: needs page=<the page's language>"))?;
    Ok(tera::Value::from(
        value.as_str().map_or("", |text| lang_attr(text, page)),
    ))
}

/// Tera errors nest their cause; show the whole chain on one line.
fn tera_error(e: &tera::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_the_other_language_are_tagged() {
        assert_eq!(
            lang_attr("莱茵费尔德自动化有限公司", "en"),
            " lang=\"zh-Hans\""
        );
        assert_eq!(lang_attr("家用路由器 AX3000", "en"), " lang=\"zh-Hans\"");
        assert_eq!(lang_attr("Rheinfeld Automation GmbH", "en"), "");
        assert_eq!(lang_attr("Rheinfeld Automation GmbH", "zh"), " lang=\"en\"");
        assert_eq!(lang_attr("XL-AX3000", "zh"), " lang=\"en\"");
        assert_eq!(lang_attr("家用路由器 AX3000", "zh"), "");
        assert_eq!(lang_attr("00000001", "zh"), "");
        assert_eq!(lang_attr("𠀀", "en"), " lang=\"zh-Hans\"");
    }

    #[test]
    fn stars_are_one_named_image_whose_glyphs_are_hidden() {
        let theme = Theme::load(Path::new("/nonexistent")).unwrap();
        let mut tera = theme.tera;
        tera.add_raw_template(
            "t.html",
            r#"{% import "macros.html" as m %}{{ m::stars(tier=2, label="2 of 3 stars") }}|{{ m::stars(tier=1) }}"#,
        )
        .unwrap();
        assert_eq!(
            tera.render("t.html", &tera::Context::new()).unwrap(),
            "<span class=\"stars\" role=\"img\" aria-label=\"2 of 3 stars\"><span aria-hidden=\"true\">★★☆</span></span>|\
             <span class=\"stars\" role=\"img\" aria-label=\"1/3\"><span aria-hidden=\"true\">★☆☆</span></span>"
        );
        for lang in LANGS {
            let t = theme.strings.get(lang).unwrap();
            for tier in 1..=3 {
                assert!(
                    t.contains_key(&format!("stars_{tier}")),
                    "{lang}: stars_{tier}"
                );
            }
        }
    }

    #[test]
    fn the_filter_in_a_template() {
        let theme = Theme::load(Path::new("/nonexistent")).unwrap();
        let mut tera = theme.tera;
        tera.add_raw_template(
            "t.html",
            "<b{{ n | lang_attr(page=lang) | safe }}>{{ n }}</b>",
        )
        .unwrap();
        let mut ctx = tera::Context::new();
        ctx.insert("n", "星联");
        ctx.insert("lang", "en");
        assert_eq!(
            tera.render("t.html", &ctx).unwrap(),
            "<b lang=\"zh-Hans\">星联</b>"
        );
        ctx.insert("lang", "zh");
        assert_eq!(tera.render("t.html", &ctx).unwrap(), "<b>星联</b>");
        let missing = tera.add_raw_template("u.html", "{{ n | lang_attr }}");
        let err = missing
            .and_then(|()| tera.render("u.html", &ctx))
            .unwrap_err();
        assert!(format!("{err:?}").contains("needs page="), "{err:?}");
    }
}
