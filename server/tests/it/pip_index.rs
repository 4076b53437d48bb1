//! `/simple/` for projects other than the SDK's: the server proxies an upstream index
//! (`[pip] index_url`), serving only pure-Python wheels whose SHA-256 matches the
//! upstream's listing, and the notebook kernel's `%pip install` gets them through it.
//! The upstream is a real HTTP server on 127.0.0.1 (`server/tests/fixtures/pip_index.py`,
//! which builds its wheels with `zipfile`), so nothing here reaches the internet; the
//! clients are a real pip in a fresh virtual environment and the kernel
//! (`notebook/py/runboard_kernel.py`) under this machine's CPython.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::{Server, new_venv, text};

fn checkout() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The fixture index, killed when dropped.
struct Upstream {
    child: Child,
    url: String,
}

impl Upstream {
    fn start() -> Self {
        let mut child = Command::new("python3")
            .arg(checkout().join("server/tests/fixtures/pip_index.py"))
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .expect("python3 runs (Debian's python3 is part of the setup)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the fixture index said {line:?}"));
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(format!("{}{path}", self.url)).await.unwrap()
    }

    /// How many times the upstream served `file`.
    async fn hits(&self, file: &str) -> u32 {
        self.get(&format!("/hits/{file}"))
            .await
            .text()
            .await
            .unwrap()
            .parse()
            .unwrap()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server whose `[pip] index_url` is `index` (written without its trailing `/`).
fn server_with_index(dir: &Path, index: &str) -> Server {
    let config = dir.join("runboard.toml");
    std::fs::write(&config, format!("[pip]\nindex_url = \"{index}\"\n")).unwrap();
    Server::start_with(
        &dir.join("data"),
        0,
        &["--config", config.to_str().unwrap()],
    )
}

/// A GET without credentials, as pip sends it.
async fn get(server: &Server, path: &str) -> reqwest::Response {
    reqwest::get(format!("{}{path}", server.url)).await.unwrap()
}

async fn error_message(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_index_proxies_checked_pure_wheels_and_pip_installs_them() {
    let upstream = Upstream::start();
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_index(dir.path(), &format!("{}/simple", upstream.url));

    // The page lists the pure wheels only, linked back to this server with the
    // upstream's hashes.
    let page = get(&server, "/simple/PipDemo/").await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let wheel = "pipdemo-1.0-py3-none-any.whl";
    let bytes = upstream
        .get(&format!("/files/{wheel}"))
        .await
        .bytes()
        .await
        .unwrap();
    let sha = format!("{:x}", Sha256::digest(&bytes));
    assert!(
        page.contains(&format!(
            "<a href=\"/simple/pipdemo/{wheel}#sha256={sha}\" data-requires-python=\"&gt;=3.8\">{wheel}</a>"
        )),
        "{page}"
    );
    assert!(
        page.contains("/simple/pipdemo/pipdemo-0.9-py3-none-any.whl#sha256="),
        "{page}"
    );
    for absent in ["cp311", "tar.gz", "/files/", &upstream.url] {
        assert!(!page.contains(absent), "{absent} in {page}");
    }
    assert_eq!(upstream.hits(wheel).await, 1, "the test's own download");

    // The file: the upstream's bytes, downloaded once, then from the cache.
    for _ in 0..2 {
        let file = get(&server, &format!("/simple/pipdemo/{wheel}")).await;
        assert_eq!(file.status(), 200);
        assert_eq!(file.bytes().await.unwrap(), bytes);
    }
    assert_eq!(upstream.hits(wheel).await, 2, "one download by the server");
    let cache = server.data_dir.join("pip-cache");
    assert_eq!(std::fs::read(cache.join(&sha)).unwrap(), bytes);

    // Clear errors, and nothing fetched but what the listing names.
    let missing = get(&server, "/simple/nosuch/").await;
    assert_eq!(missing.status(), 404);
    let said = error_message(missing).await;
    assert!(
        said.contains("no project nosuch on the package index") && said.contains(&upstream.url),
        "{said}"
    );
    let binary = get(&server, "/simple/binonly/").await;
    assert_eq!(binary.status(), 404);
    let said = error_message(binary).await;
    for words in [
        "binonly has no pure-Python wheel",
        "pure-Python wheels only",
        "pip_packages",
    ] {
        assert!(said.contains(words), "{words:?} not in {said}");
    }
    for path in [
        "/simple/pipdemo/pipdemo-1.0.tar.gz",
        "/simple/pipdemo/pipdemo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "/simple/pipdemo/pipdep-2.0-py3-none-any.whl",
        "/simple/pipdemo/..%2F..%2Ffiles%2Fpipdemo-1.0.tar.gz",
        "/simple/..%2Ffiles/pipdemo-1.0.tar.gz",
    ] {
        let answer = get(&server, path).await;
        assert_eq!(answer.status(), 404, "{path}");
    }
    assert_eq!(upstream.hits("pipdemo-1.0.tar.gz").await, 0);

    // A file whose bytes are not what the listing says is refused, and not kept.
    let tampered = get(&server, "/simple/tampered/tampered-1.0-py3-none-any.whl").await;
    assert_eq!(tampered.status(), 502);
    let said = error_message(tampered).await;
    assert!(
        said.contains("refused tampered-1.0-py3-none-any.whl") && said.contains(&"0".repeat(64)),
        "{said}"
    );
    let kept: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(kept, [sha]);

    // The SDK's own project is still the server's.
    assert_eq!(
        get(&server, "/simple/runboard-azureml/").await.status(),
        200
    );

    // A real pip in a fresh virtual environment installs through the server, with
    // the dependency, and the modules import.
    let python = new_venv(dir.path());
    let pip = Command::new(&python)
        .args(["-m", "pip", "install", "--no-cache-dir", "--index-url"])
        .arg(format!("{}/simple/", server.url))
        .arg("pipdemo")
        .env_remove("PIP_FIND_LINKS")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .output()
        .unwrap();
    assert!(pip.status.success(), "{}", text(&pip));
    assert!(
        String::from_utf8_lossy(&pip.stdout)
            .contains("Successfully installed pipdemo-1.0 pipdep-2.0"),
        "{}",
        text(&pip)
    );
    let hello = Command::new(&python)
        .args(["-c", "import pipdemo; print(pipdemo.hello())"])
        .env_remove("PYTHONPATH")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&hello.stdout).trim(),
        "hello from pipdemo 1.0 and pipdep 2.0",
        "{}",
        text(&hello)
    );
}

