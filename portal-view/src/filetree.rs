//! A run's flat file list (`outputs/model/w.bin`, …) as a folder tree for the portal's
//! Outputs and Snapshot tabs, and which files the portal can preview.

use std::collections::{BTreeMap, BTreeSet};

use runboard_shared::api::RunFile;

/// One row of a file tree, in display order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    /// The file's or folder's path (`outputs/model`), without a trailing `/`.
    pub path: String,
    /// The last part of the path.
    pub name: String,
    /// How deep it is: 0 for top-level entries.
    pub depth: usize,
    /// True for a folder.
    pub is_dir: bool,
    /// The file's size, or the total size of the files under a folder.
    pub size: u64,
    /// 1 for a file; the number of files under a folder.
    pub files: u64,
}

#[derive(Default)]
struct Node {
    dirs: BTreeMap<String, Node>,
    files: BTreeMap<String, u64>,
}

impl Node {
    fn totals(&self) -> (u64, u64) {
        let (mut size, mut count) = (self.files.values().sum(), self.files.len() as u64);
        for dir in self.dirs.values() {
            let (s, c) = dir.totals();
            size += s;
            count += c;
        }
        (size, count)
    }

    fn rows(&self, prefix: &str, depth: usize, out: &mut Vec<TreeRow>) {
        for (name, dir) in &self.dirs {
            let path = format!("{prefix}{name}");
            let (size, files) = dir.totals();
            out.push(TreeRow {
                path: path.clone(),
                name: name.clone(),
                depth,
                is_dir: true,
                size,
                files,
            });
            dir.rows(&format!("{path}/"), depth + 1, out);
        }
        for (name, &size) in &self.files {
            out.push(TreeRow {
                path: format!("{prefix}{name}"),
                name: name.clone(),
                depth,
                is_dir: false,
                size,
                files: 1,
            });
        }
    }
}

/// The files as a tree: each folder before its contents, folders before files,
/// names in byte order. Empty path parts (`a//b`) are ignored.
pub fn tree(files: &[RunFile]) -> Vec<TreeRow> {
    let mut root = Node::default();
    for file in files {
        let parts: Vec<&str> = file.path.split('/').filter(|p| !p.is_empty()).collect();
        let Some((name, dirs)) = parts.split_last() else {
            continue;
        };
        let mut node = &mut root;
        for dir in dirs {
            node = node.dirs.entry((*dir).to_owned()).or_default();
        }
        node.files.insert((*name).to_owned(), file.size);
    }
    let mut out = Vec::new();
    root.rows("", 0, &mut out);
    out
}

/// The rows not hidden inside a collapsed folder.
pub fn visible<'a>(rows: &'a [TreeRow], collapsed: &BTreeSet<String>) -> Vec<&'a TreeRow> {
    rows.iter()
        .filter(|row| {
            // Every folder above the row must be open.
            let mut path = row.path.as_str();
            while let Some((parent, _)) = path.rsplit_once('/') {
                if collapsed.contains(parent) {
                    return false;
                }
                path = parent;
            }
            true
        })
        .collect()
}

/// How the portal can show a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preview {
    /// As an image (`<img>`).
    Image,
    /// As text.
    Text,
    /// Unknown from the name: fetch the start and look ([`looks_like_text`]).
    Sniff,
    /// Not at all (archives, model weights, …): download only.
    None,
}

/// How to preview a file, from its name.
pub fn preview_kind(path: &str) -> Preview {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return Preview::Sniff;
    };
    if stem.is_empty() {
        // A dotfile such as `.amlignore` or `.gitignore`.
        return Preview::Text;
    }
    match ext.to_ascii_lowercase().as_str() {
        "png" | "jpg" | "jpeg" | "gif" | "svg" | "webp" | "bmp" | "ico" | "avif" => Preview::Image,
        "txt" | "log" | "md" | "rst" | "py" | "ipynb" | "json" | "jsonl" | "yaml" | "yml"
        | "toml" | "ini" | "cfg" | "conf" | "csv" | "tsv" | "sh" | "bash" | "r" | "js" | "ts"
        | "html" | "htm" | "css" | "xml" | "c" | "h" | "cc" | "cpp" | "hpp" | "rs" | "go"
        | "java" | "scala" | "sql" | "out" | "err" | "amlignore" | "gitignore" | "dockerfile"
        | "env" | "lock" | "properties" | "tex" => Preview::Text,
        "pkl" | "pickle" | "pt" | "pth" | "bin" | "ckpt" | "h5" | "hdf5" | "onnx" | "pb"
        | "npy" | "npz" | "zip" | "gz" | "tgz" | "tar" | "bz2" | "xz" | "zst" | "7z" | "whl"
        | "so" | "dll" | "exe" | "parquet" | "arrow" | "feather" | "joblib" | "safetensors"
        | "tfevents" | "mp4" | "mp3" | "wav" | "pdf" => Preview::None,
        _ if name.contains("tfevents") => Preview::None,
        _ => Preview::Sniff,
    }
}

