"""Client of sevharness's control socket (``sevharness serve --control PATH``), standard library only.

The fake host's fault vocabulary from Python: faults are plain dicts built by the ``fault``
factories, applied with ``use``, undone with ``reset_handlers``, listed with ``list_handlers``;
``inspect`` looks inside the host (ASIDs, pinned memory, guest firmware states, events, secrets)
and ``reset`` rebuilds it from its profile. The wire format is HTTP/JSON on a UNIX socket
(fakelibvirt/control/server.ts)::

    ctl = Control("/tmp/ctl.sock")
    ctl.use(fault.dev_sev("missing"))          # /dev/sev leaves the sysroot
    ...
    ctl.reset_handlers()                        # the host exactly as its profile made it
"""

import http.client
import json
import socket
import urllib.parse

__all__ = ["Control", "ControlError", "fault"]


class ControlError(Exception):
    """The control socket refused a request: ``status`` is the HTTP status (400 bad fault, 409 not now)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("control", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _drop_none(d):
    return {k: v for k, v in d.items() if v is not None}


class fault:
    """Factories for the fault kinds (the same JSON as TypeScript's ``fault.*``)."""

    @staticmethod
    def firmware(command, status, times=None, handle=None):
        """The next ``times`` (default 1; "always" never ends) ``command`` calls answer ``status`` (a name)."""
        return _drop_none({"kind": "firmware", "command": command, "status": status, "times": times, "handle": handle})

    @staticmethod
    def domcaps(arch, times=None):
        """getDomainCapabilities for ``arch`` fails as if its QEMU binary were gone."""
        return _drop_none({"kind": "domcaps", "arch": arch, "times": times})

    @staticmethod
    def kernel_param(param, value):
        """kvm_amd loaded with ``param`` (sev, sev_es, sev_snp) = ``value`` (Y/N/1/0 or a bool)."""
        if isinstance(value, bool):
            value = "1" if value else "0"
        return {"kind": "kernelParam", "param": param, "value": value}

    @staticmethod
    def dev_sev(state):
        """/dev/sev "missing", or "eacces" (left in place, mode 0000: QEMU cannot open it)."""
        return {"kind": "devSev", "state": state}

    @staticmethod
    def memlock(limit_kib):
        """The RLIMIT_MEMLOCK QEMU starts with when the domain sets neither <locked/> nor <hard_limit>."""
        return {"kind": "memlock", "limitKiB": limit_kib}

    @staticmethod
    def cache_stale():
        """libvirt's capability cache predates SEV: no SEV reported until it re-probes."""
        return {"kind": "cacheStale"}

    @staticmethod
    def cache_refresh():
        """libvirt re-probes QEMU now (cache file deleted, libvirtd restarted)."""
        return {"kind": "cacheRefresh"}


class Control:
    """The control socket of one served host (``host`` names it when ``serve`` runs several)."""

    def __init__(self, socket_path, host=None, timeout=30.0):
        self.socket_path = socket_path
        self.host = host
        self.timeout = timeout

    def use(self, *faults):
        """Applies the faults (the first one given wins); returns the handlers, newest first."""
        return self._call("POST", "/faults", list(faults))["handlers"]

    def reset_handlers(self):
        """Drops every fault; the host is exactly what its profile made it (running guests stay)."""
        return self._call("DELETE", "/faults")["handlers"]

    def list_handlers(self):
        return self._call("GET", "/faults")["handlers"]

    def inspect(self):
        return self._call("GET", "/inspect")

    def reset(self):
        """The whole host anew: faults, guests, definitions, secrets and events dropped."""
        self._call("POST", "/reset")

    def _call(self, method, path, body=None):
        query = "" if self.host is None else "?host=" + urllib.parse.quote(self.host)
        conn = _UnixConnection(self.socket_path, self.timeout)
        try:
            payload = None if body is None else json.dumps(body).encode()
            headers = {} if payload is None else {"content-type": "application/json"}
            conn.request(method, path + query, body=payload, headers=headers)
            resp = conn.getresponse()
            data = json.loads(resp.read().decode() or "null")
        finally:
            conn.close()
        if resp.status != 200:
            raise ControlError(resp.status, (data or {}).get("error", "HTTP %d" % resp.status))
        return data
