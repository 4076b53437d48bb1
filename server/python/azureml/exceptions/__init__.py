"""The SDK's exception types."""


class AzureMLException(Exception):
    """Base of the SDK's errors."""

    def __init__(self, exception_message="", **kwargs):
        super().__init__(exception_message)
        self.message = exception_message


class UserErrorException(AzureMLException):
    """The caller did something the SDK does not allow."""


class ServiceException(AzureMLException):
    """The server answered with an error."""


class ActivityFailedException(AzureMLException):
    """A run that was waited for failed."""


class ExperimentExecutionException(AzureMLException):
    """A run could not be submitted or followed."""


class SnapshotException(UserErrorException):
    """A source folder could not be packed (missing, too large)."""


class RunboardConnectionError(AzureMLException, ConnectionError):
    """The Runboard server could not be reached."""


class WebserviceException(AzureMLException):
    """The SDK's error for the model registry (and web services)."""
