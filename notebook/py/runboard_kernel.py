"""The notebook's kernel in the browser: runs cells in CPython (Pyodide, in the page's
Web Worker, `notebook/js/pykernel.js`) with IPython's conventions, and answers the
page in its protocol (`runboard_shared::cell::worker`).

- A cell is compiled with the standard library (`ast`): its last expression, unless
  the cell ends with `;`, is displayed as the cell's result (`Out[n]`), with a
  Runboard display (`_repr_mimebundle_` under `DISPLAY_MIME`) when the value has one.
- `%%writefile [-a] FILE` writes the rest of the cell (`$name` and `{expr}` in FILE
  are expanded, as IPython does). Other magics and `!cmd` raise `UsageError`, which
  says what to do instead.
- An exception ends the cell as an nbformat `error`: `ename`, `evalue` and the
  traceback, without the kernel's own frames.
- `print` and the SDK's streamed logs reach the page line by line while the cell runs.
- Files: the server's files area is mirrored under `/drive` ([`Drive`]): pulled before
  each cell, the cell's changes pushed after it (and before any SDK request that may
  make the server read them). The cell's working directory is its notebook's folder.

Nothing here needs the browser but `Drive`'s requests (`azureml._browser`), so the
module runs, and is tested, in any CPython.
"""

import ast
import builtins
import hashlib
import io
import json
import linecache
import os
import re
import stat
import sys
import traceback
import urllib.parse

DISPLAY_MIME = "application/vnd.runboard.display+json"

# Where the files area is mounted in the kernel's filesystem.
DRIVE = "/drive"


class UsageError(Exception):
    """A magic that is not supported, or wrongly used (IPython's name for it)."""


# --- IPython's conventions -----------------------------------------------------


def expand(text, namespace):
    """IPython's variable expansion in a magic's arguments: `{expr}` is evaluated,
    `$name` (and `$name.attr`) is looked up, `$$` is a `$`."""

    def braces(match):
        return str(eval(match.group(1), namespace))

    def dollar(match):
        if match.group(0) == "$$":
            return "$"
        parts = match.group(1).split(".")
        try:
            value = namespace[parts[0]]
        except KeyError:
            return match.group(0)
        for part in parts[1:]:
            value = getattr(value, part)
        return str(value)

    text = re.sub(r"\{([^{}]+)\}", braces, text)
    return re.sub(r"\$\$|\$([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)", dollar, text)


def writefile(first_line, body, namespace):
    """`%%writefile [-a|--append] FILE`: writes `body`; returns IPython's message."""
    args = expand(first_line, namespace).split()[1:]
    append = False
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        if flag in ("-a", "--append"):
            append = True
        else:
            raise UsageError("%%writefile: unknown option {}; use %%writefile [-a] FILE".format(flag))
    if len(args) != 1:
        raise UsageError("%%writefile needs one file name: %%writefile [-a] FILE")
    path = args[0].strip("'\"")
    # IPython ends every cell with a newline before its magics see it.
    if body and not body.endswith("\n"):
        body += "\n"
    exists = os.path.exists(path)
    with open(path, "a" if append else "w", encoding="utf-8") as f:
        f.write(body)
    if append:
        return "Appending to {}".format(path)
    return "{} {}".format("Overwriting" if exists else "Writing", path)


def magic_error(source):
    """The `UsageError` for a cell that uses a magic or a shell command this kernel
    does not run, or None."""
    for line in source.splitlines():
        text = line.strip()
        if text.startswith("%%"):
            return UsageError(
                "Cell magic `{}` is not supported in Runboard notebooks; only %%writefile is".format(
                    text.split()[0]))
        if text.startswith("%pip") or text.startswith("!pip"):
            return UsageError(
                "installing packages in the browser kernel is not supported: it runs the standard "
                "library and the azureml SDK; install packages for a run with its Environment "
                "(pip_packages) instead")
        if text.startswith("!"):
            return UsageError(
                "shell commands (`{}`) cannot run in the browser kernel; run them in a job "
                "(ScriptRunConfig) or use os/shutil/subprocess-free Python".format(text))
        if text.startswith("%"):
            return UsageError(
                "Line magic `{}` is not supported in Runboard notebooks".format(text.split()[0]))
    return None


def ends_with_semicolon(source):
    """Whether the cell's last code line ends with `;` (its value is not shown)."""
    for line in reversed(source.splitlines()):
        code = line.split("#", 1)[0].rstrip()
        if code:
            return code.endswith(";")
    return False


def display_of(value):
    """The page's display of a value (`runboard_shared::cell::Display`)."""
    bundle = mimebundle_of(value)
    if bundle and isinstance(bundle.get(DISPLAY_MIME), dict):
        return bundle[DISPLAY_MIME]
    if bundle and isinstance(bundle.get("text/plain"), str):
        return {"kind": "text", "text": bundle["text/plain"]}
    return {"kind": "text", "text": repr(value)}


