//! The notebook page (`/notebooks/<path>`): the cells of a `.ipynb` of the files area,
//! edited as in Jupyter and run by the kernel's Web Worker.
//!
//! - Keys: command mode (Esc) and edit mode (Enter, or a click in a cell); Shift+Enter,
//!   Ctrl+Enter, Alt+Enter; A/B insert, D,D delete, M/Y/R change the type, Up/Down
//!   move, I,I interrupt, Ctrl+S save ([`crate::model::command`]).
//! - Cells run one at a time in the worker; "Run all" queues every code cell and
//!   stops at the first error, as Jupyter does. Interrupt asks the cell to stop
//!   (`KeyboardInterrupt`, variables kept; see [`crate::kernel`] for how it reaches a
//!   looping cell); a cell that does not within [`INTERRUPT_GRACE`] (a loop, on a page
//!   that is not cross-origin isolated) gets the kernel restarted under it.
//! - The notebook is saved (`PUT /api/files/<path>`, Jupyter's own layout, outputs
//!   included) every [`AUTOSAVE`] while it has changes, at once when a cell starts
//!   waiting on a run, and on Ctrl+S.
//! - A cell waiting on a run records it in its metadata
//!   ([`crate::model::Waiting`]); when the page loads with such a cell (a reload, a
//!   closed tab), it cuts the cell's output back to what came before the wait and
//!   follows the run again from its first line ([`ToWorker::Attach`]): the complete
//!   log, no line twice.

use std::collections::VecDeque;
use std::time::Duration;

use leptos::html;
use leptos::prelude::*;
use runboard_frontend::api::{self, ApiError};
use runboard_shared::cell::worker::{FromWorker, ToWorker};
use runboard_shared::notebook::{Output, error_output, push_output, result_output};
use serde_json::{Map, Value};
use wasm_bindgen::JsCast;

use crate::files_page::tree_href;
use crate::kernel::KernelWorker;
use crate::model::{self, CellData, Command, Document, Key, Kind, Waiting, folder_of, name_of};
use crate::outputs::Outputs;
use crate::{highlight, markdown};

/// How often changes are saved.
const AUTOSAVE: Duration = Duration::from_secs(2);
/// How long an interrupted cell has to stop before the kernel is restarted.
const INTERRUPT_GRACE: Duration = Duration::from_secs(3);

/// Where a code cell stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunState {
    Idle,
    Queued,
    Running,
}

/// Command or edit mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Command,
    Edit,
}

/// One cell's state, as signals. `Copy`: handles.
#[derive(Debug, Clone, Copy)]
struct CellView {
    id: StoredValue<String>,
    kind: RwSignal<Kind>,
    source: RwSignal<String>,
    outputs: RwSignal<Vec<Output>>,
    count: RwSignal<Option<u32>>,
    state: RwSignal<RunState>,
    metadata: RwSignal<Map<String, Value>>,
    attachments: StoredValue<Option<Value>>,
    /// A markdown cell shows its editor (else its rendering).
    editing: RwSignal<bool>,
    /// How long its last run took, from posting it to the worker to its end (ms).
    elapsed: RwSignal<Option<f64>>,
}

impl CellView {
    fn new(data: CellData) -> Self {
        let editing = data.kind != Kind::Markdown || data.source.trim().is_empty();
        Self {
            id: StoredValue::new(data.id),
            kind: RwSignal::new(data.kind),
            source: RwSignal::new(data.source),
            outputs: RwSignal::new(data.outputs),
            count: RwSignal::new(data.execution_count),
            state: RwSignal::new(RunState::Idle),
            metadata: RwSignal::new(data.metadata),
            attachments: StoredValue::new(data.attachments),
            editing: RwSignal::new(editing),
            elapsed: RwSignal::new(None),
        }
    }

    fn data(&self) -> CellData {
        CellData {
            id: self.id.get_value(),
            kind: self.kind.get_untracked(),
            source: self.source.get_untracked(),
            outputs: self.outputs.get_untracked(),
            execution_count: self.count.get_untracked(),
            metadata: self.metadata.get_untracked(),
            attachments: self.attachments.get_value(),
        }
    }

    fn waiting(&self) -> Option<Waiting> {
        self.data().waiting()
    }

