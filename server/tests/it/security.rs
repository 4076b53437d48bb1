//! The browser cannot be turned against the server (`api::guard`, the files' headers),
//! against a real `runboard serve`: requests are sent as a browser would send them
//! (the session cookie, `Origin`, `Host`).

use runboard_server::snapshot;
use runboard_shared::api::RunList;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;
use tungstenite::client::IntoClientRequest;

use crate::support::{Server, source};

/// A multipart submission of `src` with a plain estimator, as the CLI builds it.
fn submission(src: &std::path::Path) -> reqwest::multipart::Form {
    let mut archive = Vec::new();
    snapshot::pack(src, snapshot::DEFAULT_LIMIT, &mut archive).unwrap();
    reqwest::multipart::Form::new()
        .text(
            "estimator",
            json!({"entry_script": "train.py", "source_directory": src.display().to_string()})
                .to_string(),
        )
        .part("snapshot", reqwest::multipart::Part::bytes(archive))
}

/// The session cookie a browser holds after the `?token=` login.
async fn cookie(server: &Server) -> String {
    let login = crate::roles::client()
        .get(format!("{}/?token={}", server.url, server.token))
        .send()
        .await
        .unwrap();
    crate::roles::session_cookie(server, &login).expect("the ?token= login sets a session cookie")
}

