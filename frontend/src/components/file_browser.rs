//! A folder tree of a run's files with sizes, download links and a preview of the
//! selected file (text or image). Used by the Outputs + logs and Snapshot tabs.

use std::collections::BTreeSet;

use leptos::prelude::*;
use runboard_portal_view::display::format_bytes;
use runboard_portal_view::filetree::{
    Preview, TreeRow, looks_like_text, preview_kind, tree, visible,
};
use runboard_shared::api::RunFile;
use runboard_shared::run::RunId;

use crate::api::{self, FileArea};

/// How much of a text file the preview shows.
const PREVIEW_BYTES: u64 = 256 * 1024;

/// The file tree and the preview of the selected file.
#[component]
pub fn FileBrowser(
    run_id: RunId,
    area: FileArea,
    #[prop(into)] files: Signal<Vec<RunFile>>,
    /// Said when there are no files.
    empty: &'static str,
) -> impl IntoView {
    let rows = Memo::new(move |_| files.with(|f| tree(f)));
    let collapsed = RwSignal::new(BTreeSet::<String>::new());
    let selected = RwSignal::new(None::<String>);
    let shown = move || {
        rows.with(|rows| {
            collapsed.with(|c| visible(rows, c).into_iter().cloned().collect::<Vec<_>>())
        })
    };
    let id = StoredValue::new(run_id);

    view! {
        <div class="file-browser">
            <Show
                when=move || rows.with(|r| !r.is_empty())
                fallback=move || view! { <p class="empty">{empty}</p> }
            >
                <div class="table-scroll">
                    <table class="files">
                        <thead>
                            <tr>
                                <th scope="col">"Name"</th>
                                <th scope="col" class="num">"Size"</th>
                                <th scope="col"><span class="visually-hidden">"Download"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            <For
                                each=shown
                                key=|row| (row.path.clone(), row.size, row.is_dir)
                                children=move |row| {
                                    view! { <FileRow row=row run_id=id.get_value() area=area collapsed=collapsed selected=selected /> }
                                }
                            />
                        </tbody>
                    </table>
                </div>
            </Show>
            {move || {
                selected
                    .get()
                    .map(|path| view! { <FilePreview run_id=id.get_value() area=area path=path /> })
            }}
        </div>
    }
}

#[component]
fn FileRow(
    row: TreeRow,
    run_id: RunId,
    area: FileArea,
    collapsed: RwSignal<BTreeSet<String>>,
    selected: RwSignal<Option<String>>,
) -> impl IntoView {
    let indent = format!("padding-left: calc(0.4rem + {} * 1.1rem)", row.depth);
    let size = format_bytes(row.size);
    if row.is_dir {
        let path = row.path.clone();
        let open = {
            let path = path.clone();
            move || collapsed.with(|c| !c.contains(&path))
        };
        let toggle = move |_| {
            collapsed.update(|c| {
                if !c.remove(&path) {
                    c.insert(path.clone());
                }
            })
        };
        let count = if row.files == 1 {
            "1 file".to_owned()
        } else {
            format!("{} files", row.files)
        };
        return view! {
            <tr class="dir">
                <td style=indent>
                    <button type="button" class="tree-toggle" aria-expanded=move || open().to_string() on:click=toggle>
                        <span class="chevron" aria-hidden="true">{let o = open.clone(); move || if o() { "▾" } else { "▸" }}</span>
                        {row.name}"/"
                    </button>
                </td>
                <td class="num" title=count>{size}</td>
                <td></td>
            </tr>
        }
        .into_any();
    }
    let url = api::file_url(&run_id, area, &row.path);
    let path = row.path.clone();
    let is_selected = {
        let path = path.clone();
        move || selected.with(|s| s.as_deref() == Some(path.as_str()))
    };
    let row_selected = is_selected.clone();
    let label = format!("Download {}", row.path);
    view! {
        <tr class="file" class:selected=row_selected>
            <td style=indent>
                <button
                    type="button"
                    class="file-name"
                    aria-pressed=move || is_selected().to_string()
                    on:click=move |_| selected.set(Some(path.clone()))
                >
                    {row.name}
                </button>
            </td>
            <td class="num">{size}</td>
            <td>
                <a class="download" href=url download="" aria-label=label>"Download"</a>
            </td>
        </tr>
    }
    .into_any()
}

/// What the preview shows, once loaded.
#[derive(Debug, Clone)]
enum Shown {
    Text { text: String, truncated: bool },
    Binary,
}

#[component]
fn FilePreview(run_id: RunId, area: FileArea, path: String) -> impl IntoView {
    let url = api::file_url(&run_id, area, &path);
    let kind = preview_kind(&path);
    let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
    let body = match kind {
        Preview::Image => {
            view! { <img class="preview-image" src=url.clone() alt=name.clone() /> }.into_any()
        }
        Preview::None => view! {
            <p class="empty">"No preview for this kind of file; download it instead."</p>
        }
        .into_any(),
        Preview::Text | Preview::Sniff => {
            let fetch_url = url.clone();
            let content = LocalResource::new(move || {
                let fetch = api::file_head(fetch_url.clone(), PREVIEW_BYTES);
                async move {
                    let (bytes, truncated) = fetch.await?;
                    if kind == Preview::Sniff && !looks_like_text(&bytes) {
                        return Ok(Shown::Binary);
                    }
                    Ok::<_, api::ApiError>(Shown::Text {
                        text: String::from_utf8_lossy(&bytes).into_owned(),
                        truncated,
                    })
                }
            });
            view! {
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match content.await {
                            Ok(Shown::Text { text, truncated }) => view! {
                                {truncated.then(|| view! {
                                    <p class="note">"Showing the first " {format_bytes(PREVIEW_BYTES)} "; download the file for the rest."</p>
                                })}
                                <pre class="preview-text" tabindex="0"><code>{text}</code></pre>
                            }
                            .into_any(),
                            Ok(Shown::Binary) => view! {
                                <p class="empty">"This file is not text; download it instead."</p>
                            }
                            .into_any(),
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            }
            .into_any()
        }
    };
    view! {
        <section class="preview" aria-label=format!("Preview of {path}")>
            <header class="preview-head">
                <h3><code>{path.clone()}</code></h3>
                <a class="button" href=url download="">"Download"</a>
            </header>
            {body}
        </section>
    }
}
