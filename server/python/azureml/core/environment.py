"""`Environment`: the Python environment a run's script runs in, built by the server."""

import os

from azureml.core.conda_dependencies import CondaDependencies
from azureml.exceptions import UserErrorException


class PythonSection:
    """`env.python`."""

    def __init__(self):
        self.user_managed_dependencies = False
        self.interpreter_path = "python"
        self.conda_dependencies = CondaDependencies()
        self.conda_dependencies_file = None


class DockerSection:
    """`env.docker`."""

    def __init__(self):
        self.enabled = False
        self.base_image = None
        self.base_dockerfile = None
        self.shm_size = None


class Environment:
    """A named environment: packages (`python.conda_dependencies`), whether the user
    manages it, variables and a Docker image. Sent to the server in Azure ML's JSON form,
    where it is built once per content hash."""

    def __init__(self, name, **kwargs):
        self.name = name
        self.version = None
        self.python = PythonSection()
        self.docker = DockerSection()
        self.environment_variables = {}

    @staticmethod
    def from_pip_requirements(name, file_path, pip_version=None):
        """An environment with the requirements of a pip requirements file."""
        env = Environment(name)
        with open(file_path, encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    env.python.conda_dependencies.add_pip_package(line)
        return env

    @staticmethod
    def from_conda_specification(name, file_path):
        """An environment from a conda environment file (channels, dependencies, and
        their `pip:` list)."""
        env = Environment(name)
        env.python.conda_dependencies = CondaDependencies(conda_dependencies_file_path=file_path)
        return env

    @staticmethod
    def get(workspace, name, version=None, label=None):
        raise UserErrorException(
            "Runboard keeps no environment registry: build one with Environment(name), "
            "Environment.from_pip_requirements or Environment.from_conda_specification")

    def register(self, workspace):
        """Runboard keeps no registry; environments are built by content: returns self."""
        return self

    def _as_json(self):
        """Azure ML's JSON form (`azureml_environment.json`)."""
        out = {
            "name": self.name,
            "python": {
                "userManagedDependencies": bool(self.python.user_managed_dependencies),
                "condaDependencies": self.python.conda_dependencies._as_json(),
            },
            "environmentVariables": dict(self.environment_variables),
        }
        if self.docker.enabled or self.docker.base_image:
            out["docker"] = {"enabled": bool(self.docker.enabled), "baseImage": self.docker.base_image}
        return out

    def __repr__(self):
        return "Environment(Name: {})".format(self.name)


def _read_conda_file(path):
    """The channels, conda packages and pip packages of a conda environment file. The
    file's shape is YAML's block lists, as conda writes it (`name:`, `channels:`,
    `dependencies:` with an optional `- pip:` list)."""
    if not os.path.isfile(path):
        raise UserErrorException("no conda environment file at {!r}".format(path))
    spec = {"channels": [], "conda": [], "pip": []}
    section, in_pip = None, False
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].rstrip()
            if not line.strip():
                continue
            indent = len(line) - len(line.lstrip())
            text = line.strip()
            if indent == 0 and text.endswith(":"):
                section, in_pip = text[:-1], False
                continue
            if indent == 0:
                section = None
                continue
            if not text.startswith("- "):
                continue
            item = text[2:].strip().strip("'\"")
            if section == "channels":
                spec["channels"].append(item)
            elif section == "dependencies":
                if item == "pip:":
                    in_pip, pip_indent = True, indent
                elif in_pip and indent > pip_indent:
                    spec["pip"].append(item)
                else:
                    in_pip = False
                    spec["conda"].append(item)
    return spec