    fn set_waiting(&self, waiting: Option<&Waiting>) {
        let mut data = self.data();
        data.set_waiting(waiting);
        self.metadata.set(data.metadata);
    }
}

/// What the page runs: a cell's source, or a re-attach to the run it waited on.
#[derive(Debug, Clone)]
enum Job {
    Run(String),
    Attach(Waiting),
}

/// The whole page's state. `Copy`: handles.
#[derive(Debug, Clone, Copy)]
struct Page {
    path: StoredValue<String>,
    cells: RwSignal<Vec<CellView>>,
    selected: RwSignal<String>,
    mode: RwSignal<Mode>,
    metadata: StoredValue<Map<String, Value>>,
    nbformat_minor: StoredValue<u32>,
    dirty: RwSignal<bool>,
    saving: RwSignal<bool>,
    save_error: RwSignal<Option<String>>,
    kernel: StoredValue<Option<KernelWorker>, LocalStorage>,
    ready: RwSignal<bool>,
    queue: StoredValue<VecDeque<(String, Job)>>,
    running: RwSignal<Option<String>>,
    previous_key: StoredValue<Option<String>>,
    next_id: StoredValue<u32>,
    /// When the running job was posted (`performance.now()`).
    started: StoredValue<f64>,
    /// The file as this page last read or wrote it (`files_area_stamp`).
    disk: StoredValue<Option<String>>,
    /// The file changed on disk since: saving waits for the user's choice.
    conflict: RwSignal<bool>,
    /// A save was asked for while one was running.
    save_again: StoredValue<bool>,
}

impl Page {
    fn cell(&self, id: &str) -> Option<CellView> {
        self.cells
            .with_untracked(|cells| cells.iter().find(|c| c.id.with_value(|i| i == id)).copied())
    }

    fn index(&self, id: &str) -> Option<usize> {
        self.cells
            .with_untracked(|cells| cells.iter().position(|c| c.id.with_value(|i| i == id)))
    }

    fn selected_cell(&self) -> Option<CellView> {
        self.cell(&self.selected.get_untracked())
    }

    fn document(&self) -> Document {
        Document {
            cells: self
                .cells
                .with_untracked(|c| c.iter().map(CellView::data).collect()),
            metadata: self.metadata.get_value(),
            nbformat_minor: self.nbformat_minor.get_value(),
        }
    }

    fn new_id(&self) -> String {
        let n = self.next_id.get_value() + 1;
        self.next_id.set_value(n);
        let random = (js_sys::Math::random() * 1e9) as u64;
        format!("cell-{random:x}-{n}")
    }

    fn changed(&self) {
        self.dirty.set(true);
    }

    /// Saves the notebook, unless the file changed on disk since this page last read
    /// or wrote it (another tab, `runboard notebook run`): then the page asks first
    /// ([`Page::conflict`]); `overwrite` is the user's answer.
    fn save_checked(&self, overwrite: bool) {
        if self.saving.get_untracked() {
            // Another save follows the running one as soon as it ends.
            self.dirty.set(true);
            self.save_again.set_value(true);
            return;
        }
        if self.conflict.get_untracked() && !overwrite {
            return;
        }
        self.saving.set(true);
        self.dirty.set(false);
        let path = self.path.get_value();
        let known = self.disk.get_value();
        let before = api::files_area_stamp(&path);
        let write = api::files_area_write(&path, self.document().to_json());
        let after = api::files_area_stamp(&path);
        let page = *self;
        leptos::task::spawn_local(async move {
            if !overwrite
                && let (Some(known), Ok(now)) = (known, before.await)
                && now.as_ref() != Some(&known)
            {
                page.saving.set(false);
                page.dirty.set(true);
                page.conflict.set(true);
                return;
            }
            match write.await {
                Ok(()) => {
                    // Noted before the next save may start, or that save would take
                    // this page's own write for someone else's.
                    page.disk.set_value(after.await.ok().flatten());
                    page.save_error.set(None);
                    page.conflict.set(false);
                }
                Err(e) => {
                    page.dirty.set(true);
                    page.save_error.set(Some(e.to_string()));
                }
            }
            page.saving.set(false);
            if page
                .save_again
                .try_update_value(std::mem::take)
                .unwrap_or(false)
            {
                page.save();
            }
        });
    }

    fn save(&self) {
        self.save_checked(false);
    }

