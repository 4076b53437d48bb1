"""Compute targets: the server's (`local`, and the Slurm clusters of its config). The
SDK's provisioning calls map onto them, with a note, so old notebooks go on."""

from azureml.core.compute_target import ComputeTargetException


class ComputeTarget:
    """A compute target of the server, by name."""

    def __init__(self, workspace=None, name=None):
        if workspace is None or name is None:
            raise ComputeTargetException("ComputeTarget needs a workspace and a name")
        names = workspace._endpoint.json("GET", "/api/compute-targets")
        if name not in names:
            raise ComputeTargetException(
                "ComputeTargetException: compute target {!r} not found; this server has {}".format(
                    name, ", ".join(names)))
        self.workspace = workspace
        self.name = name
        self.type = "local" if name == "local" else "Slurm"
        self.provisioning_state = "Succeeded"

    @classmethod
    def _named(cls, workspace, name):
        target = object.__new__(cls)
        target.workspace, target.name = workspace, name
        target.type = "local" if name == "local" else "Slurm"
        target.provisioning_state = "Succeeded"
        return target

    @staticmethod
    def create(workspace, name, provisioning_configuration):
        """Runboard provisions nothing: a target of that name on the server is used,
        else `local`, and a note says so."""
        names = workspace._endpoint.json("GET", "/api/compute-targets")
        if name in names:
            print("Using compute target {!r} of the Runboard server.".format(name))
            return ComputeTarget._named(workspace, name)
        print("Runboard provisions no clusters: using compute target 'local' for {!r} "
              "(name a Slurm cluster in the server's runboard.toml to use one).".format(name))
        return ComputeTarget._named(workspace, "local")

    def wait_for_completion(self, show_output=False, min_node_count=None, timeout_in_minutes=20,
                            is_delete_operation=False):
        """Nothing to wait for: the target is there."""
        if show_output:
            print("Succeeded")

    def get_status(self):
        return self.provisioning_state

    def __repr__(self):
        return "ComputeTarget(name={!r}, type={!r})".format(self.name, self.type)


class _ProvisioningConfiguration:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


class AmlCompute(ComputeTarget):
    """Azure ML's managed clusters; here, see `ComputeTarget.create`."""

    @staticmethod
    def provisioning_configuration(vm_size="", vm_priority="dedicated", min_nodes=0, max_nodes=None,
                                   idle_seconds_before_scaledown=None, admin_username=None,
                                   admin_user_password=None, admin_user_ssh_key=None,
                                   vnet_resourcegroup_name=None, vnet_name=None, subnet_name=None,
                                   tags=None, description=None, remote_login_port_public_access="NotSpecified",
                                   identity_type=None, identity_id=None, location=None,
                                   enable_node_public_ip=True):
        return _ProvisioningConfiguration(vm_size=vm_size, max_nodes=max_nodes, min_nodes=min_nodes)

    @staticmethod
    def supported_vmsizes(workspace, location=None):
        return []


class ComputeInstance(ComputeTarget):
    """Azure ML's compute instances; here, see `ComputeTarget.create`."""

    @staticmethod
    def provisioning_configuration(vm_size="", ssh_public_access=False, admin_user_ssh_public_key=None,
                                   vnet_resourcegroup_name=None, vnet_name=None, subnet_name=None,
                                   tags=None, description=None, assigned_user_object_id=None,
                                   assigned_user_tenant_id=None):
        return _ProvisioningConfiguration(vm_size=vm_size)
