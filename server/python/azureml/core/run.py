"""`Run.get_context()` for scripts started by Runboard.

Inside a Runboard run (RUNBOARD_URL, RUNBOARD_RUN_ID and RUNBOARD_RUN_TOKEN are set)
metrics, tags and properties are queued in memory and sent by a background thread
to `POST /api/runs/<id>/metrics`: a value logged after a quiet spell at once, a burst
at most one request every 50 ms (what is logged meanwhile goes in the next batch). Logging never blocks and never
raises because of the server: when the server cannot be reached the batch is kept
and retried, and whatever is still unsent when the script ends is written to
`logs/runboard-metrics-spool-<pid>.jsonl`, which the server reads when the run ends.
Outside Runboard, `get_context()` returns an offline run that prints what it would
have logged, like the SDK's.
"""

import atexit
import base64
import io
import json
import numbers
import os
import threading
import time
import urllib.error
import urllib.request
import uuid

from azureml.exceptions import UserErrorException

_SEND_EVERY = 0.05
# The most values the server takes in one metrics request (server/src/limits.rs,
# MAX_METRIC_POINTS).
_MAX_POINTS = 100000
_EXIT_WAIT = float(os.environ.get("RUNBOARD_FLUSH_TIMEOUT", "3"))


# How long `wait_for_completion` keeps asking a server that does not answer.
RECONNECT_SECONDS = 60


def _is_number(value):
    return isinstance(value, numbers.Number) and not isinstance(value, complex)