    fn insert(&self, at: usize, kind: Kind) -> String {
        let id = self.new_id();
        let view = CellView::new(CellData::new(kind, id.clone()));
        self.cells
            .update(|cells| cells.insert(at.min(cells.len()), view));
        self.selected.set(id.clone());
        self.changed();
        id
    }

    fn delete(&self, id: &str) {
        let Some(i) = self.index(id) else { return };
        if self.running.get_untracked().as_deref() == Some(id) {
            return;
        }
        self.queue.update_value(|q| q.retain(|(c, _)| c != id));
        self.cells.update(|cells| {
            cells.remove(i);
        });
        let next = self.cells.with_untracked(|cells| {
            cells
                .get(i.min(cells.len().saturating_sub(1)))
                .map(|c| c.id.get_value())
        });
        match next {
            Some(next) => self.selected.set(next),
            None => {
                self.insert(0, Kind::Code);
            }
        }
        self.changed();
    }

    fn set_kind(&self, id: &str, kind: Kind) {
        if let Some(cell) = self.cell(id)
            && cell.kind.get_untracked() != kind
        {
            cell.kind.set(kind);
            if kind != Kind::Code {
                cell.outputs.set(Vec::new());
                cell.count.set(None);
            }
            cell.editing.set(kind != Kind::Markdown);
            self.changed();
        }
    }

    fn select_offset(&self, offset: isize) {
        let Some(i) = self.index(&self.selected.get_untracked()) else {
            return;
        };
        let n = self.cells.with_untracked(Vec::len) as isize;
        let j = (i as isize + offset).clamp(0, n - 1) as usize;
        if let Some(id) = self
            .cells
            .with_untracked(|c| c.get(j).map(|c| c.id.get_value()))
        {
            self.selected.set(id);
        }
    }

    /// Runs a cell: a code cell is queued for the kernel, a markdown cell is rendered.
    fn run(&self, id: &str) {
        let Some(cell) = self.cell(id) else { return };
        match cell.kind.get_untracked() {
            Kind::Markdown => cell.editing.set(false),
            Kind::Raw => {}
            Kind::Code => {
                if cell.state.get_untracked() != RunState::Idle {
                    return;
                }
                cell.outputs.set(Vec::new());
                cell.set_waiting(None);
                cell.state.set(RunState::Queued);
                self.queue.update_value(|q| {
                    q.push_back((id.to_owned(), Job::Run(cell.source.get_untracked())))
                });
                self.changed();
                self.pump();
            }
        }
    }

    fn run_all(&self) {
        let ids: Vec<String> = self
            .cells
            .with_untracked(|c| c.iter().map(|c| c.id.get_value()).collect());
        for id in ids {
            self.run(&id);
        }
    }

    /// Starts the next queued job when the kernel is free.
    fn pump(&self) {
        if !self.ready.get_untracked() || self.running.get_untracked().is_some() {
            return;
        }
        let Some((id, job)) = self.queue.try_update_value(|q| q.pop_front()).flatten() else {
            return;
        };
        let Some(cell) = self.cell(&id) else {
            return self.pump();
        };
        cell.state.set(RunState::Running);
        cell.count.set(None);
        self.running.set(Some(id.clone()));
        self.started.set_value(now_ms());
        let cwd = folder_of(&self.path.get_value()).to_owned();
        let message = match job {
            Job::Run(source) => ToWorker::Run {
                cell: id,
                source,
                cwd,
            },
            Job::Attach(waiting) => ToWorker::Attach {
                cell: id,
                run: waiting.run,
                cwd,
            },
        };
        self.kernel.with_value(|k| {
            if let Some(k) = k {
                k.post(&message);
            }
        });
    }

