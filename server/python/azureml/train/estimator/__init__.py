"""`Estimator`: the SDK v1 way to describe a training job; the framework presets
(`azureml.train.sklearn`, `azureml.train.dnn`) are `Estimator`s with a framework; and
the distributed-training configurations they take (`Mpi`, `Gloo`, `Nccl`,
`ParameterServer`)."""

import inspect

from azureml.core.script_run_config import _target_name


class Estimator:
    """A training job: source folder, entry script, script parameters, environment,
    compute target and distribution, with the SDK's parameters. The server checks the
    whole definition at submit and names every wrong field at once."""

    def __init__(self, source_directory, *, compute_target=None, vm_size=None, vm_priority=None,
                 entry_script=None, script_params=None, node_count=1, process_count_per_node=1,
                 distributed_backend=None, distributed_training=None, use_gpu=False, use_docker=True,
                 custom_docker_base_image=None, custom_docker_image=None, image_registry_details=None,
                 user_managed=False, conda_packages=None, pip_packages=None,
                 conda_dependencies_file_path=None, pip_requirements_file_path=None,
                 conda_dependencies_file=None, pip_requirements_file=None,
                 environment_variables=None, environment_definition=None, inputs=None,
                 source_directory_data_store=None, shm_size=None, resume_from=None,
                 max_run_duration_seconds=None, _disable_validation=True,
                 _show_lint_warnings=False, _show_package_warnings=False):
        given = dict(locals())
        given.pop("self")
        self._given = {k: v for k, v in given.items() if not k.startswith("_")}

    def __getattr__(self, name):
        """The parameters read back as attributes (`est.node_count`), as in the SDK."""
        given = self.__dict__.get("_given", {})
        if name in given:
            return given[name]
        raise AttributeError("{!r} object has no attribute {!r}".format(type(self).__name__, name))

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The parameters that are set, as a table in a notebook."""
        from azureml import _display

        return _display.parameters_bundle(type(self).__name__, self._signature(), self._given)

    @classmethod
    def _signature(cls):
        return inspect.signature(cls.__init__)

    def _definition(self):
        g = self._given
        out = {"source_directory": g["source_directory"]}
        for key in ("vm_size", "vm_priority", "entry_script", "distributed_backend", "shm_size",
                    "max_run_duration_seconds", "custom_docker_image"):
            if g[key] is not None:
                out[key] = g[key]
        if g["custom_docker_base_image"] is not None:
            out["custom_docker_image"] = g["custom_docker_base_image"]
        if g["compute_target"] is not None:
            out["compute_target"] = _target_name(g["compute_target"])
        if g["script_params"]:
            out["script_params"] = dict(g["script_params"])
        for key in ("node_count", "process_count_per_node"):
            if g[key] != 1:
                out[key] = g[key]
        for key in ("use_gpu", "user_managed"):
            if g[key]:
                out[key] = True
        if not g["use_docker"]:
            out["use_docker"] = False
        for key in ("conda_packages", "pip_packages"):
            if g[key]:
                out[key] = list(g[key])
        conda_file = g["conda_dependencies_file"] or g["conda_dependencies_file_path"]
        if conda_file:
            out["conda_dependencies_file"] = conda_file
        pip_file = g["pip_requirements_file"] or g["pip_requirements_file_path"]
        if pip_file:
            out["pip_requirements_file"] = pip_file
        if g["environment_variables"]:
            out["environment_variables"] = dict(g["environment_variables"])
        if g["environment_definition"] is not None:
            out["environment_definition"] = g["environment_definition"]._as_json()
        if g["distributed_training"] is not None:
            out["distributed_training"] = g["distributed_training"]._as_json()
        for key in ("image_registry_details", "inputs", "source_directory_data_store", "resume_from"):
            if g[key] is not None:
                # Sent as given: the server names what it cannot honour.
                out[key] = g[key] if isinstance(g[key], (str, int, float, list, dict)) else str(g[key])
        return self._framework_definition(out)

    def _framework_definition(self, out):
        """A preset's own fields (none for the plain `Estimator`)."""
        return out

    @property
    def run_config(self):
        return self

    def __repr__(self):
        return "{}({})".format(type(self).__name__, ", ".join("{}={!r}".format(k, v) for k, v in self._definition().items()))


class _Framework(Estimator):
    """A framework preset: an `Estimator` with `framework` set, which picks the
    framework's packages (and its version, `framework_version`) on the server."""

    _framework = None

    def __init__(self, source_directory, *, framework_version=None, worker_count=None,
                 parameter_server_count=None, **kwargs):
        try:
            Estimator.__init__(self, source_directory, **kwargs)
        except TypeError as e:
            raise TypeError(str(e).replace("Estimator.__init__()", type(self).__name__ + "()")) from None
        self._given.update(framework_version=framework_version, worker_count=worker_count,
                           parameter_server_count=parameter_server_count)

    @classmethod
    def _signature(cls):
        own = [p for n, p in inspect.signature(_Framework.__init__).parameters.items()
               if n in ("framework_version", "worker_count", "parameter_server_count")]
        base = list(inspect.signature(Estimator.__init__).parameters.values())
        return inspect.Signature(base + own)

    def _framework_definition(self, out):
        g = self._given
        out["framework"] = self._framework
        if g["framework_version"] is not None:
            out["framework_version"] = str(g["framework_version"])
        if (g["worker_count"] is not None or g["parameter_server_count"] is not None) \
                and "distributed_training" not in out:
            out["distributed_training"] = ParameterServer(
                worker_count=g["worker_count"] or 1,
                parameter_server_count=g["parameter_server_count"] or 1)._as_json()
        return out


class Mpi:
    """MPI: `process_count_per_node` processes on each node."""

    def __init__(self, process_count_per_node=1):
        self.process_count_per_node = process_count_per_node

    def _as_json(self):
        return {"type": "Mpi", "process_count_per_node": self.process_count_per_node}

    def __repr__(self):
        return "Mpi(process_count_per_node={!r})".format(self.process_count_per_node)


class Gloo:
    """PyTorch's Gloo backend."""

    def _as_json(self):
        return {"type": "Gloo"}

    def __repr__(self):
        return "Gloo()"


class Nccl:
    """PyTorch's NCCL backend."""

    def _as_json(self):
        return {"type": "Nccl"}

    def __repr__(self):
        return "Nccl()"


class ParameterServer:
    """TensorFlow's parameter servers: `worker_count` workers, `parameter_server_count`
    parameter servers."""

    def __init__(self, worker_count=1, parameter_server_count=1):
        self.worker_count = worker_count
        self.parameter_server_count = parameter_server_count

    def _as_json(self):
        return {"type": "ParameterServer", "worker_count": self.worker_count,
                "parameter_server_count": self.parameter_server_count}

    def __repr__(self):
        return "ParameterServer(worker_count={!r}, parameter_server_count={!r})".format(
            self.worker_count, self.parameter_server_count)
