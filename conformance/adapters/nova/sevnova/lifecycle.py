"""lifecycle: nova's API-level guards, then the libvirt driver's own calls on the host.

The guards are nova's: the `reject_sev_instances` decorator of nova.compute.api (suspend, live
migration) and the API's flavor/image validation for rebuild and resize. The host side uses the
driver's methods (pause, unpause, destroy) and, where nova rebuilds a guest (hard reboot, rebuild,
resize, cold migration, unshelve), the same XML path and `_create_guest` as spawn; disk and image
service work that those flows also do is left out (the fake host has no disks to copy).
"""
from nova.compute import api as compute_api
from nova.compute import instance_actions
from nova import context as nova_context

from . import boot_request, guest, hotplug
from .wire import ProtocolError, Refusal, require

#: The API actions nova guards for SEV guests, by contract operation (nova.compute.api).
GUARDED_ACTIONS = {
    'suspend': instance_actions.SUSPEND,
    'live-migrate': instance_actions.LIVE_MIGRATION,
}

NOT_PRACTICAL = {
    # nova live-snapshots a running guest: virDomainBlockRebase + block-job polling, then qemu-img
    # on the instance's disk; the fake has no block jobs and the adapter creates no disk images.
    'snapshot': 'live snapshot needs libvirt block jobs and the instance disk on the host',
    'live-migrate': 'live migration of a plain guest is outside this adapter',
}


def _known(services, params):
    """(service, instance, image, flavor) of the instance: as spawned here, else rebuilt from the request."""
    ref = require(params, 'instance', dict)
    known = guest.INSTANCES.get(require(ref, 'uuid', str))
    if known is not None:
        return known
    flavor, image, config = boot_request.boot_request(params)
    service = services.for_uri(require(params, 'uri', str), config)
    return service, guest.instance_object(ref, flavor, image, service), image, flavor


def _api_guard(operation, instance):
    """nova's reject_sev_instances decorator around a no-op API call for this instance."""
    action = GUARDED_ACTIONS.get(operation)
    if action is None:
        return

    @compute_api.reject_sev_instances(action)
    def api_call(self, context, inst):
        return None

    api_call(None, nova_context.get_admin_context(), instance)


def _remove(service, instance):
    """Stop and undefine the domain, as nova's destroy and cleanup do."""
    service.activate()
    service.driver._destroy(instance)
    service.driver._undefine_domain(instance)


def _launch(service, instance, image):
    service.activate()
    xml = guest._guest_xml(service, instance, image)
    guest.INSTANCES[instance.uuid] = (service, instance, image, _flavor_dict(instance))
    service.driver._create_guest(nova_context.get_admin_context(), xml, instance, power_on=True)


def _flavor_dict(instance):
    f = instance.flavor
    return {'name': f.name, 'vcpus': f.vcpus, 'memoryMiB': f.memory_mb, 'diskGiB': f.root_gb, 'extraSpecs': dict(f.extra_specs)}


def _xml_after(service, instance):
    service.activate()
    return service.host.get_guest(instance).get_xml_desc()


def run(services, params):
    operation = require(params, 'operation', str)
    service, instance, image, flavor = _known(services, params)
    service.activate()
    _api_guard(operation, instance)
    drv = service.driver
    context = nova_context.get_admin_context()

    if operation in NOT_PRACTICAL:
        raise Refusal('NOT_IMPLEMENTED', f'{operation}: {NOT_PRACTICAL[operation]}')
    if operation == 'pause':
        drv.pause(instance)
    elif operation == 'resume':
        drv.unpause(instance)
    elif operation == 'suspend':
        drv.suspend(context, instance)
    elif operation == 'hard-reboot':
        _remove(service, instance)
        _launch(service, instance, image)
    elif operation == 'attach-interface':
        hotplug.attach_interface(service, instance)
    elif operation == 'attach-volume':
        hotplug.attach_volume(service, instance)
    elif operation == 'delete':
        _remove(service, instance)
        guest.INSTANCES.pop(instance.uuid, None)
        return {'ok': True}
    elif operation == 'shelve':
        drv.power_off(instance)
        _remove(service, instance)
        return {'ok': True}
    elif operation == 'unshelve':
        target = services.for_uri(params.get('targetUri') or service.uri, service.config)
        _launch(target, _moved(instance, image, flavor, target), image)
        service = target
    elif operation == 'cold-migrate':
        target = services.for_uri(params.get('targetUri') or service.uri, service.config)
        _remove(service, instance)
        _launch(target, _moved(instance, image, flavor, target), image)
        service = target
    elif operation == 'rebuild':
        new_image = require(params, 'image', dict)
        compute_api.API._validate_flavor_image_numa_pci(
            boot_request.image_dict(new_image, instance.flavor.root_gb), instance.flavor)
        _remove(service, instance)
        rebuilt = guest.instance_object(require(params, 'instance', dict), flavor, new_image, service)
        _launch(service, rebuilt, new_image)
        instance = rebuilt
    elif operation == 'resize':
        new_flavor = require(params, 'flavor', dict)
        boot_request.validate_extra_specs(new_flavor)
        compute_api.API._validate_flavor_image_numa_pci(
            boot_request.image_dict(image, new_flavor.get('diskGiB', 1)), boot_request.flavor_object(new_flavor))
        _remove(service, instance)
        resized = guest.instance_object(require(params, 'instance', dict), new_flavor, image, service)
        _launch(service, resized, image)
        instance = resized
    else:
        raise ProtocolError('BAD_REQUEST', f'unknown lifecycle operation {operation!r}')
    return {'ok': True, 'xml': _xml_after(service, instance)}


def _moved(instance, image, flavor, target):
    ref = {'uuid': instance.uuid, 'name': instance.display_name}
    return guest.instance_object(ref, flavor, image, target)

