"""validateRequest: nova's API checks and scheduler translation of a flavor and an image.

The API layer validates flavor extra specs (microversion ≥ 2.86) and flavor/image consistency
(`API._validate_flavor_image_numa_pci`, which calls `hardware.get_mem_encryption_constraint`
without a machine type); the scheduler turns the request spec into placement resources and traits
(`ResourceRequest.from_request_spec`). Checks nova makes only on the compute host (its default
machine type, domain capabilities) happen in buildGuestXml, where nova makes them.
"""
from nova.api.validation.extra_specs import validators as extra_spec_validators
from nova import block_device
from nova.compute import api as compute_api
from nova import context as nova_context
from nova import objects
from nova.scheduler import utils as scheduler_utils
from nova.virt import hardware

from .wire import ProtocolError, require


def flavor_object(flavor):
    name = require(flavor, 'name', str)
    return objects.Flavor(
        id=1, flavorid=name, name=name,
        vcpus=require(flavor, 'vcpus', int),
        memory_mb=require(flavor, 'memoryMiB', int),
        root_gb=flavor.get('diskGiB', 1), ephemeral_gb=0, swap=0,
        extra_specs=dict(flavor.get('extraSpecs') or {}),
        rxtx_factor=1.0, vcpu_weight=0, disabled=False, is_public=True, description=None,
    )


def image_dict(image, disk_gib):
    """The image as the API sees it: glance metadata, or a boot volume's image metadata."""
    properties = dict(image.get('properties') or {})
    if image.get('volumeBacked'):
        # Cinder keeps volume image metadata as strings and nova rebuilds an image without id/name.
        volume = {'volume_image_metadata': {k: str(v) for k, v in properties.items()}, 'size': disk_gib}
        return block_device.get_image_metadata_from_volume(volume)
    return {
        'id': require(image, 'id', str), 'name': require(image, 'name', str), 'status': 'active',
        'container_format': 'bare', 'disk_format': 'raw', 'size': 1 << 30,
        'min_ram': 0, 'min_disk': 0, 'properties': properties,
    }


def image_meta_object(image_meta):
    # The API's own conversion: bad property values become InvalidRequest.
    return compute_api._get_image_meta_obj(image_meta)


def validate_extra_specs(flavor):
    for name, value in sorted((flavor.get('extraSpecs') or {}).items()):
        extra_spec_validators.validate(name, value)


def validate_request(params):
    flavor = require(params, 'flavor', dict)
    image = require(params, 'image', dict)
    validate_extra_specs(flavor)
    flavor_obj = flavor_object(flavor)
    image_meta = image_dict(image, flavor.get('diskGiB', 1))
    compute_api.API._validate_flavor_image_numa_pci(image_meta, flavor_obj)
    image_obj = image_meta_object(image_meta)

    spec = objects.RequestSpec.from_components(
        nova_context.get_admin_context(), _INSTANCE_UUID, image_obj, flavor_obj,
        None, None, {}, None, None)
    spec.is_bfv = bool(image.get('volumeBacked'))
    resource_request = scheduler_utils.ResourceRequest.from_request_spec(spec)
    unsuffixed = resource_request.get_request_group(None)

    encrypted = hardware.get_mem_encryption_constraint(flavor_obj, image_obj)
    result = {
        'resources': dict(resource_request.merged_resources()),
        'requiredTraits': sorted(set(unsuffixed.required_traits) | set(resource_request._root_required)),
        # Zed knows one model; the request is for it whenever memory encryption is on.
        'model': 'amd-sev' if encrypted else None,
    }
    machine = image_obj.properties.get('hw_machine_type', None)
    if machine:
        result['machineType'] = machine
    return result


_INSTANCE_UUID = '00000000-0000-4000-8000-000000000000'


def boot_request(params):
    """(flavor, image) dicts of a contract Request, or BAD_REQUEST."""
    request = require(params, 'request', dict)
    flavor = require(request, 'flavor', dict)
    image = require(request, 'image', dict)
    config = request.get('config') or {}
    if not isinstance(config, dict):
        raise ProtocolError('BAD_REQUEST', 'request.config must be an object')
    return flavor, image, config
