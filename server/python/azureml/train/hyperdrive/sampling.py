"""How a sweep chooses its children's parameters. The server does the sampling;
these classes carry the parameter space to it."""


class HyperParameterSampling:
    """A parameter space (name -> expression) and a way to sample it."""

    _kind = None

    def __init__(self, parameter_space, properties=None):
        if not isinstance(parameter_space, dict) or not parameter_space:
            raise TypeError("parameter_space must be a non-empty dict of name -> expression, such as "
                            "{'--lr': uniform(0.01, 0.1)}")
        self._parameter_space = dict(parameter_space)
        self._properties = dict(properties or {})

    def _as_json(self):
        return {"sampling": self._kind, "parameter_space": self._parameter_space}


class RandomParameterSampling(HyperParameterSampling):
    """Random sampling; `properties={"rngSeed": 7}` (or `seed=7`) replays the same
    children. Without a seed the server picks one and keeps it."""

    _kind = "random"

    def __init__(self, parameter_space, properties=None, seed=None):
        super().__init__(parameter_space, properties)
        self._seed = seed if seed is not None else self._properties.get("rngSeed", self._properties.get("seed"))

    def _as_json(self):
        out = super()._as_json()
        if self._seed is not None:
            out["seed"] = self._seed
        return out


class GridParameterSampling(HyperParameterSampling):
    """Every combination of `choice` values, once."""

    _kind = "grid"


class BayesianParameterSampling(HyperParameterSampling):
    """Bayesian sampling: the server refuses it at submit (use random sampling)."""

    _kind = "bayesian"
