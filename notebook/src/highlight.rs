//! Syntax highlighting of code cells: Python's tokens (keywords, built-ins, strings,
//! numbers, comments, decorators, magics) as HTML `<span class="tok-…">`s, drawn
//! under the cell's transparent `<textarea>`.
//!
//! Why not a library: the kernel's parser (Ruff's) lives in the worker, and the
//! editors that highlight in the browser (CodeMirror, Monaco) are JavaScript bundles
//! of 150 KB and more that would need a bundler in the build. Colouring is forgiving
//! (a wrong colour breaks nothing), so a lexer of a hundred lines does.

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

const BUILTINS: &[&str] = &[
    "print",
    "len",
    "range",
    "str",
    "int",
    "float",
    "bool",
    "bytes",
    "dict",
    "list",
    "tuple",
    "set",
    "sorted",
    "enumerate",
    "zip",
    "min",
    "max",
    "sum",
    "isinstance",
    "abs",
    "round",
    "repr",
    "type",
    "open",
    "self",
];

/// `source` as HTML with each token in a `<span class="tok-KIND">`, the rest escaped.
/// A final newline gets a space after it, so the highlighted block is as tall as the
/// textarea.
pub fn to_html(source: &str) -> String {
    let mut out = String::with_capacity(source.len() * 2);
    let mut rest = source;
    let mut line_start = true;
    while let Some(c) = rest.chars().next() {
        let (len, class) = token(rest, line_start);
        let (text, tail) = rest.split_at(len.max(c.len_utf8()));
        match class {
            Some(class) => {
                out.push_str("<span class=\"tok-");
                out.push_str(class);
                out.push_str("\">");
                escape_into(&mut out, text);
                out.push_str("</span>");
            }
            None => escape_into(&mut out, text),
        }
        line_start = text.ends_with('\n') || (line_start && text.trim().is_empty());
        rest = tail;
    }
    if source.ends_with('\n') || source.is_empty() {
        out.push(' ');
    }
    out
}

/// The length of the token at the start of `s`, and its class (`None`: plain text).
fn token(s: &str, line_start: bool) -> (usize, Option<&'static str>) {
    let bytes = s.as_bytes();
    let c = bytes[0];
    match c {
        b'#' => (line_len(s), Some("comment")),
        b'%' | b'!' if line_start => (line_len(s), Some("magic")),
        b'@' if line_start => (ident_len(&s[1..]) + 1, Some("decorator")),
        b'\'' | b'"' => (string_len(s, 0), Some("string")),
        b'0'..=b'9' => (number_len(s), Some("number")),
        b'.' if bytes.get(1).is_some_and(u8::is_ascii_digit) => (number_len(s), Some("number")),
        _ if is_ident_start(c) => {
            let len = ident_len(s);
            // String prefixes: f'', rb"", u''.
            if len <= 2
                && matches!(bytes.get(len), Some(b'\'' | b'"'))
                && s[..len]
                    .chars()
                    .all(|p| matches!(p.to_ascii_lowercase(), 'f' | 'r' | 'b' | 'u'))
            {
                return (string_len(s, len), Some("string"));
            }
            let word = &s[..len];
            let class = if KEYWORDS.contains(&word) {
                Some("keyword")
            } else if BUILTINS.contains(&word) {
                Some("builtin")
            } else {
                None
            };
            (len, class)
        }
        _ => {
            // Plain text up to the next character that may start a token.
            let len = s
                .char_indices()
                .skip(1)
                .find(|&(_, ch)| {
                    ch.is_ascii()
                        && (is_ident_start(ch as u8) || "#'\"0123456789.\n@%!".contains(ch))
                })
                .map_or(s.len(), |(i, _)| i);
            (len, None)
        }
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn ident_len(s: &str) -> usize {
    s.bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or(s.len())
}

fn line_len(s: &str) -> usize {
    s.find('\n').unwrap_or(s.len())
}

fn number_len(s: &str) -> usize {
    s.bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'.' || b == b'_'))
        .unwrap_or(s.len())
}

/// A string literal starting after `prefix` bytes: single or triple quoted, with
/// backslash escapes; an unclosed one-line string ends at the line's end.
fn string_len(s: &str, prefix: usize) -> usize {
    let body = &s[prefix..];
    let quote = body.as_bytes()[0];
    let triple = body.len() >= 3 && body.as_bytes()[1] == quote && body.as_bytes()[2] == quote;
    let open = if triple { 3 } else { 1 };
    let bytes = body.as_bytes();
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' if !triple => return prefix + i,
            b if b == quote => {
                if !triple {
                    return prefix + i + 1;
                }
                if bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote) {
                    return prefix + i + 3;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    s.len()
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_get_their_classes() {
        assert_eq!(
            to_html("import os  # files\nx = f'{a}' + 0.5"),
            "<span class=\"tok-keyword\">import</span> os  <span class=\"tok-comment\"># files</span>\n\
             x = <span class=\"tok-string\">f'{a}'</span> + <span class=\"tok-number\">0.5</span>"
        );
        assert_eq!(
            to_html("print(len('a<b'))"),
            "<span class=\"tok-builtin\">print</span>(<span class=\"tok-builtin\">len</span>(<span class=\"tok-string\">'a&lt;b'</span>))"
        );
    }

    #[test]
    fn triple_quoted_and_unclosed_strings_and_magics() {
        assert_eq!(
            to_html("s = \"\"\"a\n'b'\"\"\"\nt = 'open"),
            "s = <span class=\"tok-string\">\"\"\"a\n'b'\"\"\"</span>\nt = <span class=\"tok-string\">'open</span>"
        );
        assert_eq!(
            to_html("%%writefile $f/train.py\nprint(1)\n"),
            "<span class=\"tok-magic\">%%writefile $f/train.py</span>\n<span class=\"tok-builtin\">print</span>(<span class=\"tok-number\">1</span>)\n "
        );
        // `%` inside an expression is an operator, not a magic.
        assert_eq!(to_html("a % b"), "a % b");
    }

    #[test]
    fn text_outside_tokens_is_kept_whole_and_escaped() {
        let source = "é = 'ü' & \"\\\"\" < 3e5 # ∑\n";
        let html = to_html(source);
        let text: String = {
            let mut t = html.clone();
            while let Some(start) = t.find('<') {
                let end = t[start..].find('>').unwrap() + start;
                t.replace_range(start..=end, "");
            }
            t.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&amp;", "&")
        };
        assert_eq!(text, format!("{source} "));
    }
}
