//! Markdown cells as HTML, through `pulldown-cmark` (CommonMark with tables and
//! strikethrough, as Jupyter renders them).
//!
//! Raw HTML in a cell is shown as text, not run: a notebook can come from anyone
//! (Jupyter sanitizes the same way), and the page holds the user's session.

use pulldown_cmark::{Event, Options, Parser, html};

/// `source` rendered as HTML, with any raw HTML escaped.
pub fn to_html(source: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(source, options).map(|event| match event {
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
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
}
