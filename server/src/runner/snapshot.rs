//! Snapshots of a source folder: packing one into a tar.gz (the CLI, honouring
//! `.amlignore`, else `.gitignore`), unpacking an uploaded one safely (the server),
//! and copying it into a run's working directory.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

/// The SDK's default snapshot size limit: 300 MB.
pub const DEFAULT_LIMIT: u64 = 300 * 1024 * 1024;

/// Errors of snapshot handling.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The snapshot is bigger than the limit.
    #[error(
        "the snapshot is larger than the limit of {limit} bytes ({} MB); exclude large files with .amlignore or .gitignore, or raise the server's --max-snapshot-mb",
        limit / 1024 / 1024
    )]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// An archive entry would land outside the snapshot folder.
    #[error("snapshot entry {0:?} escapes the source folder (absolute path or '..')")]
    EscapingPath(String),
    /// A link in the archive points outside the snapshot folder.
    #[error("snapshot entry {path:?} is a link to {target:?}, outside the source folder")]
    EscapingLink {
        /// The link's path.
        path: String,
        /// Where it points.
        target: String,
    },
    /// An entry of a kind that has no place in a source folder (device, fifo).
    #[error("snapshot entry {0:?} is not a file, folder or link")]
    UnsupportedEntry(String),
    /// The archive is not a valid tar.gz.
    #[error("the snapshot is not a valid tar.gz archive: {0}")]
    BadArchive(std::io::Error),
    /// Reading or writing files failed.
    #[error("snapshot I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Walking the source folder failed.
    #[error("reading the source folder failed: {0}")]
    Walk(#[from] ignore::Error),
}

type Result<T> = std::result::Result<T, SnapshotError>;

