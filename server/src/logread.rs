//! A log file read in pieces, for the run page: a range that ends at a given byte
//! and starts at a whole line ([`range`]), and a search of the whole file in a fixed
//! amount of memory ([`Search`], [`search`]). The cutting and matching are sans-IO
//! (they take bytes); the two functions at the end do the reads, through
//! [`crate::confined`].

use std::io::Read;
use std::path::Path;

use runboard_shared::runview::{LogMatch, LogRange};

use crate::confined::{self, ConfinedError};

/// The tail of each log that the run page starts with.
pub const TAIL_BYTES: u64 = 64 * 1024;
/// The most one range read may ask for.
pub const MAX_RANGE_BYTES: u64 = 1 << 20;
/// The longest search query, in bytes.
pub const MAX_QUERY_BYTES: usize = 256;
/// The most matching lines one search returns.
pub const MAX_MATCHES: usize = 10_000;
/// How much of a matching line is returned.
pub const MATCH_TEXT_BYTES: usize = 1_000;

/// Whether `path` names a run's log (the only files these reads serve).
pub fn is_log_path(path: &str) -> bool {
    (path.starts_with("user_logs/") || path.starts_with("system_logs/"))
        && !path.split('/').any(|part| part == ".." || part.is_empty())
}

/// Where, in `window` (the bytes just before some end), a range shown from a whole
/// line starts: after its first newline, or 0 when `window` starts the file or holds
/// no newline (one line longer than the window is shown from the window's start).
pub fn line_start(window: &[u8], starts_file: bool) -> usize {
    if starts_file {
        return 0;
    }
    window.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1)
}

/// A streaming search for lines that contain a query, ASCII case ignored: feed it the
/// file's bytes in chunks of any size; it keeps at most the first
/// [`MATCH_TEXT_BYTES`] of the current line and the query's length of bytes.
#[derive(Debug)]
pub struct Search {
    needle: Vec<u8>,
    limit: usize,
    /// The number of the current line, from 1, and the byte where it starts.
    line: u64,
    line_offset: u64,
    /// Bytes fed so far.
    fed: u64,
    /// The first bytes of the current line, for the answer.
    shown: Vec<u8>,
    /// The last `needle.len() - 1` bytes of the current line (lowercased), so a
    /// match across two chunks is found.
    carry: Vec<u8>,
    matched: bool,
    /// The lines found.
    pub matches: Vec<LogMatch>,
    /// More lines matched than `limit`.
    pub truncated: bool,
}

impl Search {
    /// A search for `query` (not empty) that keeps at most `limit` lines.
    pub fn new(query: &str, limit: usize) -> Self {
        Self {
            needle: query.as_bytes().to_ascii_lowercase(),
            limit,
            line: 1,
            line_offset: 0,
            fed: 0,
            shown: Vec::new(),
            carry: Vec::new(),
            matched: false,
            matches: Vec::new(),
            truncated: false,
        }
    }

    /// Whether more input can change the answer.
    pub fn done(&self) -> bool {
        self.truncated
    }

    /// Reads the next bytes of the file.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && !self.truncated {
            let (part, newline) = match bytes.iter().position(|&b| b == b'\n') {
                Some(i) => (&bytes[..i], true),
                None => (bytes, false),
            };
            self.scan(part);
            self.fed += part.len() as u64;
            bytes = &bytes[part.len()..];
            if newline {
                self.fed += 1;
                bytes = &bytes[1..];
                self.end_line();
            }
        }
    }

    /// Ends the input: a last line without a newline counts too.
    pub fn finish(&mut self) {
        if self.fed > self.line_offset {
            self.end_line();
        }
    }

    /// How many bytes were read.
    pub fn searched(&self) -> u64 {
        self.fed
    }

    fn scan(&mut self, part: &[u8]) {
        let room = MATCH_TEXT_BYTES.saturating_sub(self.shown.len());
        self.shown.extend_from_slice(&part[..part.len().min(room)]);
        if self.matched || self.needle.is_empty() {
            return;
        }
        let keep = self.needle.len() - 1;
        let mut hay = std::mem::take(&mut self.carry);
        hay.extend(part.iter().map(u8::to_ascii_lowercase));
        if hay.windows(self.needle.len()).any(|w| w == self.needle) {
            self.matched = true;
        } else {
            let from = hay.len().saturating_sub(keep);
            hay.drain(..from);
            self.carry = hay;
        }
    }

    fn end_line(&mut self) {
        if self.matched {
            if self.matches.len() == self.limit {
                self.truncated = true;
            } else {
                let text = String::from_utf8_lossy(&self.shown);
                self.matches.push(LogMatch {
                    line: self.line,
                    offset: self.line_offset,
                    text: text.trim_end_matches('\r').to_owned(),
                });
            }
        }
        self.line += 1;
        self.line_offset = self.fed;
        self.shown.clear();
        self.carry.clear();
        self.matched = false;
    }
}

