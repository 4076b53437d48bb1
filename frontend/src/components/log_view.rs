//! A run's logs: [`RunLogs`] keeps one [`LogBuffer`] per log file, fed by the run's
//! events; [`LogView`] shows one of them like a terminal, live.
//!
//! The lines are drawn with DOM calls rather than a keyed `<For>`: a log grows by
//! thousands of lines during a replay, and only its last line ever changes, so the
//! view appends and patches nodes (at most once per animation frame) instead of
//! diffing the whole list on every chunk. This is the "sync with the outside world"
//! case of an `Effect`, like drawing on a canvas.

use std::collections::{BTreeMap, VecDeque};

use leptos::html::Div;
use leptos::prelude::*;
use runboard_portal_view::logview::{Line, LogBuffer};
use wasm_bindgen::JsCast;
use web_sys::{Document, Element};

/// At most this many lines of each log are kept in the page; the download link has
/// the whole file.
pub const MAX_LINES: usize = 100_000;

/// The logs of one run, by path (`user_logs/std_log.txt`). `Copy`: a handle.
#[derive(Debug, Clone, Copy)]
pub struct RunLogs {
    buffers: StoredValue<BTreeMap<String, LogBuffer>>,
    /// The log files seen so far, in display order.
    pub panes: RwSignal<Vec<String>>,
    /// Bumped at most once per animation frame after text arrived.
    tick: RwSignal<u64>,
    frame_pending: StoredValue<bool>,
    /// Logs the page started at their tail: the byte of the file where the text held
    /// starts, and that text (what earlier lines are put in front of). Two maps of
    /// types the app has anyway: each new map type costs the bundle.
    starts: StoredValue<BTreeMap<String, u64>>,
    held: StoredValue<BTreeMap<String, String>>,
    /// Bumped when a buffer is rebuilt with earlier lines: the view draws it afresh.
    epoch: StoredValue<u64>,
}

impl RunLogs {
    /// No logs yet.
    pub fn new() -> Self {
        Self {
            buffers: StoredValue::new(BTreeMap::new()),
            panes: RwSignal::new(Vec::new()),
            tick: RwSignal::new(0),
            frame_pending: StoredValue::new(false),
            starts: StoredValue::new(BTreeMap::new()),
            held: StoredValue::new(BTreeMap::new()),
            epoch: StoredValue::new(0),
        }
    }

    /// Starts the log at `path` with `text`, the file from byte `start` on (its tail).
    pub fn start(&self, path: &str, start: u64, text: &str) {
        self.starts.update_value(|s| {
            s.insert(path.to_owned(), start);
        });
        self.held
            .update_value(|h| drop(h.insert(path.to_owned(), String::new())));
        self.push(path, text);
    }

    /// Where the text held of the log at `path` starts in its file, when earlier
    /// lines can be read.
    pub fn earlier(&self, path: &str) -> Option<u64> {
        self.starts
            .with_value(|s| s.get(path).copied())
            .filter(|start| *start > 0)
    }

    /// Puts `text`, the bytes of the log at `path` before `end`, from `start` on, in
    /// front of what the page holds, if it still fits there.
    pub fn prepend(&self, path: &str, start: u64, end: u64, text: &str) {
        if self.starts.with_value(|s| s.get(path) != Some(&end)) {
            return;
        }
        self.starts.update_value(|s| {
            s.insert(path.to_owned(), start);
        });
        let mut all = text.to_owned();
        self.held.update_value(|h| {
            if let Some(held) = h.get_mut(path) {
                all.push_str(held);
                held.insert_str(0, text);
            }
        });
        let mut buffer = LogBuffer::new(MAX_LINES);
        buffer.push(&all);
        self.buffers
            .update_value(|b| drop(b.insert(path.to_owned(), buffer)));
        self.epoch.update_value(|e| *e += 1);
        self.tick.update(|t| *t += 1);
    }

    /// Adds `text` to the log at `path`.
    pub fn push(&self, path: &str, text: &str) {
        let mut cut = 0;
        self.held.update_value(|h| {
            if let Some(raw) = h.get_mut(path) {
                raw.push_str(text);
                // Held text stays bounded: past 32 MiB its first half (from a line)
                // is let go, and earlier lines are read from there.
                if raw.len() > 32 << 20 {
                    cut = raw[raw.len() / 2..]
                        .find('\n')
                        .map_or(0, |i| raw.len() / 2 + i + 1);
                    raw.drain(..cut);
                }
            }
        });
        if cut > 0 {
            self.starts.update_value(|s| {
                if let Some(at) = s.get_mut(path) {
                    *at += cut as u64;
                }
            });
        }
        let mut is_new = false;
        self.buffers.update_value(|buffers| {
            buffers
                .entry(path.to_owned())
                .or_insert_with(|| {
                    is_new = true;
                    LogBuffer::new(MAX_LINES)
                })
                .push(text);
        });
        if is_new {
            self.add_pane(path);
        }
        if !self.frame_pending.get_value() {
            self.frame_pending.set_value(true);
            let (tick, pending) = (self.tick, self.frame_pending);
            request_animation_frame(move || {
                pending.set_value(false);
                tick.update(|t| *t += 1);
            });
        }
    }

