//! A terminal-like view of a run's log text, for the portal's Logs tab.
//!
//! [`LogBuffer`] is fed the text of log events as it arrives (chunks may end mid-line
//! or even inside an escape sequence) and keeps the lines a terminal would show:
//! - ANSI SGR sequences (`ESC [ … m`) become [`Style`]s on [`Span`]s: the 16 colours,
//!   the 256-colour palette, 24-bit colours, bold, dim, italic, underline, inverse.
//!   Other escape sequences (cursor movement, erase line, OSC titles) are dropped.
//! - `\r` returns to the start of the line: the next character replaces the line, so
//!   a progress bar such as tqdm's, which redraws itself with `\r`, stays one line
//!   that changes, as in a terminal. (A terminal overwrites column by column; tqdm
//!   and friends always redraw the whole line, so replacing is the same there and
//!   simpler everywhere else.) `\r\n` is an ordinary line end.
//! - Only the last line can change, so a renderer needs just the index of the first
//!   line changed since it last looked ([`LogBuffer::take_changed`]).
//!
//! [`find`] and [`Line::segments`] implement the log search.

use std::fmt::Write as _;

/// A colour: one of the 256 of the xterm palette (0–15 are the terminal's 16
/// colours), or a 24-bit colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    /// Index into the xterm 256-colour palette.
    Palette(u8),
    /// Red, green, blue.
    Rgb(u8, u8, u8),
}

impl Color {
    /// The colour as CSS: a class name suffix for the 16 themeable colours (`Ok`),
    /// else an `rgb()` value (`Err`).
    fn css(self) -> Result<u8, String> {
        match self {
            Color::Palette(i) if i < 16 => Ok(i),
            Color::Palette(i) => {
                let (r, g, b) = palette_rgb(i);
                Err(format!("rgb({r},{g},{b})"))
            }
            Color::Rgb(r, g, b) => Err(format!("rgb({r},{g},{b})")),
        }
    }
}

/// The RGB value of an xterm palette entry from 16 up (the 6×6×6 cube, then 24 greys).
pub fn palette_rgb(index: u8) -> (u8, u8, u8) {
    match index {
        16..=231 => {
            let i = index - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            (level(i / 36), level(i / 6 % 6), level(i % 6))
        }
        232..=255 => {
            let v = 8 + (index - 232) * 10;
            (v, v, v)
        }
        // The 16 base colours depend on the theme; these are xterm's defaults.
        _ => BASE16[usize::from(index)],
    }
}

const BASE16: [(u8, u8, u8); 16] = [
    (0, 0, 0),
    (205, 0, 0),
    (0, 205, 0),
    (205, 205, 0),
    (0, 0, 238),
    (205, 0, 205),
    (0, 205, 205),
    (229, 229, 229),
    (127, 127, 127),
    (255, 0, 0),
    (0, 255, 0),
    (255, 255, 0),
    (92, 92, 255),
    (255, 0, 255),
    (0, 255, 255),
    (255, 255, 255),
];

/// How a run of text is drawn: the state that SGR sequences change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// Foreground colour; `None` is the pane's.
    pub fg: Option<Color>,
    /// Background colour; `None` is the pane's.
    pub bg: Option<Color>,
    /// SGR 1.
    pub bold: bool,
    /// SGR 2.
    pub dim: bool,
    /// SGR 3.
    pub italic: bool,
    /// SGR 4.
    pub underline: bool,
    /// SGR 7: foreground and background swapped.
    pub inverse: bool,
}

impl Style {
    /// True for the default style (a span that needs no markup).
    pub fn is_plain(&self) -> bool {
        *self == Style::default()
    }

    /// The style as CSS: class names (`fg1 bold`: the 16 colours are classes so the
    /// stylesheet can theme them) and an inline `style` for other colours.
    pub fn css(&self) -> (String, String) {
        let (fg, bg) = if self.inverse {
            (
                Some(self.bg.unwrap_or(Color::Palette(COLOR_PANE_BG))),
                Some(self.fg.unwrap_or(Color::Palette(COLOR_PANE_FG))),
            )
        } else {
            (self.fg, self.bg)
        };
        let mut classes = String::new();
        let mut inline = String::new();
        let mut class = |name: &str| {
            if !classes.is_empty() {
                classes.push(' ');
            }
            classes.push_str(name);
        };
        for (color, prefix, property) in [(fg, "fg", "color"), (bg, "bg", "background-color")] {
            match color.map(Color::css) {
                None => {}
                Some(Ok(i)) => class(&format!("{prefix}{i}")),
                Some(Err(rgb)) => {
                    let _ = write!(inline, "{property}:{rgb};");
                }
            }
        }
        for (on, name) in [
            (self.bold, "bold"),
            (self.dim, "dim"),
            (self.italic, "italic"),
            (self.underline, "underline"),
        ] {
            if on {
                class(name);
            }
        }
        (classes, inline)
    }

