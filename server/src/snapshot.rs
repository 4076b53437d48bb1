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
    /// The archive has more entries than the server accepts.
    #[error("the snapshot has more than {max} entries (files, folders and links)")]
    TooManyEntries {
        /// The most entries accepted.
        max: u64,
    },
    /// A GNU long name or PAX header is larger than the server reads.
    #[error(
        "a snapshot header extension (GNU long name or PAX records) is {size} bytes, more than the limit of {max}"
    )]
    ExtensionTooLarge {
        /// Its declared size.
        size: u64,
        /// The most accepted.
        max: u64,
    },
    /// An entry lies under (or is a folder named as) a file of the same archive.
    #[error("snapshot entry {0:?} needs a folder where the archive has a file of that name")]
    NotAFolder(String),
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

/// The most entries a snapshot may hold (files, folders, links and header
/// extensions together): far more than a source folder has, few enough that an
/// archive of a million empty entries is refused after a fraction of a second.
pub const MAX_ENTRIES: u64 = 100_000;

/// The largest header extension (GNU long name or long link, PAX records) read:
/// they are read whole into memory.
pub const MAX_HEADER_EXTENSION: u64 = 64 * 1024;

/// The most symlinks followed while resolving one path in an unpacked snapshot
/// (Linux's own limit).
const MAX_LINK_HOPS: usize = 40;