    fn on_message(&self, message: FromWorker) {
        match message {
            FromWorker::Ready => {
                self.ready.set(true);
                self.pump();
            }
            FromWorker::Output { cell, output } => {
                if let Some(cell) = self.cell(&cell) {
                    cell.outputs.update(|o| push_output(o, output));
                    self.changed();
                }
            }
            FromWorker::Waiting { cell, run } => {
                if let Some(cell) = self.cell(&cell) {
                    let waiting = Waiting::at(run, &cell.outputs.get_untracked());
                    cell.set_waiting(Some(&waiting));
                    self.save();
                }
            }
            FromWorker::Done {
                cell,
                execution_count,
                result,
                error,
            } => {
                // A worker that failed to load names no cell: it fails the running one.
                let id = if cell.is_empty() {
                    self.running.get_untracked().unwrap_or_default()
                } else {
                    cell
                };
                if let Some(cell) = self.cell(&id) {
                    cell.elapsed.set(Some(now_ms() - self.started.get_value()));
                    if execution_count > 0 {
                        cell.count.set(Some(execution_count));
                    }
                    cell.outputs.update(|o| {
                        if let Some(display) = &result {
                            o.push(result_output(display, execution_count));
                        }
                        if let Some(e) = &error {
                            o.push(error_output(e));
                        }
                    });
                    cell.set_waiting(None);
                    cell.state.set(RunState::Idle);
                }
                if self.running.get_untracked().as_deref() == Some(id.as_str()) {
                    self.running.set(None);
                }
                if error.is_some() {
                    // As Jupyter: an error stops the cells queued after it.
                    self.clear_queue();
                }
                self.save();
                self.pump();
            }
        }
    }

    fn clear_queue(&self) {
        let queued = self
            .queue
            .try_update_value(std::mem::take)
            .unwrap_or_default();
        for (id, _) in queued {
            if let Some(cell) = self.cell(&id) {
                cell.state.set(RunState::Idle);
            }
        }
    }

    fn interrupt(&self) {
        self.clear_queue();
        let Some(running) = self.running.get_untracked() else {
            return;
        };
        self.kernel.with_value(|k| {
            if let Some(k) = k {
                k.interrupt();
            }
        });
        let page = *self;
        set_timeout(
            move || {
                if page.running.get_untracked().as_deref() == Some(running.as_str()) {
                    page.restart_kernel(
                        "KeyboardInterrupt: the cell did not stop, so the kernel was restarted; its variables are gone",
                    );
                }
            },
            INTERRUPT_GRACE,
        );
    }

    /// Restarts the kernel: a running cell ends with `why` as its error.
    fn restart_kernel(&self, why: &str) {
        self.clear_queue();
        self.ready.set(false);
        if let Some(id) = self.running.get_untracked()
            && let Some(cell) = self.cell(&id)
        {
            cell.outputs.update(|o| {
                o.push(Output::Stream {
                    name: "stderr".into(),
                    text: format!("{why}\n").as_str().into(),
                })
            });
            cell.set_waiting(None);
            cell.state.set(RunState::Idle);
            self.changed();
        }
        self.running.set(None);
        self.kernel.with_value(|k| {
            if let Some(k) = k
                && let Err(e) = k.restart()
            {
                leptos::logging::warn!("{e}");
            }
        });
    }

    fn command(&self, command: Command) {
        let id = self.selected.get_untracked();
        match command {
            Command::Edit => {
                if let Some(cell) = self.selected_cell() {
                    cell.editing.set(true);
                }
                self.mode.set(Mode::Edit);
            }
            Command::Run => {
                self.run(&id);
                self.mode.set(Mode::Command);
            }
            Command::RunAndAdvance => {
                self.run(&id);
                let last =
                    self.index(&id).map(|i| i + 1) == Some(self.cells.with_untracked(Vec::len));
                if last {
                    self.insert(usize::MAX, Kind::Code);
                    self.mode.set(Mode::Edit);
                } else {
                    self.select_offset(1);
                    self.mode.set(Mode::Command);
                }
            }
            Command::RunAndInsert => {
                self.run(&id);
                let at = self.index(&id).map_or(0, |i| i + 1);
                self.insert(at, Kind::Code);
                self.mode.set(Mode::Edit);
            }
            Command::InsertAbove => {
                self.insert(self.index(&id).unwrap_or(0), Kind::Code);
            }
            Command::InsertBelow => {
                self.insert(self.index(&id).map_or(0, |i| i + 1), Kind::Code);
            }
            Command::Delete => self.delete(&id),
            Command::ToMarkdown => self.set_kind(&id, Kind::Markdown),
            Command::ToCode => self.set_kind(&id, Kind::Code),
            Command::ToRaw => self.set_kind(&id, Kind::Raw),
            Command::SelectPrevious => self.select_offset(-1),
            Command::SelectNext => self.select_offset(1),
            Command::Save => self.save(),
            Command::Interrupt => self.interrupt(),
        }
    }

