//! What keeps a browser from being turned against the server, checked before any
//! route runs (the outermost layer of [`super::app`]):
//!
//! - **Host** ([`host_allowed`]): a request whose `Host` is not a name of this server
//!   is refused with 403. That is DNS rebinding's mark: a page of `evil.example` whose
//!   name now resolves to 127.0.0.1 sends `Host: evil.example`. Admitted: `localhost`,
//!   any IP address (a browser that asked for an IP address is on that address's
//!   origin, so no rebinding can hide behind one), the public URL's host, and the
//!   names given with `runboard serve --allow-host NAME`. A request without `Host` (an
//!   HTTP/1.0 client, the in-process tests) is not a browser's and passes.
//! - **Origin** ([`cross_site`]): a state-changing request (any method but GET, HEAD
//!   and OPTIONS), a websocket upgrade (browsers do not apply CORS to websockets) and
//!   a `?token=` login that is not a top-level navigation must come from the server's
//!   own origin: `Origin` equal to `<scheme>://<Host>` or to the public URL's origin,
//!   else, without `Origin`, `Sec-Fetch-Site` `same-origin` or `none` (typed in the
//!   address bar). Another port of the same host is another origin. A request with
//!   neither header is not a browser's (the CLI, curl, the Python SDK with a bearer
//!   token) and passes: a page cannot send a cross-site request without `Origin` or
//!   `Sec-Fetch-Site` in any browser that has either. Jupyter Server does the same
//!   (`check_origin`, `check_host`), except that it compares host names only; the
//!   port is part of the origin here.
//!
//! A `?token=` login by top-level navigation passes from any site (a login link
//! pasted in a chat), as in Jupyter; an `<img>` or `fetch()` with `?token=` from
//! another site does not.
//!
//! Every answer also gets `X-Content-Type-Options: nosniff`.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use super::AppState;
use crate::config::Config;

/// The middleware: refuses a foreign `Host` and cross-site requests (module doc).
pub async fn same_origin_only(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = match check(&state.config, &request) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    };
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn check(config: &Config, request: &Request) -> Result<(), ApiError> {
    let host = request_host(request);
    if let Some(host) = host
        && !host_allowed(config, host)
    {
        let name = split_port(host).0;
        tracing::warn!(host, "refused a request for a foreign Host");
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "host_not_allowed",
            format!(
                "Host '{host}' is not a name of this server (a DNS rebinding attack looks like this); \
                 reach it at {} or start it with `runboard serve --allow-host {name}`",
                config.public_url
            ),
        ));
    }
    let headers = request.headers();
    let must_be_same_origin = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || is_websocket_upgrade(headers)
        || (is_token_login(request) && !is_navigation(headers));
    if must_be_same_origin && let Some(from) = cross_site(config, host, headers) {
        tracing::warn!(method = %request.method(), path = request.uri().path(), from, "refused a cross-site request");
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin",
            format!(
                "refused a cross-site {} {}: it came from {from}, not from this server's own pages ({}); \
                 scripts and the CLI send no Origin header and are not refused",
                request.method(),
                request.uri().path(),
                config.public_url
            ),
        ));
    }
    Ok(())
}

/// The `Host` the request was sent to: the header, or the URI's authority (HTTP/2).
fn request_host(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(header::HOST)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"))
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
}

/// `host[:port]` → (`host` lowercased without a trailing dot and IPv6 brackets, port).
fn split_port(authority: &str) -> (String, Option<&str>) {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip, tail)) => (ip, tail.strip_prefix(':')),
            None => (authority, None),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, Some(port)),
            _ => (authority, None),
        }
    };
    (
        host.trim_end_matches('.').to_ascii_lowercase(),
        port.filter(|p| !p.is_empty()),
    )
}

/// True when `authority` (a `Host` header's value) names this server: see the
/// module doc.
pub fn host_allowed(config: &Config, authority: &str) -> bool {
    let (host, port) = split_port(authority);
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return false;
    }
    host == "localhost"
        || host.parse::<std::net::IpAddr>().is_ok()
        || public_origin(config).is_some_and(|(_, public)| split_port(&public).0 == host)
        || config
            .allowed_hosts
            .iter()
            .any(|name| name.trim_end_matches('.').eq_ignore_ascii_case(&host))
}

/// The public URL's scheme and authority (`http`, `runboard.example:8443`), without a
/// default port.
fn public_origin(config: &Config) -> Option<(String, String)> {
    let (scheme, rest) = config.public_url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let scheme = scheme.to_ascii_lowercase();
    Some((scheme.clone(), without_default_port(&scheme, authority)))
}

/// `authority` lowercased, without `:80` for http and `:443` for https (browsers
/// leave the default port out of `Origin`).
fn without_default_port(scheme: &str, authority: &str) -> String {
    let authority = authority.to_ascii_lowercase();
    let default = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return authority,
    };
    match authority.strip_suffix(default) {
        Some(rest) if !rest.ends_with(':') => rest.to_owned(),
        _ => authority,
    }
}