/// Unpacks a tar.gz into `dst` (which must exist and be empty).
///
/// Nothing in the archive is trusted: every entry's path must be relative without
/// `..`; every link is resolved against what is already unpacked (following the
/// links unpacked before it, not lexically) and must stay inside `dst`, and every
/// link is checked again once all are there; the limit counts the bytes actually
/// written, not the sizes headers declare (a PAX `size` record cannot hide a file);
/// the decompressed stream, the number of entries ([`MAX_ENTRIES`]) and header
/// extensions ([`MAX_HEADER_EXTENSION`]) are capped; modes keep no setuid, setgid,
/// sticky or group/world write bits. On error `dst` may hold part of the archive:
/// callers unpack into a temporary folder and drop it. Returns the total size of the
/// files.
pub fn unpack(archive: impl Read, dst: &Path, limit: u64) -> Result<u64> {
    // The decompressed stream holds the files' bytes plus at most two 512-byte
    // blocks of header and padding per entry, and the extensions.
    let stream_cap = limit
        .saturating_add(MAX_ENTRIES * 1024)
        .saturating_add(1024 * 1024);
    let capped = CappedReader {
        inner: flate2::read::GzDecoder::new(archive),
        left: stream_cap,
        hit: std::rc::Rc::new(std::cell::Cell::new(false)),
    };
    let hit = capped.hit.clone();
    let too_large = |e: std::io::Error| {
        if hit.get() {
            SnapshotError::TooLarge { limit }
        } else {
            SnapshotError::BadArchive(e)
        }
    };
    let mut tar = tar::Archive::new(capped);
    let entries = tar.entries().map_err(&too_large)?.raw(true);
    let mut count = 0u64;
    let mut total = 0u64;
    let mut links: Vec<(PathBuf, String)> = Vec::new();
    // Header extensions waiting for the entry they describe.
    let (mut long_name, mut long_link, mut pax) = (None::<Vec<u8>>, None::<Vec<u8>>, None);
    for entry in entries {
        let mut entry = entry.map_err(&too_large)?;
        count += 1;
        if count > MAX_ENTRIES {
            return Err(SnapshotError::TooManyEntries { max: MAX_ENTRIES });
        }
        let header = entry.header().clone();
        let kind = header.entry_type();
        let declared = header.entry_size().map_err(SnapshotError::BadArchive)?;
        if kind.is_gnu_longname()
            || kind.is_gnu_longlink()
            || kind.is_pax_local_extensions()
            || kind.is_pax_global_extensions()
        {
            if declared > MAX_HEADER_EXTENSION {
                return Err(SnapshotError::ExtensionTooLarge {
                    size: declared,
                    max: MAX_HEADER_EXTENSION,
                });
            }
            let mut data = Vec::new();
            (&mut entry)
                .take(MAX_HEADER_EXTENSION)
                .read_to_end(&mut data)
                .map_err(&too_large)?;
            if kind.is_gnu_longname() {
                long_name = Some(trim_nul(data));
            } else if kind.is_gnu_longlink() {
                long_link = Some(trim_nul(data));
            } else if kind.is_pax_local_extensions() {
                pax = Some(data);
            }
            continue;
        }
        let (mut path_bytes, mut link_bytes) = (
            long_name
                .take()
                .unwrap_or_else(|| header.path_bytes().into_owned()),
            long_link
                .take()
                .or_else(|| header.link_name_bytes().map(|l| l.into_owned())),
        );
        if let Some(records) = pax.take() {
            for record in tar::PaxExtensions::new(&records) {
                let record = record.map_err(SnapshotError::BadArchive)?;
                match record.key() {
                    Ok("path") => path_bytes = record.value_bytes().to_vec(),
                    Ok("linkpath") => link_bytes = Some(record.value_bytes().to_vec()),
                    // The reader moves on by the header's size; a PAX size that
                    // says otherwise would make header and data disagree.
                    Ok("size") if record.value().ok() != Some(&declared.to_string()) => {
                        return Err(SnapshotError::BadArchive(std::io::Error::other(
                            "a PAX size record disagrees with its entry's header",
                        )));
                    }
                    _ => {}
                }
            }
        }
        let path = path_from_bytes(path_bytes);
        let shown = path.display().to_string();
        if !is_inside(&path) {
            return Err(SnapshotError::EscapingPath(shown));
        }
        let escapes = |target: &Path| SnapshotError::EscapingLink {
            path: shown.clone(),
            target: target.display().to_string(),
        };
        if kind.is_symlink() || kind.is_hard_link() {
            let target = path_from_bytes(link_bytes.unwrap_or_default());
            let at = place(dst, &path).ok_or_else(|| SnapshotError::EscapingPath(shown.clone()))?;
            if let Some(parent) = dst.join(&at).parent() {
                make_dirs(parent, &shown)?;
            }
            if kind.is_symlink() {
                // A symlink's target is relative to its folder: resolve both
                // against what is unpacked so far.
                let parent = at.parent().unwrap_or(Path::new(""));
                if target.as_os_str().is_empty() || resolve_real(dst, parent, &target).is_none() {
                    return Err(escapes(&target));
                }
                remove_non_dir(&dst.join(&at))?;
                std::os::unix::fs::symlink(&target, dst.join(&at))?;
                links.push((at, shown.clone()));
            } else {
                // A hard link's target is relative to the root and must be a file
                // already unpacked.
                let real = resolve_real(dst, Path::new(""), &target)
                    .filter(|r| dst.join(r).symlink_metadata().is_ok_and(|m| m.is_file()))
                    .ok_or_else(|| escapes(&target))?;
                remove_non_dir(&dst.join(&at))?;
                std::fs::hard_link(dst.join(real), dst.join(&at))?;
            }
        } else if kind.is_dir() {
            // `./` (archives made with `tar -C src .`) is the root itself.
            if !path.components().any(|c| matches!(c, Component::Normal(_))) {
                continue;
            }
            let at = place(dst, &path).ok_or_else(|| SnapshotError::EscapingPath(shown.clone()))?;
            make_dirs(&dst.join(&at), &shown)?;
            std::fs::set_permissions(
                dst.join(&at),
                std::os::unix::fs::PermissionsExt::from_mode(0o755),
            )?;
        } else if kind.is_file() || kind.is_contiguous() {
            let at = place(dst, &path).ok_or_else(|| SnapshotError::EscapingPath(shown.clone()))?;
            let to = dst.join(&at);
            if let Some(parent) = to.parent() {
                make_dirs(parent, &shown)?;
            }
            remove_non_dir(&to)?;
            let mode = header.mode().unwrap_or(0o644) & 0o755 | 0o600;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&to)?;
            // Count what is really written: at most what is left of the limit,
            // plus one byte to know it was exceeded.
            let left = limit - total;
            let written =
                std::io::copy(&mut (&mut entry).take(left + 1), &mut file).map_err(&too_large)?;
            total += written;
            if total > limit {
                return Err(SnapshotError::TooLarge { limit });
            }
            if let Ok(secs) = header.mtime() {
                let _ =
                    file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
            }
            std::fs::set_permissions(&to, std::os::unix::fs::PermissionsExt::from_mode(mode))?;
        } else {
            return Err(SnapshotError::UnsupportedEntry(shown));
        }
    }
    // A link checked when it was unpacked can lead out once later links exist
    // (`l -> a/b/../..`, then `s -> .` and `a -> s/s`): check them all again.
    for (at, shown) in &links {
        let target = std::fs::read_link(dst.join(at))?;
        if resolve_real(dst, at.parent().unwrap_or(Path::new("")), &target).is_none() {
            return Err(SnapshotError::EscapingLink {
                path: shown.clone(),
                target: target.display().to_string(),
            });
        }
    }
    Ok(total)
}

