//! Runboard's one REST client, without I/O.
//!
//! [`requests`] builds each endpoint's [`Request`] (method, path with its segments and
//! query percent-encoded, body); [`check`] turns an answer into the server's error or
//! lets it through, and [`json`] decodes its JSON body. A [`Transport`] does the I/O
//! in between: gloo-net's `fetch` in the browser (`frontend/src/api.rs`), reqwest in
//! the command line (`server/src/cli.rs`). So a new endpoint is one function in
//! [`requests`] and one call site.
//!
//! Deliberately light for the portal's wasm: nothing here is generic over an endpoint
//! except [`json`], the serde decoder each answer type needs anyway, and
//! [`requests::json_body`] for the two kinds of request body.

use std::fmt;
use std::future::Future;

use runboard_shared::api::ErrorBody;
use serde::de::DeserializeOwned;

pub mod follow;
pub mod requests;

pub use requests::{FileArea, RunQuery};

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`.
    Head,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// A request's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// JSON text (`Content-Type: application/json`).
    Json(String),
    /// Plain text, sent as it is (a notebook written to the files area).
    Text(String),
}

/// One request, built without I/O: what a [`Transport`] sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path and query from the server's root (`/api/runs?limit=50`), encoded.
    pub path: String,
    /// The body, if any.
    pub body: Option<Body>,
    /// More headers (`Range`).
    pub headers: Vec<(&'static str, String)>,
    /// The answer must come from the server, never from a cache.
    pub fresh: bool,
}

impl Request {
    /// A request without body or extra headers.
    pub fn new(method: Method, path: String) -> Self {
        Self {
            method,
            path,
            body: None,
            headers: Vec::new(),
            fresh: false,
        }
    }
}

/// An answer as a [`Transport`] received it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The status line's text (may be empty, as over HTTP/2).
    pub status_text: String,
    /// The headers a caller may read, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The value of a header (`name` in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a request gave no answer the caller can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// No answer came: the server is down or unreachable, or the request was aborted.
    Network(String),
    /// The server answered with an error status.
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's sentence (from its JSON error body, else the status text).
        message: String,
    },
    /// The answer was not the JSON this version of the client expects (or the
    /// request's body could not be encoded).
    Decode(String),
}

impl Error {
    /// The HTTP status of a server error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Server { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Network(cause) => write!(f, "the server could not be reached ({cause})"),
            Error::Server {
                status: 401,
                message,
            } => {
                write!(
                    f,
                    "{message} (open the login link that `runboard serve` printed)"
                )
            }
            Error::Server { status, message } => write!(f, "{message} (HTTP {status})"),
            Error::Decode(cause) => {
                write!(f, "the server's answer was not understood ({cause})")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Sends a [`Request`] and hands back the answer: the only I/O of the client.
///
/// Implementations send `path` against their server, set `Content-Type` from the
/// [`Body`], add their credentials, and answer every status (a non-2xx status is not
/// a transport error: [`check`] makes it one).
pub trait Transport {
    /// Sends the request.
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, Error>>;
}

/// Sends `request` over `transport` and [`check`]s the answer.
pub async fn call(transport: &impl Transport, request: Request) -> Result<Response, Error> {
    check(transport.send(request).await?)
}

/// The answer if its status is 2xx, else the server's error, with its message when it
/// sent one (`{"error": {"message": …}}`).
pub fn check(response: Response) -> Result<Response, Error> {
    if response.ok() {
        return Ok(response);
    }
    // `from_str`, not `from_slice`: one serde_json reader in the wasm, not two.
    let body = std::str::from_utf8(&response.body).unwrap_or_default();
    let message = match json::<ErrorBody>(body) {
        Ok(body) => body.error.message,
        Err(_) if response.status_text.is_empty() => "the server refused the request".to_owned(),
        Err(_) => response.status_text,
    };
    Err(Error::Server {
        status: response.status,
        message,
    })
}

/// The body of a JSON answer as text: an error if the content type is not JSON (e.g. a
/// static file server's `index.html` where the API should be) or it is not UTF-8.
pub fn json_text(response: Response) -> Result<String, Error> {
    let content_type = response.header("content-type").unwrap_or_default();
    if !content_type.starts_with("application/json") {
        return Err(Error::Decode(format!(
            "expected JSON, got {content_type:?}"
        )));
    }
    String::from_utf8(response.body).map_err(|e| Error::Decode(e.to_string()))
}

/// Decodes a JSON answer's text (from [`json_text`]).
pub fn json<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| Error::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, content_type: &str, body: &str) -> Response {
        Response {
            status,
            status_text: String::new(),
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn check_passes_2xx_and_turns_the_rest_into_the_servers_message() {
        let ok = answer(200, "application/json", "{}");
        assert_eq!(check(ok.clone()), Ok(ok));
        let refused = answer(
            404,
            "application/json",
            r#"{"error":{"code":"not_found","message":"no run with id x"}}"#,
        );
        assert_eq!(
            check(refused),
            Err(Error::Server {
                status: 404,
                message: "no run with id x".to_owned()
            })
        );
        let mut bare = answer(502, "text/html", "<h1>bad gateway</h1>");
        assert_eq!(
            check(bare.clone()).map_err(|e| e.to_string()),
            Err("the server refused the request (HTTP 502)".to_owned())
        );
        bare.status_text = "Bad Gateway".to_owned();
        assert_eq!(
            check(bare).map_err(|e| e.to_string()),
            Err("Bad Gateway (HTTP 502)".to_owned())
        );
    }

    #[test]
    fn json_needs_a_json_content_type_and_the_expected_shape() {
        let html = answer(200, "text/html", "<html>");
        assert!(matches!(json_text(html), Err(Error::Decode(m)) if m.contains("text/html")));
        let text = json_text(answer(200, "application/json; charset=utf-8", "[1,2]"));
        assert_eq!(text.as_deref(), Ok("[1,2]"));
        assert_eq!(json::<Vec<u8>>("[1,2]"), Ok(vec![1, 2]));
        assert!(matches!(json::<Vec<u8>>("{}"), Err(Error::Decode(_))));
    }

    #[test]
    fn header_names_match_in_any_case() {
        let r = answer(200, "application/json", "");
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        assert_eq!(r.header("content-range"), None);
    }
}
