"""The notebook's kernel in the browser: runs cells in CPython (Pyodide, in the page's
Web Worker, `notebook/js/pykernel.js`) with IPython's conventions, and answers the
page in its protocol (`runboard_shared::cell::worker`).

- A cell is compiled with the standard library (`ast`): its last expression, unless
  the cell ends with `;`, is displayed as the cell's result (`Out[n]`), with a
  Runboard display (`_repr_mimebundle_` under `DISPLAY_MIME`) when the value has one.
- `%%writefile [-a] FILE` writes the rest of the cell (`$name` and `{expr}` in FILE
  are expanded, as IPython does). Other magics and `!cmd` raise `UsageError`, which
  says what to do instead.
- `%pip install NAME[==VERSION] ...` installs pure-Python wheels through the server's
  package index (section "%pip install").
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
        if PIP_LINE.match(text):
            continue  # run by the installer (section "%pip install")
        if text.startswith("!pip"):
            return UsageError(
                "`{}`: shell commands cannot run in the notebook kernel; use `%pip install "
                "NAME[==VERSION]`, which installs pure-Python wheels through the server".format(text))
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


# --- %pip install ---------------------------------------------------------------
#
# `%pip install NAME[==VERSION] ...` installs pure-Python wheels through the server's
# package index (`/simple/NAME/`, which proxies PyPI or the `[pip] index_url`), with the
# SDK's own transport (`azureml._runboard.Endpoint`: the page's session in the browser,
# the client token elsewhere). Wheels are unpacked into the session's site folder
# (site-packages in Pyodide, a temporary folder put first on `sys.path` elsewhere); the
# user's interpreter is never pip-installed into. Dependencies (`Requires-Dist`) follow,
# markers evaluated; every wheel is downloaded and checked (SHA-256) before any is
# unpacked, so a failure leaves nothing half-installed. Pure logic first, tested in
# test_runboard_kernel.py; the installer at the end.

# `html.parser`, `platform` and `shlex` are imported where they are used: together they
# cost about 0.8 s of import in the browser, which every notebook would pay at start.
import importlib  # noqa: E402
import importlib.metadata  # noqa: E402
import posixpath  # noqa: E402
import sysconfig  # noqa: E402
import tempfile  # noqa: E402
import zipfile  # noqa: E402

PURE_ONLY = (
    "the notebook kernel installs pure-Python wheels only; binary packages such as numpy "
    "belong in the job's environment (pip_packages or conda_packages of the estimator or "
    "its Environment)")

PIP_LINE = re.compile(r"^([ \t]*)%pip\b(.*)$", re.M)


def pip_magic_lines(source):
    """The cell with each `%pip ARGS` line made a call `_runboard_pip('ARGS', globals())`
    (same indentation, same line numbers), as IPython turns magics into calls."""
    return PIP_LINE.sub(
        lambda m: "{}_runboard_pip({!r}, globals())".format(m.group(1), m.group(2)), source)


def parse_pip_args(line):
    """`%pip`'s arguments: `(requirements, options)`; anything but `install` with `-q`
    and `--no-deps` is a `UsageError`."""
    try:
        import shlex

        words = shlex.split(line)
    except ValueError as e:
        raise UsageError("%pip {}: {}".format(line.strip(), e)) from None
    if not words or words[0] != "install":
        raise UsageError(
            "`%pip {}` is not supported: Runboard notebooks run only "
            "`%pip install NAME[==VERSION] ...`".format(line.strip()))
    options = {"quiet": False, "deps": True}
    requirements = []
    for word in words[1:]:
        if word in ("-q", "-qq", "-qqq", "--quiet"):
            options["quiet"] = True
        elif word == "--no-deps":
            options["deps"] = False
        elif word.startswith("-"):
            raise UsageError(
                "%pip install: option {} is not supported in Runboard notebooks (only -q and "
                "--no-deps; packages come from the server's index)".format(word))
        else:
            requirements.append(user_requirement(word))
    if not requirements:
        raise UsageError("%pip install needs a package: %pip install NAME[==VERSION]")
    return requirements, options


class Requirement:
    """A PEP 508 requirement: name, extras, specifiers `[(op, version)]`, marker."""

    def __init__(self, name, extras=(), specifiers=(), marker=None):
        self.name = name
        self.extras = tuple(extras)
        self.specifiers = list(specifiers)
        self.marker = marker

    @property
    def key(self):
        return canonical_name(self.name)

    def spec_text(self):
        return ",".join(op + v for op, v in self.specifiers)

    def __str__(self):
        extras = "[{}]".format(",".join(self.extras)) if self.extras else ""
        return self.name + extras + self.spec_text()

    def __repr__(self):
        return "Requirement({!r}, {!r}, {!r}, {!r})".format(
            self.name, self.extras, self.specifiers, self.marker)


REQUIREMENT = re.compile(
    r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[([^\]]*)\])?\s*([^;]*?)\s*(?:;\s*(.*?))?\s*$")
SPECIFIER = re.compile(r"^\s*(~=|===|==|!=|<=|>=|<|>)\s*([A-Za-z0-9.*+!_-]+)\s*$")


def canonical_name(name):
    """PEP 503's normal form of a project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(text):
    """A `Requires-Dist` or command-line requirement; `UsageError` when unreadable."""
    if "@" in text.split(";", 1)[0] or "://" in text:
        raise UsageError("{}: direct URL requirements are not supported; name a package "
                         "on the server's index".format(text.strip()))
    match = REQUIREMENT.match(text)
    if not match:
        raise UsageError("{!r} is not a requirement (NAME[==VERSION])".format(text))
    name, extras, specs, marker = match.groups()
    specs = specs.strip()
    if specs.startswith("(") and specs.endswith(")"):
        specs = specs[1:-1]
    specifiers = []
    for part in specs.split(",") if specs.strip() else []:
        spec = SPECIFIER.match(part)
        if not spec:
            raise UsageError("{!r}: {!r} is not a version specifier".format(text, part.strip()))
        specifiers.append((spec.group(1), spec.group(2)))
    extras = tuple(e.strip() for e in (extras or "").split(",") if e.strip())
    return Requirement(name, extras, specifiers, marker or None)