/// True when `path` is relative and has no `..`, root or prefix component.
pub fn is_inside(path: &Path) -> bool {
    !path.as_os_str().is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Why a relative path does not name a file inside a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathProblem {
    /// It would leave the folder: absolute, `..`, or a symlink that points outside.
    Escapes,
    /// Nothing (or no regular file) is there.
    NotFound,
}

/// The real path of the file `rel` names under `root`, refusing anything that would
/// leave `root`: absolute paths, `..`, and symlinks that point outside.
pub fn resolve_inside(root: &Path, rel: &str) -> std::result::Result<PathBuf, PathProblem> {
    if rel.starts_with('/') || !is_inside(Path::new(rel)) {
        return Err(PathProblem::Escapes);
    }
    let real = root
        .join(rel)
        .canonicalize()
        .map_err(|_| PathProblem::NotFound)?;
    let real_root = root.canonicalize().map_err(|_| PathProblem::NotFound)?;
    if !real.starts_with(&real_root) {
        return Err(PathProblem::Escapes);
    }
    if !real.is_file() {
        return Err(PathProblem::NotFound);
    }
    Ok(real)
}

/// The files of `src` that belong in a snapshot, relative to `src`: everything but
/// `.git/` and what `.amlignore` excludes, or `.gitignore` when there is no
/// `.amlignore` (the SDK's rule).
pub fn source_files(src: &Path) -> Result<Vec<PathBuf>> {
    let ignore_file = if src.join(".amlignore").exists() {
        ".amlignore"
    } else {
        ".gitignore"
    };
    let walker = ignore::WalkBuilder::new(src)
        .standard_filters(false)
        .hidden(false)
        .parents(false)
        .add_custom_ignore_filename(ignore_file)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    let mut files = Vec::new();
    for entry in walker {
        let entry = entry?;
        if entry.depth() == 0 {
            continue;
        }
        if let Ok(rel) = entry.path().strip_prefix(src) {
            files.push(rel.to_path_buf());
        }
    }
    files.sort();
    Ok(files)
}

/// Packs the snapshot files of `src` into a tar.gz written to `out`, failing when
/// their total size exceeds `limit`.
pub fn pack(src: &Path, limit: u64, out: impl Write) -> Result<()> {
    pack_with(src, limit, out, &mut |_, _| {})
}

/// [`pack`], calling `progress(files packed, files to pack)` after each file.
pub fn pack_with(
    src: &Path,
    limit: u64,
    out: impl Write,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<()> {
    let files = source_files(src)?;
    let mut total = 0u64;
    for rel in &files {
        let meta = std::fs::symlink_metadata(src.join(rel))?;
        if meta.is_file() {
            total += meta.len();
        }
        if total > limit {
            return Err(SnapshotError::TooLarge { limit });
        }
    }
    let gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    tar.follow_symlinks(false);
    for (done, rel) in files.iter().enumerate() {
        tar.append_path_with_name(src.join(rel), rel)?;
        progress(done as u64 + 1, files.len() as u64);
    }
    tar.into_inner()?.finish()?.flush()?;
    Ok(())
}

/// Unpacks a tar.gz into `dst` (which must exist and be empty), checking every entry
/// first: no absolute paths, no `..`, no links that leave `dst`, and no more than
/// `limit` bytes in all. On error `dst` may hold part of the archive: callers unpack
/// into a temporary folder and drop it. Returns the total size of the files.
pub fn unpack(archive: impl Read, dst: &Path, limit: u64) -> Result<u64> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    tar.set_preserve_permissions(true);
    tar.set_overwrite(true);
    let mut total = 0u64;
    for entry in tar.entries().map_err(SnapshotError::BadArchive)? {
        let mut entry = entry.map_err(SnapshotError::BadArchive)?;
        let path = entry
            .path()
            .map_err(SnapshotError::BadArchive)?
            .into_owned();
        let shown = path.display().to_string();
        if !is_inside(&path) {
            return Err(SnapshotError::EscapingPath(shown));
        }
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name()
                .map_err(SnapshotError::BadArchive)?
                .map(|t| t.into_owned())
                .unwrap_or_default();
            // A symlink's target is relative to its folder; a hard link's to the root.
            let resolved = if kind.is_symlink() {
                path.parent().unwrap_or(Path::new("")).join(&target)
            } else {
                target.clone()
            };
            if !stays_inside(&resolved) {
                return Err(SnapshotError::EscapingLink {
                    path: shown,
                    target: target.display().to_string(),
                });
            }
        } else if !(kind.is_file() || kind.is_dir() || kind.is_contiguous()) {
            if kind.is_pax_global_extensions()
                || kind.is_pax_local_extensions()
                || kind.is_gnu_longname()
            {
                continue;
            }
            return Err(SnapshotError::UnsupportedEntry(shown));
        }
        total += entry.header().size().unwrap_or(0);
        if total > limit {
            return Err(SnapshotError::TooLarge { limit });
        }
        entry.unpack_in(dst).map_err(SnapshotError::BadArchive)?;
    }
    Ok(total)
}

