"""attach-interface and attach-volume: the libvirt driver's own hot-plug calls on a running guest.

What the compute manager hands the driver is built the way nova's unit tests build it: the port as
`fake_network_cache_model.new_vif` (a Linux-bridge VIF with one IPv4 network) with a fresh port id
and MAC, placed in the instance's network info cache as the network API would before the driver
is called; the volume as a cinder `local` connection (a block device path), the simplest
connection nova's volume drivers accept. `LibvirtDriver.attach_interface` / `attach_volume` then
build the device config (`vif_driver.get_config` / `_get_volume_config`, including nova's SEV
iommu rule), and attach it live and persistently through libvirt. Host plumbing is left out (see
`nodb.py`): os-vif's bridge plug needs root, and a `local` volume needs no connector.
"""
import itertools

from nova import context as nova_context
from nova.network import model as network_model
from nova import objects
from nova.tests.unit import fake_network_cache_model

#: Device counters of this process: each attach gets its own port id, MAC and volume.
_serials = itertools.count(1)


def _port(instance):
    serial = next(_serials)
    port_id = f'5e1a0000-0000-4000-8000-{serial:012x}'
    return fake_network_cache_model.new_vif({
        'id': port_id,
        'address': 'fa:16:3e:%02x:%02x:%02x' % ((serial >> 16) & 0xff, (serial >> 8) & 0xff, serial & 0xff),
        'devname': ('tap' + port_id)[:network_model.NIC_NAME_LEN],
        'vnic_type': network_model.VNIC_TYPE_NORMAL,
        'details': {},
        'active': True,
    })


def attach_interface(service, instance):
    vif = _port(instance)
    # The network API has added the new port to the instance's cache before the driver runs.
    instance.info_cache = objects.InstanceInfoCache(
        instance_uuid=instance.uuid, network_info=network_model.NetworkInfo([vif]))
    service.driver.attach_interface(nova_context.get_admin_context(), instance, instance.image_meta, vif)


def _next_disk(service, instance):
    """The first free virtio name after the guest's disks, as the compute manager would reserve it."""
    xml = service.host.get_guest(instance).get_xml_desc()
    for letter in 'bcdefghijklmnopqrstuvwxyz':
        if f"dev='vd{letter}'" not in xml and f'dev="vd{letter}"' not in xml:
            return f'/dev/vd{letter}'
    raise RuntimeError('no free virtio disk name')


def attach_volume(service, instance):
    if instance.info_cache is None:
        # Every instance the compute manager holds has a (possibly empty) network info cache.
        instance.info_cache = objects.InstanceInfoCache(instance_uuid=instance.uuid, network_info=network_model.NetworkInfo([]))
    serial = next(_serials)
    volume_id = f'7a0e0000-0000-4000-8000-{serial:012x}'
    connection_info = {
        'driver_volume_type': 'local',
        'serial': volume_id,
        'data': {'device_path': f'/dev/disk/by-id/sevharness-volume-{volume_id}', 'volume_id': volume_id},
    }
    service.driver.attach_volume(
        nova_context.get_admin_context(), connection_info, instance, _next_disk(service, instance),
        disk_bus='virtio', device_type='disk', encryption=None)