/// Every run the server has.
async fn runs(server: &Server) -> RunList {
    let response = server.get("/api/runs").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The status and error code of an answer.
async fn status_and_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
    (status, code)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_of_another_origin_cannot_submit_or_follow_a_run_with_the_session_cookie() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[("train.py", "print('hello')\n")]);
    let http = reqwest::Client::new();
    let own = format!("http://127.0.0.1:{}", server.port);
    let other_port = if server.port == 3000 { 3001 } else { 3000 };
    let foreign = [
        format!("http://127.0.0.1:{other_port}"),
        format!("http://localhost:{}", server.port),
        "https://evil.example".to_owned(),
        "null".to_owned(),
    ];

    // Cross-origin submissions with the cookie: 403 naming the origin, and no run.
    for origin in &foreign {
        let response = http
            .post(format!("{}/api/experiments/x/runs", server.url))
            .header("Cookie", cookie(&server).await)
            .header("Origin", origin)
            .multipart(submission(src.path()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{origin}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "cross_origin", "{origin}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(origin.as_str()), "{message}");
    }
    // Without Origin, a browser's Sec-Fetch-Site says the same.
    for site in ["cross-site", "same-site"] {
        let response = http
            .post(format!("{}/api/experiments/x/runs", server.url))
            .header("Cookie", cookie(&server).await)
            .header("Sec-Fetch-Site", site)
            .multipart(submission(src.path()))
            .send()
            .await
            .unwrap();
        assert_eq!(
            status_and_code(response).await,
            (403, "cross_origin".into())
        );
    }
    // Other state-changing methods too.
    let patch = http
        .patch(format!(
            "{}/api/runs/x_1700000000_0000abcd/tags",
            server.url
        ))
        .header("Cookie", cookie(&server).await)
        .header("Origin", &foreign[0])
        .json(&json!({"tags": {"a": "b"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(status_and_code(patch).await, (403, "cross_origin".into()));
    let put = http
        .put(format!("{}/api/files/planted.py", server.url))
        .header("Cookie", cookie(&server).await)
        .header("Origin", &foreign[0])
        .body("import os")
        .send()
        .await
        .unwrap();
    assert_eq!(status_and_code(put).await, (403, "cross_origin".into()));
    assert_eq!(server.get("/api/files/planted.py").await.status(), 404);
    assert!(
        runs(&server).await.runs.is_empty(),
        "a refused request started a run"
    );

    // The server's own page: the same submission works.
    let response = http
        .post(format!("{}/api/experiments/x/runs", server.url))
        .header("Cookie", cookie(&server).await)
        .header("Origin", &own)
        .header("Sec-Fetch-Site", "same-origin")
        .multipart(submission(src.path()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    // A script with a bearer token and no Origin (the CLI, the SDK) works.
    let response = http
        .post(format!("{}/api/experiments/x/runs", server.url))
        .bearer_auth(&server.token)
        .multipart(submission(src.path()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let listed = runs(&server).await.runs;
    assert_eq!(listed.len(), 2);
    let run_id = listed[0].run_id.to_string();

    // The run's websocket: refused from another origin before the upgrade…
    let session = cookie(&server).await;
    let websocket = |origin: Option<String>| {
        let mut request = server.events_url(&run_id, 0).into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Cookie", session.parse().unwrap());
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("Origin", origin.parse().unwrap());
        }
        tokio_tungstenite::connect_async(request)
    };
    for origin in &foreign {
        match websocket(Some(origin.clone())).await {
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 403, "{origin}");
                let body: Value =
                    serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
                assert_eq!(body["error"]["code"], "cross_origin");
            }
            other => panic!("a websocket from {origin} was not refused: {other:?}"),
        }
    }
    // …and opened from the server's own page or by a client without Origin.
    let (mut ws, _) = websocket(Some(own.clone())).await.unwrap();
    assert!(crate::support::next_frame(&mut ws).await.is_some());
    let (mut ws, _) = websocket(None).await.unwrap();
    assert!(crate::support::next_frame(&mut ws).await.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_host_is_refused_unless_allowed() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        &data.path().join("data"),
        0,
        &["--allow-host", "runboard.test"],
    );
    let http = reqwest::Client::new();
    let port = server.port;
    // (Host header, status of a GET of the API with the token, of the app's page)
    let cases = [
        (format!("127.0.0.1:{port}"), 200, 200),
        (format!("localhost:{port}"), 200, 200),
        (format!("[::1]:{port}"), 200, 200),
        (format!("runboard.test:{port}"), 200, 200),
        (format!("RUNBOARD.TEST:{port}"), 200, 200),
        // DNS rebinding: evil.example now resolves to 127.0.0.1.
        (format!("evil.example:{port}"), 403, 403),
        (format!("runboard.test.evil.example:{port}"), 403, 403),
    ];
    for (host, api, page) in cases {
        let response = http
            .get(format!("{}/api/experiments", server.url))
            .header("Host", &host)
            .bearer_auth(&server.token)
            .send()
            .await
            .unwrap();
        let (status, code) = status_and_code(response).await;
        assert_eq!(status, api, "{host}");
        if api == 403 {
            assert_eq!(code, "host_not_allowed", "{host}");
        }
        let response = http
            .get(format!("{}/", server.url))
            .header("Host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), page, "{host}");
    }

    // A flag that is not a host name is a clear error at start.
    let out = std::process::Command::new(crate::support::RUNBOARD)
        .args([
            "serve",
            "--port",
            "0",
            "--allow-host",
            "http://runboard.test:80",
        ])
        .arg("--data-dir")
        .arg(data.path().join("other"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--allow-host takes a host name"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn files_users_and_jobs_wrote_are_never_pages_of_the_server() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let page = "<script>document.title='pwned'</script>";
    let picture =
        "<svg xmlns='http://www.w3.org/2000/svg'><script>document.title='pwned'</script></svg>";
    let png = [0x89u8, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    let script = format!(
        "import os\nos.makedirs('outputs', exist_ok=True)\n\
         open('outputs/x.html', 'w').write({page:?})\n\
         open('outputs/x.svg', 'w').write({picture:?})\n\
         open('outputs/x.txt', 'w').write('<script>alert(1)</script>')\n\
         open('outputs/x.png', 'wb').write(bytes({png:?}))\n"
    );
    let src = source(&[
        ("train.py", &script),
        ("page.html", page),
        ("notes.txt", "hi"),
    ]);
    let run = server
        .submit("files", src.path(), json!({"entry_script": "train.py"}))
        .await;
    let id = run.run_id.as_str();
    let ended = server.wait_until_ended(id).await;
    assert_eq!(ended.status.to_string(), "Completed", "{:?}", ended.error);
    for (name, body) in [("x.html", page), ("x.svg", picture)] {
        let response = reqwest::Client::new()
            .put(format!("{}/api/files/{name}", server.url))
            .bearer_auth(&server.token)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }

    // (URL, downloaded as an attachment, content type when shown inline)
    let cases = [
        (format!("/api/runs/{id}/files/outputs/x.html"), true, None),
        (format!("/api/runs/{id}/files/outputs/x.svg"), true, None),
        (
            format!("/api/runs/{id}/files/outputs/x.txt"),
            false,
            Some("text/plain; charset=utf-8"),
        ),
        (
            format!("/api/runs/{id}/files/outputs/x.png"),
            false,
            Some("image/png"),
        ),
        (
            format!("/api/runs/{id}/files/user_logs/std_log.txt"),
            false,
            Some("text/plain; charset=utf-8"),
        ),
        (format!("/api/runs/{id}/snapshot/page.html"), true, None),
        (
            format!("/api/runs/{id}/snapshot/notes.txt"),
            false,
            Some("text/plain; charset=utf-8"),
        ),
        (
            format!("/api/runs/{id}/snapshot/train.py"),
            false,
            Some("text/plain; charset=utf-8"),
        ),
        ("/api/files/x.html".to_owned(), true, None),
        ("/api/files/x.svg".to_owned(), true, None),
    ];
    for (url, attachment, inline_type) in cases {
        let response = server.get(&url).await;
        assert_eq!(response.status(), 200, "{url}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(
            header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{url}"
        );
        assert_eq!(
            header("content-security-policy").as_deref(),
            Some("sandbox"),
            "{url}"
        );
        assert_eq!(
            header("content-disposition").as_deref(),
            attachment.then_some("attachment"),
            "{url}"
        );
        if let Some(inline_type) = inline_type {
            assert_eq!(
                header("content-type").as_deref(),
                Some(inline_type),
                "{url}"
            );
        }
    }
    // The bytes are the job's, whatever the headers say.
    assert_eq!(server.file(id, "outputs/x.html").await, page.as_bytes());
    // A Range read (the portal's text preview) keeps the headers.
    let response = reqwest::Client::new()
        .get(format!("{}/api/runs/{id}/files/outputs/x.html", server.url))
        .bearer_auth(&server.token)
        .header("Range", "bytes=0-7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 206);
    assert_eq!(
        response.headers()["content-disposition"].to_str().unwrap(),
        "attachment"
    );
    assert_eq!(response.text().await.unwrap(), "<script>");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_link_logs_in_when_followed_from_any_site_but_not_from_a_subresource() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = format!("{}/runs?token={}", server.url, server.token);
    // (Sec-Fetch-Site, Sec-Fetch-Mode, Sec-Fetch-Dest, status): what Chromium sends
    // for a link clicked in a chat's page, typed in the address bar, and an <img> or
    // fetch() of another site.
    let cases = [
        (Some("cross-site"), "navigate", "document", 303),
        (Some("none"), "navigate", "document", 303),
        (None, "navigate", "document", 303),
        (Some("cross-site"), "no-cors", "image", 403),
        (Some("same-site"), "cors", "empty", 403),
        (Some("same-origin"), "cors", "empty", 303),
    ];
    for (site, mode, dest, status) in cases {
        let mut request = http
            .get(&login)
            .header("Sec-Fetch-Mode", mode)
            .header("Sec-Fetch-Dest", dest);
        if let Some(site) = site {
            request = request.header("Sec-Fetch-Site", site);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{site:?} {mode} {dest}");
        let sets_cookie = response.headers().contains_key("set-cookie");
        assert_eq!(sets_cookie, status == 303, "{site:?} {mode} {dest}");
    }
}