class Run:
    """A run: the current script's (`Run.get_context()`), or one of an experiment's,
    read and followed through the server (`Run(experiment, run_id)`, or what
    `Experiment.submit` returns)."""

    def __init__(self, experiment, run_id, outer_run_id=None, _portal_url=None, **kwargs):
        self.experiment = experiment
        self.id = run_id
        self._portal_url = _portal_url

    @property
    def _endpoint(self):
        return self.experiment.workspace._endpoint

    def _path(self, rest=""):
        from azureml._runboard import segment

        return "/api/runs/{}{}".format(segment(self.id), rest)

    def __repr__(self):
        experiment = getattr(self, "experiment", None)
        if experiment is None:
            # A script's own run (inside a job, or offline): nothing to ask a server.
            return "Run(Id: {})".format(self.id)
        return "Run(Experiment: {},\nId: {},\nType: azureml.scriptrun,\nStatus: {})".format(
            experiment.name, self.id, self.get_status()
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The run's live card in a notebook (see `azureml._display`)."""
        from azureml import _display

        return _display.run_bundle(self, self.get_status())

    def get_portal_url(self):
        """The run's page in the Runboard portal."""
        return self._portal_url or "{}/runs/{}".format(self._endpoint.url, self.id)

    def get_details(self):
        """The run's details: the SDK's `get_details()` keys."""
        return self._endpoint.json("GET", self._path())

    def get_status(self):
        """`Queued`, `Running`, `Completed`, `Failed`, `Canceled`, …"""
        return self.get_details()["status"]

    def get_tags(self):
        """The run's tags."""
        return dict(self.get_details().get("tags") or {})

    def get_properties(self):
        """The run's properties."""
        return dict(self.get_details().get("properties") or {})

    def get_children(self, recursive=False, tags=None, properties=None, type=None, status=None,
                     _rehydrate_runs=True):
        """The runs whose parent is this one (a sweep's children), oldest first;
        `tags`, `properties` (a name, a list of names, or a dict of name -> value) and
        `status` filter them; `recursive` descends into children's children."""
        def wanted(have, want):
            if want is None:
                return True
            if isinstance(want, str):
                want = [want]
            if isinstance(want, dict):
                return all(have.get(k) == str(v) for k, v in want.items())
            return all(k in have for k in want)

        for child in self._endpoint.json("GET", self._path("/children"))["children"]:
            if (wanted(child.get("tags") or {}, tags) and wanted(child.get("properties") or {}, properties)
                    and (status is None or child["status"] == status)):
                yield Run(self.experiment, child["run_id"])
            if recursive:
                yield from Run(self.experiment, child["run_id"]).get_children(
                    recursive=True, tags=tags, properties=properties, status=status)

    def get_metrics(self, name=None, recursive=False, run_type=None, populate=False):
        """What the run logged: name -> value, or list of values."""
        metrics = self._endpoint.json("GET", self._path("/metrics"))
        if name is not None:
            return {name: metrics[name]} if name in metrics else {}
        return metrics

    def get_file_names(self):
        """The run's files (`outputs/…`, `logs/…`, `user_logs/…`, `system_logs/…`)."""
        answer = self._endpoint.json("GET", self._path("/files"))
        files = answer.get("files", answer) if isinstance(answer, dict) else answer
        return [f["path"] if isinstance(f, dict) else f for f in files]

    def download_file(self, name, output_file_path=None, _validate_checksum=False):
        """Writes the run file `name` to `output_file_path` (a file, or a folder to
        write it into; default: its file name, here)."""
        from azureml._runboard import segment

        data = self._endpoint.request(
            "GET", self._path("/files/" + "/".join(segment(p) for p in name.split("/")))
        )
        target = output_file_path or os.path.basename(name)
        if os.path.isdir(target):
            target = os.path.join(target, os.path.basename(name))
        folder = os.path.dirname(target)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(target, "wb") as f:
            f.write(data)

    def download_files(self, prefix=None, output_directory=None, output_paths=None, batch_size=100, append_prefix=True):
        """Downloads every run file under `prefix` into `output_directory`."""
        for name in self.get_file_names():
            if prefix and not name.startswith(prefix):
                continue
            self.download_file(name, os.path.join(output_directory or ".", name))

    def tag(self, key, value=None):
        """Sets a tag (a tag without a value is `""`)."""
        self._endpoint.json("PATCH", self._path("/tags"), {"set": {key: "" if value is None else str(value)}, "remove": []})

    def set_tags(self, tags):
        """Sets several tags."""
        self._endpoint.json("PATCH", self._path("/tags"), {"set": {k: str(v) for k, v in tags.items()}, "remove": []})

    def register_model(self, model_name, model_path=None, tags=None, properties=None,
                       model_framework=None, model_framework_version=None, description=None,
                       datasets=None, sample_input_dataset=None, sample_output_dataset=None,
                       resource_configuration=None, **kwargs):
        """Registers the run's file or folder `model_path` (`outputs/model.pkl`) as the
        next version of `model_name`; returns the `Model`. The registry keeps a copy."""
        from azureml.core.model import Model, _meta

        if not model_path:
            raise UserErrorException("register_model needs model_path, such as 'outputs/model.pkl'")
        meta = _meta(model_name, tags, properties, description, model_framework, model_framework_version)
        meta.update(run_id=self.id, path=model_path)
        body = self._endpoint.json("POST", "/api/models", meta)
        return Model._from(self.experiment.workspace, body)

    def cancel(self):
        """Asks the server to stop the run (nothing happens once it has ended)."""
        from azureml.exceptions import UserErrorException

        try:
            self._endpoint.request("POST", self._path("/cancel"))
        except UserErrorException:
            if self.get_status() not in ("Completed", "Failed", "Canceled"):
                raise

    def wait_for_completion(self, show_output=False, wait_post_processing=False, raise_on_error=True):
        """Waits until the run ends, streaming its log with `show_output`, then returns
        its details; a failed run raises `ActivityFailedException` (with
        `raise_on_error`)."""
        import sys

        from azureml.exceptions import ActivityFailedException, RunboardConnectionError

        from azureml import _display
        from azureml._runboard import LONG_POLL

        _display.waiting(self, show_output)
        log = "user_logs/std_log.txt"
        if show_output:
            banner = "Streaming " + log
            print("RunId: {}\nWeb View: {}\n\n{}\n{}\n".format(
                self.id, self.get_portal_url(), banner, "=" * len(banner)))
        after, ends_with_newline, status, error = 0, True, None, None
        unreachable_since = None
        while status is None:
            try:
                page = self._endpoint.json("GET", self._path("/events"), query={"after": after, "wait": LONG_POLL}, timeout=60)
            except RunboardConnectionError:
                # The network or the server gone for a moment (a restart): ask again,
                # from the same place, for up to RECONNECT_SECONDS.
                now = time.monotonic()
                unreachable_since = unreachable_since or now
                if now - unreachable_since > RECONNECT_SECONDS:
                    raise
                time.sleep(0.5)
                continue
            unreachable_since = None
            for event in page["events"]:
                if event.get("type") == "log" and show_output and event.get("path") == log and event.get("text"):
                    sys.stdout.write(event["text"])
                    sys.stdout.flush()
                    ends_with_newline = event["text"].endswith("\n")
                elif event.get("type") == "status" and event.get("status") in ("Completed", "Failed", "Canceled"):
                    status, error = event["status"], event.get("error")
                    break
            after = page["next_after"]
        if show_output:
            print("{}\nExecution Summary\n=================\nRunId: {}\nWeb View: {}\n".format(
                "" if ends_with_newline else "\n", self.id, self.get_portal_url()))
        if status == "Failed" and raise_on_error:
            raise ActivityFailedException(
                "Activity Failed: run {} failed: {}".format(self.id, error or "no reason was recorded"))
        return self.get_details()

    @classmethod
    def get_context(cls, allow_offline=True, **kwargs):
        """The run this script belongs to, or an offline run outside Runboard."""
        if os.environ.get("RUNBOARD_RUN_ID") and os.environ.get("RUNBOARD_URL"):
            return _submitted_run()
        if not allow_offline:
            raise UserErrorException("This script is not running inside a Runboard run")
        return _OfflineRun()


_RUN = None
_RUN_LOCK = threading.Lock()


def _submitted_run():
    global _RUN
    with _RUN_LOCK:
        if _RUN is None:
            _RUN = _SubmittedRun(
                os.environ["RUNBOARD_URL"].rstrip("/"),
                os.environ["RUNBOARD_RUN_ID"],
                os.environ.get("RUNBOARD_RUN_TOKEN", ""),
            )
        return _RUN


class _BaseRun(Run):
    """What both kinds of run share: the SDK's logging methods, checked the same way."""

    def log(self, name, value, description="", step=None):
        """Logs a number (or a string) under `name`; `step` defaults to the count."""
        if isinstance(value, (list, tuple, dict, set)):
            raise UserErrorException(
                "run.log takes a single value, not a {}: use run.log_list('{}', values) for a list".format(
                    type(value).__name__, name
                )
            )
        if _is_number(value):
            entry = {"name": name, "value": float(value) if not isinstance(value, bool) else bool(value)}
            if step is not None:
                entry["steps"] = [int(step)]
        else:
            entry = {"name": name, "kind": "value", "value": str(value)}
        entry["wall_times"] = [time.time()]
        if description:
            entry["description"] = description
        self._emit("scalar metric", name, value, entry)

    def log_list(self, name, value, description=""):
        """Logs a list of values under `name`."""
        values = list(value)
        if values and all(_is_number(v) for v in values):
            entry = {"name": name, "values": [float(v) for v in values]}
            now = time.time()
            entry["wall_times"] = [now] * len(values)
        else:
            entry = {"name": name, "kind": "list", "value": values}
        if description:
            entry["description"] = description
        self._emit("list metric", name, values, entry)

    def log_row(self, name, description=None, **kwargs):
        """Logs one row of a table under `name`."""
        entry = {"name": name, "kind": "row", "value": dict(kwargs)}
        if description:
            entry["description"] = description
        self._emit("row metric", name, kwargs, entry)

    def log_table(self, name, value, description=""):
        """Logs a table (a dict of column lists) under `name`."""
        entry = {"name": name, "kind": "table", "value": dict(value)}
        if description:
            entry["description"] = description
        self._emit("table metric", name, value, entry)

    def log_image(self, name, path=None, plot=None, description=""):
        """Logs an image file, or a matplotlib plot, under `name`."""
        if (path is None) == (plot is None):
            raise UserErrorException("log_image takes exactly one of path and plot")
        if plot is not None:
            buffer = io.BytesIO()
            plot.savefig(buffer, format="png")
            data, source = buffer.getvalue(), "plot"
        else:
            with open(path, "rb") as f:
                data, source = f.read(), os.path.basename(path)
        entry = {
            "name": name,
            "kind": "image",
            "value": {"source": source, "png_base64": base64.b64encode(data).decode("ascii")},
        }
        if description:
            entry["description"] = description
        self._emit("image", name, source, entry)


def _output_name(name):
    """The path under `outputs/` of an uploaded run file `name`: Runboard keeps a
    run's uploaded files in `outputs/`, so `outputs/a.txt` is `a.txt` and a name
    outside it (`a.txt`) goes under it too."""
    rel = str(name).replace("\\", "/").lstrip("/")
    while rel.startswith("./"):
        rel = rel[2:]
    if rel.startswith("outputs/"):
        rel = rel[len("outputs/"):]
    if not rel or rel == "outputs":
        raise UserErrorException("upload_file needs a file name, such as 'outputs/model.pkl'")
    return rel


class _OfflineRun(_BaseRun):
    """The run outside Runboard: prints what it would have logged, like the SDK."""

    id = "OfflineRun"

    def __init__(self):
        # Not a server's run: no experiment to read it back from.
        self.experiment = None
        self._portal_url = None

    def _emit(self, what, name, value, entry):
        print("Attempted to log {} {}:\n{}".format(what, name, value))

    def tag(self, key, value=None):
        print("Attempted to tag {}: {}".format(key, value))

    def upload_file(self, name, path_or_stream, datastore_name=None):
        print("Attempted to upload {} as {}".format(path_or_stream, name))

    def upload_folder(self, name, path, datastore_name=None):
        print("Attempted to upload the folder {} as {}".format(path, name))

    def set_tags(self, tags):
        for key, value in tags.items():
            self.tag(key, value)

    def add_properties(self, properties):
        print("Attempted to add properties {}".format(properties))

    def complete(self):
        pass

    def flush(self, timeout_seconds=300):
        pass


class _SubmittedRun(_BaseRun):
    """The run inside Runboard."""

    def __init__(self, url, run_id, token):
        self.id = run_id
        self._url = "{}/api/runs/{}/metrics".format(url, run_id)
        # Uploads go through the MLflow artifacts route, which a run's token may
        # write for its own run (into its outputs/, indexed at once).
        self._artifacts = "{}/api/2.0/mlflow-artifacts/artifacts/{}/outputs/".format(url, run_id)
        self._token = token
        self._lock = threading.Lock()
        self._pending = {"metrics": [], "tags": {}, "properties": {}}
        # A batch whose send failed, sent again before anything newer.
        self._retry = None
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="runboard-metrics", daemon=True)
        self._thread.start()
        atexit.register(self._at_exit)

    def _emit(self, what, name, value, entry):
        with self._lock:
            self._pending["metrics"].append(entry)
        self._wake.set()

    def upload_file(self, name, path_or_stream, datastore_name=None):
        """Uploads a file (a path, or a binary stream) as the run file `name`, under
        `outputs/` (`outputs/model.pkl`; a name outside `outputs/` goes under it).
        It is in the run's files at once, and stays after the job ends."""
        from azureml._runboard import error_from, segment

        rel = _output_name(name)
        if hasattr(path_or_stream, "read"):
            data = path_or_stream.read()
            if isinstance(data, str):
                data = data.encode("utf-8")
        else:
            with open(path_or_stream, "rb") as f:
                data = f.read()
        request = urllib.request.Request(
            self._artifacts + "/".join(segment(p) for p in rel.split("/")),
            data=data,
            method="PUT",
            headers={"Content-Type": "application/octet-stream", "Authorization": "Bearer " + self._token},
        )
        try:
            with urllib.request.urlopen(request, timeout=300):
                pass
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                message = json.loads(raw.decode("utf-8"))["message"]
            except (ValueError, KeyError, TypeError):
                raise error_from(e.code, raw) from None
            raise UserErrorException("upload_file {!r}: {}".format(name, message)) from None
        return {"name": "outputs/" + rel}

    def upload_folder(self, name, path, datastore_name=None):
        """Uploads every file under the folder `path` as `name/<its path>` (under
        `outputs/`, as `upload_file`)."""
        if not os.path.isdir(path):
            raise UserErrorException("upload_folder: {!r} is not a folder".format(path))
        prefix = str(name).rstrip("/")
        uploaded = []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for file in sorted(files):
                full = os.path.join(root, file)
                rel = os.path.relpath(full, path).replace(os.sep, "/")
                uploaded.append(self.upload_file(prefix + "/" + rel, full)["name"])
        return uploaded

    def tag(self, key, value=None):
        """Sets a tag (`value` None means an empty tag, as in the SDK)."""
        with self._lock:
            self._pending["tags"][str(key)] = "" if value is None else str(value)

    def set_tags(self, tags):
        """Sets several tags."""
        for key, value in tags.items():
            self.tag(key, value)

    def add_properties(self, properties):
        """Adds run properties."""
        with self._lock:
            for key, value in properties.items():
                self._pending["properties"][str(key)] = str(value)

    def _take(self):
        with self._lock:
            if self._retry is not None:
                # A batch whose send failed goes again as it was, under its id: the
                # server may have stored it before the answer was lost, and then
                # answers without storing it twice.
                batch, self._retry = self._retry, None
                return batch
            batch = self._pending
            self._pending = {"metrics": [], "tags": {}, "properties": {}}
            # The server takes at most _MAX_POINTS values per request: keep the
            # rest (a long values list cut in two) for the next batch.
            taken, points = [], 0
            for i, entry in enumerate(batch["metrics"]):
                n = len(entry["values"]) if "values" in entry else 1
                if points + n <= _MAX_POINTS:
                    taken.append(entry)
                    points += n
                    continue
                room = _MAX_POINTS - points
                if room > 0 and "values" in entry:
                    head, tail = dict(entry), dict(entry)
                    for key in ("values", "steps", "wall_times"):
                        if entry.get(key):
                            head[key], tail[key] = entry[key][:room], entry[key][room:]
                    taken.append(head)
                    self._pending["metrics"] = [tail] + batch["metrics"][i + 1:]
                else:
                    self._pending["metrics"] = batch["metrics"][i:]
                break
            batch["metrics"] = taken
        if self._pending["metrics"]:
            self._wake.set()
        if not (batch["metrics"] or batch["tags"] or batch["properties"]):
            return None
        batch["batch"] = uuid.uuid4().hex
        return batch

    def _give_back(self, batch):
        with self._lock:
            self._retry = batch

    def _send(self, batch):
        body = json.dumps(batch).encode("utf-8")
        request = urllib.request.Request(
            self._url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": "Bearer " + self._token},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return 200 <= response.status < 300
        except urllib.error.HTTPError as e:
            if 400 <= e.code < 500 and e.code not in (408, 429):
                # The server refused this batch for good: drop it, say so, go on.
                print("runboard: metrics batch refused: {} {}".format(e.code, e.read()[:500]))
                return True
            return False
        except (OSError, ValueError):
            return False

    def _loop(self):
        # Send as soon as something is logged; what is logged while a send is under
        # way goes in the next batch. After a failure, back off before trying again.
        backoff = _SEND_EVERY
        last_send = 0.0
        while not self._stop:
            self._wake.wait(1.0)
            self._wake.clear()
            # At most one request every _SEND_EVERY seconds: a value logged after a
            # quiet spell goes at once, a burst of `run.log` calls goes in batches (one
            # event a batch for the run's viewers, not one a point).
            pause = last_send + _SEND_EVERY - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            batch = self._take()
            if batch is None:
                continue
            last_send = time.monotonic()
            if self._send(batch):
                backoff = _SEND_EVERY
            else:
                self._give_back(batch)
                time.sleep(backoff)
                backoff = min(max(backoff * 2, 0.2), 2.0)

    def flush(self, timeout_seconds=300):
        """Sends what is pending, waiting at most `timeout_seconds`."""
        deadline = time.time() + timeout_seconds
        while time.time() < deadline:
            batch = self._take()
            if batch is None:
                return True
            if self._send(batch):
                continue
            self._give_back(batch)
            time.sleep(0.2)
        return False

    def complete(self):
        """Marks the script's work done: sends what is pending."""
        self.flush(_EXIT_WAIT)

    def _at_exit(self):
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=6)
        if self.flush(_EXIT_WAIT):
            return
        batch = self._take()
        if batch is None:
            return
        try:
            os.makedirs("logs", exist_ok=True)
            spool = os.path.join("logs", "runboard-metrics-spool-{}.jsonl".format(os.getpid()))
            kept = 0
            with open(spool, "a") as f:
                while batch is not None:
                    f.write(json.dumps(batch) + "\n")
                    kept += len(batch["metrics"])
                    batch = self._take()
            print("runboard: the server could not be reached; {} metric entries kept in {}".format(
                kept, spool))
        except OSError as e:
            print("runboard: could not keep unsent metrics: {}".format(e))
