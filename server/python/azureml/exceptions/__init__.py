"""The SDK's exception types that training scripts catch."""


class AzureMLException(Exception):
    """Base of the SDK's errors."""


class UserErrorException(AzureMLException):
    """The caller did something the SDK does not allow."""