def user_requirement(text):
    """A requirement typed after `%pip install`: a name, or a name pinned with `==`."""
    requirement = parse_requirement(text)
    specs = requirement.specifiers
    if specs and (len(specs) > 1 or specs[0][0] != "==" or "*" in specs[0][1]):
        raise UsageError(
            "%pip install {}: only NAME or NAME==VERSION is supported in Runboard notebooks, "
            "not {!r}".format(text, requirement.spec_text()))
    return requirement


# Versions (PEP 440), enough to order releases and check specifiers.

VERSION = re.compile(
    r"^v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre>alpha|beta|preview|pre|rc|a|b|c)[-_.]?(?P<pre_n>\d*))?"
    r"(?:-(?P<post_n1>\d+)|[-_.]?(?P<post>post|rev|r)[-_.]?(?P<post_n2>\d*))?"
    r"(?:[-_.]?(?P<dev>dev)[-_.]?(?P<dev_n>\d*))?"
    r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$", re.I)
PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}


def parse_version(text):
    """`(key, is_prerelease, release)` of a PEP 440 version, or None. Keys compare as
    PEP 440 orders versions (local labels ignored)."""
    match = VERSION.match(text.strip())
    if not match:
        return None
    g = match.groupdict()
    release = [int(p) for p in g["release"].split(".")]
    trimmed = list(release)
    while len(trimmed) > 1 and trimmed[-1] == 0:
        trimmed.pop()
    has_post = g["post_n1"] is not None or g["post"] is not None
    dev = g["dev"] is not None
    if g["pre"]:
        pre_key = (0, PRE_RANK[g["pre"].lower()], int(g["pre_n"] or 0))
    elif dev and not has_post:
        pre_key = (-1,)  # 1.0.dev1 comes before 1.0a1
    else:
        pre_key = (9,)
    post_key = (int(g["post_n1"] or g["post_n2"] or 0),) if has_post else (-1,)
    dev_key = (int(g["dev_n"] or 0),) if dev else (9,)
    key = (int(g["epoch"] or 0), tuple(trimmed), pre_key, post_key, dev_key)
    return key, bool(g["pre"] or dev), release