/// True when the relative path `path`, with `..` resolved lexically, stays at or
/// below its starting folder.
fn stays_inside(path: &Path) -> bool {
    let mut depth = 0i32;
    for c in path.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

/// Copies the tree `src` into `dst` (created), keeping symlinks as symlinks.
pub fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let to = dst.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &to)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &to)?;
        } else {
            std::fs::copy(entry.path(), &to)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_gz(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        let raw = b.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&raw).unwrap();
        gz.finish().unwrap()
    }

    fn file(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        // set_path refuses "..", so write the raw name as a hostile client would.
        let name = &mut h.as_gnu_mut().unwrap().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_cksum();
        b.append(&h, data).unwrap();
    }

    fn link(b: &mut tar::Builder<Vec<u8>>, path: &str, target: &str, kind: tar::EntryType) {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(0);
        b.append_link(&mut h, path, target).unwrap();
    }

    fn check_rejected(archive: Vec<u8>, expect: &str) {
        let dir = tempfile::tempdir().unwrap();
        let err = unpack(archive.as_slice(), dir.path(), DEFAULT_LIMIT).unwrap_err();
        assert!(
            err.to_string().contains(expect),
            "{err} should contain {expect:?}"
        );
    }

    #[test]
    fn unpack_rejects_escapes() {
        check_rejected(
            tar_gz(|b| file(b, "../evil.py", b"x")),
            "escapes the source folder",
        );
        check_rejected(
            tar_gz(|b| file(b, "/etc/evil.py", b"x")),
            "escapes the source folder",
        );
        check_rejected(
            tar_gz(|b| file(b, "a/../../evil.py", b"x")),
            "escapes the source folder",
        );
        check_rejected(
            tar_gz(|b| link(b, "data", "/etc", tar::EntryType::Symlink)),
            "a link to \"/etc\"",
        );
        check_rejected(
            tar_gz(|b| link(b, "a/data", "../../x", tar::EntryType::Symlink)),
            "outside the source folder",
        );
        check_rejected(
            tar_gz(|b| link(b, "hard", "../x", tar::EntryType::Link)),
            "outside the source folder",
        );
        check_rejected(b"not a tarball".to_vec(), "not a valid tar.gz");
    }

    #[test]
    fn unpack_keeps_links_that_stay_inside_and_enforces_the_limit() {
        let archive = tar_gz(|b| {
            file(b, "train.py", b"print(1)\n");
            link(
                b,
                "lib/train_link.py",
                "../train.py",
                tar::EntryType::Symlink,
            );
        });
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            unpack(archive.as_slice(), dir.path(), DEFAULT_LIMIT).unwrap(),
            9
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("lib/train_link.py")).unwrap(),
            "print(1)\n"
        );

        let big = tar_gz(|b| file(b, "big.bin", &[0u8; 2048]));
        let dir = tempfile::tempdir().unwrap();
        let err = unpack(big.as_slice(), dir.path(), 1024).unwrap_err();
        assert!(
            matches!(err, SnapshotError::TooLarge { limit: 1024 }),
            "{err}"
        );
    }

    #[test]
    fn pack_honours_amlignore_over_gitignore_and_skips_git() {
        let src = tempfile::tempdir().unwrap();
        let p = src.path();
        for f in [
            "train.py",
            "data.csv",
            "notes.log",
            ".git/HEAD",
            "sub/keep.py",
            "sub/big.ckpt",
        ] {
            std::fs::create_dir_all(p.join(f).parent().unwrap()).unwrap();
            std::fs::write(p.join(f), f).unwrap();
        }
        std::fs::write(p.join(".gitignore"), "*.csv\n").unwrap();
        let listed = |p: &Path| -> Vec<String> {
            source_files(p)
                .unwrap()
                .iter()
                .map(|f| f.display().to_string())
                .collect()
        };
        assert_eq!(
            listed(p),
            [
                ".gitignore",
                "notes.log",
                "sub",
                "sub/big.ckpt",
                "sub/keep.py",
                "train.py"
            ]
        );
        std::fs::write(p.join(".amlignore"), "*.log\n*.ckpt\n").unwrap();
        assert_eq!(
            listed(p),
            [
                ".amlignore",
                ".gitignore",
                "data.csv",
                "sub",
                "sub/keep.py",
                "train.py"
            ]
        );

        let mut archive = Vec::new();
        pack(p, DEFAULT_LIMIT, &mut archive).unwrap();
        let dst = tempfile::tempdir().unwrap();
        unpack(archive.as_slice(), dst.path(), DEFAULT_LIMIT).unwrap();
        assert_eq!(
            std::fs::read_to_string(dst.path().join("sub/keep.py")).unwrap(),
            "sub/keep.py"
        );
        assert!(!dst.path().join("sub/big.ckpt").exists());

        let err = pack(p, 10, Vec::new()).unwrap_err();
        assert!(err.to_string().contains("larger than the limit"), "{err}");
    }
}
