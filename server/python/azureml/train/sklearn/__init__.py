"""`SKLearn`: the SDK v1's scikit-learn estimator."""

from azureml.train.estimator import _Framework


class SKLearn(_Framework):
    """An `Estimator` whose environment has scikit-learn (`framework_version` pins it)."""

    _framework = "SKLearn"
