"""The SDK v1's deep-learning estimators (`TensorFlow`, `PyTorch`, `Chainer`) and
their distributed-training configurations."""

from azureml.train.estimator import Gloo, Mpi, Nccl, ParameterServer, _Framework

__all__ = ["Chainer", "Gloo", "Mpi", "Nccl", "ParameterServer", "PyTorch", "TensorFlow"]


class TensorFlow(_Framework):
    """An `Estimator` whose environment has TensorFlow (`framework_version` pins it)."""

    _framework = "TensorFlow"


class PyTorch(_Framework):
    """An `Estimator` whose environment has PyTorch (`framework_version` pins it)."""

    _framework = "PyTorch"


class Chainer(_Framework):
    """An `Estimator` whose environment has Chainer (`framework_version` pins it)."""

    _framework = "Chainer"
