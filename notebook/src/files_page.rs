//! The file browser (`/tree/<folder>`): the server's files area, Jupyter's model —
//! open a notebook, make a notebook or a folder, rename, delete, and upload files
//! (a `.ipynb` is how a notebook is imported) by picking them or dropping them on the
//! page, with a progress bar each.

use leptos::prelude::*;
use runboard_frontend::api::{self, ApiError};
use runboard_portal_view::display::format_bytes;
use runboard_shared::api::{FilesAreaAction, FilesAreaList};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

use crate::model::{self, Document, join, name_of};

/// One row of the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    path: String,
    name: String,
    size: Option<u64>,
}

/// The direct children of `folder` in a recursive listing: folders first, then files,
/// each by name.
fn children(list: &FilesAreaList, folder: &str) -> Vec<Entry> {
    let direct = |path: &str| {
        let rest = if folder.is_empty() {
            Some(path)
        } else {
            path.strip_prefix(folder).and_then(|r| r.strip_prefix('/'))
        };
        rest.filter(|r| !r.is_empty() && !r.contains('/'))
            .map(str::to_owned)
    };
    let mut folders: Vec<Entry> = list
        .folders
        .iter()
        .filter_map(|p| {
            direct(p).map(|name| Entry {
                path: p.clone(),
                name,
                size: None,
            })
        })
        .collect();
    let mut files: Vec<Entry> = list
        .files
        .iter()
        .filter_map(|f| {
            direct(&f.path).map(|name| Entry {
                path: f.path.clone(),
                name,
                size: Some(f.size),
            })
        })
        .collect();
    folders.sort_by(|a, b| a.name.cmp(&b.name));
    files.sort_by(|a, b| a.name.cmp(&b.name));
    folders.extend(files);
    folders
}

/// An upload in progress (or done, or failed).
#[derive(Debug, Clone, PartialEq)]
struct Upload {
    name: String,
    loaded: f64,
    total: f64,
    error: Option<String>,
    done: bool,
}

