//! The files area as the server lists it, read the way the kernel asks about it.
//!
//! `GET /api/files/{folder}` answers a [`FilesAreaList`] of everything under the folder,
//! recursively, with paths from the area's root. The kernel asks narrower questions:
//! what is at one path ([`kind_in`], on the listing of the path's parent) and what a
//! folder holds directly ([`direct_children`]).

use std::collections::BTreeMap;

use runboard_shared::api::FilesAreaList;
use runboard_shared::kernel::{DirEntry, FileKind};

/// `folder/`, the prefix of every path under `folder` (`""` for the root).
fn prefix(folder: &str) -> String {
    if folder.is_empty() {
        String::new()
    } else {
        format!("{folder}/")
    }
}

/// What `path` is according to `listing` (a listing of its parent folder): a file, a
/// folder, or nothing. The root `""` is always a folder.
pub fn kind_in(listing: &FilesAreaList, path: &str) -> Option<FileKind> {
    if path.is_empty() || listing.folders.iter().any(|f| f == path) {
        Some(FileKind::Dir)
    } else if listing.files.iter().any(|f| f.path == path) {
        Some(FileKind::File)
    } else {
        // A folder the listing names only through what is inside it.
        let inside = prefix(path);
        let under = |p: &str| p.starts_with(&inside);
        (listing.files.iter().any(|f| under(&f.path)) || listing.folders.iter().any(|f| under(f)))
            .then_some(FileKind::Dir)
    }
}

/// The entries directly inside `folder`, by name, from the recursive `listing` of
/// `folder`. A deeper path counts as its top folder even if the listing left that
/// folder out.
pub fn direct_children(listing: &FilesAreaList, folder: &str) -> Vec<DirEntry> {
    let prefix = prefix(folder);
    let mut children = BTreeMap::new();
    let mut add = |path: &str, kind: FileKind| {
        let Some(rest) = path.strip_prefix(&prefix) else {
            return;
        };
        match rest.split_once('/') {
            Some((name, _)) if !name.is_empty() => {
                children.insert(name.to_owned(), FileKind::Dir);
            }
            None if !rest.is_empty() => {
                children.entry(rest.to_owned()).or_insert(kind);
            }
            _ => {}
        }
    };
    for file in &listing.files {
        add(&file.path, FileKind::File);
    }
    for path in &listing.folders {
        add(path, FileKind::Dir);
    }
    children
        .into_iter()
        .map(|(name, kind)| DirEntry { name, kind })
        .collect()
}

/// Whether `listing` can be the listing of `folder`: every path in it lies under the
/// folder. (A folder answers with its listing and a file with its bytes, so a JSON
/// file could in principle parse as a listing; it would not name only paths under
/// itself.)
pub fn is_listing_of(listing: &FilesAreaList, folder: &str) -> bool {
    let prefix = prefix(folder);
    listing
        .files
        .iter()
        .map(|f| f.path.as_str())
        .chain(listing.folders.iter().map(String::as_str))
        .all(|p| p.starts_with(&prefix) || p == folder)
}

#[cfg(test)]
mod tests {
    use runboard_shared::api::RunFile;

    use super::*;

    /// The listing of `projects`: what `GET /api/files/projects` answers.
    fn projects() -> FilesAreaList {
        let file = |path: &str, size| RunFile {
            path: path.into(),
            size,
        };
        FilesAreaList {
            files: vec![
                file("projects/README.md", 10),
                file("projects/mnist/src/train.py", 200),
                file("projects/mnist/Train.ipynb", 3000),
            ],
            folders: vec![
                "projects/empty".into(),
                "projects/mnist".into(),
                "projects/mnist/src".into(),
            ],
        }
    }

    fn entry(name: &str, kind: FileKind) -> DirEntry {
        DirEntry {
            name: name.into(),
            kind,
        }
    }

    #[test]
    fn stat_looks_the_path_up_in_its_parent_s_listing() {
        let listing = projects();
        assert_eq!(
            kind_in(&listing, "projects/README.md"),
            Some(FileKind::File)
        );
        assert_eq!(kind_in(&listing, "projects/mnist"), Some(FileKind::Dir));
        assert_eq!(kind_in(&listing, "projects/empty"), Some(FileKind::Dir));
        assert_eq!(kind_in(&listing, "projects/missing.txt"), None);
        // A prefix of a name is not the name.
        assert_eq!(kind_in(&listing, "projects/mni"), None);
        assert_eq!(kind_in(&FilesAreaList::default(), ""), Some(FileKind::Dir));
    }

    #[test]
    fn a_folder_known_only_by_its_contents_is_still_a_folder() {
        let listing = FilesAreaList {
            files: vec![RunFile {
                path: "data/raw/a.csv".into(),
                size: 1,
            }],
            folders: vec![],
        };
        assert_eq!(kind_in(&listing, "data/raw"), Some(FileKind::Dir));
        assert_eq!(
            direct_children(&listing, "data"),
            vec![entry("raw", FileKind::Dir)]
        );
    }

    #[test]
    fn list_dir_keeps_the_direct_children_by_name() {
        assert_eq!(
            direct_children(&projects(), "projects"),
            vec![
                entry("README.md", FileKind::File),
                entry("empty", FileKind::Dir),
                entry("mnist", FileKind::Dir),
            ]
        );
        assert_eq!(
            direct_children(&projects(), "projects/mnist"),
            vec![
                entry("Train.ipynb", FileKind::File),
                entry("src", FileKind::Dir),
            ]
        );
        assert_eq!(direct_children(&projects(), "projects/empty"), vec![]);
    }

    #[test]
    fn the_root_s_children_are_the_top_level_entries() {
        let root = FilesAreaList {
            files: vec![RunFile {
                path: "notes.txt".into(),
                size: 1,
            }],
            folders: vec!["projects".into(), "projects/mnist".into()],
        };
        assert_eq!(
            direct_children(&root, ""),
            vec![
                entry("notes.txt", FileKind::File),
                entry("projects", FileKind::Dir)
            ]
        );
    }

    #[test]
    fn a_listing_names_only_paths_under_its_folder() {
        assert!(is_listing_of(&projects(), "projects"));
        assert!(is_listing_of(&FilesAreaList::default(), "anything"));
        assert!(is_listing_of(&projects(), ""));
        assert!(!is_listing_of(&projects(), "projects/mnist"));
    }
}