/// Where the entry `path` lands under `dst`, relative to it: its folder resolved
/// through the links already unpacked, its own name kept. `None` when that leaves
/// `dst` or names the root itself.
fn place(dst: &Path, path: &Path) -> Option<PathBuf> {
    let name = path.components().rev().find_map(|c| match c {
        Component::Normal(n) => Some(n.to_owned()),
        _ => None,
    });
    let parent = path.parent().unwrap_or(Path::new(""));
    let folder = resolve_real(dst, Path::new(""), parent)?;
    Some(folder.join(name?))
}

/// Resolves `target` as the kernel would from the folder `from` (relative to
/// `dst`), following the links that exist under `dst` and taking missing components
/// as they are. Returns the path relative to `dst`, or `None` when it leaves `dst`
/// at any point (absolute, `..` above it, a link out) or follows too many links.
fn resolve_real(dst: &Path, from: &Path, target: &Path) -> Option<PathBuf> {
    if target.is_absolute() {
        return None;
    }
    let mut at: Vec<std::ffi::OsString> = Vec::new();
    let mut pending: std::collections::VecDeque<std::ffi::OsString> = from
        .components()
        .chain(target.components())
        .map(|c| c.as_os_str().to_owned())
        .collect();
    let mut hops = 0;
    while let Some(c) = pending.pop_front() {
        match Path::new(&c).components().next() {
            None | Some(Component::CurDir) => {}
            Some(Component::ParentDir) => {
                at.pop()?;
            }
            Some(Component::Normal(name)) => {
                at.push(name.to_owned());
                let here: PathBuf = at.iter().collect();
                let full = dst.join(&here);
                if full.symlink_metadata().is_ok_and(|m| m.is_symlink()) {
                    hops += 1;
                    let link = std::fs::read_link(&full).ok()?;
                    if hops > MAX_LINK_HOPS || link.is_absolute() {
                        return None;
                    }
                    at.pop();
                    for part in link.components().rev() {
                        pending.push_front(part.as_os_str().to_owned());
                    }
                }
            }
            Some(Component::RootDir | Component::Prefix(_)) => return None,
        }
    }
    Some(at.iter().collect())
}

/// Creates the folder `dir` and those on its way; a file in the way (`x`, then
/// `x/y`) is the archive's fault, not the server's.
fn make_dirs(dir: &Path, shown: &str) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        if matches!(
            e.kind(),
            std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::NotADirectory
        ) {
            SnapshotError::NotAFolder(shown.to_owned())
        } else {
            SnapshotError::Io(e)
        }
    })
}

/// Removes what is at `path` unless it is a folder (tar's overwrite: a later entry
/// of the same name replaces the earlier one, and never writes through a link).
fn remove_non_dir(path: &Path) -> std::io::Result<()> {
    match path.symlink_metadata() {
        Ok(m) if !m.is_dir() => std::fs::remove_file(path),
        _ => Ok(()),
    }
}

fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

fn trim_nul(mut bytes: Vec<u8>) -> Vec<u8> {
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    bytes
}

/// A reader that fails once more than `left` bytes were asked of it, noting so in
/// `hit` (the tar reader wraps the error).
struct CappedReader<R> {
    inner: R,
    left: u64,
    hit: std::rc::Rc<std::cell::Cell<bool>>,
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // One more byte tells an exactly full stream from an overlong one.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.hit.set(true);
            return Err(std::io::Error::other("decompressed snapshot too large"));
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
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

    /// An extension entry (`kind` `L` for a GNU long name, `x` for PAX records)
    /// with `data`, as a hostile client writes it.
    fn extension(b: &mut tar::Builder<Vec<u8>>, kind: tar::EntryType, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_path("././@LongLink").unwrap();
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }

