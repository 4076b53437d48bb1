"""`ScriptRunConfig`: a script, its arguments, where and in what it runs."""

from azureml.exceptions import UserErrorException


def _target_name(target):
    if target is None:
        return None
    return target if isinstance(target, str) else getattr(target, "name", str(target))


def arguments_to_params(arguments):
    """`['--lr', 0.01, '--verbose', '--data', 'x']` as `script_params` pairs: a flag
    takes the next item as its value unless that is itself a flag; the argv is the
    same list either way. Items that are not flags stand alone (empty value)."""
    params, i, items = {}, 0, list(arguments or [])
    while i < len(items):
        key = items[i] if isinstance(items[i], str) else str(items[i])
        nxt = items[i + 1] if i + 1 < len(items) else None
        if key.startswith("-") and nxt is not None and not (isinstance(nxt, str) and nxt.startswith("-")):
            params[key] = nxt if isinstance(nxt, (str, int, float, bool, dict)) else str(nxt)
            i += 2
        else:
            params[key] = ""
            i += 1
    return params


class ScriptRunConfig:
    """A script run: `source_directory`, `script` (relative to it), `arguments`, a
    compute target, an `Environment`, a distributed job configuration, a
    `RunConfiguration`."""

    def __init__(self, source_directory, script=None, arguments=None, run_config=None,
                 _telemetry_values=None, compute_target=None, environment=None,
                 distributed_job_config=None, resume_from=None, max_run_duration_seconds=2592000,
                 command=None, docker_runtime_config=None):
        from azureml.core.runconfig import RunConfiguration

        if command is not None:
            raise UserErrorException(
                "ScriptRunConfig(command=…) is not supported by Runboard: give script= and arguments=")
        if resume_from is not None:
            raise UserErrorException(
                "ScriptRunConfig(resume_from=…) is not supported by Runboard: pass the checkpoint "
                "folder to the script as an argument")
        self.source_directory = source_directory
        self.run_config = run_config or RunConfiguration()
        if script is not None:
            self.script = script
        else:
            self.script = self.run_config.script
        self.arguments = list(arguments) if arguments is not None else list(self.run_config.arguments)
        if compute_target is not None:
            self.run_config.target = compute_target
        if environment is not None:
            self.run_config.environment = environment
        if distributed_job_config is not None:
            self.distributed_job_config = distributed_job_config
        else:
            self.distributed_job_config = None
        self.max_run_duration_seconds = max_run_duration_seconds
        self.docker_runtime_config = docker_runtime_config

    def _definition(self):
        """The run's definition as the server takes it (an estimator's JSON form)."""
        rc = self.run_config
        out = {
            "source_directory": self.source_directory,
            "entry_script": self.script,
            "script_params": arguments_to_params(self.arguments),
            "compute_target": _target_name(rc.target) or "local",
        }
        if rc._environment_set or rc.environment.name != "runboard-default":
            out["environment_definition"] = rc.environment._as_json()
        if rc.environment_variables:
            out["environment_variables"] = dict(rc.environment_variables)
        if rc.node_count and rc.node_count != 1:
            out["node_count"] = rc.node_count
        dist = self.distributed_job_config
        if dist is not None:
            if not hasattr(dist, "_as_json"):
                raise UserErrorException(
                    "distributed_job_config: expected MpiConfiguration, PyTorchConfiguration or "
                    "TensorflowConfiguration, got {}".format(type(dist).__name__))
            out["distributed_training"] = dist._as_json()
            if getattr(dist, "node_count", 1) != 1:
                out["node_count"] = dist.node_count
        limit = self.max_run_duration_seconds or rc.max_run_duration_seconds
        if limit and limit != 2592000:
            out["max_run_duration_seconds"] = int(limit)
        return out
