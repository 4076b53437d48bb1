//! The run page's reads (`runboard_shared::runview`): where to start, the log's tail
//! and earlier ranges, the server-side search, sampled series; and that following
//! from the start position carries only what came after it.

use runboard_shared::api::SeriesBody;
use runboard_shared::event::Frame;
use runboard_shared::runview::{LogMatches, LogRange, ViewStart};
use serde_json::json;

use crate::support::{Server, connect, next_frame, source};

const LOG: &str = "user_logs/std_log.txt";

/// The answer to a GET that must succeed.
async fn ok<T: serde::de::DeserializeOwned>(server: &Server, path: &str) -> T {
    let response = server.get(path).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{path}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// Status and message of a GET that must fail.
async fn refused(server: &Server, path: &str) -> (u16, String) {
    let response = server.get(path).await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_run_page_starts_from_the_logs_tail_and_sampled_series_then_follows_after_it() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[(
        "train.py",
        "for i in range(20000):\n    print(f'line {i} of the log')\n",
    )]);
    let run = server
        .submit("runview", src.path(), json!({"entry_script": "train.py"}))
        .await;
    let id = run.run_id.as_str();
    let details = server.wait_until_ended(id).await;
    assert_eq!(details.status.as_str(), "Completed", "{:?}", details.error);
    // 5,000 points of one series, in one batch.
    let values: Vec<f64> = (0..5000).map(|i| ((i * 37) % 101) as f64).collect();
    let response = reqwest::Client::new()
        .post(format!("{}/api/runs/{id}/metrics", server.url))
        .bearer_auth(&server.token)
        .json(&json!({"metrics": [
            {"name": "loss", "values": values},
            {"name": "hist", "kind": "list", "value": [1, 2]},
            {"name": "hist", "kind": "list", "value": [3]},
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let whole = String::from_utf8(server.file(id, LOG).await).unwrap();

    let view: ViewStart = ok(&server, &format!("/api/runs/{id}/view")).await;
    // The start position is the last event: following after it replays nothing.
    let mut ws = connect(&server, id, 0).await;
    let mut last = 0;
    loop {
        match next_frame(&mut ws).await.unwrap() {
            Frame::Event { event } => last = event.seq,
            Frame::CaughtUp { seq } => {
                assert_eq!(seq, last);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(view.seq, last);
    let mut ws = connect(&server, id, view.seq).await;
    assert_eq!(
        next_frame(&mut ws).await.unwrap(),
        Frame::CaughtUp { seq: view.seq }
    );

    // The tail: the last 64 KiB or less, from a whole line, up to the end read.
    let tail = view.logs.iter().find(|l| l.path == LOG).unwrap();
    assert_eq!(tail.end, whole.len() as u64);
    assert!(tail.start > 0 && tail.end - tail.start <= 64 * 1024);
    assert_eq!(&whole[tail.start as usize..], tail.text);
    assert!(whole[..tail.start as usize].ends_with('\n'));
    assert!(tail.text.ends_with("line 19999 of the log\n"));
    // Earlier ranges, one before the other, put the whole log back together.
    let mut text = tail.text.clone();
    let mut start = tail.start;
    let mut reads = 0;
    while start > 0 {
        let earlier: LogRange = ok(
            &server,
            &format!("/api/runs/{id}/log?path={LOG}&end={start}&bytes=50000"),
        )
        .await;
        assert_eq!(earlier.end, start);
        assert!(earlier.start < start);
        text.insert_str(0, &earlier.text);
        start = earlier.start;
        reads += 1;
    }
    assert_eq!(text, whole);
    assert!(reads >= 5, "{reads} reads");

    // Series: how many points at the start, then sampled to what a chart draws.
    let loss = view.series.iter().find(|s| s.name == "loss").unwrap();
    assert_eq!((loss.source.as_str(), loss.count), ("metric", 5000));
    let sampled: SeriesBody = ok(
        &server,
        &format!("/api/runs/{id}/series?name=loss&slices=100"),
    )
    .await;
    let points = sampled.points.unwrap();
    assert_eq!(sampled.count, 5000);
    assert!(
        points.len() <= 300 && points.len() >= 100,
        "{}",
        points.len()
    );
    assert_eq!(points.last().unwrap().step, 4999);
    // Min and max of each slice: the extremes of the whole series are there.
    assert!(points.iter().any(|p| p.value == 0.0) && points.iter().any(|p| p.value == 100.0));
    assert!(points.windows(2).all(|w| w[0].step < w[1].step));
    let few: SeriesBody = ok(
        &server,
        &format!("/api/runs/{id}/series?name=loss&from=10&upto=15"),
    )
    .await;
    let steps: Vec<i64> = few.points.unwrap().iter().map(|p| p.step).collect();
    assert_eq!(steps, [10, 11, 12, 13, 14]);
    // Non-numeric values in brief.
    let hist = view.values.iter().find(|v| v.name == "hist").unwrap();
    assert_eq!(
        (hist.kind.as_str(), hist.count, &hist.last),
        ("list", 2, &json!([3]))
    );

    // Search on the server: every line that contains the text, with where it is.
    let found: LogMatches = ok(
        &server,
        &format!("/api/runs/{id}/log/search?path={LOG}&q=LINE%201999"),
    )
    .await;
    let lines: Vec<u64> = found.matches.iter().map(|m| m.line).collect();
    assert_eq!(
        lines,
        [
            2000, 19991, 19992, 19993, 19994, 19995, 19996, 19997, 19998, 19999, 20000
        ]
    );
    for m in &found.matches {
        assert!(whole[m.offset as usize..].starts_with(&format!("{}\n", m.text)));
    }
    assert_eq!(
        (found.truncated, found.searched),
        (false, whole.len() as u64)
    );
    // The same search as the page the Logs tab's form opens.
    let page = server
        .get(&format!("/runs/{id}/log-search?path={LOG}&q=LINE+1999"))
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("11 lines contain it."), "{html}");
    assert!(
        html.contains("<span class=\"n\">line 20000</span>line 19999 of the log</li>"),
        "{html}"
    );
    let refused = server
        .get(&format!("/runs/{id}/log-search?path={LOG}&q="))
        .await;
    assert_eq!(refused.status(), 400);
    let capped: LogMatches = ok(
        &server,
        &format!("/api/runs/{id}/log/search?path={LOG}&q=line&limit=3"),
    )
    .await;
    assert_eq!((capped.matches.len(), capped.truncated), (3, true));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_log_and_series_queries_get_400_naming_the_field_and_unknown_ones_404() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[("train.py", "print('hello')\n")]);
    let run = server
        .submit("runview", src.path(), json!({"entry_script": "train.py"}))
        .await;
    let id = run.run_id.as_str();
    server.wait_until_ended(id).await;
    let cases: &[(&str, u16, &str)] = &[
        ("log/search?path=user_logs/std_log.txt&q=", 400, "q must be"),
        ("log/search?path=user_logs/std_log.txt", 400, "q"),
        (
            "log/search?path=user_logs/std_log.txt&q=a&limit=0",
            400,
            "limit must be",
        ),
        (
            "log/search?path=user_logs/std_log.txt&q=a&limit=many",
            400,
            "limit",
        ),
        (
            "log/search?path=outputs/model.txt&q=a",
            400,
            "path must name a log",
        ),
        (
            "log/search?path=user_logs/../control/exit.json&q=a",
            400,
            "path must name a log",
        ),
        ("log/search?path=user_logs/none.txt&q=a", 404, "has no log"),
        (
            "log/search?path=user_logs/std_log.txt&q=a&regex=1",
            400,
            "regex",
        ),
        (
            "log?path=user_logs/std_log.txt&bytes=0",
            400,
            "bytes must be",
        ),
        (
            "log?path=user_logs/std_log.txt&bytes=2000000",
            400,
            "bytes must be",
        ),
        ("log?path=user_logs/std_log.txt&end=-1", 400, "end"),
        ("log", 400, "path"),
        ("series?name=loss&slices=0", 400, "slices must be"),
        ("series?name=loss&source=wandb", 400, "source must be"),
        ("series?name=loss", 404, "no metric series 'loss'"),
    ];
    for (query, status, says) in cases {
        let (got, message) = refused(&server, &format!("/api/runs/{id}/{query}")).await;
        assert_eq!(got, *status, "{query}: {message}");
        assert!(message.contains(says), "{query}: {message}");
    }
    let (got, message) = refused(&server, "/api/runs/nope_1_abcdef12/view").await;
    assert_eq!(got, 404, "{message}");
    // A good query still answers after all that.
    let found: LogMatches = ok(
        &server,
        &format!("/api/runs/{id}/log/search?path={LOG}&q=HELLO"),
    )
    .await;
    assert_eq!(found.matches.len(), 1);
    let hello: LogRange = ok(&server, &format!("/api/runs/{id}/log?path={LOG}")).await;
    assert_eq!((hello.start, hello.text.as_str()), (0, "hello\n"));
    let view: ViewStart = ok(&server, &format!("/api/runs/{id}/view")).await;
    assert!(
        view.logs
            .iter()
            .any(|l| l.path == LOG && l.text == "hello\n")
    );
}
