"""`Experiment`: a named group of runs, and where runs are submitted."""

import json

from azureml._runboard import segment
from azureml._snapshot import pack
from azureml.core.run import Run
from azureml.exceptions import UserErrorException


class Experiment:
    """An experiment of the workspace's server."""

    def __init__(self, workspace, name, _skip_name_validation=False, _id=None, _archived_time=None,
                 _create_in_cloud=True, _experiment_dto=None, **kwargs):
        self.workspace = workspace
        self.name = name

    def submit(self, config, tags=None, **kwargs):
        """Submits a `ScriptRunConfig` or `Estimator`: its source folder is packed
        here and sent with its definition; the server checks the definition and
        answers with every field error at once. Returns the new `Run`."""
        if hasattr(config, "_submit_to"):
            # A HyperDriveConfig: the server runs the sweep (HyperDriveRun).
            return config._submit_to(self, tags)
        if not hasattr(config, "_definition"):
            raise UserErrorException(
                "Experiment.submit takes a ScriptRunConfig or an Estimator, not a {}".format(
                    type(config).__name__))
        definition = config._definition()
        snapshot = pack(definition["source_directory"])
        answer = self.workspace._endpoint.multipart(
            "/api/experiments/{}/runs".format(segment(self.name)),
            [
                ("estimator", json.dumps(definition)),
                ("tags", json.dumps({k: str(v) for k, v in (tags or {}).items()})),
                ("properties", "{}"),
            ],
            [("snapshot", "snapshot.tar.gz", snapshot)],
        )
        return Run(self, answer["run_id"], _portal_url=answer.get("portal_url"))

    def get_runs(self, type=None, tags=None, properties=None, include_children=False):
        """The experiment's runs, newest first; `tags` and `properties` filter them
        (a name, a list of names, or a dict of name -> value)."""
        def wanted(have, want):
            if want is None:
                return True
            if isinstance(want, str):
                want = [want]
            if isinstance(want, dict):
                return all(have.get(k) == str(v) for k, v in want.items())
            return all(k in have for k in want)

        cursor = None
        while True:
            query = {"experiment": self.name, "limit": 100}
            if cursor:
                query["cursor"] = cursor
            page = self.workspace._endpoint.json("GET", "/api/runs", query=query)
            for summary in page.get("runs", []):
                run = Run(self, summary["run_id"])
                if tags is None and properties is None:
                    yield run
                    continue
                details = run.get_details()
                if wanted(details.get("tags") or {}, tags) and wanted(details.get("properties") or {}, properties):
                    yield run
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def __repr__(self):
        return "Experiment(Name: {},\nWorkspace: {})".format(self.name, self.workspace.name)