/// True when the start of a file looks like text: valid UTF-8 (a character cut at
/// the end is allowed) without NUL bytes.
pub fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.contains(&0) {
        return false;
    }
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        // Only an incomplete character at the very end (the sample was cut there).
        Err(e) => e.error_len().is_none() && bytes.len() - e.valid_up_to() < 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, u64)]) -> Vec<RunFile> {
        list.iter()
            .map(|(p, s)| RunFile {
                path: (*p).to_owned(),
                size: *s,
            })
            .collect()
    }

    fn show(rows: &[&TreeRow]) -> Vec<String> {
        rows.iter()
            .map(|r| {
                let kind = if r.is_dir { "/" } else { "" };
                format!(
                    "{}{}{kind} {} {}",
                    "  ".repeat(r.depth),
                    r.name,
                    r.size,
                    r.files
                )
            })
            .collect()
    }

    #[test]
    fn folders_come_first_with_their_totals() {
        let rows = tree(&files(&[
            ("user_logs/std_log.txt", 10),
            ("outputs/model.txt", 5),
            ("outputs/ckpt/a.pt", 100),
            ("outputs/ckpt/b.pt", 200),
            ("README", 1),
            ("a//b", 2),
            ("", 9),
        ]));
        let all: Vec<&TreeRow> = rows.iter().collect();
        assert_eq!(
            show(&all),
            [
                "a/ 2 1",
                "  b 2 1",
                "outputs/ 305 3",
                "  ckpt/ 300 2",
                "    a.pt 100 1",
                "    b.pt 200 1",
                "  model.txt 5 1",
                "user_logs/ 10 1",
                "  std_log.txt 10 1",
                "README 1 1",
            ]
        );
        assert_eq!(rows[3].path, "outputs/ckpt");
        assert_eq!(rows[4].path, "outputs/ckpt/a.pt");

        let collapsed = BTreeSet::from(["outputs/ckpt".to_owned(), "a".to_owned()]);
        assert_eq!(
            show(&visible(&rows, &collapsed)),
            [
                "a/ 2 1",
                "outputs/ 305 3",
                "  ckpt/ 300 2",
                "  model.txt 5 1",
                "user_logs/ 10 1",
                "  std_log.txt 10 1",
                "README 1 1",
            ]
        );
        let collapsed = BTreeSet::from(["outputs".to_owned()]);
        assert_eq!(visible(&rows, &collapsed).len(), 6);
        assert!(tree(&[]).is_empty());
    }

    #[test]
    fn previews_by_name() {
        let check = |path: &str, expect: Preview| assert_eq!(preview_kind(path), expect, "{path}");
        check("outputs/plot.PNG", Preview::Image);
        check("outputs/a.svg", Preview::Image);
        check("user_logs/std_log.txt", Preview::Text);
        check("train.py", Preview::Text);
        check(".amlignore", Preview::Text);
        check("src/.gitignore", Preview::Text);
        check("outputs/model.pkl", Preview::None);
        check("logs/events.out.tfevents.1700000000.host", Preview::None);
        check("Makefile", Preview::Sniff);
        check("outputs/weird.xyz", Preview::Sniff);
    }

    #[test]
    fn text_sniffing() {
        assert!(looks_like_text(b"hello\nworld"));
        assert!(looks_like_text(b""));
        assert!(looks_like_text("caf\u{e9}".as_bytes()));
        // Cut inside the two bytes of 'é'.
        assert!(looks_like_text(&"caf\u{e9}".as_bytes()[..4]));
        assert!(!looks_like_text(b"PK\x03\x04\0\0"));
        assert!(!looks_like_text(b"\xff\xfe text"));
    }
}