/// The page of one folder.
#[component]
pub fn FilesPage(folder: String) -> impl IntoView {
    let folder = StoredValue::new(folder);
    let listing = RwSignal::new(None::<Result<FilesAreaList, ApiError>>);
    let message = RwSignal::new(None::<String>);
    let uploads = RwSignal::new(Vec::<Upload>::new());
    let reload = move || {
        let request = api::files_area_list(&folder.get_value());
        leptos::task::spawn_local(async move {
            listing.set(Some(request.await));
        });
    };
    reload();
    let entries = move || {
        listing.with(|l| match l {
            Some(Ok(list)) => children(list, &folder.get_value()),
            _ => Vec::new(),
        })
    };
    let names = move || entries().into_iter().map(|e| e.name).collect::<Vec<_>>();
    let report = move |result: Result<(), ApiError>| match result {
        Ok(()) => {
            message.set(None);
            reload();
        }
        Err(e) => message.set(Some(e.to_string())),
    };

    let new_notebook = move |_| {
        let name = model::untitled(&names(), "Untitled", ".ipynb");
        let path = join(&folder.get_value(), &name);
        let text = Document::from_json(
            &runboard_shared::notebook::Notebook::new().to_json(),
            String::new,
        )
        .map(|d| d.to_json())
        .unwrap_or_default();
        let request = api::files_area_write(&path, text);
        leptos::task::spawn_local(async move {
            match request.await {
                Ok(()) => {
                    let _ = window().location().set_href(&notebook_href(&path));
                }
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    };
    let new_folder = move |_| {
        let name = model::untitled(&names(), "Untitled Folder", "");
        let request = api::files_area_act(
            &join(&folder.get_value(), &name),
            &FilesAreaAction::CreateFolder {},
        );
        leptos::task::spawn_local(async move { report(request.await) });
    };
    let upload_files = move |files: web_sys::FileList| {
        for i in 0..files.length() {
            if let Some(file) = files.get(i) {
                upload(file, folder.get_value(), uploads, reload);
            }
        }
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(files) = input.files() {
            upload_files(files);
        }
        input.set_value("");
    };
    let dragging = RwSignal::new(false);
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(files) = ev.data_transfer().and_then(|d| d.files()) {
            upload_files(files);
        }
    };

    let crumbs = move || {
        let folder = folder.get_value();
        let mut out = vec![("Files".to_owned(), "/tree".to_owned())];
        let mut path = String::new();
        for part in folder.split('/').filter(|p| !p.is_empty()) {
            path = join(&path, part);
            out.push((part.to_owned(), tree_href(&path)));
        }
        out
    };

    view! {
        <section
            class="nb-files"
            class:dragging=move || dragging.get()
            on:dragover=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <nav aria-label="Folder" class="crumbs">
                {move || {
                    crumbs()
                        .into_iter()
                        .map(|(name, href)| view! { <a href=href>{name}</a><span aria-hidden="true">" / "</span> })
                        .collect_view()
                }}
            </nav>
            <div class="toolbar">
                <button type="button" on:click=new_notebook>"New notebook"</button>
                <button type="button" on:click=new_folder>"New folder"</button>
                <label class="button">
                    "Upload…"
                    <input type="file" multiple class="visually-hidden" data-testid="upload" on:change=on_pick />
                </label>
                <span class="muted">"or drop files here (a .ipynb is imported as a notebook)"</span>
            </div>
            {move || message.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <ul class="nb-uploads">
                {move || uploads.get().into_iter().map(|u| view! { <UploadRow upload=u /> }).collect_view()}
            </ul>
            {move || match listing.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                Some(Ok(_)) => view! {
                    <table class="files nb-file-table">
                        <thead><tr><th scope="col">"Name"</th><th scope="col" class="num">"Size"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                        <tbody>
                            {entries().into_iter().map(|e| view! { <EntryRow entry=e report=report /> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn EntryRow(entry: Entry, report: impl Fn(Result<(), ApiError>) + Copy + 'static) -> impl IntoView {
    let href = match entry.size {
        None => tree_href(&entry.path),
        Some(_) if entry.name.ends_with(".ipynb") => notebook_href(&entry.path),
        Some(_) => api::files_area_url(&entry.path),
    };
    // A folder's name ends with `/`, as `ls -F` shows it (no icon font is needed).
    let shown = match entry.size {
        None => format!("{}/", entry.name),
        Some(_) => entry.name.clone(),
    };
    let path = StoredValue::new(entry.path.clone());
    let rename = move |_| {
        let old = path.get_value();
        let Ok(Some(new_name)) =
            window().prompt_with_message_and_default("New name:", name_of(&old))
        else {
            return;
        };
        if new_name.is_empty() || new_name == name_of(&old) {
            return;
        }
        let to = join(model::folder_of(&old), &new_name);
        let request = api::files_area_act(&old, &FilesAreaAction::RenameTo(to));
        leptos::task::spawn_local(async move { report(request.await) });
    };
    let delete = move |_| {
        let target = path.get_value();
        if !window()
            .confirm_with_message(&format!("Delete {target}?"))
            .unwrap_or(false)
        {
            return;
        }
        let request = api::files_area_delete(&target);
        leptos::task::spawn_local(async move { report(request.await) });
    };
    let label = entry.name.clone();
    view! {
        <tr data-path=entry.path.clone()>
            <td><a href=href rel="external">{shown}</a></td>
            <td class="num">{entry.size.map(format_bytes)}</td>
            <td class="nb-row-actions">
                <button type="button" class="link" on:click=rename aria-label=format!("Rename {label}")>"Rename"</button>
                <button type="button" class="link danger" on:click=delete aria-label=format!("Delete {}", entry.name)>"Delete"</button>
            </td>
        </tr>
    }
}

#[component]
fn UploadRow(upload: Upload) -> impl IntoView {
    let state = match (&upload.error, upload.done) {
        (Some(e), _) => format!("failed: {e}"),
        (None, true) => "uploaded".to_owned(),
        (None, false) => format!(
            "{} of {}",
            format_bytes(upload.loaded as u64),
            format_bytes(upload.total as u64)
        ),
    };
    view! {
        <li>
            <span>{upload.name.clone()}</span>
            <progress max=upload.total.max(1.0) value=upload.loaded aria-label=format!("Uploading {}", upload.name)></progress>
            <span class="muted">{state}</span>
        </li>
    }
}

/// Sends one file with `PUT /api/files/<folder>/<name>` through `XMLHttpRequest`
/// (`fetch` reports no upload progress), updating its row in `uploads`.
fn upload(
    file: web_sys::File,
    folder: String,
    uploads: RwSignal<Vec<Upload>>,
    done: impl Fn() + 'static,
) {
    let name = file.name();
    let index = uploads.with_untracked(Vec::len);
    uploads.update(|u| {
        u.push(Upload {
            name: name.clone(),
            loaded: 0.0,
            total: file.size(),
            error: None,
            done: false,
        })
    });
    let set = move |f: &dyn Fn(&mut Upload)| {
        uploads.update(|u| {
            if let Some(row) = u.get_mut(index) {
                f(row);
            }
        })
    };
    let fail = move |message: String| set(&|row| row.error = Some(message.clone()));
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        fail("this browser cannot upload".into());
        return;
    };
    if let Err(e) = xhr.open("PUT", &api::files_area_url(&join(&folder, &name))) {
        fail(format!("{e:?}"));
        return;
    }
    xhr.set_with_credentials(true);
    let on_progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            set(&|row| {
                row.loaded = ev.loaded();
                if ev.length_computable() {
                    row.total = ev.total();
                }
            });
        });
    if let Ok(target) = xhr.upload() {
        target.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    on_progress.forget();
    let xhr_done = xhr.clone();
    let on_load = Closure::<dyn FnMut()>::new(move || {
        let status = xhr_done.status().unwrap_or(0);
        if (200..300).contains(&status) {
            set(&|row| {
                row.done = true;
                row.loaded = row.total;
            });
            done();
        } else {
            let body = xhr_done.response_text().ok().flatten().unwrap_or_default();
            let message = serde_json::from_str::<runboard_shared::api::ErrorBody>(&body)
                .map(|b| b.error.message)
                .unwrap_or_else(|_| format!("HTTP {status}"));
            set(&|row| row.error = Some(message.clone()));
        }
    });
    xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
    on_load.forget();
    let on_error = Closure::<dyn FnMut()>::new(move || {
        set(&|row| row.error = Some("the server could not be reached".into()))
    });
    xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    if let Err(e) = xhr.send_with_opt_blob(Some(&file)) {
        leptos::logging::warn!("upload: {e:?}");
    }
}

/// The page of a folder.
pub fn tree_href(folder: &str) -> String {
    if folder.is_empty() {
        "/tree".to_owned()
    } else {
        format!("/tree/{}", encode_path(folder))
    }
}

/// The page of a notebook.
pub fn notebook_href(path: &str) -> String {
    format!("/notebooks/{}", encode_path(path))
}

fn encode_path(path: &str) -> String {
    path.split('/')
        .map(api::encode)
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use runboard_shared::api::RunFile;

    #[test]
    fn a_folder_shows_its_direct_children_folders_first() {
        let file = |path: &str, size| RunFile {
            path: path.into(),
            size,
        };
        let list = FilesAreaList {
            files: vec![
                file("b.ipynb", 10),
                file("proj/train.py", 5),
                file("a.txt", 1),
                file("proj/data/x.csv", 3),
            ],
            folders: vec!["proj".into(), "proj/data".into(), "zeta".into()],
        };
        let names = |folder| {
            children(&list, folder)
                .into_iter()
                .map(|e| (e.path, e.size))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(""),
            [
                ("proj".into(), None),
                ("zeta".into(), None),
                ("a.txt".into(), Some(1)),
                ("b.ipynb".into(), Some(10)),
            ]
        );
        assert_eq!(
            names("proj"),
            [
                ("proj/data".into(), None),
                ("proj/train.py".into(), Some(5))
            ]
        );
    }
}