#[tokio::test]
async fn an_unreachable_index_is_a_502_naming_it() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let index = format!("http://127.0.0.1:{port}/simple/");
    let server = server_with_index(dir.path(), &index);
    let answer = get(&server, "/simple/six/").await;
    assert_eq!(answer.status(), 502);
    let said = error_message(answer).await;
    assert!(
        said.contains(&format!("could not reach the package index {index}")),
        "{said}"
    );
}

/// Drives the kernel as the notebook would, one cell after another, and prints each
/// cell's `done` and stdout as a JSON line.
const KERNEL_PY: &str = r#"
import json, sys, tempfile
import runboard_kernel as rk

posted = []
kernel = rk.Kernel(lambda text: posted.append(json.loads(text)), root=tempfile.mkdtemp())
for source in sys.argv[1:]:
    posted.clear()
    kernel.handle(json.dumps({"type": "run", "cell": "c", "source": source}))
    stdout = "".join(m["output"]["text"] for m in posted
                     if m["type"] == "output" and m["output"]["type"] == "stdout")
    print(json.dumps({"done": posted[-1], "stdout": stdout}), flush=True)
"#;

#[tokio::test]
async fn pip_install_in_the_kernel_under_cpython_installs_through_the_server() {
    let upstream = Upstream::start();
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_index(dir.path(), &format!("{}/simple/", upstream.url));
    let root = checkout();
    let out = Command::new("python3")
        .args(["-c", KERNEL_PY])
        .args([
            "%pip install pipdemo",
            "import pipdemo\nprint(pipdemo.__file__)\npipdemo.hello()",
            "%pip install -q pipdemo",
            "%pip install binonly",
            "%pip install nosuch==1.0",
        ])
        .env(
            "PYTHONPATH",
            format!(
                "{}:{}",
                root.join("notebook/py").display(),
                root.join("server/python").display()
            ),
        )
        .env("RUNBOARD_URL", &server.url)
        .env("RUNBOARD_TOKEN", &server.token)
        .env("RUNBOARD_CONFIG", dir.path().join("no-client.json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let cells: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(cells.len(), 5, "{}", text(&out));

    let install = &cells[0];
    assert_eq!(install["done"]["error"], Value::Null, "{install}");
    let said = install["stdout"].as_str().unwrap();
    for words in [
        "Collecting pipdemo\n  Downloading pipdemo-1.0-py3-none-any.whl",
        "Collecting pipdep>=1.5 (from pipdemo==1.0)\n  Downloading pipdep-2.0-py3-none-any.whl",
        "Successfully installed pipdemo-1.0 pipdep-2.0\n",
    ] {
        assert!(said.contains(words), "{words:?} not in {said}");
    }
    assert!(
        !said.contains("pipextra") && !said.contains("winonly"),
        "{said}"
    );

    let import = &cells[1];
    assert_eq!(import["done"]["error"], Value::Null, "{import}");
    assert_eq!(
        import["done"]["result"]["text"],
        "'hello from pipdemo 1.0 and pipdep 2.0'"
    );
    // From the session's own folder, not the interpreter's site-packages.
    assert!(
        import["stdout"]
            .as_str()
            .unwrap()
            .contains("/runboard-pip-"),
        "{import}"
    );

    assert_eq!(cells[2]["done"]["error"], Value::Null, "{}", cells[2]);
    assert_eq!(cells[2]["stdout"], "", "-q is quiet");

    let binary = &cells[3]["done"]["error"];
    assert_eq!(binary["ename"], "UsageError", "{binary}");
    let said = binary["message"].as_str().unwrap();
    assert!(
        said.contains("binonly has no pure-Python wheel")
            && said.contains("pure-Python wheels only")
            && said.contains("pip_packages"),
        "{said}"
    );
    let missing = &cells[4]["done"]["error"];
    assert_eq!(missing["ename"], "UsageError", "{missing}");
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("no project nosuch on the package index"),
        "{missing}"
    );
}