/// At most `bytes` bytes of the log `log` of the run folder `run_dir` before byte
/// `end` (the file's length if it is shorter), cut to start at a whole line.
pub fn range(run_dir: &Path, log: &str, end: u64, bytes: u64) -> Result<LogRange, ConfinedError> {
    let source = crate::watch::read_path(run_dir, log);
    let len = confined::open(run_dir, Path::new(&source))?.meta.len();
    let end = end.min(len);
    let from = end.saturating_sub(bytes);
    let window = confined::read_at(run_dir, Path::new(&source), from, end - from)?;
    let cut = line_start(&window, from == 0);
    Ok(LogRange {
        path: log.to_owned(),
        start: from + cut as u64,
        end: from + window.len() as u64,
        text: String::from_utf8_lossy(&window[cut..]).into_owned(),
    })
}

/// Searches the first `end` bytes of the log `log` (read 256 KiB at a time).
pub fn search(
    run_dir: &Path,
    log: &str,
    end: u64,
    search: &mut Search,
) -> Result<(), ConfinedError> {
    let source = crate::watch::read_path(run_dir, log);
    let opened = confined::open(run_dir, Path::new(&source))?;
    let mut file = opened.file.take(end);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        search.feed(&buf[..n]);
        if search.done() {
            return Ok(());
        }
    }
    search.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_starts_after_the_first_newline_unless_it_starts_the_file() {
        let check = |window: &str, starts_file: bool, expect: &str| {
            let cut = line_start(window.as_bytes(), starts_file);
            assert_eq!(&window[cut..], expect, "{window:?}");
        };
        check("tail of a line\nnext\nlast", false, "next\nlast");
        check("whole\nfile", true, "whole\nfile");
        check("no newline at all", false, "no newline at all");
        check("ends with one\n", false, "");
        check("\nstarts with one", false, "starts with one");
        check("", false, "");
    }

    /// The lines of `text` that contain `query`, fed in chunks of `chunk` bytes.
    fn found(
        text: &str,
        query: &str,
        chunk: usize,
        limit: usize,
    ) -> (Vec<(u64, u64, String)>, bool) {
        let mut s = Search::new(query, limit);
        for part in text.as_bytes().chunks(chunk) {
            s.feed(part);
        }
        s.finish();
        let lines = s
            .matches
            .iter()
            .map(|m| (m.line, m.offset, m.text.clone()))
            .collect();
        (lines, s.truncated)
    }

    #[test]
    fn search_finds_lines_in_any_chunking_and_ignores_ascii_case() {
        let text = "epoch 1 loss 0.5\nwarning: NaN\r\nepoch 2 LOSS 0.4\nlast loss";
        let expect = vec![
            (1, 0, "epoch 1 loss 0.5".to_owned()),
            (3, 31, "epoch 2 LOSS 0.4".to_owned()),
            (4, 48, "last loss".to_owned()),
        ];
        for chunk in [1, 2, 3, 5, 7, 64] {
            assert_eq!(
                found(text, "Loss", chunk, 100),
                (expect.clone(), false),
                "chunk {chunk}"
            );
        }
        assert_eq!(
            found(text, "nan", 4, 100).0,
            vec![(2, 17, "warning: NaN".to_owned())]
        );
        assert_eq!(found(text, "absent", 4, 100), (vec![], false));
    }

    #[test]
    fn search_stops_at_its_limit_and_says_so() {
        let text = "a\na\na\nb\n";
        let (lines, truncated) = found(text, "a", 3, 2);
        assert_eq!(lines.len(), 2);
        assert!(truncated);
        let (lines, truncated) = found(text, "a", 3, 3);
        assert_eq!(lines.len(), 3);
        assert!(!truncated);
    }

    #[test]
    fn a_long_line_is_matched_anywhere_but_returned_cut() {
        let long = format!(
            "{}needle{}\nshort needle\n",
            "x".repeat(5000),
            "y".repeat(5000)
        );
        let (lines, _) = found(&long, "NEEDLE", 100, 10);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].2.len(), MATCH_TEXT_BYTES);
        assert_eq!(lines[1], (2, 10_007, "short needle".to_owned()));
    }

    #[test]
    fn only_log_folders_are_log_paths() {
        assert!(is_log_path("user_logs/std_log.txt"));
        assert!(is_log_path("system_logs/env/build.txt"));
        assert!(!is_log_path("outputs/model.txt"));
        assert!(!is_log_path("user_logs/../control/exit.json"));
        assert!(!is_log_path("user_logs//x"));
    }
}
