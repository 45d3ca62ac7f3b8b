//! Markdown from records to HTML, with raw HTML neutralised: HTML blocks and inline HTML are
//! rendered as visible text, and only http, https, mailto-free relative links survive. The result
//! is safe to insert into a page unescaped.

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag, TagEnd};

/// Renders record Markdown to safe HTML.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut link_stack: Vec<bool> = Vec::new();
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        // Raw HTML becomes text: the reader sees it, the browser never runs it.
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        // Images would load from anywhere (and tell that host who reads the page): an image
        // becomes a link to it, with its alt text. Unsafe targets lose the link, keep the text.
        Event::Start(
            Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }
            | Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            },
        ) => {
            let ok = is_safe_url(&dest_url);
            link_stack.push(ok);
            ok.then_some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::End(TagEnd::Link | TagEnd::Image) => link_stack
            .pop()
            .unwrap_or(false)
            .then_some(Event::End(TagEnd::Link)),
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// Whether a link target may appear in a page: http(s) URLs and relative references only. Any
/// white space or control character refuses it (browsers strip them, so `java\tscript:` would run).
pub fn is_safe_url(url: &CowStr<'_>) -> bool {
    let url: &str = url;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    match scheme(url) {
        None => true,
        Some(s) => s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"),
    }
}

/// The URL scheme, if the reference has one (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":").
fn scheme(url: &str) -> Option<&str> {
    let end = url.find([':', '/', '?', '#'])?;
    if url.as_bytes()[end] != b':' {
        return None;
    }
    let s = &url[..end];
    let mut chars = s.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    // Anything before ':' that is not a valid scheme is treated as a scheme anyway (refused).
    Some(
        if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
            s
        } else {
            "invalid"
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_text() {
        let html = render("<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)> there");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("onerror"), "the text stays visible: {html}");
    }

    #[test]
    fn only_safe_links_survive() {
        let html = render("[a](javascript:alert(1)) [b](https://example.cn/x) [c](../x.html) [d](JaVaScRiPt:alert(1)) [e](data:text/html,x) [f](vbscript:x)");
        assert!(!html.to_lowercase().contains("javascript:"), "{html}");
        assert!(!html.contains("data:"), "{html}");
        assert!(!html.contains("vbscript"), "{html}");
        assert!(html.contains("href=\"https://example.cn/x\""), "{html}");
        assert!(html.contains("href=\"../x.html\""), "{html}");
        assert!(
            html.contains(">a<") || html.contains("a "),
            "link text kept: {html}"
        );
    }

    #[test]
    fn entity_and_whitespace_tricks_refused() {
        let html = render(
            "[a](javascript&#58;alert(1)) [b](<java\tscript:alert(1)>) ![i](javascript:alert(1))",
        );
        assert!(!html.to_lowercase().contains("href=\"java"), "{html}");
        assert!(!html.contains("<img"), "{html}");
    }

    #[test]
    fn tables_render() {
        let html = render("| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<table>"), "{html}");
    }
}
