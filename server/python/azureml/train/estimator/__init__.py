"""`Estimator`: the SDK v1 way to describe a training job."""

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

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The parameters that are set, as a table in a notebook."""
        from azureml import _display

        return _display.parameters_bundle(type(self).__name__, type(self).__init__, self._given)

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
        return out

    @property
    def run_config(self):
        return self

    def __repr__(self):
        return "Estimator({})".format(", ".join("{}={!r}".format(k, v) for k, v in self._definition().items()))
