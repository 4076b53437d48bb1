//! The run websocket: replay, live, resume after a drop, and slow clients.

use std::time::Duration;

use futures_util::StreamExt;
use runboard_server::api::AppState;
use runboard_server::{Config, api};
use runboard_shared::event::{EventBody, Frame};
use runboard_shared::run::{ExperimentName, RunId, RunStatus};
use serde_json::json;

use crate::support::{Server, connect, log_text, next_frame, source};

/// Reads frames until the run's terminal status, or `stop_after_lines` log lines.
async fn read_until(
    ws: &mut crate::support::WsStream,
    frames: &mut Vec<Frame>,
    stop_after_lines: usize,
) -> bool {
    while let Some(frame) = next_frame(ws).await {
        let ended = matches!(&frame, Frame::Event { event } if matches!(event.body, EventBody::Status { status, .. } if status.is_terminal()));
        frames.push(frame);
        if ended {
            return true;
        }
        if log_text(frames).lines().count() >= stop_after_lines {
            return false;
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_drops_and_resumes_receives_each_of_10000_lines_exactly_once() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[(
        "train.py",
        "import time\nfor i in range(10000):\n    print(f'line {i}')\n    if i % 500 == 0:\n        time.sleep(0.05)\n",
    )]);
    let run = server
        .submit("ws", src.path(), json!({"entry_script": "train.py"}))
        .await;
    let id = run.run_id.as_str();

    let mut frames = Vec::new();
    let mut ws = connect(&server, id, 0).await;
    let ended = read_until(&mut ws, &mut frames, 2000).await;
    assert!(
        !ended,
        "the run ended before the client dropped; make it slower"
    );
    drop(ws);
    let last_seq = frames
        .iter()
        .filter_map(|f| match f {
            Frame::Event { event } => Some(event.seq),
            _ => None,
        })
        .max()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut ws = connect(&server, id, last_seq).await;
    assert!(
        read_until(&mut ws, &mut frames, usize::MAX).await,
        "the run did not end"
    );

    let seqs: Vec<u64> = frames
        .iter()
        .filter_map(|f| match f {
            Frame::Event { event } => Some(event.seq),
            _ => None,
        })
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "sequence numbers without gap or repeat"
    );
    let expected: String = (0..10000).map(|i| format!("line {i}\n")).collect();
    assert_eq!(
        log_text(&frames),
        expected,
        "each line exactly once, in order"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_finished_run_replays_from_any_point() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[("train.py", "print('one')\nprint('two')\n")]);
    let run = server
        .submit("replay", src.path(), json!({"entry_script": "train.py"}))
        .await;
    let id = run.run_id.as_str();
    server.wait_until_ended(id).await;

    let mut ws = connect(&server, id, 0).await;
    let mut all = Vec::new();
    loop {
        match next_frame(&mut ws).await.unwrap() {
            Frame::CaughtUp { seq } => {
                assert_eq!(Some(seq), all.last().map(|(s, _): &(u64, EventBody)| *s));
                break;
            }
            Frame::Event { event } => all.push((event.seq, event.body)),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(matches!(
        all[0].1,
        EventBody::Status {
            status: RunStatus::Queued,
            ..
        }
    ));
    assert!(matches!(
        all.last().unwrap().1,
        EventBody::Status {
            status: RunStatus::Completed,
            ..
        }
    ));

    // From the middle: exactly the rest.
    let middle = all[all.len() / 2].0;
    let mut ws = connect(&server, id, middle).await;
    let mut rest = Vec::new();
    while let Some(Frame::Event { event }) = next_frame(&mut ws).await {
        rest.push(event.seq);
    }
    assert_eq!(
        rest,
        ((middle + 1)..=all.last().unwrap().0).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_client_is_told_to_resume_and_dropped_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("data"));
    config.token = "t".into();
    let state = AppState::open(config).await.unwrap();
    let run_id = RunId::new(&ExperimentName::new("slow").unwrap(), 1_700_000_000, 1);
    let first = state
        .store
        .create_run(&runboard_server::store::NewRun {
            run_id: run_id.clone(),
            target: "local".into(),
            definition: json!({}),
            run_token: "x".into(),
            properties: Default::default(),
            tags: Default::default(),
            submitted_by: None,
        })
        .await
        .unwrap();
    assert_eq!(first.seq, 1);

    // A client whose socket accepts one frame and then stops reading.
    let (sink, mut frames) = futures_channel_pair();
    let (_keep_open, incoming) = tokio::sync::mpsc::unbounded_channel::<()>();
    let incoming = tokio_stream_from(incoming);
    let session = tokio::spawn(api::session(
        state.clone(),
        run_id.clone(),
        0,
        sink,
        incoming,
    ));
    // Wait for the replay of event 1 and the caught-up frame.
    assert!(matches!(frames.next().await, Some(Frame::Event { .. })));
    assert!(matches!(
        frames.next().await,
        Some(Frame::CaughtUp { seq: 1 })
    ));

    // Far more events than the hub holds for one subscriber, while the client sleeps.
    let total = runboard_server::hub::CHANNEL_CAPACITY as u64 * 3;
    for i in 0..total {
        state
            .events
            .commit(
                &run_id,
                state.store.append_log(
                    &run_id,
                    runboard_server::store::LogRef {
                        path: "user_logs/std_log.txt".into(),
                        rank: None,
                        offset: i,
                        len: 1,
                        eof: false,
                    },
                    format!("{i}\n"),
                ),
            )
            .await
            .unwrap();
    }
    // The client wakes up: it gets what was buffered, then a resume frame, then the end.
    let mut received = vec![1u64];
    let resume_after = loop {
        match frames.next().await {
            Some(Frame::Event { event }) => received.push(event.seq),
            Some(Frame::Resume { after, .. }) => break after,
            other => panic!("expected events then a resume frame, got {other:?}"),
        }
    };
    assert_eq!(
        frames.next().await,
        None,
        "the server closed the connection"
    );
    session.await.unwrap();
    assert_eq!(received, (1..=resume_after).collect::<Vec<_>>());
    assert!(
        resume_after < total + 1,
        "the client was dropped before the end"
    );

    // Reconnecting with after= gives exactly the rest.
    let (sink, frames) = futures_channel_pair();
    let (close, incoming) = tokio::sync::mpsc::unbounded_channel::<()>();
    let session = tokio::spawn(api::session(
        state.clone(),
        run_id.clone(),
        resume_after,
        sink,
        tokio_stream_from(incoming),
    ));
    let rest: Vec<u64> = frames
        .take_while(|f| std::future::ready(!matches!(f, Frame::CaughtUp { .. })))
        .filter_map(|f| async move {
            match f {
                Frame::Event { event } => Some(event.seq),
                _ => None,
            }
        })
        .collect()
        .await;
    drop(close);
    session.await.unwrap();
    assert_eq!(rest, ((resume_after + 1)..=total + 1).collect::<Vec<_>>());
}

type FrameSink = std::pin::Pin<Box<dyn futures_util::Sink<Frame, Error = ()> + Send>>;
type FrameStream = std::pin::Pin<Box<dyn futures_util::Stream<Item = Frame> + Send>>;

/// A sink that holds one frame at a time, like a socket whose peer does not read.
fn futures_channel_pair() -> (FrameSink, FrameStream) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Frame>(1);
    let sink = futures_util::sink::unfold(tx, |tx, frame: Frame| async move {
        tx.send(frame).await.map_err(|_| ())?;
        Ok::<_, ()>(tx)
    });
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|f| (f, rx)) });
    (Box::pin(sink), Box::pin(stream))
}

