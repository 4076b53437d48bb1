"""`Datastore` and `DataReference`: the server's datastores (folders under its data
directory), uploaded to from here and mounted into runs."""

import os

from azureml._runboard import segment
from azureml.exceptions import UserErrorException

# The datastore `ws.get_default_datastore()` returns, as in Azure ML.
DEFAULT_DATASTORE = "workspaceblobstore"


class DataReference(dict):
    """A folder of a datastore as a run sees it (`ds.path('x').as_mount()`). A dict of
    the estimator's JSON form (`datastore`, `path_on_datastore`, `mode`, …), so it goes
    into `script_params` and `arguments` as it is."""

    def __init__(self, datastore, path_on_datastore="", mode="mount", data_reference_name=None,
                 path_on_compute=None, overwrite=False):
        super().__init__(datastore=datastore, path_on_datastore=path_on_datastore or "", mode=mode)
        if data_reference_name is not None:
            self["data_reference_name"] = data_reference_name
        if path_on_compute is not None:
            self["path_on_compute"] = path_on_compute
        if overwrite:
            self["overwrite"] = True

    @property
    def datastore_name(self):
        return self["datastore"]

    @property
    def path_on_datastore(self):
        return self["path_on_datastore"]

    @property
    def mode(self):
        return self["mode"]

    @property
    def data_reference_name(self):
        return self.get("data_reference_name", self["datastore"])

    def _with(self, **changes):
        fields = {k: v for k, v in self.items() if k != "datastore"}
        fields.update(changes)
        return DataReference(self["datastore"], **fields)

    def as_mount(self):
        """The folder mounted (read where it is) in the run."""
        return self._with(mode="mount")

    def as_download(self, path_on_compute=None, overwrite=False):
        """The folder copied into the run's working directory first."""
        return self._with(mode="download", path_on_compute=path_on_compute, overwrite=overwrite)

    def __repr__(self):
        return "$AZUREML_DATAREFERENCE_{}".format(self.data_reference_name)


class Datastore:
    """A datastore of the server (Azure ML's blob container; here a folder under the
    server's data directory)."""

    datastore_type = "AzureBlob"

    def __init__(self, workspace, name=None):
        self.workspace = workspace
        self.name = name or DEFAULT_DATASTORE
        self.account_name = "runboard"
        self.container_name = self.name

    @staticmethod
    def get(workspace, datastore_name):
        return Datastore(workspace, datastore_name)

    @staticmethod
    def get_default(workspace):
        return Datastore(workspace, DEFAULT_DATASTORE)

    def path(self, path=None, data_reference_name=None):
        """A folder of the datastore, mounted by default."""
        return DataReference(self.name, path or "", data_reference_name=data_reference_name)

    def as_mount(self):
        return DataReference(self.name)

    def as_download(self, path_on_compute=None):
        return DataReference(self.name, mode="download", path_on_compute=path_on_compute)

    def upload(self, src_dir, target_path=None, overwrite=False, show_progress=True):
        """Copies the files of the local folder `src_dir` to `target_path` in the
        datastore; returns a reference to it."""
        if not os.path.isdir(src_dir):
            raise UserErrorException("upload: src_dir {!r} is not a folder here".format(src_dir))
        files = []
        for top, dirs, names in os.walk(src_dir):
            dirs.sort()
            for name in sorted(names):
                files.append(os.path.relpath(os.path.join(top, name), src_dir).replace(os.sep, "/"))
        # A link that leads out of the folder is refused before anything is sent: an
        # upload sends the folder, not what its links point at.
        top = os.path.realpath(src_dir)
        for rel in files:
            real = os.path.realpath(os.path.join(src_dir, rel))
            if os.path.commonpath([top, real]) != top:
                raise UserErrorException(
                    "upload: {} leads outside {} (a link to {}); nothing was uploaded. Copy "
                    "the file into the folder instead".format(
                        os.path.join(src_dir, rel), src_dir, real))
        target = (target_path or "").strip("/")
        if show_progress:
            print("Uploading an estimated of {} files".format(len(files)))
        endpoint = self.workspace._endpoint
        for i, rel in enumerate(files):
            with open(os.path.join(src_dir, rel), "rb") as f:
                data = f.read()
            dest = "/".join(p for p in (target, rel) if p)
            endpoint.request(
                "PUT",
                "/api/datastores/{}/files/{}".format(
                    segment(self.name), "/".join(segment(p) for p in dest.split("/"))),
                data, "application/octet-stream", {"overwrite": "true" if overwrite else "false"})
            if show_progress:
                shown = os.path.join(src_dir, rel)
                print("Uploading {}\nUploaded {}, {} files out of an estimated total of {}".format(
                    shown, shown, i + 1, len(files)))
        if show_progress:
            print("Uploaded {} files".format(len(files)))
        return DataReference(self.name, target)

    def upload_files(self, files, relative_root=None, target_path=None, overwrite=False, show_progress=True):
        raise UserErrorException(
            "Datastore.upload_files is not supported by Runboard: put the files in a folder and "
            "use Datastore.upload(src_dir=..., target_path=...)")

    def __repr__(self):
        return "Datastore(name={!r}, datastore_type={!r})".format(self.name, self.datastore_type)
