"""nova's exceptions → the contract's refusal codes (the "nova" column of conformance/README.md).

Some nova exceptions cover several situations (FlavorImageConflict is raised both for a flag
conflict and for a missing UEFI firmware type); the nova function that raised it tells them apart,
so the table matches on (exception class, raising function) and never on message texts.
"""
import traceback

from .wire import Refusal

#: (exception class name, nova function that raised it or None for any) → refusal code. First match wins.
EXCEPTION_CODES = (
    ('ValidationError', '_validate_bool', 'INVALID_BOOLEAN'),
    ('ValidationError', None, 'INVALID_REQUEST'),
    ('InvalidRequest', 'bool_from_string', 'INVALID_BOOLEAN'),
    ('InvalidRequest', None, 'INVALID_REQUEST'),
    ('FlavorImageConflict', '_check_for_mem_encryption_requirement_conflicts', 'FLAVOR_IMAGE_CONFLICT'),
    ('FlavorImageConflict', '_check_mem_encryption_uses_uefi_image', 'UEFI_REQUIRED'),
    ('FlavorImageConflict', None, 'FLAVOR_IMAGE_CONFLICT'),
    ('InvalidMachineType', '_check_mem_encryption_machine_type', 'Q35_REQUIRED'),
    ('InvalidMachineType', None, 'UNKNOWN_MACHINE_TYPE'),
    ('MissingDomainCapabilityFeatureException', None, 'NO_SEV_DOMAIN_CAPS'),
    ('UnsupportedHardware', None, 'UNSUPPORTED_DEVICE_MODEL'),
    ('InvalidDiskBusModel', None, 'UNSUPPORTED_DEVICE_MODEL'),
    ('UnsupportedVirtType', None, 'UNSUPPORTED_DEVICE_MODEL'),
    ('OperationNotSupportedForSEV', None, 'OPERATION_NOT_SUPPORTED_FOR_SEV'),
    ('InstanceNotFound', None, 'UNKNOWN_INSTANCE'),
    ('libvirtError', None, 'HOST_FAULT'),
    ('InternalError', None, 'HOST_FAULT'),
)


def _functions(exc):
    """Names of the functions on the exception's traceback and on those of its causes."""
    names = set()
    seen = exc
    while seen is not None:
        names.update(frame.name for frame in traceback.extract_tb(seen.__traceback__))
        seen = seen.__cause__ or seen.__context__
    return names


def refusal_for(exc):
    """The Refusal for a nova exception, or None when nova's answer is a crash (HTTP 500)."""
    name = type(exc).__name__
    functions = _functions(exc)
    for cls, where, code in EXCEPTION_CODES:
        if cls == name and (where is None or where in functions):
            return Refusal(code, f'{name}: {exc}')
    return None