    /// Downloads the notebook as a `.ipynb` file.
    fn export(&self) {
        let text = self.document().to_json();
        let name = name_of(&self.path.get_value()).to_owned();
        let parts = js_sys::Array::of1(&text.into());
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("application/x-ipynb+json");
        let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
            return;
        };
        let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
            return;
        };
        if let Ok(a) = document().create_element("a")
            && let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>()
        {
            a.set_href(&url);
            a.set_download(&name);
            a.click();
        }
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}

/// The page of one notebook.
#[component]
pub fn NotebookPage(path: String) -> impl IntoView {
    let loaded = RwSignal::new(None::<Result<Page, String>>);
    let request = api::files_area_read(&path);
    let stored_path = StoredValue::new(path.clone());
    let stamp = api::files_area_stamp(&path);
    leptos::task::spawn_local(async move {
        let result = match request.await {
            // The file as read is noted before the page can save.
            Ok(text) => {
                let disk = stamp.await.ok().flatten();
                open(stored_path.get_value(), &text).inspect(|page| page.disk.set_value(disk))
            }
            Err(e) => Err(match &e {
                ApiError::Server { status: 404, .. } => {
                    format!(
                        "There is no notebook {} in the files area.",
                        stored_path.get_value()
                    )
                }
                _ => e.to_string(),
            }),
        };
        loaded.set(Some(result));
    });
    let folder = folder_of(&path).to_owned();
    view! {
        <nav aria-label="Folder" class="crumbs">
            <a href=tree_href(&folder)>{if folder.is_empty() { "Files".to_owned() } else { folder.clone() }}</a>
            <span aria-hidden="true">" / "</span>
            <span>{name_of(&path).to_owned()}</span>
        </nav>
        {move || match loaded.get() {
            None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            Some(Ok(page)) => view! { <Editor page=page /> }.into_any(),
        }}
    }
}

/// Reads the notebook and starts its kernel.
fn open(path: String, text: &str) -> Result<Page, String> {
    let next_id = StoredValue::new(0u32);
    let mut counter = 0u32;
    let document = Document::from_json(text, || {
        counter += 1;
        format!("cell-{:x}-{counter}", (js_sys::Math::random() * 1e9) as u64)
    })
    .map_err(|e| format!("{path} cannot be opened: {e}"))?;
    let cells: Vec<CellView> = document.cells.into_iter().map(CellView::new).collect();
    let first = cells.first().map(|c| c.id.get_value()).unwrap_or_default();
    let page = Page {
        path: StoredValue::new(path),
        cells: RwSignal::new(cells),
        selected: RwSignal::new(first),
        mode: RwSignal::new(Mode::Command),
        metadata: StoredValue::new(document.metadata),
        nbformat_minor: StoredValue::new(document.nbformat_minor),
        dirty: RwSignal::new(false),
        saving: RwSignal::new(false),
        save_error: RwSignal::new(None),
        kernel: StoredValue::new_local(None),
        ready: RwSignal::new(false),
        queue: StoredValue::new(VecDeque::new()),
        running: RwSignal::new(None),
        previous_key: StoredValue::new(None),
        next_id,
        started: StoredValue::new(0.0),
        disk: StoredValue::new(None),
        conflict: RwSignal::new(false),
        save_again: StoredValue::new(false),
    };
    if page.cells.with_untracked(Vec::is_empty) {
        page.insert(0, Kind::Code);
        page.dirty.set(false);
    }
    // Cells that were waiting on a run when the page was last here follow it again.
    for cell in page.cells.get_untracked() {
        if let Some(waiting) = cell.waiting() {
            cell.outputs.update(|o| waiting.truncate(o));
            cell.state.set(RunState::Queued);
            page.queue
                .update_value(|q| q.push_back((cell.id.get_value(), Job::Attach(waiting))));
        }
    }
    let url = kernel_url().ok_or("this page names no kernel (<meta name=\"runboard-kernel\">)")?;
    let kernel = KernelWorker::start(url, move |message| page.on_message(message))?;
    page.kernel.set_value(Some(kernel));
    Ok(page)
}

