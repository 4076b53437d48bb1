//! The web app's side of the server: `?token=` login (Jupyter's convention) and the
//! app's files, with `index.html` for deep links such as `/runs/<id>`.
//!
//! The files come from `--static-dir` (what `cargo xtask run` passes: `static/pkg`,
//! written by `cargo xtask frontend`), else, in a binary built with the `embed-ui`
//! feature (`cargo xtask run --release`), from the copy of `static/pkg` embedded at
//! build time. Either way:
//! - `.br` and `.gz` siblings written by the build are served to browsers that accept
//!   them (with `Vary: Accept-Encoding`);
//! - files whose name carries a content hash (`runboard-<16 hex>_bg.wasm`) are cached
//!   for a year (`immutable`); everything else, `index.html` above all, is
//!   `no-cache`, so a new build is picked up at the next page load;
//! - a path that is not a file and has no extension (`/runs/<id>`) gets `index.html`,
//!   whose router shows the page; a missing file (`/runboard-<old hash>.js`) gets 404.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use super::AppState;

/// Shown when the web app has not been built: the API works without it.
const PLACEHOLDER: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Runboard</title></head>\
<body><main><h1>Runboard</h1><p>The server is running. The web app is not built: \
run <code>cargo xtask run</code> to build and serve it.</p></main></body></html>";

/// `Cache-Control` of files whose name carries their content's hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of everything else: revalidate on every use.
pub const NO_CACHE: &str = "no-cache";

/// Pages and assets, behind the token login.
pub fn router(state: &AppState) -> Router<AppState> {
    let index_html = state
        .config
        .static_dir
        .as_ref()
        .map(|d| d.join("index.html"))
        .filter(|p| p.is_file());
    let router = match (&state.config.static_dir, index_html) {
        (Some(dir), Some(index)) => from_folder(dir, &index),
        _ => fallback_router(),
    };
    router
        .layer(middleware::from_fn(cache_headers))
        .layer(middleware::from_fn_with_state(state.clone(), token_login))
        .layer(middleware::from_fn(page_policy))
}

