"""`from azureml.core import Run`: the run a training script reports to."""

from azureml.core.run import Run

__all__ = ["Run"]