def mimebundle_of(value):
    """`value._repr_mimebundle_()`, when it is an instance that has one."""
    if isinstance(value, type):
        return None
    method = getattr(value, "_repr_mimebundle_", None)
    if not callable(method):
        return None
    bundle = method()
    if isinstance(bundle, tuple):
        bundle = bundle[0]
    return bundle if isinstance(bundle, dict) else None


# --- output streams ------------------------------------------------------------


class Stream(io.TextIOBase):
    """`sys.stdout`/`sys.stderr` of a cell: text goes to the page at each line end,
    at `flush()` and when the cell ends."""

    def __init__(self, name, emit):
        super().__init__()
        self.name = name
        self._emit = emit
        self._pending = []

    @property
    def encoding(self):
        return "utf-8"

    def writable(self):
        return True

    def isatty(self):
        return False

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not {}".format(type(text).__name__))
        if text:
            self._pending.append(text)
            if "\n" in text:
                self.flush()
        return len(text)

    def flush(self):
        if self._pending:
            text = "".join(self._pending)
            self._pending = []
            self._emit(self.name, text)


# --- errors --------------------------------------------------------------------


def error_of(exc, cell_files):
    """An exception as the page's error (`PyError`): class name, message and the
    traceback of the cell's own frames (and those it called)."""
    ename = type(exc).__name__
    if isinstance(exc, SyntaxError) and not isinstance(exc, UsageError):
        lines = traceback.format_exception_only(type(exc), exc)
        tb_lines = "".join(lines).rstrip("\n").split("\n")
        return {"ename": ename, "message": str(exc.msg), "traceback": tb_lines}
    tb = exc.__traceback__
    # Frames of the kernel itself come first: drop them.
    while tb is not None and tb.tb_frame.f_code.co_filename not in cell_files:
        tb = tb.tb_next
    if isinstance(exc, (UsageError, KeyboardInterrupt)) or tb is None:
        tb = None
    text = "".join(traceback.format_exception(type(exc), exc, tb)).rstrip("\n")
    # The line is in the traceback; `evalue` stays Python's `str(exc)`.
    return {"ename": ename, "message": str(exc), "traceback": text.split("\n")}


# --- the kernel ----------------------------------------------------------------