/// `Content-Security-Policy` of the app's pages (and of everything else the app's
/// router answers: a module worker, such as the kernel's, runs under its script's
/// policy). What the app needs and no more:
/// - scripts only from the server, no inline script (the pages start the app from
///   `boot.js`), and `'wasm-unsafe-eval'`, without which no WebAssembly compiles;
/// - requests, websockets (`'self'` covers `ws:` to the same host and port) and
///   workers only to the server;
/// - styles from the server and inline ones (Leptos' `style=` attributes and the
///   chart module's stylesheet; a style cannot run code);
/// - images also from any `https:` site and `data:` (a markdown cell's pictures,
///   `log_image`), `blob:` (a notebook's export);
/// - no plugins, no `<base>`, forms only to the server, and no framing by any page.
pub const APP_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self' 'unsafe-inline'; img-src 'self' https: data: blob:; connect-src 'self'; \
worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of the bench's baseline page (`static/bench/baseline.html`, our own
/// file, which `cargo xtask bench portal` measures without any framework): the
/// [`APP_POLICY`] with its one inline script allowed.
const BENCH_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Sets [`APP_POLICY`], `X-Frame-Options: DENY` (`frame-ancestors` for browsers
/// without CSP 2) and `Referrer-Policy: same-origin` (a markdown cell's picture from
/// another site is not told which notebook shows it) on every answer of the app's
/// router: pages, the login and placeholder pages, assets.
async fn page_policy(request: Request, next: Next) -> Response {
    let policy = if request.uri().path().starts_with("/bench/") {
        BENCH_POLICY
    } else {
        APP_POLICY
    };
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

#[cfg(feature = "embed-ui")]
fn fallback_router() -> Router<AppState> {
    Router::new().fallback(embedded::serve)
}

#[cfg(not(feature = "embed-ui"))]
fn fallback_router() -> Router<AppState> {
    Router::new().fallback(|| async { Html(PLACEHOLDER) })
}

/// Serves the folder `dir`, with `index` (or `notebook.html`) for app paths.
fn from_folder(dir: &std::path::Path, index: &std::path::Path) -> Router<AppState> {
    let serve =
        |file: &std::path::Path| ServeFile::new(file).precompressed_br().precompressed_gzip();
    let notebook_html = dir.join(NOTEBOOK_PAGE);
    // A bundle from before the notebook pages has none: the portal's page says "not
    // found" for those paths.
    let notebook = serve(if notebook_html.is_file() {
        &notebook_html
    } else {
        index
    });
    let index = serve(index);
    let app_page = tower::service_fn(move |request: Request| {
        let page = match app_page(request.uri().path()) {
            Some(NOTEBOOK_PAGE) => notebook.clone(),
            Some(_) => index.clone(),
            None => return futures_util::future::Either::Left(std::future::ready(Ok(not_found()))),
        };
        futures_util::future::Either::Right(async move {
            let response = page.oneshot(request).await?;
            Ok::<_, std::convert::Infallible>(response.map(Body::new))
        })
    });
    Router::new().fallback_service(
        ServeDir::new(dir)
            .precompressed_br()
            .precompressed_gzip()
            .fallback(app_page),
    )
}

/// The page of the notebook app (file browser and notebooks).
const NOTEBOOK_PAGE: &str = "notebook.html";

/// The page that shows an app path: `notebook.html` for `/tree…` and `/notebooks/…`
/// (whose notebook paths may hold dots), `index.html` for the portal's paths, `None`
/// for what looks like a missing file.
fn app_page(path: &str) -> Option<&'static str> {
    if path == "/tree" || path.starts_with("/tree/") || path.starts_with("/notebooks/") {
        Some(NOTEBOOK_PAGE)
    } else if looks_like_file(path) {
        None
    } else {
        Some("index.html")
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such file\n").into_response()
}

/// True when a path names a file (its last part has an extension) rather than a
/// page of the app: app paths (`/runs/<id>`, `/experiments/<name>`) have none, since
/// run ids and experiment names cannot hold a dot.
fn looks_like_file(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

/// True when the last part of `path` carries a 16-hex-digit content hash, as the
/// bundle step names files: `<stem>-<hash>.<ext>` or `<stem>-<hash>_bg.wasm`; or
/// when its top folder does (`/pyodide-<hash>/pyodide.asm.wasm`: Pyodide's files keep
/// their names, and the folder's hash covers them all). App paths never start with
/// such a folder (`/notebooks/…`, `/tree/…`).
fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut parts = path.trim_start_matches('/').split('/');
    let top = parts.next().filter(|_| parts.next().is_some());
    let stem = match name.strip_suffix("_bg.wasm") {
        Some(stem) => Some(stem),
        None => name.split_once('.').map(|(stem, _)| stem),
    };
    stem.is_some_and(ends_with_hash) || top.is_some_and(ends_with_hash)
}

/// `<name>-<16 lower-case hex digits>`.
fn ends_with_hash(stem: &str) -> bool {
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        hash.len() == 16 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// `Cross-Origin-Opener-Policy` of every page and asset: with
/// [`EMBEDDER_POLICY`] it makes the pages `crossOriginIsolated`, which lets the
/// notebook page share a `SharedArrayBuffer` with its kernel's Web Worker. That is how
/// Interrupt reaches a cell looping in the worker, which cannot read messages until
/// the cell ends.
pub const OPENER_POLICY: &str = "same-origin";
/// `Cross-Origin-Embedder-Policy`: `credentialless` rather than `require-corp`, so a
/// markdown cell may still show an image from another site (fetched without cookies).
pub const EMBEDDER_POLICY: &str = "credentialless";

/// Sets `Cache-Control` (see the module doc), `Vary: Accept-Encoding` and the
/// cross-origin isolation headers ([`OPENER_POLICY`], [`EMBEDDER_POLICY`]).
async fn cache_headers(request: Request, next: Next) -> Response {
    let hashed = is_hashed(request.uri().path());
    let mut response = next.run(request).await;
    let status = response.status();
    let cache = if hashed && (status.is_success() || status == StatusCode::NOT_MODIFIED) {
        IMMUTABLE
    } else {
        NO_CACHE
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if !headers.contains_key(header::VARY) {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static(OPENER_POLICY),
    );
    headers.insert(
        "cross-origin-embedder-policy",
        HeaderValue::from_static(EMBEDDER_POLICY),
    );
    response
}

/// `?token=` on any page URL: a right token sets the session cookie and redirects to
/// the same URL without it; a wrong one gets a clear page.
async fn token_login(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(token) = token_param(request.uri()) else {
        return next.run(request).await;
    };
    if !super::constant_time_eq(token.as_bytes(), state.config.token.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            Html("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Runboard: wrong token</title></head>\
                  <body><main><h1>Wrong token</h1><p>The token in this link is not this server's. \
                  Open the login URL that <code>runboard serve</code> printed, or run <code>runboard token</code> to print it again.</p></main></body></html>"),
        )
            .into_response();
    }
    let target = without_token(request.uri());
    // A session of the built-in admin, not the token itself: the cookie can be
    // revoked (logout, `DELETE /api/sessions/{id}`) without changing the token.
    match super::auth::start_session(&state, None, None).await {
        Ok(cookie) => {
            let mut response = Redirect::to(&target).into_response();
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            response
        }
        Err(e) => e.into_response(),
    }
}

fn token_param(uri: &Uri) -> Option<String> {
    uri.query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(str::to_owned)
}

fn without_token(uri: &Uri) -> String {
    let rest: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("token="))
        .collect();
    if rest.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{}", uri.path(), rest.join("&"))
    }
}

/// The content type of a bundle file, by extension.
#[cfg(any(feature = "embed-ui", test))]
fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "py" => "text/plain; charset=utf-8",
        "zip" => "application/zip",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// The precompressed variant to send for an `Accept-Encoding` header: `br` before
/// `gzip` (smaller), each only when accepted with a non-zero quality.
#[cfg(any(feature = "embed-ui", test))]
fn pick_encoding(accept_encoding: &str) -> [Option<(&'static str, &'static str)>; 2] {
    let accepted = |name: &str| {
        accept_encoding.split(',').any(|part| {
            let mut fields = part.split(';').map(str::trim);
            let coding = fields.next().unwrap_or_default();
            let zero = fields.any(|f| {
                f.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            coding.eq_ignore_ascii_case(name) && !zero
        })
    };
    [
        accepted("br").then_some(("br", ".br")),
        accepted("gzip").then_some(("gzip", ".gz")),
    ]
}

/// The bundle embedded in the binary (`--features embed-ui`): `static/pkg/` as it was
/// when the server was compiled. `cargo xtask run --release` builds the bundle
/// first; the embedded files are tracked by cargo, so a new bundle (whose hashed
/// names change) rebuilds the server.
#[cfg(feature = "embed-ui")]
mod embedded {
    use super::*;
    use axum::http::Method;

    static BUNDLE: include_dir::Dir<'static> =
        include_dir::include_dir!("$CARGO_MANIFEST_DIR/../static/pkg");

    /// Answers a GET or HEAD for a bundle file, or `index.html` for an app path.
    pub(super) async fn serve(request: Request) -> Response {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return StatusCode::METHOD_NOT_ALLOWED.into_response();
        }
        let path = request.uri().path().trim_start_matches('/');
        let name = if path.is_empty() { "index.html" } else { path };
        let name = match BUNDLE.get_file(name) {
            Some(_) => name,
            None => match app_page(request.uri().path()) {
                Some(page) => page,
                None => return not_found(),
            },
        };
        let Some(file) = BUNDLE.get_file(name) else {
            return (StatusCode::NOT_FOUND, Html(PLACEHOLDER)).into_response();
        };
        let accept = request
            .headers()
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let variant = pick_encoding(accept)
            .into_iter()
            .flatten()
            .find_map(|(coding, ext)| {
                BUNDLE
                    .get_file(format!("{name}{ext}"))
                    .map(|f| (coding, f.contents()))
            });
        let mut response = Response::builder()
            .header(header::CONTENT_TYPE, content_type(name))
            .header(header::VARY, "accept-encoding");
        let body = match variant {
            Some((coding, bytes)) => {
                response = response.header(header::CONTENT_ENCODING, coding);
                bytes
            }
            None => file.contents(),
        };
        response = response.header(header::CONTENT_LENGTH, body.len());
        let body = if request.method() == Method::HEAD {
            Body::empty()
        } else {
            Body::from(body)
        };
        response
            .body(body)
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_dropped_from_the_address() {
        let check = |uri: &str, token: Option<&str>, rest: &str| {
            let uri: Uri = uri.parse().unwrap();
            assert_eq!(token_param(&uri).as_deref(), token);
            assert_eq!(without_token(&uri), rest);
        };
        check("/?token=abc", Some("abc"), "/");
        check(
            "/runs/x?tab=logs&token=abc",
            Some("abc"),
            "/runs/x?tab=logs",
        );
        check("/runs/x?tab=logs", None, "/runs/x?tab=logs");
    }

    #[test]
    fn hashed_names_are_recognised() {
        let check = |path: &str, expect: bool| assert_eq!(is_hashed(path), expect, "{path}");
        check("/runboard-55ae9b002befc812.js", true);
        check("/runboard-55ae9b002befc812_bg.wasm", true);
        check("/style-e1a45d488002fad4.css", true);
        check("/bench/baseline-e1a45d488002fad4.html", true);
        check("/index.html", false);
        check("/manifest.json", false);
        check("/", false);
        check("/runs/exp_1700000000_0000abcd", false);
        check("/runboard-55AE9B002BEFC812.js", false);
        check("/runboard-55ae9b002befc81.js", false);
        check("/pyodide-55ae9b002befc812/pyodide.asm.wasm", true);
        check("/pyodide-55ae9b002befc812/python_stdlib.zip", true);
        check("/pyodide/pyodide.asm.wasm", false);
        check("/notebooks/x-55ae9b002befc812/a.ipynb", false);
        check("/tree/x-55ae9b002befc812/a", false);
    }

    #[test]
    fn notebook_paths_get_the_notebook_page_even_with_dots() {
        assert_eq!(app_page("/tree"), Some(NOTEBOOK_PAGE));
        assert_eq!(app_page("/tree/projects/a.b"), Some(NOTEBOOK_PAGE));
        assert_eq!(app_page("/notebooks/Quickstart.ipynb"), Some(NOTEBOOK_PAGE));
        assert_eq!(
            app_page("/runs/exp_1700000000_0000abcd"),
            Some("index.html")
        );
        assert_eq!(app_page("/treehouse"), Some("index.html"));
        assert_eq!(app_page("/runboard-0123.js"), None);
    }

    #[test]
    fn app_paths_are_not_files() {
        assert!(!looks_like_file("/runs/exp_1700000000_0000abcd"));
        assert!(!looks_like_file("/experiments/mnist"));
        assert!(!looks_like_file("/"));
        assert!(looks_like_file("/runboard-0123.js"));
        assert!(looks_like_file("/favicon.ico"));
    }

    #[test]
    fn encodings_follow_accept_encoding() {
        let check = |header: &str, expect: &[&str]| {
            let picked: Vec<&str> = pick_encoding(header)
                .into_iter()
                .flatten()
                .map(|(c, _)| c)
                .collect();
            assert_eq!(picked, expect, "{header}");
        };
        check("gzip, deflate, br, zstd", &["br", "gzip"]);
        check("gzip", &["gzip"]);
        check("br;q=0, gzip;q=0.5", &["gzip"]);
        check("", &[]);
        check("identity", &[]);
        assert_eq!(content_type("/a/b_bg.wasm"), "application/wasm");
        assert_eq!(content_type("/index.html"), "text/html; charset=utf-8");
    }

    /// A server state whose static folder holds a tiny bundle.
    async fn state_with_bundle() -> (tempfile::TempDir, AppState) {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("index.html"), "<!doctype html><title>app</title>").unwrap();
        std::fs::write(pkg.join("index.html.gz"), "gzipped index").unwrap();
        std::fs::write(pkg.join("runboard-0123456789abcdef.js"), "js").unwrap();
        std::fs::write(pkg.join("runboard-0123456789abcdef.js.br"), "br js").unwrap();
        let mut config = crate::config::Config::new(dir.path().join("data"));
        config.token = "secret".into();
        config.static_dir = Some(pkg);
        let state = AppState::open(config).await.unwrap();
        (dir, state)
    }

    async fn get(state: &AppState, uri: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = Request::get(uri);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        crate::api::app(state.clone())
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    async fn text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn header(response: &Response, name: impl header::AsHeaderName) -> &str {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[tokio::test]
    async fn the_bundle_is_served_with_cache_headers_and_deep_links() {
        let (_dir, state) = state_with_bundle().await;

        let js = get(&state, "/runboard-0123456789abcdef.js", &[]).await;
        assert_eq!(js.status(), StatusCode::OK);
        assert_eq!(header(&js, header::CACHE_CONTROL), IMMUTABLE);
        assert_eq!(header(&js, header::VARY), "accept-encoding");
        // The worker's script and wasm are isolated as the pages are.
        assert_eq!(
            header(&js, "cross-origin-embedder-policy"),
            "credentialless"
        );
        assert_eq!(text(js).await, "js");

        let js_br = get(
            &state,
            "/runboard-0123456789abcdef.js",
            &[("accept-encoding", "gzip, br")],
        )
        .await;
        assert_eq!(header(&js_br, header::CONTENT_ENCODING), "br");
        assert_eq!(text(js_br).await, "br js");

        for deep_link in ["/", "/runs/exp_1700000000_0000abcd", "/experiments/mnist"] {
            let page = get(&state, deep_link, &[]).await;
            assert_eq!(page.status(), StatusCode::OK, "{deep_link}");
            assert_eq!(
                header(&page, header::CACHE_CONTROL),
                NO_CACHE,
                "{deep_link}"
            );
            assert!(header(&page, header::CONTENT_TYPE).starts_with("text/html"));
            assert_eq!(header(&page, "cross-origin-opener-policy"), "same-origin");
            assert_eq!(
                header(&page, "cross-origin-embedder-policy"),
                "credentialless"
            );
            assert_eq!(header(&page, header::CONTENT_SECURITY_POLICY), APP_POLICY);
            assert_eq!(header(&page, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
            assert_eq!(header(&page, header::X_FRAME_OPTIONS), "DENY");
            assert_eq!(text(page).await, "<!doctype html><title>app</title>");
        }
        let gz = get(
            &state,
            "/runs/exp_1_0000abcd",
            &[("accept-encoding", "gzip")],
        )
        .await;
        assert_eq!(header(&gz, header::CONTENT_ENCODING), "gzip");

        let stale = get(&state, "/runboard-ffffffffffffffff.js", &[]).await;
        assert_eq!(stale.status(), StatusCode::NOT_FOUND);
        assert_eq!(header(&stale, header::CACHE_CONTROL), NO_CACHE);

        // The API never falls back to the app's page.
        let api = get(&state, "/api/nope", &[("authorization", "Bearer secret")]).await;
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
        assert!(header(&api, header::CONTENT_TYPE).starts_with("application/json"));

        // Login: the token sets the cookie and leaves the address.
        let login = get(&state, "/runs/exp_1_0000abcd?token=secret", &[]).await;
        assert_eq!(login.status(), StatusCode::SEE_OTHER);
        assert_eq!(header(&login, header::LOCATION), "/runs/exp_1_0000abcd");
        let cookie = header(&login, header::SET_COOKIE);
        assert!(cookie.starts_with("runboard-session-8070="), "{cookie}");
        assert!(
            !cookie.contains("secret"),
            "the cookie is not the token: {cookie}"
        );
        let wrong = get(&state, "/?token=nope", &[]).await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(header(&wrong, header::CONTENT_SECURITY_POLICY), APP_POLICY);
    }

    #[tokio::test]
    async fn the_placeholder_page_carries_the_policy() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = crate::config::Config::new(dir.path().join("data"));
        config.token = "secret".into();
        let state = AppState::open(config).await.unwrap();
        let page = get(&state, "/", &[]).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(header(&page, header::CONTENT_SECURITY_POLICY), APP_POLICY);
        assert_eq!(header(&page, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    }
}