/// The worker's URL, from the page's `<meta name="runboard-kernel" content="…">`: the
/// Python kernel (Pyodide).
fn kernel_url() -> Option<String> {
    document()
        .query_selector("meta[name=runboard-kernel]")
        .ok()??
        .get_attribute("content")
}

#[component]
fn Editor(page: Page) -> impl IntoView {
    // Autosave while there are changes.
    if let Ok(handle) = set_interval_with_handle(
        move || {
            if page.dirty.get_untracked()
                && !page.saving.get_untracked()
                && !page.conflict.get_untracked()
            {
                page.save();
            }
        },
        AUTOSAVE,
    ) {
        on_cleanup(move || handle.clear());
    }
    on_cleanup(move || {
        page.kernel.with_value(|k| {
            if let Some(k) = k {
                k.stop();
            }
        })
    });
    // Command mode takes the caret out of the editor, so keys reach the page.
    Effect::new(move || {
        if page.mode.get() == Mode::Command
            && let Some(active) = document().active_element()
            && active.tag_name() == "TEXTAREA"
            && let Ok(el) = active.dyn_into::<web_sys::HtmlElement>()
        {
            let _ = el.blur();
        }
    });
    let keys = window_event_listener(leptos::ev::keydown, move |ev| on_key(page, ev));
    on_cleanup(move || keys.remove());

    let status = move || {
        if let Some(e) = page.save_error.get() {
            format!("Not saved: {e}")
        } else if page.saving.get() {
            "Saving…".to_owned()
        } else if page.dirty.get() {
            "Unsaved changes".to_owned()
        } else {
            "Saved".to_owned()
        }
    };
    let kernel_state = move || match (page.ready.get(), page.running.get().is_some()) {
        (false, _) => "Kernel starting…",
        (true, true) => "Kernel busy",
        (true, false) => "Kernel idle",
    };
    view! {
        <div class="nb-toolbar" role="toolbar" aria-label="Notebook">
            <button type="button" on:click=move |_| page.save()>"Save"</button>
            <button type="button" on:click=move |_| { page.insert(page.index(&page.selected.get_untracked()).map_or(0, |i| i + 1), Kind::Code); }>"+ Cell"</button>
            <button type="button" on:click=move |_| page.command(Command::Run)>"Run"</button>
            <button type="button" on:click=move |_| page.run_all()>"Run all"</button>
            <button type="button" on:click=move |_| page.interrupt() disabled=move || page.running.get().is_none()>"Interrupt"</button>
            <button type="button" on:click=move |_| page.restart_kernel("the kernel was restarted")>"Restart kernel"</button>
            <button type="button" on:click=move |_| page.export()>"Export .ipynb"</button>
            <span class="nb-kernel" data-kernel=move || if page.ready.get() { "ready" } else { "starting" } data-isolated=crate::kernel::cross_origin_isolated().to_string()>{kernel_state}</span>
            <span class="nb-save-state" role="status" data-saved=move || (!page.dirty.get() && !page.saving.get()).to_string()>{status}</span>
        </div>
        <Show when=move || page.conflict.get()>
            <div class="error nb-conflict" role="alert">
                <p>"This notebook was changed on disk since this page opened or saved it (in another tab, or by "<code>"runboard notebook run"</code>"). Your changes are not saved yet."</p>
                <button type="button" on:click=move |_| { let _ = window().location().reload(); }>"Reload from disk"</button>
                " "
                <button type="button" class="danger" on:click=move |_| page.save_checked(true)>"Overwrite with this page"</button>
            </div>
        </Show>
        <div class="nb-cells" data-mode=move || if page.mode.get() == Mode::Edit { "edit" } else { "command" }>
            <For
                each=move || page.cells.get()
                key=|cell| cell.id.get_value()
                children=move |cell| view! { <CellBlock page=page cell=cell /> }
            />
        </div>
    }
}

