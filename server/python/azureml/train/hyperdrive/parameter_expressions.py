"""The SDK v1's parameter expressions: each returns the JSON form the server reads,
`[name, [arguments]]`, as the SDK itself writes them."""


def choice(*options):
    """One of `options`: `choice(1, 2, 3)` or `choice([1, 2, 3])`."""
    if len(options) == 1 and isinstance(options[0], (list, tuple, range)):
        options = options[0]
    return ["choice", [list(options)]]


def randint(upper):
    """A whole number in [0, upper)."""
    return ["randint", [upper]]


def uniform(min_value, max_value):
    """Uniform between `min_value` and `max_value`."""
    return ["uniform", [min_value, max_value]]


def quniform(min_value, max_value, q):
    """`round(uniform(min_value, max_value) / q) * q`."""
    return ["quniform", [min_value, max_value, q]]


def loguniform(min_value, max_value):
    """`exp(uniform(min_value, max_value))`."""
    return ["loguniform", [min_value, max_value]]


def qloguniform(min_value, max_value, q):
    """`round(exp(uniform(min_value, max_value)) / q) * q`."""
    return ["qloguniform", [min_value, max_value, q]]


def normal(mu, sigma):
    """Normal with mean `mu` and standard deviation `sigma`."""
    return ["normal", [mu, sigma]]


def qnormal(mu, sigma, q):
    """`round(normal(mu, sigma) / q) * q`."""
    return ["qnormal", [mu, sigma, q]]


def lognormal(mu, sigma):
    """`exp(normal(mu, sigma))`."""
    return ["lognormal", [mu, sigma]]


def qlognormal(mu, sigma, q):
    """`round(exp(normal(mu, sigma)) / q) * q`."""
    return ["qlognormal", [mu, sigma, q]]
