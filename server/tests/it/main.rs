//! Integration tests of the `runboard` binary and its router: real processes, real
//! SQLite, a real server on 127.0.0.1:0.

mod bad_input;
mod restart;
mod runs;
mod support;
mod websocket;
