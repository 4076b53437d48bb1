"""`HyperDriveConfig` and `PrimaryMetricGoal`."""

import json

from azureml._runboard import segment
from azureml._snapshot import pack
from azureml.exceptions import UserErrorException


class PrimaryMetricGoal:
    """Whether the primary metric is to be maximized or minimized."""

    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"


class HyperDriveConfig:
    """A sweep: the run configuration (an `Estimator` or a `ScriptRunConfig`) run once
    per sampled set of parameters, which are passed to its script as arguments
    (`--lr 0.05`). The server runs it: `Experiment.submit(config)` returns a
    `HyperDriveRun` at once."""

    def __init__(self, hyperparameter_sampling, primary_metric_name, primary_metric_goal, max_total_runs,
                 max_concurrent_runs=None, max_duration_minutes=10080, policy=None, estimator=None,
                 run_config=None, resume_from=None, resume_child_runs=None, pipeline=None,
                 debug_flag=None, custom_run_id=None):
        if (estimator is None) == (run_config is None):
            raise UserErrorException("HyperDriveConfig takes exactly one of estimator and run_config")
        for name, value in (("resume_from", resume_from), ("resume_child_runs", resume_child_runs),
                            ("pipeline", pipeline)):
            if value is not None:
                raise UserErrorException("HyperDriveConfig: {} is not supported by Runboard".format(name))
        self._run_config = estimator if estimator is not None else run_config
        self._sampling = hyperparameter_sampling
        self._policy = policy
        self._primary_metric_name = primary_metric_name
        self._primary_metric_goal = primary_metric_goal
        self._max_total_runs = max_total_runs
        self._max_concurrent_runs = max_concurrent_runs
        self._max_duration_minutes = max_duration_minutes

    def _as_json(self):
        out = {
            "run_config": self._run_config._definition(),
            "hyperparameter_sampling": self._sampling._as_json(),
            "policy": None if self._policy is None else self._policy._as_json(),
            "primary_metric_name": self._primary_metric_name,
            "primary_metric_goal": str(self._primary_metric_goal).lower(),
            "max_total_runs": self._max_total_runs,
            "max_duration_minutes": self._max_duration_minutes,
        }
        if self._max_concurrent_runs is not None:
            out["max_concurrent_runs"] = self._max_concurrent_runs
        return out

    def _submit_to(self, experiment, tags=None):
        from azureml.train.hyperdrive.run import HyperDriveRun

        config = self._as_json()
        snapshot = pack(config["run_config"]["source_directory"])
        answer = experiment.workspace._endpoint.multipart(
            "/api/experiments/{}/sweeps".format(segment(experiment.name)),
            [("config", json.dumps(config))],
            [("snapshot", "snapshot.tar.gz", snapshot)],
        )
        run = HyperDriveRun(experiment, answer["run_id"], hyperdrive_config=self)
        run._portal_url = answer.get("portal_url")
        if tags:
            run.set_tags(tags)
        return run
