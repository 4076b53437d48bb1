"""Tests of the browser kernel's cell runner in CPython (the same module Pyodide
loads): IPython's conventions, errors, displays, and the files area's sync plans.

Run: python3 -m unittest discover -s notebook/py (from the checkout's root)."""

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
        for source, words in [("!ls", "shell commands"), ("%pip install six", "Environment"),
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


if __name__ == "__main__":
    unittest.main()
