"""Tests of the browser kernel's cell runner in CPython (the same module Pyodide
loads): IPython's conventions, errors, displays, and the files area's sync plans.

Run: python3 -m unittest discover -s notebook/py (from the checkout's root)."""

import hashlib
import io
import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "server", "python"))

import runboard_kernel as rk  # noqa: E402


class Session:
    """A kernel in a temporary folder, and what it posted."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.messages = []
        self.kernel = rk.Kernel(lambda text: self.messages.append(json.loads(text)), root=self.tmp.name)

    def run(self, source, cwd=""):
        self.messages.clear()
        self.kernel.handle(json.dumps({"type": "run", "cell": "c", "source": source, "cwd": cwd}))
        done = self.messages[-1]
        assert done["type"] == "done", done
        return done

    def stdout(self):
        return "".join(m["output"]["text"] for m in self.messages
                       if m["type"] == "output" and m["output"]["type"] == "stdout")


class CellTest(unittest.TestCase):
    def setUp(self):
        self.cwd = os.getcwd()
        self.s = Session()

    def tearDown(self):
        os.chdir(self.cwd)
        self.s.tmp.cleanup()

    def test_python_runs_whole_and_the_last_expression_is_the_result(self):
        done = self.s.run(
            "import json, re, datetime, collections\n"
            "class Point:\n    def __init__(self, x): self.x = x\n"
            "def double(p):\n    return Point(p.x * 2)\n"
            "try:\n    raise ValueError('no')\nexcept ValueError as e:\n    caught = str(e)\n"
            "counts = collections.Counter(w for w in re.findall(r'\\w+', 'a b a'))\n"
            "squares = [n * n for n in range(4)]\n"
            "with open('out.json', 'w') as f:\n    json.dump({'sq': squares}, f)\n"
            "key = sorted(counts, key=lambda k: -counts[k])[0]\n"
            "print(f'{caught} {double(Point(2)).x} {key}')\n"
            "datetime.date(2024, 1, 2).isoformat()")
        self.assertIsNone(done["error"])
        self.assertEqual(done["result"], {"kind": "text", "text": "'2024-01-02'"})
        self.assertEqual(self.s.stdout(), "no 4 a\n")
        self.assertEqual(done["execution_count"], 1)
        with open(os.path.join(self.s.tmp.name, "out.json")) as f:
            self.assertEqual(json.load(f), {"sq": [0, 1, 4, 9]})

    def test_variables_live_across_cells_and_a_semicolon_hides_the_value(self):
        self.s.run("x = 40")
        self.assertEqual(self.s.run("x + 2")["result"]["text"], "42")
        self.assertIsNone(self.s.run("x + 2;")["result"])
        self.assertEqual(self.s.run("_")["result"]["text"], "42")
        self.assertEqual(self.s.run("None")["execution_count"], 5)

    def test_an_error_is_ename_evalue_and_the_cells_traceback(self):
        done = self.s.run("def f():\n    return 1 / 0\nf()")
        error = done["error"]
        self.assertEqual(error["ename"], "ZeroDivisionError")
        self.assertEqual(error["message"], "division by zero")
        text = "\n".join(error["traceback"])
        self.assertIn("return 1 / 0", text)
        self.assertIn("<cell-1>", text)
        self.assertNotIn("runboard_kernel", text)
        self.assertEqual(error["traceback"][-1], "ZeroDivisionError: division by zero")
        syntax = self.s.run("x = (")["error"]
        self.assertEqual(syntax["ename"], "SyntaxError")

    def test_writefile_expands_variables_and_appends(self):
        self.s.run("import os\nfolder = 'job'\nos.makedirs(folder)")
        self.s.run("%%writefile $folder/train.py\nprint('hi')\n")
        self.assertEqual(self.s.stdout(), "Writing job/train.py\n")
        self.s.run("%%writefile -a {folder + '/train.py'}\nprint('again')\n")
        self.assertEqual(self.s.stdout(), "Appending to job/train.py\n")
        self.s.run("%%writefile job/train.py\nprint('new')\n")
        self.assertEqual(self.s.stdout(), "Overwriting job/train.py\n")
        with open(os.path.join(self.s.tmp.name, "job", "train.py")) as f:
            self.assertEqual(f.read(), "print('new')\n")
        # A cell without a final newline gets one, as IPython gives it.
        self.s.run("%%writefile job/notes.txt\nfirst line")
        self.s.run("%%writefile -a job/notes.txt\nsecond line")
        with open(os.path.join(self.s.tmp.name, "job", "notes.txt")) as f:
            self.assertEqual(f.read(), "first line\nsecond line\n")

    def test_shell_commands_and_other_magics_say_why_not(self):
        for source, words in [("!ls", "shell commands"), ("!pip install six", "%pip install"),
                              ("%timeit 1", "Line magic `%timeit`"), ("%%bash\nls", "Cell magic `%%bash`")]:
            error = self.s.run(source)["error"]
            self.assertEqual(error["ename"], "UsageError", source)
            self.assertIn(words, error["message"], source)

    def test_the_working_directory_is_the_notebooks_folder(self):
        done = self.s.run("import os\nos.getcwd()", cwd="projects/a")
        self.assertEqual(done["result"]["text"], repr(os.path.join(self.s.tmp.name, "projects/a")))

    def test_keyboard_interrupt_ends_the_cell_and_keeps_the_variables(self):
        done = self.s.run("kept = 41\nraise KeyboardInterrupt")
        self.assertEqual(done["error"]["ename"], "KeyboardInterrupt")
        self.assertEqual(self.s.run("kept + 1")["result"]["text"], "42")

    def test_displays_of_estimators_and_widgets(self):
        done = self.s.run(
            "from azureml.train.estimator import Estimator\n"
            "Estimator(source_directory='q', entry_script='train.py', compute_target='local', use_docker=False)")
        self.assertIsNone(done["error"])
        result = done["result"]
        self.assertEqual(result["kind"], "estimator")
        self.assertEqual(result["class"], "Estimator")
        self.assertIn(["entry_script", "'train.py'"], result["parameters"])
        self.assertIn(["use_docker", "False"], result["parameters"])
        self.assertNotIn("node_count", [n for n, _ in result["parameters"]])

    def test_a_widget_shows_now_and_a_wait_is_announced_with_its_names(self):
        from azureml import _display

        class Experiment:
            name = "exp"

        class FakeRun:  # what the hooks read of a run; the SDK's Run needs a server
            id = "exp_1_abc"
            experiment = Experiment()

            def get_portal_url(self):
                return "http://h/runs/exp_1_abc"

        self.s.kernel.namespace["FakeRun"] = FakeRun
        done = self.s.run(
            "from azureml import _display\nrun = FakeRun()\nprint('before')\n"
            "_display.display(_display.run_bundle(run, 'Running'))\n_display.waiting(run, True)")
        self.assertIsNone(done["error"])
        kinds = [m["type"] for m in self.s.messages]
        self.assertEqual(kinds, ["output", "output", "waiting", "done"])
        self.assertEqual(self.s.messages[0]["output"], {"type": "stdout", "text": "before\n"})
        card = self.s.messages[1]["output"]["display"]
        self.assertEqual(card["kind"], "run")
        self.assertEqual(card["status"], "Running")
        self.assertEqual(self.s.messages[2]["run"]["names"], ["run"])
        self.assertTrue(self.s.messages[2]["run"]["show_output"])
        self.assertIs(_display.hooks["display"].__self__, self.s.kernel)

    def test_stdout_streams_line_by_line(self):
        self.s.run("import sys\nprint('a')\nsys.stdout.write('b')\nsys.stdout.flush()\nprint('c')")
        chunks = [m["output"]["text"] for m in self.s.messages if m["type"] == "output"]
        self.assertEqual(chunks, ["a\n", "b", "c\n"])


class PlanTest(unittest.TestCase):
    def test_push_sends_new_and_changed_files_and_deletes_removed_ones(self):
        put, delete = rk.push_plan({"a": "1", "b": "2", "gone": "3"}, {"a": "1", "b": "9", "new": "4"})
        self.assertEqual(put, ["b", "new"])
        self.assertEqual(delete, ["gone"])

    def test_pull_fetches_new_and_resized_files_and_keeps_local_changes(self):
        fetch, remove = rk.pull_plan({"a": 1, "b": 2, "gone": 3, "edited": 4},
                                     {"a": 1, "b": 5, "new": 6},
                                     lambda p: p != "edited")
        self.assertEqual(fetch, ["b", "new"])
        self.assertEqual(remove, ["gone"])

    def test_file_urls_encode_each_segment(self):
        self.assertEqual(rk.files_url("my dir/a#b.txt"), "/api/files/my%20dir/a%23b.txt")


class DriveTest(unittest.TestCase):
    def test_a_file_gone_between_the_listing_and_its_fetch_is_passed_over(self):
        # The server replaces a file by writing beside it and renaming: the listing can
        # name the temporary file, gone by the time it is fetched.
        listing = {"files": [{"path": "nb/a.txt", "size": 2}, {"path": "nb/.tmpX1", "size": 9}],
                   "folders": ["nb"]}

        def send(method, url, body=None, content_type=None):
            if url == "/api/files":
                return 200, json.dumps(listing).encode()
            if url == "/api/files/nb/a.txt":
                return 200, b"hi"
            return 404, b'{"error": {"code": "not_found"}}'

        with tempfile.TemporaryDirectory() as root:
            drive = rk.Drive(send, root)
            drive.pull()
            with open(os.path.join(root, "nb", "a.txt")) as f:
                self.assertEqual(f.read(), "hi")
            self.assertFalse(os.path.exists(os.path.join(root, "nb", ".tmpX1")))
            self.assertEqual(sorted(drive.files), ["nb/a.txt"])

    def test_a_listing_the_host_fetched_is_used_without_asking_again(self):
        # The browser's worker fetches `GET /api/files` asynchronously before each
        # message and hands it over; the drive then asks only for the files.
        asked = []

        def send(method, url, body=None, content_type=None):
            asked.append((method, url))
            return (200, b"hi") if url == "/api/files/nb/a.txt" else (404, b"")

        cwd = os.getcwd()
        with tempfile.TemporaryDirectory() as root:
            kernel = rk.Kernel(lambda text: None, rk.Drive(send, root), root)
            listing = json.dumps({"files": [{"path": "nb/a.txt", "size": 2}], "folders": ["nb"]})
            try:
                kernel.handle(json.dumps({"type": "run", "cell": "c", "source": "open('a.txt').read()",
                                          "cwd": "nb"}), listing)
            finally:
                os.chdir(cwd)  # the cell's folder goes with the temporary one
            self.assertEqual(asked, [("GET", "/api/files/nb/a.txt")])


# --- %pip install ---------------------------------------------------------------

def fake_wheel(dist, version, files, requires=()):
    """A pure-Python wheel's bytes, as the tests' upstream index builds them."""
    import zipfile

    info = "{}-{}.dist-info".format(dist, version)
    members = dict(files)
    members[info + "/METADATA"] = "Metadata-Version: 2.1\nName: {}\nVersion: {}\n{}".format(
        dist, version, "".join("Requires-Dist: {}\n".format(r) for r in requires))
    members[info + "/WHEEL"] = "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    members[info + "/RECORD"] = ""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    return out.getvalue()


class FakeIndex:
    """The server's `/simple/` as the kernel sees it, from a dict of project -> files."""

    def __init__(self, projects):
        self.projects = projects  # name -> {filename: (bytes, listed sha or None)}
        self.requests = []

    def request(self, method, path):
        from azureml.exceptions import UserErrorException

        self.requests.append(path)
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[1] in self.projects:
            links = "".join(
                '<a href="/simple/{p}/{f}#sha256={h}" data-requires-python="&gt;=3.8">{f}</a>\n'.format(
                    p=parts[1], f=f, h=listed or hashlib.sha256(data).hexdigest())
                for f, (data, listed) in self.projects[parts[1]].items())
            return ("<html><body>" + links + "</body></html>").encode()
        if len(parts) == 3 and parts[2] in self.projects.get(parts[1], {}):
            return self.projects[parts[1]][parts[2]][0]
        raise UserErrorException("no project {} on the package index".format(parts[1]))


