"""Rich displays and the notebook kernel's hooks.

A Runboard display is a JSON object under the MIME type `DISPLAY_MIME`, the shape of
`runboard_shared::cell::Display` (`kind`: `text`, `estimator` or `run`), which the
notebook page draws: an estimator's parameters as a table, a run as a live card.
Objects offer it through IPython's `_repr_mimebundle_`, so Jupyter, nbclient and the
browser kernel all find it the same way.

The browser kernel sets `hooks`: `display` (show a MIME bundle now) and `waiting`
(a cell starts waiting on a run, so that a reloaded page can follow it again)."""

import inspect

DISPLAY_MIME = "application/vnd.runboard.display+json"

hooks = {"display": None, "waiting": None}


def display(bundle):
    """Shows a MIME bundle: through the browser kernel, else IPython, else as text."""
    hook = hooks.get("display")
    if hook is not None:
        hook(bundle)
        return
    try:
        from IPython.display import display as ipython_display
    except ImportError:
        print(bundle.get("text/plain", ""))
        return
    ipython_display(bundle, raw=True)


def waiting(run, show_output):
    """Tells the browser kernel that the cell now waits on `run`."""
    hook = hooks.get("waiting")
    if hook is not None:
        hook(run, show_output)


def run_bundle(run, status):
    """A run's card."""
    display = {
        "kind": "run",
        "run_id": run.id,
        "experiment": run.experiment.name,
        "status": status,
        "portal_url": run.get_portal_url(),
    }
    text = "Run(Experiment: {},\nId: {},\nType: azureml.scriptrun{})\nPortal: {}".format(
        run.experiment.name, run.id, ",\nStatus: " + status if status else "", display["portal_url"])
    return {DISPLAY_MIME: display, "text/plain": text}


def parameters_bundle(class_name, function, given):
    """An estimator's or a run configuration's parameters table: each parameter of
    `function` (its signature, or an `inspect.Signature`) that `given` sets to other
    than its default."""
    signature = function if isinstance(function, inspect.Signature) else inspect.signature(function)
    parameters = []
    for name, param in signature.parameters.items():
        if name == "self" or name.startswith("_") or name not in given:
            continue
        value = given[name]
        if param.default is not inspect.Parameter.empty and value == param.default:
            continue
        parameters.append([name, repr(value)])
    width = max((len(n) for n, _ in parameters), default=0)
    text = class_name + "(" + ",".join(
        "\n    {} = {}".format(n.ljust(width), v) for n, v in parameters) + ("\n)" if parameters else ")")
    return {
        DISPLAY_MIME: {"kind": "estimator", "class": class_name, "parameters": parameters},
        "text/plain": text,
    }
