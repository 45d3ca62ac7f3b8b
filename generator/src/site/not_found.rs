//! The 404 page: `404.html` at the site root, which static hosts (GitHub Pages, Netlify,
//! Cloudflare Pages, ...) and `starmark serve` answer for every path that has no file. One page
//! in every language, each part tagged with its language.
//!
//! A host serves it at whatever depth the missing path had, so its links cannot be relative like
//! every other page's: they are absolute paths under the path of `base_url` (`/` for
//! `https://label.example.cn`, `/registry/` for `https://example.org/registry`).

use super::theme::LANGS;
use super::{key_of, lang_path, Job, Key, Site};

/// Where the page is published, relative to the site root.
pub const PATH: &str = "404.html";

/// The job that renders `404.html`.
pub(super) fn job<'a>(site: &'a Site<'a>, global: &Key) -> Job<'a> {
    let root = url_path(&site.reg.config.base_url);
    Job::named(
        "404",
        key_of(&[global, b"404", root.as_bytes()]),
        vec![PATH.into()],
        Box::new(move || {
            let first = LANGS[0];
            let mut ctx = site.base.first().cloned().unwrap_or_default();
            ctx.insert("root", &root);
            ctx.insert("home", &format!("{root}{}", lang_path(first, "")));
            ctx.insert(
                "alt",
                &format!("{root}{}", lang_path(LANGS[1], "index.html")),
            );
            let others: Vec<serde_json::Value> = LANGS[1..]
                .iter()
                .map(|l| {
                    serde_json::json!({
                        "t": site.strings(l),
                        "home": format!("{root}{}", lang_path(l, "")),
                    })
                })
                .collect();
            ctx.insert("others", &others);
            Ok(vec![site.theme.render("404.html", &ctx)?.into_bytes()])
        }),
    )
}

/// The path of a base URL, starting and ending with `/`: `https://a.example/b` gives `/b/`.
fn url_path(base_url: &str) -> String {
    let after_scheme = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    let path = after_scheme
        .split(['?', '#'])
        .next()
        .and_then(|s| s.find('/').map(|i| &s[i..]))
        .unwrap_or("/");
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        format!("/{trimmed}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_base_urls() {
        assert_eq!(url_path("https://label.example.cn"), "/");
        assert_eq!(url_path("https://label.example.cn/"), "/");
        assert_eq!(url_path("https://example.org/registry"), "/registry/");
        assert_eq!(url_path("http://example.org/a/b/?x=1"), "/a/b/");
        assert_eq!(url_path("https://example.org:8443#top"), "/");
    }
}