    /// Applies the parameters of one SGR sequence (`ESC [ params m`).
    fn apply_sgr(&mut self, params: &str) {
        let mut codes = params.split([';', ':']).map(|p| {
            if p.is_empty() {
                Some(0)
            } else {
                p.parse::<u16>().ok()
            }
        });
        while let Some(code) = codes.next() {
            let Some(code) = code else { continue };
            match code {
                0 => *self = Style::default(),
                1 => self.bold = true,
                2 => self.dim = true,
                3 => self.italic = true,
                4 => self.underline = true,
                7 => self.inverse = true,
                21 | 22 => {
                    self.bold = false;
                    self.dim = false;
                }
                23 => self.italic = false,
                24 => self.underline = false,
                27 => self.inverse = false,
                30..=37 => self.fg = Some(Color::Palette((code - 30) as u8)),
                39 => self.fg = None,
                40..=47 => self.bg = Some(Color::Palette((code - 40) as u8)),
                49 => self.bg = None,
                90..=97 => self.fg = Some(Color::Palette((code - 90 + 8) as u8)),
                100..=107 => self.bg = Some(Color::Palette((code - 100 + 8) as u8)),
                38 | 48 => {
                    let color = match codes.next().flatten() {
                        Some(5) => codes
                            .next()
                            .flatten()
                            .and_then(|i| u8::try_from(i).ok())
                            .map(Color::Palette),
                        Some(2) => {
                            let mut channel =
                                || codes.next().flatten().and_then(|v| u8::try_from(v).ok());
                            match (channel(), channel(), channel()) {
                                (Some(r), Some(g), Some(b)) => Some(Color::Rgb(r, g, b)),
                                _ => None,
                            }
                        }
                        _ => None,
                    };
                    if let Some(color) = color {
                        if code == 38 {
                            self.fg = Some(color);
                        } else {
                            self.bg = Some(color);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// Stand-ins for the pane's own colours when SGR 7 swaps an unset colour: the
/// stylesheet gives `fg0`/`bg15`… their theme values, and these two indices are the
/// ones a light-on-dark pane uses.
const COLOR_PANE_BG: u8 = 0;
const COLOR_PANE_FG: u8 = 7;

/// Text drawn in one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The style.
    pub style: Style,
    /// The text: no control characters but `\t`.
    pub text: String,
}

/// One line of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The line's number in its log, from 0: stable for the life of the buffer, so a
    /// renderer can key on it even after early lines are dropped.
    pub number: u64,
    /// The line's text, in styled runs (adjacent runs have different styles).
    pub spans: Vec<Span>,
}

impl Line {
    /// The line's text without styles.
    pub fn text(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }

    /// The line cut into segments at the matches of `query` (compared ignoring ASCII
    /// case), each with its style and whether it is part of a match. An empty query
    /// matches nothing.
    pub fn segments(&self, query: &str) -> Vec<Segment<'_>> {
        let text = self.text();
        let matches = match_ranges(&text, query);
        let mut out = Vec::new();
        let mut offset = 0;
        for span in &self.spans {
            let end = offset + span.text.len();
            let mut pos = offset;
            // Cut the span at every match boundary inside it.
            let mut cuts: Vec<usize> = matches
                .iter()
                .flat_map(|&(s, e)| [s, e])
                .filter(|&c| c > offset && c < end)
                .collect();
            cuts.push(end);
            for cut in cuts {
                if cut > pos {
                    let is_match = matches.iter().any(|&(s, e)| s <= pos && pos < e);
                    out.push(Segment {
                        style: span.style,
                        text: &span.text[pos - offset..cut - offset],
                        is_match,
                    });
                    pos = cut;
                }
            }
            offset = end;
        }
        out
    }
}

/// A piece of a line for display: see [`Line::segments`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    /// The style.
    pub style: Style,
    /// The text.
    pub text: &'a str,
    /// True when the text is (part of) a search match.
    pub is_match: bool,
}

/// Byte ranges of the non-overlapping matches of `query` in `text`, ignoring ASCII
/// case (which keeps byte offsets the same in both).
fn match_ranges(text: &str, query: &str) -> Vec<(usize, usize)> {
    if query.is_empty() {
        return Vec::new();
    }
    let haystack = text.to_ascii_lowercase();
    let needle = query.to_ascii_lowercase();
    haystack
        .match_indices(&needle)
        .map(|(start, m)| (start, start + m.len()))
        .collect()
}

/// The numbers of the lines that contain `query` (ignoring ASCII case), in order.
pub fn find<'a>(lines: impl IntoIterator<Item = &'a Line>, query: &str) -> Vec<u64> {
    if query.is_empty() {
        return Vec::new();
    }
    let needle = query.to_ascii_lowercase();
    lines
        .into_iter()
        .filter(|l| l.text().to_ascii_lowercase().contains(&needle))
        .map(|l| l.number)
        .collect()
}

/// The lines of one log as a terminal would show them; see the module doc.
#[derive(Debug, Clone)]
pub struct LogBuffer {
    /// The kept lines; `lines[i].number == dropped + i`.
    lines: std::collections::VecDeque<Line>,
    /// How many lines were dropped from the front to stay within `max_lines`.
    dropped: u64,
    /// At most this many lines are kept.
    max_lines: usize,
    /// The last line has no line end yet: text goes on it.
    open: bool,
    /// A `\r` was seen: the next character replaces the open line.
    carriage_return: bool,
    /// The style in force, carried from chunk to chunk.
    style: Style,
    /// An escape sequence cut by the end of a chunk, waiting for the rest.
    pending_escape: String,
    /// The number of the first line changed or added since the last `take_changed`.
    changed_from: Option<u64>,
}

/// An escape sequence longer than this is not one: its bytes are dropped.
const MAX_ESCAPE: usize = 64;

impl LogBuffer {
    /// An empty buffer that keeps the last `max_lines` lines.
    pub fn new(max_lines: usize) -> Self {
        Self {
            lines: std::collections::VecDeque::new(),
            dropped: 0,
            max_lines: max_lines.max(1),
            open: false,
            carriage_return: false,
            style: Style::default(),
            pending_escape: String::new(),
            changed_from: None,
        }
    }

    /// Feeds text as it arrives.
    pub fn push(&mut self, text: &str) {
        let joined;
        let text = if self.pending_escape.is_empty() {
            text
        } else {
            joined = std::mem::take(&mut self.pending_escape) + text;
            joined.as_str()
        };
        // Byte offset up to which an escape sequence has been consumed.
        let mut skip_to = 0;
        for (i, c) in text.char_indices() {
            if i < skip_to {
                continue;
            }
            match c {
                '\n' => self.end_line(),
                '\r' => self.carriage_return = true,
                '\x1b' => {
                    let rest = &text[i..];
                    match escape_len(rest) {
                        EscapeLen::Complete(len) => {
                            if let Some(params) = rest[..len]
                                .strip_prefix("\x1b[")
                                .and_then(|s| s.strip_suffix('m'))
                            {
                                self.style.apply_sgr(params);
                            }
                            skip_to = i + len;
                        }
                        EscapeLen::Incomplete if rest.len() <= MAX_ESCAPE => {
                            self.pending_escape = rest.to_owned();
                            return;
                        }
                        // Not a sequence we can find the end of: drop the ESC alone.
                        EscapeLen::Incomplete | EscapeLen::Invalid => {}
                    }
                }
                '\t' => self.put(c),
                c if c.is_control() => {}
                c => self.put(c),
            }
        }
    }

    fn put(&mut self, c: char) {
        if !self.open {
            self.new_line();
        } else if self.carriage_return {
            let number = self.last_number();
            if let Some(line) = self.lines.back_mut() {
                line.spans.clear();
            }
            self.mark_changed(number);
        }
        self.carriage_return = false;
        let style = self.style;
        let number = self.last_number();
        if let Some(line) = self.lines.back_mut() {
            match line.spans.last_mut() {
                Some(span) if span.style == style => span.text.push(c),
                _ => line.spans.push(Span {
                    style,
                    text: c.to_string(),
                }),
            }
        }
        self.mark_changed(number);
    }

    fn end_line(&mut self) {
        if !self.open {
            // An empty line.
            self.new_line();
        }
        self.open = false;
        self.carriage_return = false;
    }

    fn new_line(&mut self) {
        let number = self.dropped + self.lines.len() as u64;
        self.lines.push_back(Line {
            number,
            spans: Vec::new(),
        });
        self.open = true;
        self.mark_changed(number);
        while self.lines.len() > self.max_lines {
            self.lines.pop_front();
            self.dropped += 1;
        }
    }

    fn last_number(&self) -> u64 {
        (self.dropped + self.lines.len() as u64).saturating_sub(1)
    }

    fn mark_changed(&mut self, number: u64) {
        self.changed_from = Some(self.changed_from.map_or(number, |c| c.min(number)));
    }

    /// The lines kept, oldest first.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = &Line> + DoubleEndedIterator {
        self.lines.iter()
    }

    /// The line numbered `number`, if it is kept.
    pub fn line(&self, number: u64) -> Option<&Line> {
        let index = usize::try_from(number.checked_sub(self.dropped)?).ok()?;
        self.lines.get(index)
    }

    /// How many lines were dropped from the front (the number of the first kept line).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// How many lines there are, dropped ones included: the next line's number.
    pub fn len(&self) -> u64 {
        self.dropped + self.lines.len() as u64
    }

    /// True before the first line.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of the first line changed or added since the last call (every line
    /// from it to the end must be redrawn), or `None` when nothing changed. The line
    /// may have been dropped since; then redraw from [`LogBuffer::dropped`].
    pub fn take_changed(&mut self) -> Option<u64> {
        self.changed_from.take()
    }

    /// The whole text of the kept lines, without styles, one `\n` after each line.
    pub fn plain_text(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            for span in &line.spans {
                out.push_str(&span.text);
            }
            out.push('\n');
        }
        out
    }
}

