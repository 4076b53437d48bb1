//! Kernel tests: each case runs cells against a [`fake::FakeHost`] and compares the
//! transcript (printed text, displays, the result and the error) with what is
//! expected.

mod environment;
mod fake;
mod lang;
mod sdk;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use super::{Display, Kernel, Output, PyError};
use fake::FakeHost;

/// Polls a future that never waits (every fake host call is ready at once).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a fake host call was pending"),
    }
}

/// A notebook session against a fake host.
pub struct Session {
    pub kernel: Kernel,
    pub host: FakeHost,
}

impl Session {
    pub fn new() -> Self {
        Self {
            kernel: Kernel::new(),
            host: FakeHost::default(),
        }
    }

    /// Runs a cell and returns its transcript: stdout as printed, `[display]` blocks,
    /// `Out: ` and the result, or the error as `Ename: value`.
    pub fn run(&mut self, cell: &str) -> String {
        let result = block_on(self.kernel.run_cell(&mut self.host, cell));
        let outputs = std::mem::take(&mut self.host.outputs);
        transcript(&outputs, &result)
    }
}

fn transcript(outputs: &[Output], result: &Result<Option<Display>, PyError>) -> String {
    let mut out = String::new();
    for o in outputs {
        match o {
            Output::Stdout { text } => out.push_str(text),
            Output::Stderr { text } => {
                out.push_str("[stderr] ");
                out.push_str(text);
            }
            Output::Display { display } => {
                out.push_str("[display]\n");
                out.push_str(&display.text_plain());
                out.push('\n');
            }
        }
    }
    match result {
        Ok(Some(display)) => {
            out.push_str("Out: ");
            out.push_str(&display.text_plain());
        }
        Ok(None) => {}
        Err(e) => out.push_str(&e.to_string()),
    }
    out.trim_end_matches('\n').to_owned()
}

/// One cell in a fresh session gives `expect`.
#[track_caller]
pub fn check(cell: &str, expect: &str) {
    let mut session = Session::new();
    let got = session.run(cell);
    assert_eq!(got, expect.trim_end_matches('\n'), "cell:\n{cell}");
}

/// Several cells in one session; each gives its expected transcript.
#[track_caller]
pub fn check_cells(cells: &[(&str, &str)]) {
    let mut session = Session::new();
    for (cell, expect) in cells {
        let got = session.run(cell);
        assert_eq!(got, expect.trim_end_matches('\n'), "cell:\n{cell}");
    }
}
