"""`Workspace`: in Runboard, the workspace is the server itself."""

from azureml._runboard import Endpoint


class Workspace:
    """The Runboard server the SDK talks to. The SDK's subscription, resource group and
    workspace names are kept but do not choose anything: the server comes from
    `RUNBOARD_URL`/`RUNBOARD_TOKEN` or the client config of `runboard serve`."""

    def __init__(self, subscription_id=None, resource_group=None, workspace_name=None, auth=None,
                 _location=None, _disable_service_check=False, _workspace_id=None, sku="basic",
                 tags=None, _cloud="AzureCloud"):
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.name = workspace_name or "runboard"
        self.location = _location or "local"
        self.tags = tags or {}
        self._endpoint = Endpoint.resolve()

    @classmethod
    def from_config(cls, path=None, auth=None, _logger=None, _file_name=None):
        """The workspace of this machine's Runboard server (a `config.json` of Azure ML
        is not needed and not read)."""
        return cls()

    @classmethod
    def get(cls, name, auth=None, subscription_id=None, resource_group=None, location=None,
            cloud="AzureCloud", id=None):
        """The workspace: the same server whatever the name."""
        return cls(subscription_id, resource_group, name)

    @property
    def compute_targets(self):
        """The server's compute targets by name (`local`, and Slurm clusters)."""
        from azureml.core.compute import ComputeTarget

        names = self._endpoint.json("GET", "/api/compute-targets")
        return {n: ComputeTarget._named(self, n) for n in names}

    @property
    def experiments(self):
        """The server's experiments by name."""
        from azureml.core.experiment import Experiment

        answer = self._endpoint.json("GET", "/api/experiments")
        items = answer.get("experiments", []) if isinstance(answer, dict) else answer
        return {e["name"]: Experiment(self, e["name"]) for e in items}

    def get_default_datastore(self):
        """The datastore `workspaceblobstore` of the server."""
        from azureml.core.datastore import Datastore

        return Datastore.get_default(self)

    @property
    def datastores(self):
        """The default datastore by name (others are reached with `Datastore.get`)."""
        store = self.get_default_datastore()
        return {store.name: store}

    def get_details(self):
        """What the SDK's workspace details hold that means something here."""
        return {"name": self.name, "location": self.location, "url": self._endpoint.url}

    def __repr__(self):
        return "Workspace.create(name='{}', subscription_id='{}', resource_group='{}')".format(
            self.name, self.subscription_id, self.resource_group)
