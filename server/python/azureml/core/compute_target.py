"""`ComputeTargetException`, where the SDK has it."""

from azureml.exceptions import AzureMLException


class ComputeTargetException(AzureMLException):
    """A compute target was not found or cannot be used."""