enum EscapeLen {
    /// The sequence is this many bytes long.
    Complete(usize),
    /// The text ends before the sequence does.
    Incomplete,
    /// ESC followed by something that starts no sequence we know.
    Invalid,
}

/// The length of the escape sequence at the start of `text` (which starts with ESC):
/// CSI (`ESC [ params intermediates final`), OSC (`ESC ] … BEL` or `ESC ] … ESC \`),
/// or a two-character sequence (`ESC 7`, `ESC M`, …).
fn escape_len(text: &str) -> EscapeLen {
    let bytes = text.as_bytes();
    match bytes.get(1) {
        None => EscapeLen::Incomplete,
        Some(b'[') => {
            for (i, &b) in bytes.iter().enumerate().skip(2) {
                match b {
                    // Parameter and intermediate bytes.
                    0x20..=0x3f => {}
                    // The final byte.
                    0x40..=0x7e => return EscapeLen::Complete(i + 1),
                    _ => return EscapeLen::Invalid,
                }
            }
            EscapeLen::Incomplete
        }
        Some(b']') => {
            for (i, &b) in bytes.iter().enumerate().skip(2) {
                match b {
                    0x07 => return EscapeLen::Complete(i + 1),
                    b'\\' if bytes[i - 1] == 0x1b => return EscapeLen::Complete(i + 1),
                    _ => {}
                }
            }
            EscapeLen::Incomplete
        }
        Some(&b) if (0x20..0x7f).contains(&b) => EscapeLen::Complete(2),
        Some(_) => EscapeLen::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders the buffer as text with styles written inline, `{classes|inline:text}`
    /// for styled spans, one line per line.
    fn render(buffer: &LogBuffer) -> String {
        let mut out = String::new();
        for line in buffer.lines() {
            for span in &line.spans {
                if span.style.is_plain() {
                    out.push_str(&span.text);
                } else {
                    let (classes, inline) = span.style.css();
                    let _ = write!(out, "{{{classes}|{inline}:{}}}", span.text);
                }
            }
            out.push('\n');
        }
        out
    }

    /// Feeds `chunks` one by one and compares the rendering.
    fn check(chunks: &[&str], expect: &str) {
        let mut buffer = LogBuffer::new(1000);
        for chunk in chunks {
            buffer.push(chunk);
        }
        assert_eq!(render(&buffer), expect, "chunks: {chunks:?}");
        // Cutting the same text anywhere else gives the same lines.
        let whole: String = chunks.concat();
        for cut in (0..=whole.len()).filter(|&i| whole.is_char_boundary(i)) {
            let mut buffer = LogBuffer::new(1000);
            buffer.push(&whole[..cut]);
            buffer.push(&whole[cut..]);
            assert_eq!(render(&buffer), expect, "cut at {cut} of {whole:?}");
        }
    }

    #[test]
    fn plain_lines() {
        check(&["a\nb\n"], "a\nb\n");
        check(&["a\nb"], "a\nb\n");
        check(&["a", "b\n", "c"], "ab\nc\n");
        check(&["\n\nx\n"], "\n\nx\n");
        check(&["tab\there\n"], "tab\there\n");
        check(&["bell\x07 and nul\0\n"], "bell and nul\n");
        check(&["ünïcødé ✓\n"], "ünïcødé ✓\n");
        check(&[""], "");
    }

    #[test]
    fn carriage_returns_redraw_the_line() {
        check(&["10%\r20%\r30%\n"], "30%\n");
        check(&["crlf\r\nnext\r\n"], "crlf\nnext\n");
        check(&["a\r", "\nb\n"], "a\nb\n");
        check(&["long line\rshort\n"], "short\n");
        check(&["done\n\r 0%\r 50%\r100%\ntail\n"], "done\n100%\ntail\n");
        // A bar still being drawn: the last redraw, no line end yet.
        check(&["epoch 1\n", "\r1/3", "\r2/3"], "epoch 1\n2/3\n");
    }

    #[test]
    fn a_tqdm_bar_is_one_line() {
        let mut text = String::from("start\n");
        for i in 0..=100 {
            let _ = write!(
                text,
                "\r{i:3}%|{:<10}| {i}/100 [00:0{}<00:00, 3.2it/s]",
                "#".repeat(i / 10),
                i % 10
            );
        }
        text.push_str("\nend\n");
        let mut buffer = LogBuffer::new(1000);
        // tqdm writes each redraw separately; the server may cut anywhere.
        for chunk in text.as_bytes().chunks(7) {
            buffer.push(std::str::from_utf8(chunk).unwrap());
        }
        let lines: Vec<String> = buffer.lines().map(Line::text).collect();
        assert_eq!(
            lines,
            [
                "start",
                "100%|##########| 100/100 [00:00<00:00, 3.2it/s]",
                "end"
            ]
        );
    }

    #[test]
    fn sgr_colours_and_attributes() {
        check(&["\x1b[31mred\x1b[0m plain\n"], "{fg1|:red} plain\n");
        check(
            &["\x1b[1;32mok\x1b[22m still green\n"],
            "{fg2 bold|:ok}{fg2|: still green}\n",
        );
        check(&["\x1b[91;44mx\x1b[39;49my\n"], "{fg9 bg4|:x}y\n");
        check(&["\x1b[38;5;208mo\x1b[m\n"], "{|color:rgb(255,135,0);:o}\n");
        check(&["\x1b[38;5;3mpal\n"], "{fg3|:pal}\n");
        check(
            &["\x1b[48;2;1;2;3mbg\n"],
            "{|background-color:rgb(1,2,3);:bg}\n",
        );
        check(&["\x1b[38:2:9:8:7mcolon\n"], "{|color:rgb(9,8,7);:colon}\n");
        check(
            &["\x1b[2;3;4mdiu\x1b[23;24mdim\n"],
            "{dim italic underline|:diu}{dim|:dim}\n",
        );
        check(&["\x1b[7minv\n"], "{fg0 bg7|:inv}\n");
        check(&["\x1b[31;7minv\n"], "{fg0 bg1|:inv}\n");
        // A style lasts across lines, as in a terminal.
        check(&["\x1b[33ma\nb\x1b[0m\n"], "{fg3|:a}\n{fg3|:b}\n");
        // Unknown or malformed codes change nothing they do not name.
        check(&["\x1b[31;999;38;5mx\n"], "{fg1|:x}\n");
    }

    #[test]
    fn other_escape_sequences_are_dropped() {
        check(&["a\x1b[2Kb\x1b[1Ac\n"], "abc\n");
        check(&["\x1b]0;title\x07text\n"], "text\n");
        check(&["\x1b]0;title\x1b\\text\n"], "text\n");
        check(&["\x1b7saved\x1b8\n"], "saved\n");
        // A lone ESC before a control character is dropped alone.
        check(&["x\x1b\ny\n"], "x\ny\n");
    }

    #[test]
    fn an_unfinished_escape_waits_for_the_next_chunk() {
        let mut buffer = LogBuffer::new(10);
        buffer.push("a\x1b[3");
        assert_eq!(render(&buffer), "a\n");
        buffer.push("1mb\n");
        assert_eq!(render(&buffer), "a{fg1|:b}\n");
        // A runaway sequence is given up on, not held forever.
        let mut buffer = LogBuffer::new(10);
        buffer.push(&format!("\x1b[{}", "1;".repeat(40)));
        buffer.push("x\n");
        assert!(render(&buffer).ends_with("x\n"), "{:?}", render(&buffer));
    }

    #[test]
    fn changes_name_the_first_line_to_redraw() {
        let mut buffer = LogBuffer::new(1000);
        assert_eq!(buffer.take_changed(), None);
        buffer.push("a\nb");
        assert_eq!(buffer.take_changed(), Some(0));
        assert_eq!(buffer.take_changed(), None);
        buffer.push("c\n");
        assert_eq!(buffer.take_changed(), Some(1));
        buffer.push("d\ne");
        assert_eq!(buffer.take_changed(), Some(2));
        buffer.push("\r");
        assert_eq!(buffer.take_changed(), None);
        buffer.push("f");
        assert_eq!(buffer.take_changed(), Some(3));
        assert_eq!(buffer.len(), 4);
        assert_eq!(buffer.line(3).map(Line::text).as_deref(), Some("f"));
    }

    #[test]
    fn old_lines_are_dropped_beyond_the_limit() {
        let mut buffer = LogBuffer::new(3);
        buffer.push("1\n2\n3\n4\n5");
        let kept: Vec<(u64, String)> = buffer.lines().map(|l| (l.number, l.text())).collect();
        assert_eq!(kept, [(2, "3".into()), (3, "4".into()), (4, "5".into())]);
        assert_eq!(buffer.dropped(), 2);
        assert_eq!(buffer.len(), 5);
        assert_eq!(buffer.line(1), None);
        assert_eq!(buffer.plain_text(), "3\n4\n5\n");
    }

    #[test]
    fn search_finds_lines_and_cuts_matches_out_of_spans() {
        let mut buffer = LogBuffer::new(100);
        buffer.push("Epoch 1 loss 0.5\n\x1b[31mERROR\x1b[0m: bad epoch\nnothing\nepochepoch\n");
        assert_eq!(find(buffer.lines(), "epoch"), [0, 1, 3]);
        assert_eq!(find(buffer.lines(), "ERROR: B"), [1]);
        assert!(find(buffer.lines(), "").is_empty());
        assert!(find(buffer.lines(), "absent").is_empty());

        let show = |number: u64, query: &str| -> String {
            buffer
                .line(number)
                .unwrap()
                .segments(query)
                .iter()
                .map(|s| {
                    let colour = if s.style.is_plain() { "" } else { "~" };
                    if s.is_match {
                        format!("[{colour}{}]", s.text)
                    } else {
                        format!("{colour}{}", s.text)
                    }
                })
                .collect()
        };
        assert_eq!(show(0, "epoch"), "[Epoch] 1 loss 0.5");
        // A match across a style change is cut in two, each keeping its style.
        assert_eq!(show(1, "or: b"), "~ERR[~OR][: b]ad epoch");
        assert_eq!(show(3, "epoch"), "[epoch][epoch]");
        assert_eq!(show(2, ""), "nothing");
        assert_eq!(show(2, "zzz"), "nothing");
    }

    #[test]
    fn palette_values() {
        assert_eq!(palette_rgb(16), (0, 0, 0));
        assert_eq!(palette_rgb(196), (255, 0, 0));
        assert_eq!(palette_rgb(231), (255, 255, 255));
        assert_eq!(palette_rgb(232), (8, 8, 8));
        assert_eq!(palette_rgb(255), (238, 238, 238));
        assert_eq!(palette_rgb(9), (255, 0, 0));
    }
}
