"""Loading nova once per process and pointing its libvirt driver at a fake host.

Everything here is set-up, not behaviour: configuration options an operator would write in
nova.conf, the one module constant that names a host file (the kvm_amd `sev` parameter), and the
database-free stand-ins of `nodb.py`. Every answer the adapter gives comes from nova's own code
running on top of this.
"""
import logging
import os
import sys
import tempfile

# nova-compute monkey-patches with eventlet before importing anything else (nova/cmd/__init__.py);
# the libvirt driver's locks and provider-tree copies rely on it.
import nova.monkey_patch  # noqa: F401  (side effect: eventlet.monkey_patch())

import nova.conf  # noqa: E402
from nova import objects  # noqa: E402
from nova.virt.libvirt import driver as libvirt_driver  # noqa: E402
from nova.virt.libvirt import host as libvirt_host  # noqa: E402

from . import nodb  # noqa: E402

CONF = nova.conf.CONF

#: Where Zed reads the kvm_amd parameter, relative to a sysroot (nova/virt/libvirt/host.py).
SEV_PARAM_RELATIVE = 'sys/module/kvm_amd/parameters/sev'

#: The compute node's name in the provider tree the adapter builds.
NODENAME = 'sevharness-node'


class LogCapture(logging.Handler):
    """Keeps nova's log records so reports can quote nova's own warnings and detection reasons."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def mark(self):
        return len(self.records)

    def since(self, mark):
        return self.records[mark:]


_capture = LogCapture()
_loaded = False


def load():
    """One-time process set-up: nova's objects, an empty configuration, logging to stderr."""
    global _loaded
    if _loaded:
        return _capture
    objects.register_all()
    CONF([], project='nova', default_config_files=[], default_config_dirs=[])
    # ComputeManager.init_host registers these before the driver starts.
    nova.conf.neutron.register_dynamic_opts(CONF)
    nova.conf.devices.register_dynamic_opts(CONF)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(logging.INFO)
    stderr.setFormatter(logging.Formatter('nova %(levelname)s %(name)s: %(message)s'))
    root = logging.getLogger()
    root.addHandler(stderr)
    root.setLevel(logging.DEBUG)
    nova_log = logging.getLogger('nova')
    nova_log.addHandler(_capture)
    nova_log.setLevel(logging.DEBUG)
    nodb.install()
    _loaded = True
    return _capture


def capture():
    return _capture


def machine_type_option(machine_types):
    """The contract's {arch: machine} as nova's `[libvirt] hw_machine_type` list ('x86_64=q35')."""
    return [f'{arch}={machine}' for arch, machine in sorted(machine_types.items())]


class Compute:
    """One nova-compute service: a LibvirtDriver bound to one libvirt URI, sysroot and config.

    CONF is process-global in nova, so `activate()` re-applies this service's options before each
    use; detection stays memoized inside nova's Host object, as in a running service.
    """

    def __init__(self, uri, sysroot, config):
        self.uri = uri
        self.sysroot = sysroot
        self.config = config
        self.instances_path = tempfile.mkdtemp(prefix='sevharness-nova-')
        self.activate()
        mark = _capture.mark()
        self.driver = libvirt_driver.LibvirtDriver(nodb.VirtAPI(), False)
        self.start_error = None
        try:
            self.driver.init_host(NODENAME)
        except Exception as exc:  # nova-compute would exit here; the report says why
            self.start_error = f'{type(exc).__name__}: {exc}'
        # Detection is memoized for the service's life, as in nova-compute; run it now so the
        # records it logs (the reason for a "no") belong to this service alone.
        self.supports_amd_sev = bool(self.host.supports_amd_sev)
        self.detection_records = _capture.since(mark)

    @property
    def host(self):
        return self.driver._host

    def activate(self):
        CONF.set_override('connection_uri', self.uri, 'libvirt')
        CONF.set_override('virt_type', 'kvm', 'libvirt')
        CONF.set_override('hw_machine_type', machine_type_option(self.config.get('machineTypes', {})), 'libvirt')
        CONF.set_override('num_memory_encrypted_guests', self.config.get('maxEncryptedGuests'), 'libvirt')
        CONF.set_override('instances_path', self.instances_path)
        # The one patched constant: Zed opens this absolute path itself, outside libvirt.
        libvirt_host.SEV_KERNEL_PARAM_FILE = os.path.join(self.sysroot, SEV_PARAM_RELATIVE)
        return self


class Services:
    """The nova-compute services of this process, one per (URI, sysroot, config)."""

    def __init__(self):
        self._by_key = {}
        self._sysroot_by_uri = {}
        self._scratch = []
        self.current = None

    def close(self):
        """Removes the temporary directories this process made (instances paths, empty sysroots)."""
        import shutil
        for path in self._scratch + [s.instances_path for s in self._by_key.values()]:
            shutil.rmtree(path, ignore_errors=True)

    def get(self, uri, sysroot, config):
        key = (uri, sysroot, repr(sorted(_freeze(config))))
        service = self._by_key.get(key)
        if service is None:
            service = Compute(uri, sysroot, config)
            self._by_key[key] = service
        self._sysroot_by_uri[uri] = sysroot
        self.current = service
        return service.activate()

    def for_uri(self, uri, config):
        """The service for a URI seen in reportHost (its sysroot), else one with an empty sysroot."""
        sysroot = self._sysroot_by_uri.get(uri)
        if sysroot is None:
            sysroot = tempfile.mkdtemp(prefix='sevharness-nova-root-')
            self._scratch.append(sysroot)
        return self.get(uri, sysroot, config)


def _freeze(config):
    out = []
    for key, value in config.items():
        if isinstance(value, dict):
            value = tuple(sorted(value.items()))
        elif isinstance(value, list):
            value = tuple(repr(v) for v in value)
        out.append((key, value))
    return out
