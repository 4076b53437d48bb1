//! A root server runs local jobs as its job user (`runboard::jobuser`): against a real
//! `runboard serve --job-user runboard-job`, a job tries to read what it must not and
//! gets permission errors, while its own run completes.

use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use crate::support::{Server, Tool, skip, source};

/// Each path given as an argument's value is opened (or listed); the script prints
/// `DENIED <path>` or `READ <path>` for each, its uid, and writes an output.
const PROBE: &str = r#"
import os, sys
print("uid", os.getuid(), "user", os.environ.get("USER"))
for path in sys.argv[1:]:
    if path.startswith("--"):
        continue
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        print("READ", path)
    except PermissionError:
        print("DENIED", path)
    except OSError as e:
        print("ERROR", path, e)
os.makedirs("outputs", exist_ok=True)
with open("outputs/mine.txt", "w") as f:
    f.write("written by the job")
"#;

#[tokio::test(flavor = "multi_thread")]
async fn as_root_a_job_cannot_read_the_servers_secrets_or_other_runs_and_its_own_run_completes() {
    let test = "job_user::as_root_a_job_cannot_read_the_servers_secrets_or_other_runs";
    if !nix::unistd::geteuid().is_root() {
        skip(
            test,
            Tool::Root,
            "not running as root, so jobs run as this user",
        );
        return;
    }
    // A data folder the job user can reach, as /var/lib/runboard would be (the
    // temporary folder itself is 0700).
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = dir.path().join("data");
    let store = data.join("datastores/workspaceblobstore");
    for (path, text) in [("given/a.txt", "given"), ("other/b.txt", "not given")] {
        std::fs::create_dir_all(store.join(path).parent().unwrap()).unwrap();
        std::fs::write(store.join(path), text).unwrap();
        // As an upload leaves it.
        std::fs::set_permissions(store.join(path), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let server = Server::start_with(&data, 0, &["--job-user", "runboard-job"]);

    let first_src = source(&[(
        "train.py",
        "import os\nos.makedirs('outputs', exist_ok=True)\nopen('outputs/secret.txt', 'w').write('first run')\n",
    )]);
    let first = server
        .submit(
            "isolation",
            first_src.path(),
            json!({"entry_script": "train.py"}),
        )
        .await;
    let details = server.wait_until_ended(first.run_id.as_str()).await;
    assert_eq!(
        details.status.to_string(),
        "Completed",
        "{:?}",
        details.error
    );

    let d = data.display();
    let forbidden = [
        format!("{d}/token"),
        format!("{d}/runboard.sqlite"),
        format!("{d}/runs/{}/wd/outputs/secret.txt", first.run_id),
        format!("{d}/runs/{}/snapshot/train.py", first.run_id),
        format!("{d}/files"),
        format!("{d}/datastores/workspaceblobstore/other/b.txt"),
    ];
    let src = source(&[("train.py", PROBE)]);
    let mut params = serde_json::Map::new();
    params.insert(
        "--given".into(),
        json!({"datastore": "workspaceblobstore", "path_on_datastore": "given/a.txt", "mode": "mount"}),
    );
    for (i, path) in forbidden.iter().enumerate() {
        params.insert(format!("--p{i}"), json!(path));
    }
    let estimator = json!({"entry_script": "train.py", "script_params": params});
    let probe = server.submit("isolation", src.path(), estimator).await;
    let details = server.wait_until_ended(probe.run_id.as_str()).await;
    let log = server
        .text(probe.run_id.as_str(), "user_logs/std_log.txt")
        .await;
    assert_eq!(
        details.status.to_string(),
        "Completed",
        "{:?}\n{log}",
        details.error
    );
    let uid = log
        .lines()
        .find_map(|l| l.strip_prefix("uid "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no uid line in\n{log}"));
    assert_ne!(uid, "0", "the job ran as root:\n{log}");
    assert!(log.contains("user runboard-job"), "{log}");
    for path in &forbidden {
        assert!(
            log.contains(&format!("DENIED {path}")),
            "the job was not refused {path}:\n{log}"
        );
    }
    assert!(
        log.lines()
            .any(|l| l.starts_with("READ ")
                && l.ends_with("datastores/workspaceblobstore/given/a.txt")),
        "the job could not read the datastore path it was given:\n{log}"
    );
    assert_eq!(
        server.text(probe.run_id.as_str(), "outputs/mine.txt").await,
        "written by the job"
    );
    // An MPI job runs as the job user too: mpirun and each rank (through the
    // binary's rank-exec) start and write their own logs.
    if crate::distributed::has_mpirun() {
        let mpi_src = source(&[(
            "train.py",
            "import os\nprint('rank', os.environ['OMPI_COMM_WORLD_RANK'], 'uid', os.getuid())\n",
        )]);
        let mpi = server
            .submit(
                "isolation",
                mpi_src.path(),
                json!({"entry_script": "train.py", "distributed_backend": "mpi", "process_count_per_node": 2}),
            )
            .await;
        let details = server.wait_until_ended(mpi.run_id.as_str()).await;
        let rank1 = server
            .text(mpi.run_id.as_str(), "user_logs/std_log_process_1.txt")
            .await;
        assert_eq!(
            details.status.to_string(),
            "Completed",
            "{:?}\n{rank1}",
            details.error
        );
        assert!(rank1.contains("rank 1 uid "), "{rank1}");
        assert!(!rank1.contains("uid 0\n"), "rank 1 ran as root: {rank1}");
    } else {
        skip(test, Tool::Mpirun, "no mpirun: the MPI part was not run");
    }

    // The first run's files are intact and served.
    assert_eq!(
        server
            .text(first.run_id.as_str(), "outputs/secret.txt")
            .await,
        "first run"
    );
}
