"""buildGuestXml and spawn: nova's compute-side guest path on the service of a host.

buildGuestXml runs what `LibvirtDriver.spawn` runs before it touches disks: the block-device
layout (`blockinfo.get_disk_info`) and `_get_guest_xml` (→ `_get_guest_config` → `to_xml`), with
the compute's own checks (default machine type, domain capabilities for <sev>). spawn defines and
launches the domain with `_create_guest` (nova's Guest.create + Guest.launch). Image download and
disk creation are left out: the fake host boots from the XML alone.
"""
from nova import context as nova_context
from nova.network import model as network_model
from nova import objects
from nova import utils as nova_utils
from nova.virt.libvirt import blockinfo

from . import boot_request, runtime
from .wire import ProtocolError, Refusal, require

#: Builds and spawns of this process: instance uuid → (service, Instance, image dict, flavor dict).
INSTANCES = {}


def instance_object(ref, flavor, image, service):
    """A nova Instance as the compute manager holds it when it calls the driver's spawn."""
    uuid = require(ref, 'uuid', str)
    name = require(ref, 'name', str)
    flavor_obj = boot_request.flavor_object(flavor)
    image_meta = boot_request.image_dict(image, flavor.get('diskGiB', 1))
    # The compute manager names domains from instance_name_template; the runner names them itself.
    runtime.CONF.set_override('instance_name_template', name.replace('%', '%%'))
    system_metadata = nova_utils.get_system_metadata_from_image(image_meta, flavor_obj)
    return objects.Instance(
        id=1, uuid=uuid, display_name=name, hostname=name,
        project_id='sevharness', user_id='sevharness',
        image_ref=image_meta.get('id', ''), flavor=flavor_obj, old_flavor=None, new_flavor=None,
        instance_type_id=flavor_obj.id, vcpus=flavor_obj.vcpus, memory_mb=flavor_obj.memory_mb,
        root_gb=flavor_obj.root_gb, ephemeral_gb=0,
        system_metadata=system_metadata, metadata={},
        pci_devices=objects.PciDeviceList(), pci_requests=objects.InstancePCIRequests(requests=[]),
        numa_topology=None, vcpu_model=None, config_drive='', kernel_id='', ramdisk_id='',
        os_type='linux', vm_mode=None, vm_state='building', task_state='spawning', power_state=0,
        ephemeral_key_uuid=None, host=runtime.NODENAME, node=runtime.NODENAME, launched_on=None,
        trusted_certs=None, resources=None, migration_context=None, info_cache=None,
        device_metadata=None, key_data=None, user_data=None, root_device_name=None,
        default_ephemeral_device=None, default_swap_device=None, keypairs=objects.KeyPairList(objects=[]),
        tags=objects.TagList(objects=[]), services=objects.ServiceList(objects=[]),
        security_groups=objects.SecurityGroupList(objects=[]), availability_zone=None,
    )


def _guest_xml(service, instance, image):
    image_meta = boot_request.image_meta_object(boot_request.image_dict(image, instance.flavor.root_gb))
    disk_info = blockinfo.get_disk_info(runtime.CONF.libvirt.virt_type, instance, image_meta)
    return service.driver._get_guest_xml(
        nova_context.get_admin_context(), instance, network_model.NetworkInfo([]), disk_info, image_meta)


def _service_for_build(services, params):
    service = services.current
    if service is None:
        raise ProtocolError('BAD_REQUEST', 'buildGuestXml needs a host: call reportHost first')
    return service


def build_guest_xml(services, params):
    flavor, image, config = boot_request.boot_request(params)
    if image.get('volumeBacked'):
        raise Refusal('NOT_IMPLEMENTED', 'the nova adapter builds image-backed guests only')
    service = _service_for_build(services, params)
    service = services.get(service.uri, service.sysroot, config)
    instance = instance_object(require(params, 'instance', dict), flavor, image, service)
    xml = _guest_xml(service, instance, image)
    INSTANCES[instance.uuid] = (service, instance, image, flavor)
    return {'xml': xml}


def spawn(services, params):
    uri = require(params, 'uri', str)
    context = nova_context.get_admin_context()
    if 'xml' in params:
        xml = require(params, 'xml', str)
        service = services.for_uri(uri, services.current.config if services.current else {})
        instance = _instance_for_xml(xml)
    else:
        flavor, image, config = boot_request.boot_request(params)
        if image.get('volumeBacked'):
            raise Refusal('NOT_IMPLEMENTED', 'the nova adapter builds image-backed guests only')
        service = services.for_uri(uri, config)
        instance = instance_object(require(params, 'instance', dict), flavor, image, service)
        xml = _guest_xml(service, instance, image)
        INSTANCES[instance.uuid] = (service, instance, image, flavor)
    guest = service.driver._create_guest(context, xml, instance, power_on=True)
    return {'domainName': guest.name, 'uuid': guest.uuid}


def _instance_for_xml(xml):
    """The instance a given XML belongs to, when this process built it."""
    from xml.etree import ElementTree
    try:
        uuid = (ElementTree.fromstring(xml).findtext('uuid') or '').strip()
    except ElementTree.ParseError as exc:
        raise ProtocolError('BAD_REQUEST', f'xml does not parse: {exc}') from None
    if uuid in INSTANCES:
        return INSTANCES[uuid][1]
    return objects.Instance(uuid=uuid or '00000000-0000-4000-8000-000000000001', flavor=objects.Flavor(extra_specs={}),
                            image_ref='', system_metadata={})
