"""`CondaDependencies`: the packages of an environment."""


class CondaDependencies:
    """Conda and pip packages, as a conda environment file lists them."""

    def __init__(self, conda_dependencies_file_path=None, _underlying_structure=None):
        self._conda, self._pip, self._channels = [], [], []
        self._python = None
        if conda_dependencies_file_path is not None:
            from azureml.core.environment import _read_conda_file

            spec = _read_conda_file(conda_dependencies_file_path)
            self._conda, self._pip, self._channels = spec["conda"], spec["pip"], spec["channels"]

    @staticmethod
    def create(pip_packages=None, conda_packages=None, python_version=None, pin_sdk_version=True,
               pip_indexurl=None):
        """Dependencies with these packages."""
        deps = CondaDependencies()
        for p in pip_packages or []:
            deps.add_pip_package(p)
        for p in conda_packages or []:
            deps.add_conda_package(p)
        if python_version:
            deps._python = str(python_version)
        return deps

    def add_pip_package(self, pip_package):
        if pip_package not in self._pip:
            self._pip.append(pip_package)

    def add_conda_package(self, conda_package):
        if conda_package not in self._conda:
            self._conda.append(conda_package)

    def add_channel(self, channel):
        if channel not in self._channels:
            self._channels.append(channel)

    def set_python_version(self, version):
        self._python = str(version)

    @property
    def pip_packages(self):
        return iter(self._pip)

    @property
    def conda_packages(self):
        return iter(self._conda)

    def _as_json(self):
        """Azure ML's JSON form (`condaDependencies` of an environment definition)."""
        deps = list(self._conda)
        if self._python:
            deps.insert(0, "python=" + self._python)
        if self._pip:
            deps.append({"pip": list(self._pip)})
        out = {"dependencies": deps}
        if self._channels:
            out["channels"] = list(self._channels)
        return out
