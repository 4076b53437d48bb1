//! The CLI as a user meets it: a server that is gone, and a large upload's progress.

use std::process::{Command, Output};

use crate::support::{RUNBOARD, Server, source};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_cli_whose_server_is_gone_names_the_url_where_it_came_from_and_what_to_do() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("data");
    let mut server = Server::start(&data_dir);
    let url = server.url.clone();
    // The client config this server wrote at start, then the server stops.
    let config = data_dir.with_extension("client.json");
    server.kill9();

    let cli = |args: &[&str], url_env: Option<&str>| {
        let mut command = Command::new(RUNBOARD);
        command
            .args(args)
            .env("RUNBOARD_CONFIG", &config)
            .env_remove("RUNBOARD_URL")
            .env_remove("RUNBOARD_TOKEN");
        if let Some(u) = url_env {
            command.env("RUNBOARD_URL", u);
        }
        let started = std::time::Instant::now();
        let output = command.output().unwrap();
        // Said at once, not after retrying for a minute.
        assert!(
            started.elapsed().as_secs() < 10,
            "{args:?} took {:?}",
            started.elapsed()
        );
        assert!(
            !output.status.success(),
            "{args:?} succeeded against no server"
        );
        stderr(&output)
    };

    for args in [
        &["runs"][..],
        &["logs", "exp_1700000000_0000abcd", "--follow"],
        &["cancel", "exp_1700000000_0000abcd"],
        &["notebook", "run", "Quickstart.ipynb"],
    ] {
        let said = cli(args, None);
        assert!(
            said.contains(&format!("could not reach the Runboard server at {url}")),
            "{args:?}: {said}"
        );
        assert!(
            said.contains(&format!("the client config {}", config.display())),
            "{args:?}: {said}"
        );
        assert!(said.contains("--url URL --token TOKEN"), "{args:?}: {said}");
        assert!(said.contains("RUNBOARD_URL"), "{args:?}: {said}");
    }

    let said = cli(&["runs"], Some(&url));
    assert!(said.contains(&format!("at {url}")), "{said}");
    assert!(
        said.contains("came from the RUNBOARD_URL environment variable"),
        "{said}"
    );
    let said = cli(&["runs", "--url", &url], None);
    assert!(said.contains("came from the --url flag"), "{said}");
}

#[test]
fn submit_shows_progress_on_a_terminal_and_nothing_extra_elsewhere() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("data");
    let server = Server::start(&data_dir);
    let files: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("data/part{i:02}.txt"),
                format!("{i}\n").repeat(20_000),
            )
        })
        .chain([("train.py".to_owned(), "print('ok')\n".to_owned())])
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let src = source(&refs);
    let submit = [
        RUNBOARD,
        "submit",
        "--experiment",
        "progress",
        "--source-directory",
        src.path().to_str().unwrap(),
        "--entry-script",
        "train.py",
        "--url",
        &server.url,
        "--token",
        &server.token,
    ];

    // Not a terminal: the run id and portal URL, nothing else.
    let plain = Command::new(submit[0]).args(&submit[1..]).output().unwrap();
    assert!(plain.status.success(), "{}", stderr(&plain));
    assert_eq!(stderr(&plain), "");
    let stdout = String::from_utf8_lossy(&plain.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");

    // On a terminal (util-linux `script` gives the command a pseudo-terminal).
    let quoted: Vec<String> = submit.iter().map(|a| format!("'{a}'")).collect();
    let tty = Command::new("script")
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&tty.stdout);
    assert!(tty.status.success(), "{screen}");
    // 40 data files, their folder and train.py.
    assert!(screen.contains("42/42 files packed"), "{screen}");
    assert!(screen.contains("uploading: "), "{screen}");
    assert!(screen.contains(" sent ("), "{screen}");
    assert!(screen.contains("Run id: progress_"), "{screen}");
}
