//! People, sessions, personal API tokens and share links against a real server: the
//! CLI's one-time login links, passwords, roles changing under a live session,
//! logout and revocation, idle expiry, and what a share link opens.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::roles::{
    add_user, client, completed_run, log_in, open_share_link, person, session_cookie, set_password,
    user, with_cookie,
};
use crate::support::{Server, source};

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_is_added_sets_a_password_once_logs_in_changes_role_and_is_removed() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let link = add_user(&server, "ed", "editor");

    // The one-time link shows a form; a short password is refused and keeps the link.
    let page = client().get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Welcome, ed."));
    let short = set_password(&link, "short").await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    assert!(short.text().await.unwrap().contains("8 to 1024 characters"));
    let first = set_password(&link, "a long password").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&server, &first).unwrap();
    // It works once.
    for again in [
        client().get(&link).send().await.unwrap(),
        set_password(&link, "another password").await,
    ] {
        assert_eq!(again.status(), StatusCode::GONE);
    }

    // Name and password log in; a wrong password or name does not.
    let login = log_in(&server, "ed", "a long password").await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    assert_eq!(login.headers()["location"], "/");
    assert!(session_cookie(&server, &login).is_some());
    for (name, password) in [("ed", "another password"), ("nobody", "a long password")] {
        let refused = log_in(&server, name, password).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{name}");
        assert!(session_cookie(&server, &refused).is_none());
        assert!(
            refused
                .text()
                .await
                .unwrap()
                .contains("Wrong name or password.")
        );
    }
    let me = json_of(with_cookie(&server, Method::GET, "/api/session", &cookie).await).await;
    assert_eq!(me, json!({"name": "ed", "role": "editor"}));

    // An editor writes files; what they submit records them.
    let put = client()
        .put(format!("{}/api/files/notes.txt", server.url))
        .header("cookie", &cookie)
        .body("hello")
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.status());
    let token: Value = json_of(
        client()
            .post(format!("{}/api/tokens", server.url))
            .header("cookie", &cookie)
            .json(&json!({"label": "laptop"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let token = token["token"].as_str().unwrap().to_owned();
    let src = source(&[("train.py", "print('hi')\n")]);
    let mut archive = Vec::new();
    runboard_server::snapshot::pack(src.path(), 1 << 20, &mut archive).unwrap();
    let form = reqwest::multipart::Form::new()
        .text(
            "estimator",
            json!({"entry_script": "train.py", "source_directory": src.path()}).to_string(),
        )
        .part("snapshot", reqwest::multipart::Part::bytes(archive));
    let submitted = client()
        .post(format!("{}/api/experiments/mine/runs", server.url))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), StatusCode::CREATED);
    let run_id = json_of(submitted).await["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        server.details(&run_id).await.submitted_by.as_deref(),
        Some("ed")
    );
    let runs = json_of(server.get("/api/runs?experiment=mine").await).await;
    assert_eq!(runs["runs"][0]["submitted_by"], "ed");
    let by_admin = completed_run(&server, "theirs").await;
    assert_eq!(
        server.details(&by_admin).await.submitted_by.as_deref(),
        Some("admin")
    );

    // The CLI refuses what it cannot do, naming why.
    for (args, says) in [
        (vec!["add", "ed", "--role", "viewer"], "already exists"),
        (
            vec!["add", "eve", "--role", "owner"],
            "unknown role \"owner\"",
        ),
        (vec!["add", "admin", "--role", "viewer"], "built-in admin"),
        (vec!["add", "../x", "--role", "viewer"], "invalid name"),
        (
            vec!["set-role", "nobody", "viewer"],
            "no person called \"nobody\"",
        ),
        (vec!["remove", "nobody"], "no person called \"nobody\""),
    ] {
        let out = user(&server, &args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let list = user(&server, &["list"]);
    assert_eq!(String::from_utf8_lossy(&list.stdout), "ed\teditor\n");

    // A new role takes effect on the live session and token at once.
    let out = user(&server, &["set-role", "ed", "viewer"]);
    assert!(out.status.success(), "{out:?}");
    let refused = client()
        .put(format!("{}/api/files/notes.txt", server.url))
        .header("cookie", &cookie)
        .body("again")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let error = json_of(refused).await;
    assert_eq!(error["error"]["code"], "forbidden");
    assert_eq!(
        error["error"]["message"],
        "this needs the editor role; ed is a viewer"
    );
    let me = json_of(with_cookie(&server, Method::GET, "/api/session", &cookie).await).await;
    assert_eq!(me["role"], "viewer");

    // Removed: their sessions and tokens die with them.
    let out = user(&server, &["remove", "ed"]);
    assert!(out.status.success(), "{out:?}");
    let gone = with_cookie(&server, Method::GET, "/api/experiments", &cookie).await;
    assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);
    let gone = client()
        .get(format!("{}/api/experiments", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(user(&server, &["list"]).stdout, b"");
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_are_httponly_cookies_that_logout_revocation_and_idleness_end() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        &data.path().join("data"),
        0,
        &["--session-idle-seconds", "3"],
    );

    // `?token=` logs in as the built-in admin with a session, not the token.
    let login = client()
        .get(format!("{}/runs/x?token={}", server.url, server.token))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let set_cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    let name = format!("runboard-session-{}=", server.port);
    assert!(set_cookie.starts_with(&name), "{set_cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "http here: {set_cookie}");
    assert!(!set_cookie.contains(&server.token), "{set_cookie}");
    let admin = session_cookie(&server, &login).unwrap();
    let me = json_of(with_cookie(&server, Method::GET, "/api/session", &admin).await).await;
    assert_eq!(me, json!({"name": "admin", "role": "admin"}));
    // The token itself as the cookie's value is nobody.
    let forged = format!("{name}{}", server.token);
    let status = with_cookie(&server, Method::GET, "/api/experiments", &forged)
        .await
        .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Two sessions of one person: each lists both, the current one marked.
    let first = person(&server, "vi", "viewer").await;
    let second = session_cookie(&server, &log_in(&server, "vi", "a long password").await).unwrap();
    let list = json_of(with_cookie(&server, Method::GET, "/api/sessions", &second).await).await;
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{list}");
    assert!(sessions.iter().all(|s| s["person"] == "vi"));
    let current: Vec<bool> = sessions
        .iter()
        .map(|s| s["current"].as_bool().unwrap())
        .collect();
    assert_eq!(current, [true, false], "newest first");
    let first_id = sessions[1]["id"].as_i64().unwrap();
    // A viewer sees only their own sessions, and cannot end the admin's.
    let admin_list =
        json_of(with_cookie(&server, Method::GET, "/api/sessions", &admin).await).await;
    let admin_id = admin_list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["person"] == "admin")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let refused = with_cookie(
        &server,
        Method::DELETE,
        &format!("/api/sessions/{admin_id}"),
        &second,
    )
    .await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);

    // Revoking the other session ends it; logout ends this one and clears the cookie.
    let revoked = with_cookie(
        &server,
        Method::DELETE,
        &format!("/api/sessions/{first_id}"),
        &second,
    )
    .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let status = with_cookie(&server, Method::GET, "/api/experiments", &first)
        .await
        .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let logout = with_cookie(&server, Method::POST, "/api/session/logout", &second).await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert!(
        logout.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let status = with_cookie(&server, Method::GET, "/api/experiments", &second)
        .await
        .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A bearer token has no session to end.
    let no_session = server.post("/api/session/logout").await;
    assert_eq!(no_session.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(no_session).await["error"]["code"], "no_session");

    // A session idle for 3 s (this server's limit) has ended.
    let status = with_cookie(&server, Method::GET, "/api/experiments", &admin)
        .await
        .status();
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let status = with_cookie(&server, Method::GET, "/api/experiments", &admin)
        .await
        .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn share_links_show_their_run_or_experiment_until_revoked_or_expired() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let run = completed_run(&server, "shared").await;
    let sibling = completed_run(&server, "shared").await;
    let other = completed_run(&server, "private").await;
    let editor = person(&server, "ed", "editor").await;

    // Bad input is refused, naming what was wrong, and makes no link.
    for (path, body, status, code) in [
        (
            format!("/api/runs/{run}/share-links"),
            json!({"expires_in_hours": 0}),
            400,
            "invalid_expiry",
        ),
        (
            format!("/api/runs/{run}/share-links"),
            json!({"expires_in_hours": 1e9}),
            400,
            "invalid_expiry",
        ),
        (
            format!("/api/runs/{run}/share-links"),
            json!({"expire_in_hours": 1}),
            400,
            "invalid_json",
        ),
        (
            "/api/runs/nope_1700000000_0000abcd/share-links".to_owned(),
            json!({}),
            404,
            "not_found",
        ),
        (
            "/api/experiments/nope/share-links".to_owned(),
            json!({}),
            404,
            "not_found",
        ),
    ] {
        let response = client()
            .post(format!("{}{path}", server.url))
            .header("cookie", &editor)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{path} {body}");
        assert_eq!(
            json_of(response).await["error"]["code"],
            code,
            "{path} {body}"
        );
    }
    let links = json_of(
        with_cookie(
            &server,
            Method::GET,
            &format!("/api/runs/{run}/share-links"),
            &editor,
        )
        .await,
    )
    .await;
    assert_eq!(links, json!({"links": []}));

    // A run link: that run's pages, nothing else.
    let created = client()
        .post(format!("{}/api/runs/{run}/share-links", server.url))
        .header("cookie", &editor)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let link = json_of(created).await;
    assert_eq!(link["created_by"], "ed");
    assert_eq!(link["run_id"], run.as_str());
    let url = link["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/s/", server.url)), "{url}");
    let (share, location) = open_share_link(&server, &url).await;
    assert_eq!(location, format!("/runs/{run}"));
    // Someone logged in keeps their own session when they open it.
    let own = with_cookie(
        &server,
        Method::GET,
        url.trim_start_matches(&server.url),
        &editor,
    )
    .await;
    assert_eq!(own.status(), StatusCode::SEE_OTHER);
    assert_eq!(own.headers()["location"], format!("/runs/{run}").as_str());
    assert!(own.headers().get("set-cookie").is_none());
    let me = json_of(with_cookie(&server, Method::GET, "/api/session", &share).await).await;
    assert_eq!(me, json!({"name": "share link", "shared_run": run}));
    let log = with_cookie(
        &server,
        Method::GET,
        &format!("/api/runs/{run}/files/user_logs/std_log.txt"),
        &share,
    )
    .await;
    assert_eq!(log.status(), StatusCode::OK);
    assert!(log.text().await.unwrap().contains("hello"));
    for path in [
        format!("/api/runs/{sibling}"),
        "/api/runs?experiment=shared".to_owned(),
        "/api/experiments".to_owned(),
        "/api/files".to_owned(),
        format!("/runs/{other}/tensorboard/"),
    ] {
        let status = with_cookie(&server, Method::GET, &path, &share)
            .await
            .status();
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    // The listing shows the link without its secret.
    let links = json_of(
        with_cookie(
            &server,
            Method::GET,
            &format!("/api/runs/{run}/share-links"),
            &editor,
        )
        .await,
    )
    .await;
    assert_eq!(links["links"].as_array().unwrap().len(), 1);
    assert!(links["links"][0].get("url").is_none(), "{links}");

    // An admin's link cannot be revoked by an editor; the editor's own can.
    let admin_link = json_of(server.post(&format!("/api/runs/{run}/share-links")).await).await;
    let refused = with_cookie(
        &server,
        Method::DELETE,
        &format!("/api/runs/{run}/share-links/{}", admin_link["id"]),
        &editor,
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let revoked = with_cookie(
        &server,
        Method::DELETE,
        &format!("/api/runs/{run}/share-links/{}", link["id"]),
        &editor,
    )
    .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let status = with_cookie(&server, Method::GET, &format!("/api/runs/{run}"), &share)
        .await
        .status();
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a revoked link's session has ended"
    );
    let reopened = client().get(&url).send().await.unwrap();
    assert_eq!(reopened.status(), StatusCode::GONE);

    // An experiment link: that experiment's runs and their pages only.
    let created = client()
        .post(format!("{}/api/experiments/shared/share-links", server.url))
        .header("cookie", &editor)
        .json(&json!({"expires_in_hours": 0.001}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let link = json_of(created).await;
    assert!(link["expires_utc"].is_string(), "{link}");
    let url = link["url"].as_str().unwrap().to_owned();
    let (share, location) = open_share_link(&server, &url).await;
    assert_eq!(location, "/experiments/shared");
    let runs =
        json_of(with_cookie(&server, Method::GET, "/api/runs?experiment=shared", &share).await)
            .await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 2, "{runs}");
    for (path, status) in [
        (format!("/api/runs/{sibling}"), StatusCode::OK),
        ("/api/experiments/shared/metrics".to_owned(), StatusCode::OK),
        (format!("/api/runs/{other}"), StatusCode::FORBIDDEN),
        (
            "/api/runs?experiment=private".to_owned(),
            StatusCode::FORBIDDEN,
        ),
        ("/api/runs".to_owned(), StatusCode::FORBIDDEN),
    ] {
        let got = with_cookie(&server, Method::GET, &path, &share)
            .await
            .status();
        assert_eq!(got, status, "{path}");
    }
    // 0.001 hours is 3.6 s: then the link and its session stop working.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let status = with_cookie(
        &server,
        Method::GET,
        &format!("/api/runs/{sibling}"),
        &share,
    )
    .await
    .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let expired = client().get(&url).send().await.unwrap();
    assert_eq!(expired.status(), StatusCode::GONE);
}

/// A form post as a browser on the server's own page sends it.
async fn post_form(
    server: &Server,
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(format!("{}{path}", server.url))
        .header("cookie", cookie)
        .header("origin", &server.url)
        .form(fields)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_share_and_account_pages_create_list_and_revoke_by_the_apis_rules() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let run = completed_run(&server, "pages").await;
    let editor = person(&server, "ed", "editor").await;
    let viewer = person(&server, "vi", "viewer").await;
    let share_page = format!("/runs/{run}/share");
    let links = || async {
        let response = server.get(&format!("/api/runs/{run}/share-links")).await;
        json_of(response).await["links"].as_array().unwrap().len()
    };

    // Who may open it: nobody logged in goes to the login page; a viewer is told
    // which role it needs.
    let anonymous = client()
        .get(format!("{}{share_page}", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers()["location"], "/login");
    let refused = with_cookie(&server, Method::GET, &share_page, &viewer).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("editor"));
    let page = with_cookie(&server, Method::GET, &share_page, &editor).await;
    assert_eq!(page.status(), StatusCode::OK);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(page.text().await.unwrap().contains("No share links."));

    // Bad input: a clear message and no link.
    let bad = post_form(
        &server,
        &share_page,
        &editor,
        &[("expires_in_hours", "soon")],
    )
    .await;
    assert_eq!(bad.status(), StatusCode::OK);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("&quot;soon&quot; is not a number of hours")
    );
    let negative = post_form(&server, &share_page, &editor, &[("expires_in_hours", "-1")]).await;
    assert!(negative.text().await.unwrap().contains("more than 0"));
    // A page of another origin cannot post the form with the editor's cookie.
    let forged = client()
        .post(format!("{}{share_page}", server.url))
        .header("cookie", &editor)
        .header("origin", "http://127.0.0.1:3000")
        .form(&[("expires_in_hours", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(links().await, 0);

    // Created: shown once, listed, and it opens the run.
    let created = post_form(&server, &share_page, &editor, &[("expires_in_hours", "")]).await;
    let html = created.text().await.unwrap();
    let start = html.find(&format!("{}/s/", server.url)).expect(&html);
    let url: String = html[start..].chars().take_while(|c| *c != '"').collect();
    assert_eq!(links().await, 1);
    assert!(html.contains("Revoke link"), "{html}");
    let (stranger, location) = open_share_link(&server, &url).await;
    assert_eq!(location, format!("/runs/{run}"));
    let shared = with_cookie(&server, Method::GET, &format!("/api/runs/{run}"), &stranger).await;
    assert_eq!(shared.status(), StatusCode::OK);
    let listing = server.get(&format!("/api/runs/{run}/share-links")).await;
    let id = json_of(listing).await["links"][0]["id"].as_i64().unwrap();

    // Revoked from the page: back to it, no link, the stranger's session over.
    let revoked = post_form(&server, &format!("{share_page}/{id}/revoke"), &editor, &[]).await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(revoked.headers()["location"], share_page.as_str());
    assert_eq!(links().await, 0);
    let ended = with_cookie(&server, Method::GET, &format!("/api/runs/{run}"), &stranger).await;
    assert_eq!(ended.status(), StatusCode::UNAUTHORIZED);

    // The account page: who, the sessions; logging out ends this one.
    let account = with_cookie(&server, Method::GET, "/account", &viewer).await;
    assert_eq!(account.status(), StatusCode::OK);
    let html = account.text().await.unwrap();
    assert!(
        html.contains("Logged in as <strong>vi</strong> (viewer)"),
        "{html}"
    );
    assert!(html.contains("this browser"), "{html}");
    let out = post_form(&server, "/account/logout", &viewer, &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(out.headers()["location"], "/login");
    let after = with_cookie(&server, Method::GET, "/api/session", &viewer).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}