class Kernel:
    """One session: its variables, its execution count, and the page to answer.

    `post(text)` sends one message (JSON text) to the page. `drive` mirrors the files
    area (None: the cell's folder is `root` + its `cwd` as it is)."""

    def __init__(self, post, drive=None, root=DRIVE):
        self._post = post
        self.drive = drive
        self.root = root
        self.count = 0
        self.cell = ""
        self.cell_files = set()
        self.namespace = {"__name__": "__main__", "__builtins__": builtins}
        self._install_hooks()
        if drive is None:
            os.makedirs(root, exist_ok=True)

    def _install_hooks(self):
        try:
            from azureml import _display
        except ImportError:  # the SDK is not installed: no widgets, no run waits
            return
        _display.hooks["display"] = self._display_now
        _display.hooks["waiting"] = self._waiting
        if self.drive is not None:
            from azureml import _runboard

            _runboard.before_write = self.drive.push

    # The page's messages.

    def handle(self, text):
        """Runs one `run` or `attach` message to its `done`."""
        message = json.loads(text)
        kind = message.get("type")
        if kind == "run":
            done = self.run(message["cell"], message["source"], message.get("cwd", ""))
        elif kind == "attach":
            done = self.attach(message["cell"], message["run"], message.get("cwd", ""))
        else:
            return
        self.post(done)

    def post(self, message):
        self._post(json.dumps(message))

    def _emit(self, name, text):
        self.post({"type": "output", "cell": self.cell,
                   "output": {"type": name, "text": text}})

    def _display_now(self, bundle):
        sys.stdout.flush()
        self.post({"type": "output", "cell": self.cell,
                   "output": {"type": "display", "display": display_of_bundle(bundle)}})

    def _waiting(self, run, show_output):
        sys.stdout.flush()
        names = sorted(n for n, v in self.namespace.items() if v is run and not n.startswith("_"))
        self.post({"type": "waiting", "cell": self.cell, "run": {
            "run_id": run.id,
            "experiment": run.experiment.name,
            "portal_url": run.get_portal_url(),
            "names": names,
            "show_output": bool(show_output),
        }})

    # Cells.

    def run(self, cell, source, cwd):
        """Runs a cell; returns its `done` message."""
        self.count += 1
        result, error = self._in_cell(cell, cwd, lambda: self._execute(source))
        return {"type": "done", "cell": cell, "execution_count": self.count,
                "result": result, "error": error}

    def attach(self, cell, run, cwd):
        """Follows again a run the cell waited on before the page was reloaded, binding
        the cell's names for it again."""

        def follow():
            from azureml.core import Experiment, Run, Workspace

            followed = Run(Experiment(Workspace(), run["experiment"]), run["run_id"],
                           _portal_url=run.get("portal_url"))
            for name in run.get("names") or []:
                self.namespace[name] = followed
            followed.wait_for_completion(show_output=bool(run.get("show_output")))
            return None

        result, error = self._in_cell(cell, cwd, follow)
        return {"type": "done", "cell": cell, "execution_count": 0,
                "result": result, "error": error}

    def _in_cell(self, cell, cwd, body):
        """Runs `body` as cell `cell` in folder `cwd`: streams, files, errors."""
        self.cell = cell
        saved = sys.stdout, sys.stderr
        sys.stdout = Stream("stdout", self._emit)
        sys.stderr = Stream("stderr", self._emit)
        result = error = None
        try:
            if self.drive is not None:
                self.drive.pull()
            folder = os.path.join(self.root, cwd) if cwd else self.root
            os.makedirs(folder, exist_ok=True)
            os.chdir(folder)
            result = body()
        except BaseException as e:  # noqa: B036 — KeyboardInterrupt and SystemExit end the cell too
            error = error_of(e, self.cell_files)
        finally:
            try:
                if self.drive is not None:
                    self.drive.push()
            except BaseException as e:  # noqa: B036
                sys.stderr.write("Files could not be saved to the server: {}\n".format(e))
                if error is None:
                    error = error_of(e, self.cell_files)
            sys.stdout.flush()
            sys.stderr.flush()
            sys.stdout, sys.stderr = saved
        return result, error

    def _execute(self, source):
        """The cell's code; returns the display of its last expression, or None."""
        first, _, rest = source.partition("\n")
        if first.strip().startswith("%%writefile"):
            print(writefile(first.strip(), rest, self.namespace))
            return None
        name = "<cell-{}>".format(self.count)
        # The source is kept where tracebacks look for it.
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
        self.cell_files.add(name)
        try:
            tree = ast.parse(source, filename=name)
        except SyntaxError:
            magic = magic_error(source)
            if magic is not None:
                raise magic from None
            raise
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr) and not ends_with_semicolon(source):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, name, "exec"), self.namespace)
        if last is None:
            return None
        value = eval(compile(last, name, "eval"), self.namespace)
        if value is None:
            return None
        self.namespace["_"] = value
        return display_of(value)


def display_of_bundle(bundle):
    """The page's display of a MIME bundle."""
    if isinstance(bundle.get(DISPLAY_MIME), dict):
        return bundle[DISPLAY_MIME]
    return {"kind": "text", "text": str(bundle.get("text/plain", ""))}


# --- the files area ------------------------------------------------------------


def files_url(path):
    """`/api/files/<path>`, each segment percent-encoded."""
    return "/api/files/" + "/".join(urllib.parse.quote(p, safe="") for p in path.split("/"))


def push_plan(known, local):
    """What to send after a cell, without I/O.

    `known`: path -> digest of each file as last synced with the server; `local`:
    path -> digest of each file now under the mount. Returns `(put, delete)`: the
    files written or changed, and the synced files that are gone."""
    put = sorted(p for p, digest in local.items() if known.get(p) != digest)
    delete = sorted(p for p in known if p not in local)
    return put, delete


def pull_plan(known_sizes, server_sizes, local_unchanged):
    """What to fetch before a cell, without I/O.

    `known_sizes`: path -> size as last synced; `server_sizes`: path -> size in the
    server's listing; `local_unchanged(path)`: whether the local copy is as synced.
    Returns `(fetch, remove)`: files that are new or changed on the server, and
    local copies of files the server no longer has (unless changed here)."""
    fetch = sorted(p for p, size in server_sizes.items() if known_sizes.get(p) != size)
    remove = sorted(p for p in known_sizes if p not in server_sizes and local_unchanged(p))
    return fetch, remove