    /// Makes a pane for a log file known to exist (from the run's file list) even
    /// before text arrives for it.
    pub fn add_pane(&self, path: &str) {
        if self.panes.with_untracked(|p| p.iter().any(|x| x == path)) {
            return;
        }
        self.panes.update(|panes| {
            panes.push(path.to_owned());
            panes.sort_by_key(|p| pane_order(p));
        });
    }

    /// Subscribes the caller to new text (once per frame).
    pub fn track(&self) {
        self.tick.track();
    }

    /// Runs `f` on the log at `path`, if there is one.
    pub fn with<T>(&self, path: &str, f: impl FnOnce(&mut LogBuffer) -> T) -> Option<T> {
        self.buffers
            .try_update_value(|buffers| buffers.get_mut(path).map(f))
            .flatten()
    }

    /// The last `n` lines of the log at `path`, as plain text.
    pub fn tail(&self, path: &str, n: usize) -> Vec<(u64, String)> {
        self.with(path, |buffer| {
            let skip = buffer.lines().len().saturating_sub(n);
            buffer
                .lines()
                .skip(skip)
                .map(|l| (l.number, l.text()))
                .collect()
        })
        .unwrap_or_default()
    }
}

impl Default for RunLogs {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a log file's pane goes: the main log, then each process by rank, then other
/// user logs, then the environment build, then the other system logs.
fn pane_order(path: &str) -> (u8, u32, String) {
    if path == "user_logs/std_log.txt" {
        return (0, 0, String::new());
    }
    if let Some(rank) = path
        .strip_prefix("user_logs/std_log_process_")
        .and_then(|r| r.strip_suffix(".txt"))
        .and_then(|r| r.parse().ok())
    {
        return (1, rank, String::new());
    }
    let group = if path.starts_with("user_logs/") {
        2
    } else if path == "system_logs/environment.txt" {
        3
    } else {
        4
    };
    (group, 0, path.to_owned())
}

/// A pane's name for people: `Main`, `Process 1`, `Environment build`, or the file name.
pub fn pane_label(path: &str) -> String {
    match pane_order(path) {
        (0, _, _) => "Output".to_owned(),
        (1, rank, _) => format!("Process {rank}"),
        (3, _, _) => "Environment build".to_owned(),
        _ => path.rsplit('/').next().unwrap_or(path).to_owned(),
    }
}

/// What the DOM of the view holds now.
#[derive(Debug, Default)]
struct Drawn {
    /// The log drawn, and the search query its lines were drawn with.
    path: String,
    query: String,
    /// The number of the line of `nodes[0]`.
    first: u64,
    nodes: VecDeque<Element>,
    /// [`RunLogs::epoch`] when drawn.
    epoch: u64,
}

/// One log, drawn live. `follow` keeps the newest line in view (it turns off when the
/// reader scrolls up, and on again at the bottom). Searching is the server's: the
/// page holds only part of a long log.
#[component]
pub fn LogView(
    logs: RunLogs,
    #[prop(into)] path: Signal<String>,
    follow: RwSignal<bool>,
    /// Called when the reader scrolls to the top (to read earlier lines).
    on_top: Callback<()>,
) -> impl IntoView {
    let container = NodeRef::<Div>::new();
    let drawn = StoredValue::new_local(Drawn::default());

    // Draw what changed since the last frame.
    Effect::new(move |_| {
        logs.track();
        // Search is the server's (the Logs tab's form): lines are drawn unmarked.
        let (path, query) = (path.get(), String::new());
        let Some(element) = container.get() else {
            return;
        };
        let document = document();
        let epoch = logs.epoch.get_value();
        let height = element.scroll_height();
        let rebuilt = drawn.with_value(|d| d.epoch != epoch);
        let found = logs.with(&path, |buffer| {
            drawn.update_value(|d| {
                if d.epoch != epoch {
                    // Earlier lines were put in front: draw it all again.
                    d.path.clear();
                    d.epoch = epoch;
                }
                draw(&document, &element, d, buffer, &path, &query)
            });
        });
        if found.is_none() {
            drawn.update_value(|d| draw_empty(&element, d, &path, &query));
        }
        if follow.get_untracked() {
            element.set_scroll_top(element.scroll_height());
        } else if rebuilt {
            // The lines in view stay in view.
            element.set_scroll_top(element.scroll_top() + element.scroll_height() - height);
        }
    });

    let on_scroll = move |_| {
        if let Some(element) = container.get_untracked() {
            let at_bottom =
                element.scroll_height() - element.scroll_top() - element.client_height() < 24;
            if follow.get_untracked() != at_bottom {
                follow.set(at_bottom);
            }
            if element.scroll_top() == 0 {
                on_top.run(());
            }
        }
    };
    // Turning follow on jumps to the end.
    Effect::new(move |_| {
        if follow.get()
            && let Some(element) = container.get_untracked()
        {
            element.set_scroll_top(element.scroll_height());
        }
    });

    view! {
        <div
            class="log"
            node_ref=container
            on:scroll=on_scroll
            tabindex="0"
            role="log"
            aria-live="off"
            aria-label=move || format!("{} log", pane_label(&path.get()))
            data-path=move || path.get()
        ></div>
    }
}

/// Clears the view for a log that has no text yet.
fn draw_empty(element: &Element, drawn: &mut Drawn, path: &str, query: &str) {
    if drawn.path != path || !drawn.nodes.is_empty() {
        element.set_text_content(None);
        *drawn = Drawn {
            path: path.to_owned(),
            query: query.to_owned(),
            epoch: drawn.epoch,
            ..Drawn::default()
        };
    }
}

/// Brings the DOM up to date with `buffer`: everything when the log or the query
/// changed, else the lines from the first changed one.
fn draw(
    document: &Document,
    element: &Element,
    drawn: &mut Drawn,
    buffer: &mut LogBuffer,
    path: &str,
    query: &str,
) {
    let redraw_all = drawn.path != path || drawn.query != query;
    let changed = buffer.take_changed();
    if redraw_all {
        element.set_text_content(None);
        *drawn = Drawn {
            path: path.to_owned(),
            query: query.to_owned(),
            first: buffer.dropped(),
            epoch: drawn.epoch,
            ..Drawn::default()
        };
        let fragment = document.create_document_fragment();
        for line in buffer.lines() {
            if let Some(node) = line_node(document, line, query) {
                let _ = fragment.append_child(&node);
                drawn.nodes.push_back(node);
            }
        }
        let _ = element.append_child(&fragment);
        return;
    }
    let Some(from) = changed else {
        return;
    };
    // Lines dropped from the buffer leave the page too.
    while drawn.first < buffer.dropped() {
        match drawn.nodes.pop_front() {
            Some(node) => node.remove(),
            None => {
                drawn.first = buffer.dropped();
                break;
            }
        }
        drawn.first += 1;
    }
    let from = from.max(buffer.dropped());
    let fragment = document.create_document_fragment();
    for number in from..buffer.len() {
        let Some(line) = buffer.line(number) else {
            continue;
        };
        let index = usize::try_from(number - drawn.first).unwrap_or(usize::MAX);
        if let Some(node) = drawn.nodes.get(index) {
            fill_line(document, node, line, query);
        } else if let Some(node) = line_node(document, line, query) {
            let _ = fragment.append_child(&node);
            drawn.nodes.push_back(node);
        }
    }
    let _ = element.append_child(&fragment);
}

fn line_node(document: &Document, line: &Line, query: &str) -> Option<Element> {
    let node = document.create_element("div").ok()?;
    node.set_class_name("ln");
    fill_line(document, &node, line, query);
    Some(node)
}

/// Replaces the content of a line's node: plain text as text nodes, styled text in
/// `<span class=…>`, search matches in `<mark>`.
fn fill_line(document: &Document, node: &Element, line: &Line, query: &str) {
    node.set_text_content(None);
    if line.spans.len() == 1 && query.is_empty() && line.spans[0].style.is_plain() {
        node.set_text_content(Some(&line.spans[0].text));
        return;
    }
    for segment in line.segments(query) {
        let text = document.create_text_node(segment.text);
        let styled: web_sys::Node = if segment.style.is_plain() {
            text.into()
        } else {
            let Ok(span) = document.create_element("span") else {
                continue;
            };
            let (classes, inline) = segment.style.css();
            if !classes.is_empty() {
                span.set_class_name(&classes);
            }
            if !inline.is_empty() {
                let _ = span.set_attribute("style", &inline);
            }
            let _ = span.append_child(&text);
            span.unchecked_into()
        };
        if segment.is_match {
            if let Ok(mark) = document.create_element("mark") {
                let _ = mark.append_child(&styled);
                let _ = node.append_child(&mark);
            }
        } else {
            let _ = node.append_child(&styled);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panes_are_ordered_and_named() {
        let mut paths = [
            "system_logs/supervisor.txt",
            "user_logs/std_log_process_10.txt",
            "system_logs/environment.txt",
            "user_logs/std_log_process_2.txt",
            "user_logs/other.txt",
            "user_logs/std_log.txt",
        ];
        paths.sort_by_key(|p| pane_order(p));
        let labels: Vec<String> = paths.iter().map(|p| pane_label(p)).collect();
        assert_eq!(
            labels,
            [
                "Output",
                "Process 2",
                "Process 10",
                "other.txt",
                "Environment build",
                "supervisor.txt"
            ]
        );
    }
}
