"""reportHost: what nova Zed's libvirt driver reports to placement about a host.

Traits and inventory come from `LibvirtDriver.update_provider_tree` on a local provider tree (what
the resource tracker sends to placement); detection from `Host.supports_amd_sev`; the reason for a
"no" from the records nova logs while it decides.
"""
import logging
import uuid

from nova.compute import provider_tree

from . import runtime

SEV_TRAIT = 'HW_CPU_X86_AMD_SEV'
MEM_ENCRYPTION_CONTEXT = 'MEM_ENCRYPTION_CONTEXT'
INVENTORY_FIELDS = ('total', 'min_unit', 'max_unit', 'step_size', 'allocation_ratio', 'reserved')

#: nova's own log templates during detection (nova/virt/libvirt/host.py) → a stable reason token.
DETECTION_LOGS = (
    ('%s does not exist', 'kernel-param-missing'),
    ("kernel doesn't support AMD SEV", 'kernel-param-off'),
    ('No AMD SEV support detected for any (arch, machine_type)', 'no-sev-domcaps'),
    ('AMD SEV support detected', 'detected'),
)


def detection_reason(records, service):
    """Why nova's supports_amd_sev answered as it did, from the records logged while deciding."""
    templates = {r.msg for r in records if r.name == 'nova.virt.libvirt.host'}
    found = [token for template, token in DETECTION_LOGS if template in templates]
    # 'does not exist' explains 'kernel doesn't support' (both are logged for a missing file).
    if found:
        return found[0]
    if service.host._supports_amd_sev is False:
        # The only silent "no": the host CPU architecture is not x86_64.
        return 'not-x86_64'
    return 'unknown'


def _detect(service):
    """nova's memoized detection of this service and the reason it logged for it."""
    return bool(service.host.supports_amd_sev), detection_reason(service.detection_records, service)


def report_host(services, params):
    capture = runtime.capture()
    service = services.get(params['uri'], params['sysroot'], params.get('config') or {})
    mark = capture.mark()
    supported, reason = _detect(service)

    if service.start_error is not None:
        # nova-compute exits during init_host: nothing reaches placement.
        return {
            'traits': [],
            'inventories': {},
            'warnings': [f'nova-compute does not start: {service.start_error}'],
            'models': _models(False, 0, f'compute-refused-to-start ({service.start_error}); '
                                        f'Host.supports_amd_sev={supported}: {reason}'),
            'sev': None,
        }

    tree = provider_tree.ProviderTree()
    tree.new_root(runtime.NODENAME, str(uuid.uuid5(uuid.NAMESPACE_URL, service.uri)))
    service.driver.update_provider_tree(tree, runtime.NODENAME)
    data = tree.data(runtime.NODENAME)
    inventories = {rc: {f: inv[f] for f in INVENTORY_FIELDS} for rc, inv in data.inventory.items()}
    slots = inventories.get(MEM_ENCRYPTION_CONTEXT, {}).get('total', 0)
    warnings = [_coded(r) for r in capture.since(mark) if r.levelno >= logging.WARNING]
    return {
        'traits': sorted(data.traits),
        'inventories': inventories,
        'warnings': warnings,
        'models': _models(supported, slots, f'Host.supports_amd_sev={supported}: {reason}; '
                                            'slots from _get_memory_encrypted_slots'),
        'sev': _sev_facts(service) if supported else None,
    }


# nova's own log templates (nova/virt/libvirt/driver.py, Zed) and the contract's warning code each
# stands for: the record's template is looked up, its text is never matched.
WARNING_CODES = {
    "Host is configured with libvirt.num_memory_encrypted_guests set to %d, but is not SEV-capable.": 'CAP_WITHOUT_SEV',
}


def _coded(record):
    """A warning log record as the contract's warning: coded when nova's template has a code."""
    code = WARNING_CODES.get(record.msg) if isinstance(record.msg, str) else None
    return {'code': code, 'message': record.getMessage()} if code else record.getMessage()


def _models(supported, slots, source):
    return {
        'amd-sev': {'supported': supported, 'slots': slots if supported else 0, 'source': source},
        # Zed knows no SEV-ES (nova 32.0.0 adds it), so it never offers it.
        'amd-sev-es': {'supported': False, 'slots': 0, 'source': 'nova Zed has no SEV-ES support'},
    }


def _sev_facts(service):
    """cbitpos/reducedPhysBits of the <sev> feature nova will copy into guest XML (q35 on x86_64)."""
    drv = service.driver
    caps = service.host.get_capabilities()
    for mach in ('q35',) + tuple(service.host.get_domain_capabilities().get(caps.host.cpu.arch, {})):
        feature = drv._find_sev_feature(caps.host.cpu.arch, mach)
        if feature is not None and feature.supported:
            return {'cbitpos': feature.cbitpos, 'reducedPhysBits': feature.reduced_phys_bits}
    return None