/// Where a request that must be same-origin came from, when that is another site
/// (for the error message); `None` when it is this server's own origin, or no
/// browser's (neither `Origin` nor `Sec-Fetch-Site`).
pub fn cross_site(config: &Config, host: Option<&str>, headers: &HeaderMap) -> Option<String> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let text = origin.to_str().unwrap_or("?");
        return (!same_origin(config, host, text)).then(|| format!("Origin {text}"));
    }
    let site = headers.get("sec-fetch-site")?;
    match site.as_bytes() {
        b"same-origin" | b"none" => None,
        other => Some(format!(
            "a page of another site (Sec-Fetch-Site: {})",
            String::from_utf8_lossy(other)
        )),
    }
}

/// True when the `Origin` header `origin` is this server's: `http(s)://<Host>`, or
/// the public URL's origin. The scheme is not compared with `Host` (behind a TLS
/// proxy the server cannot tell http from https), the port is.
fn same_origin(config: &Config, host: Option<&str>, origin: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        // `null` (a sandboxed frame, a file: page) or garbage.
        return false;
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return false;
    }
    let authority = without_default_port(&scheme, authority);
    let from_host = host.is_some_and(|host| without_default_port(&scheme, host) == authority);
    let from_public = public_origin(config) == Some((scheme, authority));
    from_host || from_public
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn is_token_login(request: &Request) -> bool {
    request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|pair| pair.starts_with("token=")))
}

/// True for a top-level navigation (a link followed, an address typed): the one
/// kind of cross-site `?token=` login that passes.
fn is_navigation(headers: &HeaderMap) -> bool {
    let is = |name: &str, value: &str| {
        headers
            .get(name)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(value.as_bytes()))
    };
    is("sec-fetch-mode", "navigate") && is("sec-fetch-dest", "document")
}

/// Checks a `--allow-host` value: a host name or IP address, without scheme, port
/// or path.
pub fn check_allowed_host(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "--allow-host takes a host name such as runboard.example (no scheme, port or path; IP addresses are always admitted), got {name:?}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let mut config = Config::new("/data".into());
        config.public_url = "https://runboard.example".into();
        config.allowed_hosts = vec!["gpu-box".into()];
        config
    }

    #[test]
    fn hosts_that_name_this_server() {
        let config = config();
        let check = |host: &str, expect: bool| {
            assert_eq!(host_allowed(&config, host), expect, "{host}");
        };
        check("127.0.0.1:8070", true);
        check("localhost:3000", true);
        check("LOCALHOST", true);
        check("[::1]:8070", true);
        check("10.1.2.3:8070", true);
        check("runboard.example", true);
        check("runboard.example:443", true);
        check("gpu-box:8070", true);
        check("GPU-BOX.:8070", true);
        check("evil.example:8070", false);
        check("localhost.evil.example", false);
        check("gpu-box.evil.example", false);
        check("127.0.0.1:notaport", false);
        check("", false);
    }

    #[test]
    fn origins_of_this_server_and_of_others() {
        let config = config();
        let check = |host: &str, origin: Option<&str>, site: Option<&str>, expect: bool| {
            let mut headers = HeaderMap::new();
            if let Some(origin) = origin {
                headers.insert(header::ORIGIN, origin.parse().unwrap());
            }
            if let Some(site) = site {
                headers.insert("sec-fetch-site", site.parse().unwrap());
            }
            assert_eq!(
                cross_site(&config, Some(host), &headers).is_none(),
                expect,
                "{host} {origin:?} {site:?}"
            );
        };
        let own = "127.0.0.1:8070";
        check(own, Some("http://127.0.0.1:8070"), None, true);
        check(own, Some("http://127.0.0.1:3000"), None, false);
        check(own, Some("http://localhost:8070"), None, false);
        check(own, Some("http://127.0.0.1"), None, false);
        check(own, Some("null"), None, false);
        check(own, Some("https://runboard.example"), None, true);
        check(own, Some("https://runboard.example:443"), None, true);
        check(own, Some("http://runboard.example"), None, false);
        check(
            "runboard.example",
            Some("https://runboard.example"),
            None,
            true,
        );
        check("localhost:80", Some("http://localhost"), None, true);
        check(own, Some("http://evil.example"), Some("same-origin"), false);
        // Without Origin, Sec-Fetch-Site decides; without either, no browser sent it.
        check(own, None, Some("same-origin"), true);
        check(own, None, Some("none"), true);
        check(own, None, Some("same-site"), false);
        check(own, None, Some("cross-site"), false);
        check(own, None, None, true);
    }

    #[test]
    fn allowed_host_values() {
        assert!(check_allowed_host("runboard.example").is_ok());
        assert!(check_allowed_host("gpu_box-1").is_ok());
        for bad in ["", "http://x", "x:8070", "x/y", "a b"] {
            let err = check_allowed_host(bad).unwrap_err();
            assert!(err.contains("--allow-host"), "{bad}: {err}");
        }
    }
}
