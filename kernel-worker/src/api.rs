//! How the worker reads the server's error answers, without I/O. Everything else it
//! puts on the wire or reads back is [`runboard_shared::kernel::remote`], shared with
//! the CLI's host; only a lost login reads differently in a browser.

use runboard_shared::kernel::HostError;
use runboard_shared::kernel::remote;

/// The error an answer with a non-2xx `status` stands for: as
/// [`remote::error_from_response`] says, except that 401 (the portal's session has
/// ended) tells how to log in again in the browser.
pub fn error_from_response(status: u16, body: &str) -> HostError {
    if status == 401 {
        return HostError::Other(
            "not logged in: the portal's session has ended; reload the page to log in again, \
             then rerun the cell"
                .to_owned(),
        );
    }
    remote::error_from_response(status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_session_says_how_to_log_in_again() {
        let body = r#"{"error":{"code":"unauthorized","message":"missing or wrong credentials"}}"#;
        let HostError::Other(login) = error_from_response(401, body) else {
            panic!("401 is not Other");
        };
        assert!(login.starts_with("not logged in"), "{login}");
    }

    #[test]
    fn other_answers_read_as_the_cli_reads_them() {
        let body = r#"{"error":{"code":"not_found","message":"no run with id x"}}"#;
        for status in [404, 409, 400, 500, 502] {
            assert_eq!(
                error_from_response(status, body),
                remote::error_from_response(status, body)
            );
        }
    }
}