fn on_key(page: Page, ev: web_sys::KeyboardEvent) {
    let key_name = ev.key();
    let key = Key {
        key: &key_name,
        shift: ev.shift_key(),
        ctrl: ev.ctrl_key() || ev.meta_key(),
        alt: ev.alt_key(),
    };
    let in_editor = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|e| e.tag_name() == "TEXTAREA");
    if in_editor {
        if key_name == "Escape" {
            ev.prevent_default();
            page.mode.set(Mode::Command);
            if let Some(active) = document().active_element()
                && let Ok(el) = active.dyn_into::<web_sys::HtmlElement>()
            {
                let _ = el.blur();
            }
            return;
        }
        if let Some(command) = model::edit_command(key) {
            ev.prevent_default();
            page.command(command);
        }
        return;
    }
    // Other inputs (a prompt, the file picker) keep their keys.
    let in_input = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "SELECT" | "BUTTON" | "A"));
    if in_input && key_name == "Enter" {
        return;
    }
    let previous = page.previous_key.get_value();
    let command = model::command(key, previous.as_deref());
    page.previous_key.set_value(match command {
        Some(Command::Delete | Command::Interrupt) => None,
        _ => Some(key_name.to_ascii_lowercase()),
    });
    if let Some(command) = command {
        ev.prevent_default();
        page.command(command);
    }
}

#[component]
fn CellBlock(page: Page, cell: CellView) -> impl IntoView {
    let id = cell.id.get_value();
    let is_selected = {
        let id = id.clone();
        Memo::new(move |_| page.selected.with(|s| *s == id))
    };
    let textarea = NodeRef::<html::Textarea>::new();
    // Edit mode on the selected cell puts the caret in its editor.
    Effect::new(move || {
        if is_selected.get()
            && page.mode.get() == Mode::Edit
            && cell.editing.get()
            && let Some(t) = textarea.get()
        {
            let _ = t.focus();
        }
    });
    let prompt = move || match (cell.kind.get(), cell.state.get(), cell.count.get()) {
        (Kind::Code, RunState::Running | RunState::Queued, _) => "[*]:".to_owned(),
        (Kind::Code, _, Some(n)) => format!("[{n}]:"),
        (Kind::Code, _, None) => "[ ]:".to_owned(),
        _ => String::new(),
    };
    let select_id = id.clone();
    let focus_id = id.clone();
    let kind_name = move || match cell.kind.get() {
        Kind::Code => "code",
        Kind::Markdown => "markdown",
        Kind::Raw => "raw",
    };
    let state_name = move || match cell.state.get() {
        RunState::Idle => "idle",
        RunState::Queued => "queued",
        RunState::Running => "running",
    };
    view! {
        <article
            class="nb-cell"
            class:selected=move || is_selected.get()
            class:editing=move || is_selected.get() && page.mode.get() == Mode::Edit
            data-cell=id.clone()
            data-kind=kind_name
            data-state=state_name
            data-elapsed-ms=move || cell.elapsed.get().map(|ms| format!("{ms:.2}"))
            on:click=move |_| page.selected.set(select_id.clone())
        >
            <div
                class="nb-prompt"
                aria-hidden="true"
                title=move || cell.elapsed.get().map(|ms| format!("ran in {ms:.1} ms"))
            >
                {prompt}
            </div>
            <div class="nb-body">
                <Show
                    when=move || cell.editing.get()
                    fallback=move || view! {
                        <div
                            class="nb-markdown"
                            inner_html=move || markdown::to_html(&cell.source.get())
                            on:dblclick=move |_| { cell.editing.set(true); page.mode.set(Mode::Edit); }
                        ></div>
                    }
                >
                    <div class="nb-editor">
                        <pre class="nb-highlight" aria-hidden="true" inner_html=move || {
                            if cell.kind.get() == Kind::Code {
                                highlight::to_html(&cell.source.get())
                            } else {
                                let mut s = html_escape(&cell.source.get());
                                s.push(' ');
                                s
                            }
                        }></pre>
                        <textarea
                            node_ref=textarea
                            spellcheck="false"
                            // One row: the highlighted layer under it sets the height.
                            rows="1"
                            aria-label="Cell source"
                            prop:value=move || cell.source.get()
                            on:input=move |ev| {
                                cell.source.set(event_target_value(&ev));
                                page.changed();
                            }
                            on:focus={
                                let focus_id = focus_id.clone();
                                move |_| {
                                    page.selected.set(focus_id.clone());
                                    page.mode.set(Mode::Edit);
                                }
                            }
                        ></textarea>
                    </div>
                </Show>
                <Show when=move || cell.kind.get() == Kind::Code>
                    <Outputs outputs=cell.outputs />
                </Show>
            </div>
        </article>
    }
}

/// `performance.now()`: milliseconds, with sub-millisecond precision.
fn now_ms() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
