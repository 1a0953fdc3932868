"""The minimum nova needs to run its libvirt driver without a database or message bus.

Each stand-in replaces one database read that nova-compute makes outside the SEV code paths; none
changes an SEV decision. They are listed, with the caller that needs them, in README.md.
"""
from nova import objects
from nova.virt import fake as fake_virt


class VirtAPI(fake_virt.FakeVirtAPI):
    """nova's own database-free VirtAPI (nova/virt/fake.py), which the driver's constructor takes."""


class _ServiceRecord:
    """The compute service row `_set_host_enabled` reads when the libvirt connection opens."""

    def __init__(self, host):
        self.host = host
        self.disabled = False
        self.disabled_reason = None

    def save(self):
        """Nothing to persist: there is no services table."""


def _no_instances_on_host(cls, context, host, expected_attrs=None, use_slave=False):
    # init_host re-registers image defaults of the host's instances; a fresh service has none.
    return objects.InstanceList(objects=[])


def _service_of_host(cls, context, host, use_slave=False):
    return _ServiceRecord(host)


def _no_rows_for_instance(cls, context, instance_uuid, use_slave=False):
    # _build_device_metadata after a hot-plug reads the instance's BDMs and VIFs for device tags;
    # the adapter attaches untagged devices, so there is nothing to expose.
    return cls(objects=[])


def _nothing_to_save(self, *args, **kwargs):
    """Instance.save after a hot-plug persists device metadata; there is no instances table."""


def _no_host_plumbing(*args, **kwargs):
    """os-vif plug/unplug: creating the host bridge and tap needs root; the fake host has no network."""


def install():
    import os_vif
    objects.InstanceList.get_by_host = classmethod(_no_instances_on_host)
    objects.Service.get_by_compute_host = classmethod(_service_of_host)
    objects.BlockDeviceMappingList.get_by_instance_uuid = classmethod(_no_rows_for_instance)
    objects.VirtualInterfaceList.get_by_instance_uuid = classmethod(_no_rows_for_instance)
    objects.Instance.save = _nothing_to_save
    # nova-compute initialises os-vif at start (nova/cmd/compute.py); its plugins then act as root.
    os_vif.initialize()
    os_vif.plug = _no_host_plumbing
    os_vif.unplug = _no_host_plumbing
