"""`azureml.core`: Runboard's SDK v1. `Run.get_context()` inside a run; `Workspace`,
`Experiment`, `ScriptRunConfig`, `Environment` and `Run` from any Python."""

from azureml.core.conda_dependencies import CondaDependencies
from azureml.core.datastore import Datastore
from azureml.core.environment import Environment
from azureml.core.experiment import Experiment
from azureml.core.model import Model
from azureml.core.run import Run
from azureml.core.runconfig import RunConfiguration
from azureml.core.script_run_config import ScriptRunConfig
from azureml.core.workspace import Workspace

__all__ = [
    "CondaDependencies",
    "Datastore",
    "Environment",
    "Experiment",
    "Model",
    "Run",
    "RunConfiguration",
    "ScriptRunConfig",
    "Workspace",
]
