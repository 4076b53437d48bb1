"""`RunConfiguration` and the distributed-job configurations of `ScriptRunConfig`."""


class MpiConfiguration:
    """An MPI job: `process_count_per_node` processes on each of `node_count` nodes."""

    def __init__(self, process_count_per_node=1, node_count=1):
        self.process_count_per_node = process_count_per_node
        self.node_count = node_count

    def _as_json(self):
        return {"type": "Mpi", "process_count_per_node": self.process_count_per_node}


class PyTorchConfiguration:
    """A PyTorch job over `communication_backend` (`Nccl` or `Gloo`)."""

    def __init__(self, communication_backend="Nccl", process_count=None, node_count=1):
        self.communication_backend = communication_backend
        self.process_count = process_count
        self.node_count = node_count

    def _as_json(self):
        backend = str(self.communication_backend).capitalize()
        return {"type": "Gloo" if backend == "Gloo" else "Nccl"}


class TensorflowConfiguration:
    """A TensorFlow parameter-server job."""

    def __init__(self, worker_count=1, parameter_server_count=1):
        self.worker_count = worker_count
        self.parameter_server_count = parameter_server_count

    def _as_json(self):
        return {
            "type": "ParameterServer",
            "worker_count": self.worker_count,
            "parameter_server_count": self.parameter_server_count,
        }


class DockerConfiguration:
    """Whether the job runs in Docker (with `Environment.docker.base_image`)."""

    def __init__(self, use_docker=None, arguments=None, shm_size=None, shared_volumes=True):
        self.use_docker = use_docker
        self.arguments = list(arguments or [])
        self.shm_size = shm_size
        self.shared_volumes = shared_volumes


class RunConfiguration:
    """What a run needs besides its script: the target, the environment, nodes,
    variables, a time limit. `ScriptRunConfig(run_config=…)` reads it; the
    `ScriptRunConfig`'s own arguments win."""

    def __init__(self, script=None, arguments=None, framework=None, communicator=None,
                 conda_dependencies=None, _history_enabled=None, _path=None, _name=None,
                 command=None):
        from azureml.core.environment import Environment

        self.script = script
        self.arguments = list(arguments or [])
        self.framework = framework or "Python"
        self.communicator = communicator or "None"
        self.target = "local"
        self.environment = Environment("runboard-default")
        if conda_dependencies is not None:
            self.environment.python.conda_dependencies = conda_dependencies
        self.node_count = 1
        self.environment_variables = {}
        self.max_run_duration_seconds = None
        self.docker = DockerConfiguration()
        self.mpi = MpiConfiguration()
        self.pytorch = PyTorchConfiguration()
        self.tensorflow = TensorflowConfiguration()
        self.command = command
        self._environment_set = False

    def __setattr__(self, name, value):
        if name == "environment" and "environment" in self.__dict__:
            self.__dict__["_environment_set"] = True
        super().__setattr__(name, value)
