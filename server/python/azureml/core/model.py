"""`Model`: the server's model registry. A model is a name with versions counting up;
each version is a copy of a run's file or folder, or of uploaded files."""

import json
import os

from azureml._runboard import segment
from azureml.exceptions import UserErrorException, WebserviceException


class Model:
    """A registered model version: `Model(ws, name)` is the latest,
    `Model(ws, name, version=2)` that version."""

    def __init__(self, workspace, name=None, id=None, tags=None, properties=None, version=None,
                 run_id=None, model_framework=None, expand=True, **kwargs):
        if id and not name:
            name, _, v = id.partition(":")
            version = version or (int(v) if v else None)
        if not name:
            raise UserErrorException("Model needs a name (or an id 'name:version')")
        self.workspace = workspace
        path = "/api/models/{}/versions/{}".format(segment(name), version or "latest")
        try:
            self._load(workspace._endpoint.json("GET", path))
        except UserErrorException as e:
            raise WebserviceException(str(e)) from None

    @classmethod
    def _from(cls, workspace, body):
        model = object.__new__(cls)
        model.workspace = workspace
        model._load(body)
        return model

    def _load(self, body):
        self.name = body["name"]
        self.version = body["version"]
        self.id = "{}:{}".format(self.name, self.version)
        self.run_id = body.get("run_id")
        self.description = body.get("description", "")
        self.tags = dict(body.get("tags") or {})
        self.properties = dict(body.get("properties") or {})
        self.created_time = body.get("created_time")
        self.url = body["path"]
        self._path = body["path"]
        self._files = [f["path"] for f in body.get("files", [])]

    def __repr__(self):
        return "Model(workspace={}, name={}, id={}, version={}, tags={}, properties={})".format(
            self.workspace.name, self.name, self.id, self.version, self.tags, self.properties)

    @staticmethod
    def register(workspace, model_path, model_name, tags=None, properties=None, description=None,
                 datasets=None, model_framework=None, model_framework_version=None,
                 child_paths=None, sample_input_dataset=None, sample_output_dataset=None,
                 resource_configuration=None):
        """Uploads the local file or folder `model_path` as the next version of
        `model_name`."""
        if not os.path.exists(model_path):
            raise UserErrorException("model_path {!r} does not exist".format(model_path))
        base = os.path.basename(os.path.normpath(model_path))
        files = []
        if os.path.isdir(model_path):
            for folder, _, names in os.walk(model_path):
                for n in sorted(names):
                    full = os.path.join(folder, n)
                    rel = os.path.relpath(full, model_path).replace(os.sep, "/")
                    with open(full, "rb") as f:
                        files.append(("file", base + "/" + rel, f.read()))
        else:
            with open(model_path, "rb") as f:
                files.append(("file", base, f.read()))
        meta = _meta(model_name, tags, properties, description, model_framework, model_framework_version)
        body = workspace._endpoint.multipart("/api/models", [("model", json.dumps(meta))], files)
        return Model._from(workspace, body)

    @staticmethod
    def list(workspace, name=None, tags=None, properties=None, run_id=None, latest=False,
             dataset_id=None, expand=True, page_count=255, model_framework=None):
        """Registered models: the latest version of each, or every version of `name`
        (newest first; `latest=True` keeps only the newest)."""
        if run_id:
            answer = workspace._endpoint.json("GET", "/api/runs/{}/models".format(segment(run_id)))
        else:
            answer = workspace._endpoint.json("GET", "/api/models", query={"name": name} if name else None)
        models = [Model._from(workspace, b) for b in answer["models"]]
        if name and run_id:
            models = [m for m in models if m.name == name]
        if latest and name:
            models = models[:1]
        if tags:
            models = [m for m in models if _has(m.tags, tags)]
        if properties:
            models = [m for m in models if _has(m.properties, properties)]
        return models

    def download(self, target_dir=".", exist_ok=False, exists_ok=None):
        """Writes the version's files into `target_dir`; returns the path of the
        registered file or folder there."""
        exist_ok = exist_ok if exists_ok is None else exists_ok
        target = os.path.join(target_dir, self._path)
        if os.path.exists(target) and not exist_ok:
            raise WebserviceException("{} exists; pass exist_ok=True to overwrite".format(target))
        for rel in self._files:
            data = self.workspace._endpoint.request(
                "GET", "/api/models/{}/versions/{}/files/{}".format(
                    segment(self.name), self.version, "/".join(segment(p) for p in rel.split("/"))))
            out = os.path.join(target_dir, *rel.split("/"))
            os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
            with open(out, "wb") as f:
                f.write(data)
        return target

    @staticmethod
    def get_model_path(model_name, version=None, _workspace=None):
        """The local path of a registered model's file or folder: inside a Runboard job
        the registry's own copy; elsewhere `./azureml-models/<name>/<version>/`, as the
        SDK looks it up."""
        roots = [os.environ.get("RUNBOARD_MODELS_DIR"), os.path.join(os.getcwd(), "azureml-models")]
        for root in filter(None, roots):
            folder = os.path.join(root, model_name)
            if not os.path.isdir(folder):
                continue
            versions = sorted(int(v) for v in os.listdir(folder) if v.isdigit())
            if not versions:
                continue
            chosen = int(version) if version is not None else versions[-1]
            if chosen not in versions:
                raise WebserviceException(
                    "model {!r} has no version {}; it has {}".format(model_name, chosen, versions))
            entries = os.listdir(os.path.join(folder, str(chosen)))
            base = os.path.join(folder, str(chosen))
            return os.path.join(base, entries[0]) if len(entries) == 1 else base
        raise WebserviceException(
            "no model {!r} found (looked in {})".format(model_name, ", ".join(filter(None, roots))))


def _meta(name, tags, properties, description, framework, framework_version):
    props = {k: str(v) for k, v in (properties or {}).items()}
    if framework:
        props.setdefault("model_framework", str(framework))
    if framework_version:
        props.setdefault("model_framework_version", str(framework_version))
    return {
        "name": name,
        "description": description or "",
        "tags": {k: str(v) for k, v in (tags or {}).items()},
        "properties": props,
    }


def _has(have, want):
    if isinstance(want, dict):
        return all(have.get(k) == str(v) for k, v in want.items())
    items = [want] if isinstance(want, str) else want
    ok = True
    for item in items:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            ok = ok and have.get(item[0]) == str(item[1])
        else:
            ok = ok and item in have
    return ok