def version_satisfies(version, specifiers):
    """Whether `version` meets every `(op, version)`; an unreadable version meets none."""
    parsed = parse_version(version)
    if parsed is None:
        return False
    key, _, release = parsed
    for op, wanted in specifiers:
        if op == "===":
            if version != wanted:
                return False
            continue
        if wanted.endswith(".*") and op in ("==", "!="):
            prefix = [int(p) for p in wanted[:-2].split(".") if p.isdigit()]
            padded = release + [0] * max(0, len(prefix) - len(release))
            if (padded[:len(prefix)] == prefix) != (op == "=="):
                return False
            continue
        other = parse_version(wanted)
        if other is None:
            return False
        okey, _, orelease = other
        holds = {
            "==": key == okey,
            "!=": key != okey,
            "<=": key <= okey,
            ">=": key >= okey,
            "<": key < okey,
            ">": key > okey,
            "~=": key >= okey and release[:len(orelease) - 1] == orelease[:-1],
        }[op]
        if not holds:
            return False
    return True


def requires_python_ok(requires, python_version):
    """Whether `Requires-Python` (`>=3.8, <4`) admits `python_version`; an unreadable
    one admits it."""
    if not requires:
        return True
    specifiers = []
    for part in requires.split(","):
        match = SPECIFIER.match(part)
        if not match:
            return True
        specifiers.append((match.group(1), match.group(2)))
    return version_satisfies(python_version, specifiers)


# Markers (PEP 508): `python_version >= "3.8" and sys_platform != "win32"`.

class UnknownMarker(Exception):
    """A marker this kernel cannot evaluate (an unknown variable or bad syntax)."""


MARKER_TOKEN = re.compile(
    r"\s*(?:(\()|(\))|('[^']*'|\"[^\"]*\")|(===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b)"
    r"|(and\b|or\b)|([A-Za-z_][A-Za-z0-9_.]*))")
VERSION_VARIABLES = ("python_version", "python_full_version", "implementation_version")


def marker_environment():
    """PEP 508's marker variables for this Python (`extra` is set per requirement)."""
    import platform

    info = sys.implementation.version
    return {
        "python_version": "{}.{}".format(*sys.version_info[:2]),
        "python_full_version": platform.python_version(),
        "implementation_name": sys.implementation.name,
        "implementation_version": "{}.{}.{}".format(info.major, info.minor, info.micro),
        "platform_python_implementation": platform.python_implementation(),
        "sys_platform": sys.platform,
        "platform_system": platform.system(),
        "platform_machine": platform.machine(),
        "os_name": os.name,
    }


def evaluate_marker(marker, environment, extras=()):
    """Whether `marker` holds. `extra == "x"` holds when `x` is among `extras`.
    Raises `UnknownMarker` for what it cannot read."""
    tokens = []
    position = 0
    text = marker.strip()
    while position < len(text):
        match = MARKER_TOKEN.match(text, position)
        if not match or match.end() == position:
            raise UnknownMarker(marker)
        position = match.end()
        kinds = ("open", "close", "string", "op", "bool", "name")
        for kind, value in zip(kinds, match.groups()):
            if value is not None:
                tokens.append((kind, " ".join(value.split())))
                break
    extras = [canonical_name(e) for e in extras]
    index = [0]

    def peek():
        return tokens[index[0]] if index[0] < len(tokens) else (None, None)

    def take(kind):
        token = peek()
        if token[0] != kind:
            raise UnknownMarker(marker)
        index[0] += 1
        return token[1]

    def value():
        kind, text = peek()
        if kind == "string":
            index[0] += 1
            return ("literal", text[1:-1])
        if kind == "name":
            index[0] += 1
            if text == "extra":
                return ("extra", None)
            if text not in environment:
                raise UnknownMarker(text)
            return ("variable", text)
        raise UnknownMarker(marker)

    def compare():
        if peek()[0] == "open":
            take("open")
            result = disjunction()
            take("close")
            return result
        left = value()
        op = take("op")
        right = value()
        if "extra" in (left[0], right[0]):
            other = right if left[0] == "extra" else left
            if other[0] != "literal" or op not in ("==", "!="):
                raise UnknownMarker(marker)
            return (canonical_name(other[1]) in extras) == (op == "==")
        names = [v[1] for v in (left, right) if v[0] == "variable"]
        lhs, rhs = (environment[v[1]] if v[0] == "variable" else v[1] for v in (left, right))
        if op in ("in", "not in"):
            return (lhs in rhs) == (op == "in")
        if any(n in VERSION_VARIABLES for n in names) and parse_version(lhs) and parse_version(rhs):
            return version_satisfies(lhs, [(op, rhs)])
        if op in ("==", "==="):
            return lhs == rhs
        if op == "!=":
            return lhs != rhs
        raise UnknownMarker(marker)

    def conjunction():
        result = compare()
        while peek() == ("bool", "and"):
            index[0] += 1
            result = compare() and result
        return result

    def disjunction():
        result = conjunction()
        while peek() == ("bool", "or"):
            index[0] += 1
            result = conjunction() or result
        return result

    result = disjunction()
    if index[0] != len(tokens):
        raise UnknownMarker(marker)
    return result


