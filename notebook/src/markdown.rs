//! Markdown cells as HTML, through `pulldown-cmark` (CommonMark with tables and
//! strikethrough, as Jupyter renders them).
//!
//! A notebook can come from anyone, and the page holds the user's session, so:
//! - raw HTML in a cell is shown as text, not run (no sanitiser: the notebook module
//!   stays small, and nothing in a cell can add markup that Markdown cannot write);
//! - a link is kept only when it goes to `http:`, `https:`, `mailto:` or a relative
//!   address, an image only from `http:`, `https:`, `data:image/…` or a relative
//!   address ([`safe_link`], [`safe_image`]); any other (`javascript:`, `data:text/html`,
//!   `vbscript:`) is shown as its text, not clickable.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

/// `source` rendered as HTML, with any raw HTML escaped and unsafe links dropped.
pub fn to_html(source: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    // For each open link and image, whether it was dropped (so its end is too).
    // Links cannot hold links, but they can hold images, so this is a stack.
    let mut open: Vec<bool> = Vec::new();
    let events = Parser::new_ext(source, options).filter_map(move |event| match event {
        Event::Html(text) | Event::InlineHtml(text) => Some(Event::Text(text)),
        Event::Start(Tag::Link { ref dest_url, .. }) => {
            let keep = safe_link(dest_url);
            open.push(keep);
            keep.then_some(event)
        }
        Event::Start(Tag::Image { ref dest_url, .. }) => {
            let keep = safe_image(dest_url);
            open.push(keep);
            // A dropped image shows its alt text, which comes as the events inside it.
            keep.then_some(event)
        }
        Event::End(TagEnd::Link | TagEnd::Image) => open.pop().unwrap_or(true).then_some(event),
        other => Some(other),
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

/// True when a link to `url` may be followed: `http:`, `https:`, `mailto:`, or no
/// scheme at all (a relative address, `#anchor`, `//host/path`).
pub fn safe_link(url: &str) -> bool {
    match scheme(url) {
        None => true,
        Some(scheme) => ["http", "https", "mailto"].contains(&scheme.as_str()),
    }
}

/// True when an image may be loaded from `url`: `http:`, `https:`, `data:image/…`,
/// or a relative address.
pub fn safe_image(url: &str) -> bool {
    match scheme(url) {
        None => true,
        Some(scheme) if scheme == "data" => cleaned(url)
            .get(..11)
            .is_some_and(|start| start.eq_ignore_ascii_case("data:image/")),
        Some(scheme) => ["http", "https"].contains(&scheme.as_str()),
    }
}

/// `url` as a browser's URL parser reads it: without ASCII tab and newline anywhere,
/// and without leading and trailing spaces and control characters. (`java\tscript:`
/// is `javascript:` to a browser.)
fn cleaned(url: &str) -> String {
    url.trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

/// The lowercased scheme of `url` (what comes before the first `:` when that is a
/// valid scheme, RFC 3986: a letter, then letters, digits, `+`, `-`, `.`), or `None`
/// for a relative address.
fn scheme(url: &str) -> Option<String> {
    let url = cleaned(url);
    let (scheme, _) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    // `a/b:c` or `?x:y` is a relative path, not a scheme: a scheme has none of these.
    valid.then(|| scheme.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commonmark_becomes_html() {
        assert_eq!(
            to_html("# Title\n\nSome `code` and **bold**."),
            "<h1>Title</h1>\n<p>Some <code>code</code> and <strong>bold</strong>.</p>\n"
        );
        assert!(to_html("| a | b |\n|---|---|\n| 1 | 2 |").contains("<table>"));
    }

    #[test]
    fn raw_html_is_shown_not_run() {
        let html = to_html("<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn only_safe_links_are_clickable() {
        let check = |source: &str, expect: &str| {
            assert_eq!(to_html(source), format!("<p>{expect}</p>\n"), "{source}");
        };
        check(
            "[docs](https://docs.example/a?b=1)",
            "<a href=\"https://docs.example/a?b=1\">docs</a>",
        );
        check("[x](http://h/)", "<a href=\"http://h/\">x</a>");
        check("[mail](mailto:a@b.c)", "<a href=\"mailto:a@b.c\">mail</a>");
        check("[up](../data/x.csv)", "<a href=\"../data/x.csv\">up</a>");
        check("[top](#title)", "<a href=\"#title\">top</a>");
        check("[a](dir/a:b)", "<a href=\"dir/a:b\">a</a>");
        check(
            "<https://a.example>",
            "<a href=\"https://a.example\">https://a.example</a>",
        );
        // Anything else is its text, not a link.
        check("[x](javascript:alert(1))", "x");
        check("[x](JavaScript:alert(1))", "x");
        check("[x](javascript&#58;alert(1))", "x");
        check("[x](<java\tscript:alert(1)>)", "x");
        check("[x](<\u{1}javascript:alert(1)>)", "x");
        check("[x](vbscript:msgbox)", "x");
        check("[x](data:text/html,<script>alert(1)</script>)", "x");
        check("[**bold**](javascript:alert(1))", "<strong>bold</strong>");
        check("<javascript:alert(1)>", "javascript:alert(1)");
        check("[x]: javascript:alert(1)\n\nsee [x]", "see x");
    }

    #[test]
    fn only_safe_images_are_shown() {
        let check = |source: &str, expect: &str| {
            assert_eq!(to_html(source), format!("<p>{expect}</p>\n"), "{source}");
        };
        check(
            "![plot](https://a.example/p.png)",
            "<img src=\"https://a.example/p.png\" alt=\"plot\" />",
        );
        check(
            "![plot](plots/p.png)",
            "<img src=\"plots/p.png\" alt=\"plot\" />",
        );
        check(
            "![dot](data:image/png;base64,iVBO)",
            "<img src=\"data:image/png;base64,iVBO\" alt=\"dot\" />",
        );
        check("![plot](javascript:alert(1))", "plot");
        check("![page](data:text/html,hi)", "page");
        // An image inside a dropped link stays; a dropped image inside a link leaves the
        // link whole.
        check(
            "[![p](p.png)](javascript:alert(1))",
            "<img src=\"p.png\" alt=\"p\" />",
        );
        check(
            "[![p](javascript:x)](https://a.example)",
            "<a href=\"https://a.example\">p</a>",
        );
    }
}