fn tokio_stream_from<T: Send + 'static>(
    rx: tokio::sync::mpsc::UnboundedReceiver<T>,
) -> std::pin::Pin<Box<dyn futures_util::Stream<Item = T> + Send>> {
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|v| (v, rx))
    }))
}

#[tokio::test(flavor = "multi_thread")]
async fn log_lines_and_metric_points_are_stored_once_and_replay_from_their_files() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[(
        "train.py",
        "from azureml.core import Run\n\
         run = Run.get_context()\n\
         for i in range(2000):\n\
         \x20   print(f'stored-once-marker {i:05d} ' + 'x' * 40)\n\
         run.log_list('curve', [i * 0.125 for i in range(3000)])\n",
    )]);
    let run = server
        .submit("once", src.path(), json!({"entry_script": "train.py"}))
        .await;
    let id = run.run_id.as_str();
    assert_eq!(
        server.wait_until_ended(id).await.status,
        RunStatus::Completed
    );

    // Replayed from the start: the log exactly as the file has it, every point.
    let mut ws = connect(&server, id, 0).await;
    let mut frames = Vec::new();
    loop {
        match next_frame(&mut ws).await.unwrap() {
            Frame::CaughtUp { .. } => break,
            frame => frames.push(frame),
        }
    }
    let file = server.text(id, "user_logs/std_log.txt").await;
    assert_eq!(log_text(&frames), file);
    assert_eq!(file.lines().count(), 2000);
    let points: Vec<f64> = frames
        .iter()
        .filter_map(|f| match f {
            Frame::Event { event } => match &event.body {
                EventBody::Scalars { name, points, .. } if name == "curve" => Some(points),
                _ => None,
            },
            _ => None,
        })
        .flatten()
        .map(|p| p.value)
        .collect();
    assert_eq!(
        points,
        (0..3000).map(|i| i as f64 * 0.125).collect::<Vec<_>>()
    );

    // The database holds neither the text nor the points: only where they are.
    let mut database = Vec::new();
    for name in ["runboard.sqlite", "runboard.sqlite-wal"] {
        if let Ok(bytes) = std::fs::read(server.data_dir.join(name)) {
            database.extend(bytes);
        }
    }
    let marker = b"stored-once-marker";
    assert!(
        !database.windows(marker.len()).any(|w| w == marker),
        "log text was copied into the database"
    );
    let point = (1234.0f64 * 0.125).to_string();
    assert!(
        !database.windows(point.len()).any(|w| w == point.as_bytes()),
        "metric points were copied into the database"
    );
}