# The server's PEP 503 pages and the choice of a wheel.

def _links_of(page):
    """The `<a>` elements of an HTML page: their attributes, and `text`."""
    import html.parser

    class Links(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.links = []
            self._open = None

        def handle_starttag(self, tag, attrs):
            if tag == "a":
                self._open = dict(attrs)
                self._open["text"] = ""

        def handle_data(self, data):
            if self._open is not None:
                self._open["text"] += data

        def handle_endtag(self, tag):
            if tag == "a" and self._open is not None:
                self.links.append(self._open)
                self._open = None

    parser = Links()
    parser.feed(page)
    return parser.links


def parse_index_page(page):
    """The files of a PEP 503 project page: dicts of `filename`, `path` (the link
    without its fragment), `sha256` (or None), `requires_python`, `yanked`."""
    links = _links_of(page)
    files = []
    for link in links:
        href = link.get("href") or ""
        path, _, fragment = href.partition("#")
        sha = fragment[len("sha256="):] if fragment.startswith("sha256=") else None
        files.append({
            "filename": urllib.parse.unquote(path.rsplit("/", 1)[-1]),
            "path": path,
            "sha256": sha,
            "requires_python": link.get("data-requires-python"),
            "yanked": "data-yanked" in link,
        })
    return files


def wheel_name(filename):
    """`(distribution, version, python, abi, platform)` of a wheel's file name, or None."""
    if not filename.endswith(".whl"):
        return None
    parts = filename[:-4].split("-")
    if len(parts) == 6:
        del parts[2]
    if len(parts) != 5 or not all(parts):
        return None
    return tuple(parts)


def is_pure_wheel(filename):
    name = wheel_name(filename)
    return bool(name) and name[3] == "none" and name[4] == "any" and any(
        t.startswith("py3") for t in name[2].split("."))


def choose_wheel(requirement, files, python_version):
    """The newest pure-Python wheel of `files` that `requirement` admits, as pip chooses:
    no yanked file unless pinned with `==`, no pre-release unless a specifier names
    one, `Requires-Python` respected. Raises `UsageError` saying why none fits."""
    pure = [f for f in files if is_pure_wheel(f["filename"])
            and canonical_name(wheel_name(f["filename"])[0]) == requirement.key]
    if not pure:
        raise UsageError("{} has no pure-Python wheel: {}".format(requirement.name, PURE_ONLY))
    pinned = any(op in ("==", "===") for op, _ in requirement.specifiers)
    wants_pre = any((parse_version(v) or (0, False))[1] for _, v in requirement.specifiers)
    candidates = []
    for f in pure:
        version = wheel_name(f["filename"])[1]
        parsed = parse_version(version)
        if parsed is None or (f["yanked"] and not pinned):
            continue
        if parsed[1] and not wants_pre:
            continue
        if not requires_python_ok(f["requires_python"], python_version):
            continue
        if version_satisfies(version, requirement.specifiers):
            candidates.append((parsed[0], f["filename"], version, f))
    if not candidates:
        available = sorted({wheel_name(f["filename"])[1] for f in pure},
                           key=lambda v: (parse_version(v) or ((0,),))[0])
        raise UsageError("no version of {} matches {!r} for Python {} (the index has {})".format(
            requirement.name, requirement.spec_text() or "any", python_version,
            ", ".join(available)))
    _, _, version, chosen = max(candidates, key=lambda c: (c[0], c[1]))
    return version, chosen


def wheel_requirements(metadata):
    """The `Requires-Dist` lines of a wheel's METADATA."""
    return [line.split(":", 1)[1].strip() for line in metadata.splitlines()
            if line.lower().startswith("requires-dist:")]


def unpack_wheel(data, target):
    """Unpacks a wheel into `target` (`.data/purelib` and `platlib` to the top, other
    `.data` parts left out); refuses members that would land outside it."""
    root = os.path.realpath(target)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.infolist():
            name = member.filename
            parts = name.split("/")
            if len(parts) > 2 and parts[0].endswith(".data"):
                if parts[1] not in ("purelib", "platlib"):
                    continue
                name = "/".join(parts[2:])
            clean = posixpath.normpath(name)
            if clean.startswith(("/", "../")) or clean == ".." or "\\" in name:
                raise UsageError("the wheel has a file outside its folder: {}".format(member.filename))
            path = os.path.join(root, *clean.split("/"))
            if member.is_dir():
                os.makedirs(path, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with archive.open(member) as source, open(path, "wb") as sink:
                sink.write(source.read())


def wheel_metadata(data):
    """A wheel's METADATA text."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            parts = name.split("/")
            if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
                return archive.read(name).decode("utf-8", "replace")
    raise UsageError("the wheel has no .dist-info/METADATA")


def session_site():
    """The folder `%pip install` unpacks into: site-packages in Pyodide (the worker's
    own), a new temporary folder elsewhere (never the interpreter's own
    site-packages)."""
    if sys.platform == "emscripten":
        return sysconfig.get_paths()["purelib"]
    return tempfile.mkdtemp(prefix="runboard-pip-")


class PipInstaller:
    """`%pip install` for one kernel session. `endpoint()` gives the server
    (`Endpoint.resolve`), `target` is the session's site folder (default
    [`session_site`], made on first use and put first on `sys.path`)."""

    def __init__(self, endpoint, target=None, out=None):
        self._endpoint = endpoint
        self._target = target
        self._out = out

    def say(self, text):
        (self._out or print)(text)

    @property
    def target(self):
        if self._target is None:
            self._target = session_site()
        if self._target not in sys.path:
            sys.path.insert(0, self._target)
            importlib.invalidate_caches()
        return self._target

    def _get(self, path):
        from azureml.exceptions import UserErrorException

        try:
            return self._endpoint().request("GET", path)
        except UserErrorException as e:
            raise UsageError(str(e)) from None

    def installed_version(self, name):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return None

    def install(self, requirements, deps=True, quiet=False):
        """Resolves, downloads and checks every wheel, then unpacks them all; returns
        the `(name, version)` installed."""
        target = self.target
        environment = marker_environment()
        python_version = environment["python_full_version"]
        log = (lambda text: None) if quiet else self.say
        queue = [(r, None, ()) for r in requirements]
        chosen = {}  # key -> (name, version, data, requirement)
        order = []
        while queue:
            requirement, parent, extras = queue.pop(0)
            if requirement.marker:
                try:
                    holds = evaluate_marker(requirement.marker, environment, extras)
                except UnknownMarker:
                    self.say("Note: skipping {} (needed by {}): its marker {!r} cannot be "
                             "evaluated in the notebook kernel".format(
                                 requirement, parent or "you", requirement.marker))
                    continue
                if not holds:
                    continue
            key = requirement.key
            if key in chosen:
                name, version = chosen[key][0], chosen[key][1]
                if not version_satisfies(version, requirement.specifiers):
                    raise UsageError("{} needs {}, but {}=={} was chosen".format(
                        parent or "you", requirement, name, version))
                continue
            present = self.installed_version(requirement.name)
            if present is not None:
                if version_satisfies(present, requirement.specifiers):
                    log("Requirement already satisfied: {} ({})".format(requirement, present))
                    continue
                if parent is None:
                    raise UsageError(
                        "{} {} is already installed in this kernel; restart the kernel to "
                        "install {}".format(requirement.name, present, requirement))
                self.say("Note: {} needs {}, but {} {} is installed; keeping it (restart the "
                         "kernel to change it)".format(parent, requirement, requirement.name, present))
                continue
            log("Collecting {}{}".format(requirement, " (from {})".format(parent) if parent else ""))
            page = self._get("/simple/{}/".format(urllib.parse.quote(requirement.key, safe="")))
            files = parse_index_page(page.decode("utf-8", "replace"))
            version, link = choose_wheel(requirement, files, python_version)
            data = self._get(link["path"])
            digest = hashlib.sha256(data).hexdigest()
            if not link["sha256"] or digest != link["sha256"].lower():
                raise UsageError("{} does not match the index's SHA-256 ({} != {}); nothing "
                                 "was installed".format(link["filename"], digest, link["sha256"]))
            log("  Downloading {} ({:.1f} kB)".format(link["filename"], len(data) / 1000))
            name = wheel_name(link["filename"])[0]
            metadata = wheel_metadata(data)
            chosen[key] = (name, version, data)
            order.append(key)
            if deps:
                for line in wheel_requirements(metadata):
                    dependency = parse_requirement(line)
                    queue.append((dependency, "{}=={}".format(requirement.name, version),
                                  requirement.extras))
        for key in order:
            unpack_wheel(chosen[key][2], target)
        importlib.invalidate_caches()
        installed = sorted((chosen[k][0], chosen[k][1]) for k in order)
        if installed:
            log("Successfully installed " + " ".join("{}-{}".format(n, v) for n, v in installed))
            log("Note: you may need to restart the kernel to use updated packages.")
        return installed


_pip_installer = None


def pip_magic(line, namespace=None):
    """`%pip ARGS` (see the section's comment): `$name` and `{expr}` are expanded first."""
    global _pip_installer
    if namespace is not None:
        line = expand(line, namespace)
    requirements, options = parse_pip_args(line)
    if _pip_installer is None:
        from azureml._runboard import Endpoint

        _pip_installer = PipInstaller(Endpoint.resolve)
    _pip_installer.install(requirements, deps=options["deps"], quiet=options["quiet"])


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

    def handle(self, text, listing=None):
        """Runs one `run` or `attach` message to its `done`. `listing`: the files
        area's listing (`GET /api/files`, as text) when the host fetched it for this
        message (the browser's worker, asynchronously: cheaper than a synchronous
        request from here); else the drive asks for it."""
        message = json.loads(text)
        kind = message.get("type")
        cwd = message.get("cwd", "")
        if kind == "run":
            done = self.run(message["cell"], message["source"], cwd, listing)
        elif kind == "attach":
            done = self.attach(message["cell"], message["run"], cwd, listing)
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

    def run(self, cell, source, cwd, listing=None):
        """Runs a cell; returns its `done` message."""
        self.count += 1
        result, error = self._in_cell(cell, cwd, lambda: self._execute(source), listing)
        return {"type": "done", "cell": cell, "execution_count": self.count,
                "result": result, "error": error}

    def attach(self, cell, run, cwd, listing=None):
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

        result, error = self._in_cell(cell, cwd, follow, listing)
        return {"type": "done", "cell": cell, "execution_count": 0,
                "result": result, "error": error}

    def _in_cell(self, cell, cwd, body, listing=None):
        """Runs `body` as cell `cell` in folder `cwd`: streams, files (`listing`: see
        `handle`), errors."""
        self.cell = cell
        saved = sys.stdout, sys.stderr
        sys.stdout = Stream("stdout", self._emit)
        sys.stderr = Stream("stderr", self._emit)
        result = error = None
        try:
            if self.drive is not None:
                self.drive.pull(listing)
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
        # `%pip` lines become calls of the installer (section "%pip install").
        self.namespace.setdefault("_runboard_pip", pip_magic)
        try:
            tree = ast.parse(pip_magic_lines(source), filename=name)
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
        if status == 404 and method == "GET" and path:
            raise FileNotFoundError("{} is no longer in the files area".format(path))
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

    def pull(self, listing=None):
        """`listing`: the files area's listing as text, when already fetched."""
        os.makedirs(self.root, exist_ok=True)
        if listing is None:
            listing = self._call("GET", "").decode("utf-8")
        listing = json.loads(listing)
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
            try:
                data = self._call("GET", path, ok=(200,))
            except FileNotFoundError:
                # Gone since the listing (a file being replaced on the server is
                # written beside it and renamed): the next pull sees what is there.
                continue
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