    fn pax(records: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, v) in records {
            let body = format!(" {k}={v}\n");
            let mut len = body.len() + 1;
            while format!("{len}{body}").len() != len {
                len += 1;
            }
            out.extend_from_slice(format!("{len}{body}").as_bytes());
        }
        out
    }

    #[test]
    fn unpack_resolves_links_through_the_links_already_unpacked() {
        // `s -> .` stays inside, and lexically so does `s/s/s/../../..`; on disk
        // it is `../..` from the root.
        check_rejected(
            tar_gz(|b| {
                link(b, "s", ".", tar::EntryType::Symlink);
                link(b, "x", "s/s/s/../../..", tar::EntryType::Symlink);
            }),
            "outside the source folder",
        );
        // A link placed through a link: `s/s/y` is really `y`.
        check_rejected(
            tar_gz(|b| {
                link(b, "s", ".", tar::EntryType::Symlink);
                link(b, "s/s/y", "../x", tar::EntryType::Symlink);
            }),
            "outside the source folder",
        );
        // A link that only leads out once later links exist.
        check_rejected(
            tar_gz(|b| {
                link(b, "l", "a/b/../..", tar::EntryType::Symlink);
                link(b, "s", ".", tar::EntryType::Symlink);
                link(b, "a", "s/s", tar::EntryType::Symlink);
            }),
            "outside the source folder",
        );
        // A file written through a link to a folder that leads out.
        check_rejected(
            tar_gz(|b| {
                link(b, "s", ".", tar::EntryType::Symlink);
                file(b, "s/../evil.py", b"x");
            }),
            "escapes the source folder",
        );
        check_rejected(
            tar_gz(|b| link(b, "loop", "loop", tar::EntryType::Symlink)),
            "outside the source folder",
        );
        check_rejected(
            tar_gz(|b| {
                file(b, "x", b"x");
                file(b, "x/y", b"y");
            }),
            "needs a folder",
        );
        check_rejected(
            tar_gz(|b| {
                file(b, "x", b"x");
                link(b, "a", "x", tar::EntryType::Symlink);
                file(b, "a/y", b"y");
            }),
            "needs a folder",
        );
    }

    #[test]
    fn unpack_counts_bytes_written_and_caps_entries_and_extensions() {
        // A PAX size record that claims 1 byte for a 2 KiB file.
        let mut bomb = tar::Builder::new(Vec::new());
        extension(&mut bomb, tar::EntryType::XHeader, &pax(&[("size", "1")]));
        file(&mut bomb, "big.bin", &[7u8; 2048]);
        let raw = bomb.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&raw).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let err = unpack(gz.finish().unwrap().as_slice(), dir.path(), 1024).unwrap_err();
        assert!(err.to_string().contains("PAX size"), "{err}");

        check_rejected(
            tar_gz(|b| {
                extension(b, tar::EntryType::GNULongName, &vec![b'a'; 100 * 1024]);
                file(b, "x", b"x");
            }),
            "header extension",
        );
        // A long name within the cap is the entry's name.
        let archive = tar_gz(|b| {
            let long = format!("{}/train.py", "d".repeat(200));
            extension(b, tar::EntryType::GNULongName, long.as_bytes());
            file(b, "short", b"ok");
        });
        let dir = tempfile::tempdir().unwrap();
        unpack(archive.as_slice(), dir.path(), DEFAULT_LIMIT).unwrap();
        let long = dir.path().join("d".repeat(200)).join("train.py");
        assert_eq!(std::fs::read_to_string(long).unwrap(), "ok");

        // A gzip bomb: 64 MiB of zeros in a few kilobytes, against a 1 MiB limit.
        let mut raw = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_path("zeros").unwrap();
        h.set_size(64 << 20);
        h.set_mode(0o644);
        h.set_cksum();
        raw.append(&h, std::io::repeat(0).take(64 << 20)).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&raw.into_inner().unwrap()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let err = unpack(gz.finish().unwrap().as_slice(), dir.path(), 1 << 20).unwrap_err();
        assert!(matches!(err, SnapshotError::TooLarge { .. }), "{err}");
        assert!(std::fs::metadata(dir.path().join("zeros")).unwrap().len() <= (1 << 20) + 1);
    }

    #[test]
    fn unpack_keeps_no_special_permission_bits() {
        let archive = tar_gz(|b| {
            for (path, mode) in [
                ("setuid.sh", 0o4777),
                ("plain.py", 0o644),
                ("run.sh", 0o755),
            ] {
                let mut h = tar::Header::new_gnu();
                h.set_path(path).unwrap();
                h.set_size(1);
                h.set_mode(mode);
                h.set_cksum();
                b.append(&h, &b"x"[..]).unwrap();
            }
        });
        let dir = tempfile::tempdir().unwrap();
        unpack(archive.as_slice(), dir.path(), DEFAULT_LIMIT).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| {
            std::fs::metadata(dir.path().join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777
        };
        assert_eq!(
            [mode("setuid.sh"), mode("plain.py"), mode("run.sh")],
            [0o755, 0o644, 0o755]
        );
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
        // `tar -C src .` writes the root as `./` and paths as `./train.py`.
        let dotted = tar_gz(|b| {
            let mut h = tar::Header::new_gnu();
            h.set_path("./").unwrap();
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            h.set_cksum();
            b.append(&h, &[][..]).unwrap();
            file(b, "./train.py", b"print(1)\n");
        });
        let dot = tempfile::tempdir().unwrap();
        assert_eq!(
            unpack(dotted.as_slice(), dot.path(), DEFAULT_LIMIT).unwrap(),
            9
        );
        assert!(dot.path().join("train.py").is_file());
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
