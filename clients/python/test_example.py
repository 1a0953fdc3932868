"""A pytest example: a driver test that injects host faults through sevharness's control socket.

Run against a served host (README "Faults from any language"):

    npx sevharness serve --profile naples-7001 --control /tmp/sevharness-ctl.sock --json > /tmp/serve.json &
    SEVHARNESS_SERVE_JSON=/tmp/serve.json python3 -m pytest -q clients/python/test_example.py
"""
import json
import os

import libvirt
import pytest

from sevharness_control import Control, ControlError, fault


def _served():
    """The lines `serve --json` printed: the host's URI and sysroot, and the control socket."""
    with open(os.environ["SEVHARNESS_SERVE_JSON"]) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    host = next(line for line in lines if "uri" in line)
    control = next(line["control"] for line in lines if "control" in line)
    return host, control


@pytest.fixture
def sev_host():
    """The served host; every fault a test injects is undone after it, as msw's resetHandlers."""
    host, control = _served()
    ctl = Control(control)
    conn = libvirt.open(host["uri"])
    yield ctl, conn, host["sysroot"]
    conn.close()
    ctl.reset_handlers()


def sev_in_domcaps(conn):
    return "<sev supported='yes'>" in conn.getDomainCapabilities(None, "x86_64", "q35", "kvm", 0)


def test_dev_sev_removed_while_libvirt_still_says_yes(sev_host):
    ctl, conn, sysroot = sev_host
    assert os.path.exists(os.path.join(sysroot, "dev/sev"))
    ctl.use(fault.dev_sev("missing"))
    assert not os.path.exists(os.path.join(sysroot, "dev/sev"))
    assert sev_in_domcaps(conn)  # libvirt 6.0 keeps its cached <sev>: only /dev/sev tells


def test_kernel_param_off_shows_in_sysfs_and_cmdline(sev_host):
    ctl, conn, sysroot = sev_host
    ctl.use(fault.kernel_param("sev", False))
    with open(os.path.join(sysroot, "sys/module/kvm_amd/parameters/sev")) as f:
        assert f.read() == "0\n"
    with open(os.path.join(sysroot, "proc/cmdline")) as f:
        assert "kvm_amd.sev=0" in f.read()
    ctl.use(fault.cache_refresh())  # libvirtd restarted: it re-probes QEMU
    assert not sev_in_domcaps(conn)


def test_faults_are_listed_and_reset(sev_host):
    ctl, _, _ = sev_host
    ctl.use(fault.firmware("LAUNCH_START", "RESOURCE_LIMIT", times=2))
    [handler] = ctl.list_handlers()
    assert handler["remaining"] == 2
    with pytest.raises(ControlError) as e:
        ctl.use(fault.firmware("LAUNCH_START", "NOT_A_STATUS"))
    assert e.value.status == 400
    ctl.reset_handlers()
    assert ctl.list_handlers() == []