class PipTest(unittest.TestCase):
    def test_the_magics_arguments(self):
        reqs, options = rk.parse_pip_args(" install -q six==1.16.0 Attrs")
        self.assertEqual([(r.name, r.specifiers) for r in reqs],
                         [("six", [("==", "1.16.0")]), ("Attrs", [])])
        self.assertEqual(options, {"quiet": True, "deps": True})
        self.assertFalse(rk.parse_pip_args("install --no-deps x")[1]["deps"])
        for line, words in [
            ("list", "only `%pip install"),
            ("", "only `%pip install"),
            ("install", "needs a package"),
            ("install -U six", "option -U is not supported"),
            ("install --index-url http://x/ six", "option --index-url"),
            ("install six>=1.0", "only NAME or NAME==VERSION"),
            ("install six==1.*", "only NAME or NAME==VERSION"),
            ("install 'six", "No closing quotation"),
            ("install git+https://x/y.git", "direct URL"),
            ("install -", "option - is not"),
            ("install ./local/dir", "not a requirement"),
            ("install six@https://x/six.whl", "direct URL"),
        ]:
            with self.assertRaises(rk.UsageError, msg=line) as caught:
                rk.parse_pip_args(line)
            self.assertIn(words, str(caught.exception), line)

    def test_requirements_are_read_as_pep_508_says(self):
        for text, expected in [
            ("six", ("six", (), [], None)),
            ("Foo.Bar[x, y] (>=1.0,<2)", ("Foo.Bar", ("x", "y"), [(">=", "1.0"), ("<", "2")], None)),
            ("pipdep>=1.5", ("pipdep", (), [(">=", "1.5")], None)),
            ('winonly (>=1.0) ; sys_platform == "win32"',
             ("winonly", (), [(">=", "1.0")], 'sys_platform == "win32"')),
            ('pipextra; extra == "fast"', ("pipextra", (), [], 'extra == "fast"')),
        ]:
            r = rk.parse_requirement(text)
            self.assertEqual((r.name, r.extras, r.specifiers, r.marker), expected, text)
        self.assertEqual(rk.parse_requirement("Foo_Bar.baz").key, "foo-bar-baz")
        with self.assertRaises(rk.UsageError):
            rk.parse_requirement("six >>> 1")

    def test_versions_order_and_specifiers_as_pep_440_says(self):
        order = ["0.9", "1.0.dev3", "1.0a1", "1.0b2", "1.0rc2", "1.0", "1.0.post1", "1.1", "2!0.1"]
        self.assertEqual(sorted(reversed(order), key=lambda v: rk.parse_version(v)[0]), order)
        for version, specs, holds in [
            ("1.0", [("==", "1.0.0")], True),
            ("1.0", [(">=", "1.0"), ("<", "2")], True),
            ("2.0", [(">=", "1.0"), ("<", "2")], False),
            ("1.4.2", [("~=", "1.4")], True),
            ("2.0", [("~=", "1.4")], False),
            ("1.4.2", [("==", "1.4.*")], True),
            ("1.5", [("!=", "1.4.*")], True),
            ("1.0", [("!=", "1.0")], False),
            ("3.14.2", [(">=", "3.8")], True),
            ("junk", [], False),
        ]:
            self.assertEqual(rk.version_satisfies(version, specs), holds, (version, specs))
        self.assertTrue(rk.requires_python_ok(">=3.8, <4", "3.11.7"))
        self.assertFalse(rk.requires_python_ok(">=3.99", "3.11.7"))
        self.assertTrue(rk.requires_python_ok("unreadable", "3.11.7"))

    def test_markers(self):
        env = {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux",
               "os_name": "posix", "implementation_name": "cpython"}
        for marker, extras, holds in [
            ('python_version >= "3.8"', (), True),
            ('python_version < "3.10"', (), False),
            ("python_version > '3.9' and sys_platform == 'linux'", (), True),
            ('sys_platform == "win32" or os_name == "nt"', (), False),
            ('(sys_platform == "win32" or os_name == "posix") and python_version >= "3"', (), True),
            ('extra == "fast"', (), False),
            ('extra == "fast"', ("Fast",), True),
            ('"linux" in sys_platform', (), True),
            ("implementation_name not in 'pypy'", (), True),
        ]:
            self.assertEqual(rk.evaluate_marker(marker, env, extras), holds, marker)
        for marker in ['platform_release >= "5"', 'python_version >=', "sys_platform == 'x' xor"]:
            with self.assertRaises(rk.UnknownMarker, msg=marker):
                rk.evaluate_marker(marker, env)
        self.assertIn(rk.marker_environment()["sys_platform"], ("linux", "emscripten"))

    def test_the_newest_pure_wheel_that_fits_is_chosen(self):
        page = ('<a href="/simple/demo/demo-1.0-py3-none-any.whl#sha256=aa" '
                'data-requires-python="&gt;=3.8">demo-1.0-py3-none-any.whl</a>'
                '<a href="/simple/demo/demo-2.0rc1-py3-none-any.whl#sha256=bb">x</a>'
                '<a href="/simple/demo/demo-1.5-py3-none-any.whl#sha256=cc" data-yanked="">x</a>'
                '<a href="/simple/demo/demo-1.2-py3-none-any.whl#sha256=dd" '
                'data-requires-python="&gt;=3.99">x</a>'
                '<a href="/simple/demo/demo-0.9-py2.py3-none-any.whl#sha256=ee">x</a>'
                '<a href="/simple/demo/demo-3.0-cp311-cp311-manylinux_2_17_x86_64.whl#sha256=ff">x</a>')
        files = rk.parse_index_page(page)
        self.assertEqual(files[0], {"filename": "demo-1.0-py3-none-any.whl",
                                    "path": "/simple/demo/demo-1.0-py3-none-any.whl",
                                    "sha256": "aa", "requires_python": ">=3.8", "yanked": False})
        choose = lambda text: rk.choose_wheel(rk.parse_requirement(text), files, "3.11.7")[0]  # noqa: E731
        self.assertEqual(choose("demo"), "1.0")
        self.assertEqual(choose("demo==0.9"), "0.9")
        self.assertEqual(choose("demo==1.5"), "1.5")  # yanked, but pinned
        self.assertEqual(choose("demo==2.0rc1"), "2.0rc1")
        self.assertEqual(choose("Demo<1"), "0.9")
        with self.assertRaises(rk.UsageError) as caught:
            choose("demo==3.0")
        self.assertIn("no version of demo matches '==3.0'", str(caught.exception))
        self.assertIn("0.9, 1.0, 1.2, 1.5, 2.0rc1", str(caught.exception))
        with self.assertRaises(rk.UsageError) as caught:
            rk.choose_wheel(rk.parse_requirement("numpy"), rk.parse_index_page(
                '<a href="/simple/numpy/numpy-2.0-cp311-cp311-manylinux_2_17_x86_64.whl#sha256=0">x</a>'),
                "3.11.7")
        self.assertIn("pure-Python wheels only", str(caught.exception))
        self.assertIn("pip_packages", str(caught.exception))

    def _installer(self, projects):
        target = tempfile.mkdtemp(prefix="rk-pip-test-")
        self.addCleanup(lambda: sys.path.remove(target) if target in sys.path else None)
        said = []
        index = FakeIndex(projects)
        return rk.PipInstaller(lambda: index, target=target, out=said.append), said, target, index

    def test_install_unpacks_the_wheel_and_its_dependencies_and_imports_them(self):
        top = fake_wheel("rkpip_top", "1.0", {"rkpip_top/__init__.py": "from rkpip_dep import V\n"},
                         ["rkpip-dep>=2", 'rkpip-never; extra == "x"', 'rkpip-win; sys_platform == "win32"',
                          'rkpip-odd; platform_release > "1"'])
        dep1 = fake_wheel("rkpip_dep", "1.0", {"rkpip_dep.py": "V = 1\n"})
        dep2 = fake_wheel("rkpip_dep", "2.0", {"rkpip_dep.py": "V = 2\n"})
        installer, said, target, index = self._installer({
            "rkpip-top": {"rkpip_top-1.0-py3-none-any.whl": (top, None)},
            "rkpip-dep": {"rkpip_dep-1.0-py3-none-any.whl": (dep1, None),
                          "rkpip_dep-2.0-py3-none-any.whl": (dep2, None)},
        })
        installed = installer.install([rk.user_requirement("rkpip-top")])
        self.assertEqual(installed, [("rkpip_dep", "2.0"), ("rkpip_top", "1.0")])
        text = "\n".join(said)
        self.assertIn("Collecting rkpip-top\n  Downloading rkpip_top-1.0-py3-none-any.whl", text)
        self.assertIn("Collecting rkpip-dep>=2 (from rkpip-top==1.0)", text)
        self.assertIn("Note: skipping rkpip-odd (needed by rkpip-top==1.0)", text)
        self.assertIn("Successfully installed rkpip_dep-2.0 rkpip_top-1.0", text)
        self.assertNotIn("rkpip-never", " ".join(index.requests))
        self.assertNotIn("rkpip-win", " ".join(index.requests))
        import rkpip_top

        self.assertEqual(rkpip_top.V, 2)
        self.assertTrue(rkpip_top.__file__.startswith(target))
        self.assertEqual(importlib_metadata_version("rkpip-dep"), "2.0")
        # Again: nothing to do, and said so.
        said.clear()
        self.assertEqual(installer.install([rk.user_requirement("rkpip_top")]), [])
        self.assertEqual(said, ["Requirement already satisfied: rkpip_top (1.0)"])
        with self.assertRaises(rk.UsageError) as caught:
            installer.install([rk.user_requirement("rkpip_dep==1.0")])
        self.assertIn("rkpip_dep 2.0 is already installed in this kernel; restart the kernel",
                      str(caught.exception))

    def test_a_bad_hash_or_a_missing_dependency_installs_nothing(self):
        good = fake_wheel("rkpip_good", "1.0", {"rkpip_good.py": ""}, ["rkpip-bad"])
        bad = fake_wheel("rkpip_bad", "1.0", {"rkpip_bad.py": ""})
        installer, said, target, _ = self._installer({
            "rkpip-good": {"rkpip_good-1.0-py3-none-any.whl": (good, None)},
            "rkpip-bad": {"rkpip_bad-1.0-py3-none-any.whl": (bad, "0" * 64)},
        })
        with self.assertRaises(rk.UsageError) as caught:
            installer.install([rk.user_requirement("rkpip-good")])
        self.assertIn("rkpip_bad-1.0-py3-none-any.whl does not match the index's SHA-256",
                      str(caught.exception))
        self.assertEqual(os.listdir(target), [])
        with self.assertRaises(rk.UsageError) as caught:
            installer.install([rk.user_requirement("rkpip-nothere")])
        self.assertIn("no project rkpip-nothere", str(caught.exception))
        self.assertEqual(os.listdir(target), [])

    def test_a_wheel_cannot_write_outside_the_site_folder(self):
        evil = fake_wheel("rkpip_evil", "1.0", {"../escaped.py": "", "rkpip_evil.py": ""})
        target = tempfile.mkdtemp(prefix="rk-pip-test-")
        with self.assertRaises(rk.UsageError):
            rk.unpack_wheel(evil, target)
        self.assertFalse(os.path.exists(os.path.join(os.path.dirname(target), "escaped.py")))

    def test_pip_lines_in_a_cell_run_the_installer_and_bang_pip_says_use_percent_pip(self):
        wheel = fake_wheel("rkpip_cell", "0.3", {"rkpip_cell.py": "WHO = 'cell'\n"})
        installer, said, _, _ = self._installer(
            {"rkpip-cell": {"rkpip_cell-0.3-py3-none-any.whl": (wheel, None)}})
        installer._out = None  # print: the cell's stdout
        saved = rk._pip_installer
        rk._pip_installer = installer
        self.addCleanup(setattr, rk, "_pip_installer", saved)
        s = Session()
        self.addCleanup(s.tmp.cleanup)
        cwd = os.getcwd()
        self.addCleanup(os.chdir, cwd)
        done = s.run("name = 'rkpip-cell'\n%pip install $name\nimport rkpip_cell\nrkpip_cell.WHO")
        self.assertIsNone(done["error"], done)
        self.assertIn("Successfully installed rkpip_cell-0.3", s.stdout())
        self.assertEqual(done["result"]["text"], "'cell'")
        error = s.run("%pip uninstall six")["error"]
        self.assertEqual(error["ename"], "UsageError")
        self.assertIn("only `%pip install", error["message"])
        error = s.run("!pip install six")["error"]
        self.assertEqual(error["ename"], "UsageError")
        self.assertIn("use `%pip install", error["message"])


def importlib_metadata_version(name):
    import importlib.metadata

    return importlib.metadata.version(name)


if __name__ == "__main__":
    unittest.main()