class Drive:
    """The server's files area mirrored under `root`, synced at cell boundaries (and
    before SDK requests that write): `pull` fetches what is new or changed on the
    server (by size), `push` sends what the cell wrote, changed or deleted (by
    content digest), creating and deleting folders as the cell did.

    `send(method, url, body=None, content_type=None)` returns `(status, bytes)`."""

    def __init__(self, send, root=DRIVE):
        self.send = send
        self.root = root
        # path -> (size, mtime_ns, digest) of each file as last synced.
        self.files = {}
        self.folders = set()
        self._busy = False

    def _call(self, method, path, body=None, content_type=None, ok=(200, 201, 204)):
        status, data = self.send(method, files_url(path) if path else "/api/files", body, content_type)
        if status not in ok:
            raise OSError("{} {}: HTTP {} {}".format(method, path or "/", status, data[:300].decode("utf-8", "replace")))
        return data

    def _local(self, path):
        return os.path.join(self.root, *path.split("/"))

    def _record(self, path, data):
        st = os.stat(self._local(path))
        self.files[path] = (st.st_size, st.st_mtime_ns, hashlib.sha256(data).hexdigest())

    def _digest(self, path):
        """The local file's digest, read only when its size or time changed."""
        st = os.stat(self._local(path))
        known = self.files.get(path)
        if known and known[0] == st.st_size and known[1] == st.st_mtime_ns:
            return known[2]
        with open(self._local(path), "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    def pull(self):
        os.makedirs(self.root, exist_ok=True)
        listing = json.loads(self._call("GET", "").decode("utf-8"))
        server_sizes = {f["path"]: f["size"] for f in listing.get("files", [])}
        server_folders = set(listing.get("folders", []))
        for folder in sorted(server_folders):
            os.makedirs(self._local(folder), exist_ok=True)

        def unchanged(path):
            try:
                return self._digest(path) == self.files[path][2]
            except OSError:
                return True

        fetch, remove = pull_plan({p: v[0] for p, v in self.files.items()}, server_sizes, unchanged)
        for path in fetch:
            data = self._call("GET", path)
            local = self._local(path)
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with open(local, "wb") as f:
                f.write(data)
            self._record(path, data)
        for path in remove:
            try:
                os.remove(self._local(path))
            except OSError:
                pass
            self.files.pop(path, None)
        for folder in sorted(self.folders - server_folders, reverse=True):
            try:
                os.rmdir(self._local(folder))
            except OSError:
                pass
        self.folders = server_folders

    def _scan(self):
        """Every file and folder under the mount (caches left out)."""
        files, folders = {}, set()
        for top, dirs, names in os.walk(self.root):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            rel_top = os.path.relpath(top, self.root).replace(os.sep, "/")
            rel_top = "" if rel_top == "." else rel_top + "/"
            for d in dirs:
                folders.add(rel_top + d)
            for name in names:
                path = rel_top + name
                if stat.S_ISREG(os.stat(self._local(path)).st_mode):
                    files[path] = self._digest(path)
        return files, folders

    def push(self):
        if self._busy:
            return
        self._busy = True
        try:
            local, folders = self._scan()
            put, delete = push_plan({p: v[2] for p, v in self.files.items()}, local)
            for folder in sorted(folders - self.folders):
                self._call("POST", folder, json.dumps({"create_folder": {}}).encode(), "application/json")
            for path in put:
                with open(self._local(path), "rb") as f:
                    data = f.read()
                self._call("PUT", path, data, "application/octet-stream")
                self._record(path, data)
            for path in delete:
                self._call("DELETE", path, ok=(200, 204, 404))
                self.files.pop(path, None)
            for folder in sorted(self.folders - folders, reverse=True):
                self._call("DELETE", folder, ok=(200, 204, 404))
            self.folders = folders
        finally:
            self._busy = False


def browser_kernel(post):
    """The kernel of the browser's worker: the files area mirrored under `/drive`,
    reached with the SDK's synchronous requests (the page's session)."""
    from azureml._runboard import Endpoint

    return Kernel(post, Drive(Endpoint.resolve().send))


# --- headless: `runboard notebook run` -------------------------------------------


def headless():
    """`runboard notebook run` (`server/src/notebook.rs`): the same kernel under the
    machine's CPython, speaking the page's protocol as JSON lines: messages in on
    stdin, answers out on the original stdout. Anything else that writes to file
    descriptor 1 (a subprocess, C code) goes to stderr, so it cannot break the
    protocol.

    `RUNBOARD_NOTEBOOK_ROOT` set: that local folder is the cells' files area (`--local`);
    else the server's files area is mirrored in a temporary folder, as in the browser,
    with the SDK's server and token (`RUNBOARD_URL`, `RUNBOARD_TOKEN`)."""
    import shutil
    import tempfile

    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)

    def post(text):
        channel.write(text + "\n")
        channel.flush()

    local = os.environ.get("RUNBOARD_NOTEBOOK_ROOT")
    mirror = None
    if local:
        kernel = Kernel(post, root=local)
    else:
        from azureml._runboard import Endpoint

        mirror = tempfile.mkdtemp(prefix="runboard-files-")
        kernel = Kernel(post, Drive(Endpoint.resolve().send, mirror), mirror)
    try:
        post(json.dumps({"type": "ready"}))
        for line in sys.stdin:
            if line.strip():
                kernel.handle(line)
    finally:
        if mirror is not None:
            shutil.rmtree(mirror, ignore_errors=True)
