"""Every fault kind through the control socket, seen through libvirt-python and the sysroot.

argv: the file `serve --json` wrote, and a JSON file of guest XMLs ({"sev": …, "sevUnlocked": …}).
Prints one JSON object of observations per fault kind; the vitest side judges them.
"""
import json
import os
import sys

import libvirt

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../clients/python"))
from sevharness_control import Control, ControlError, fault  # noqa: E402

libvirt.registerErrorHandler(lambda *_: None, None)

with open(sys.argv[1]) as f:
    lines = [json.loads(line) for line in f if line.strip()]
with open(sys.argv[2]) as f:
    guests = json.load(f)
hosts = {line["profile"]: line for line in lines if "uri" in line}
control_path = next(line["control"] for line in lines if "control" in line)


def tree(root):
    """Every file under the sysroot with its content and mode (what a driver can read)."""
    out = {}
    for d, _, files in os.walk(root):
        for name in files:
            p = os.path.join(d, name)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = [f.read().decode("utf8", "replace"), oct(os.stat(p).st_mode & 0o7777)]
    return out


def views(conn, root):
    try:
        domcaps = conn.getDomainCapabilities(None, "x86_64", "q35", "kvm", 0)
    except libvirt.libvirtError as e:
        domcaps = "error: " + str(e)
    try:
        sev = conn.getSEVInfo()
    except libvirt.libvirtError as e:
        sev = "error: " + str(e)
    return {"caps": conn.getCapabilities(), "domcaps": domcaps, "sev": sev, "files": tree(root)}


def sev_yes(conn):
    return "<sev supported='yes'>" in conn.getDomainCapabilities(None, "x86_64", "q35", "kvm", 0)


def start(conn, xml):
    """Defines and starts a guest; returns None or libvirt's error text. Leaves no domain behind."""
    try:
        dom = conn.defineXML(xml)
    except libvirt.libvirtError as e:
        return str(e)
    try:
        dom.create()
        dom.destroy()
        return None
    except libvirt.libvirtError as e:
        return str(e)
    finally:
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)


def read(root, rel):
    p = os.path.join(root, rel)
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return f.read()


out = {}
for name, h in hosts.items():
    ctl = Control(control_path, host=name)
    conn = libvirt.open(h["uri"])
    root = h["sysroot"]
    before = views(conn, root)
    seen = {}

    def check(kind, f, observe):
        ctl.use(f)
        seen[kind] = observe()
        seen[kind]["listed"] = [x["description"] for x in ctl.list_handlers()]
        ctl.reset_handlers()
        seen[kind]["restored"] = views(conn, root) == before

    check("firmware", fault.firmware("LAUNCH_START", "RESOURCE_LIMIT", times=1), lambda: {
        "first": start(conn, guests[name]["sev"]),
        "second": start(conn, guests[name]["sev"]),
    })
    check("domcaps", fault.domcaps("x86_64"), lambda: {
        "error": views(conn, root)["domcaps"],
    })
    check("kernelParam", fault.kernel_param("sev", "0"), lambda: {
        "param": read(root, "sys/module/kvm_amd/parameters/sev"),
        "cmdline": read(root, "proc/cmdline"),
        "sevInDomcaps": sev_yes(conn),
    })
    check("devSevMissing", fault.dev_sev("missing"), lambda: {
        "present": os.path.exists(os.path.join(root, "dev/sev")),
        "sevInDomcaps": sev_yes(conn),
        "start": start(conn, guests[name]["sev"]),
    })
    check("devSevEacces", fault.dev_sev("eacces"), lambda: {
        "mode": oct(os.stat(os.path.join(root, "dev/sev")).st_mode & 0o777),
        "sevInDomcaps": sev_yes(conn),
        "start": start(conn, guests[name]["sev"]),
    })
    check("memlock", fault.memlock(4 * 1024 * 1024), lambda: {
        "start": start(conn, guests[name]["sevUnlocked"]),
        "default": ctl.inspect()["defaultMemlockKiB"],
    })
    check("cacheStale", fault.cache_stale(), lambda: {
        "sevInDomcaps": sev_yes(conn),
        "sevInfo": views(conn, root)["sev"],
    })
    ctl.use(fault.kernel_param("sev", "0"))
    check("cacheRefresh", fault.cache_refresh(), lambda: {"sevInDomcaps": sev_yes(conn)})
    seen["unlockedWithoutFault"] = start(conn, guests[name]["sevUnlocked"])
    try:
        ctl.use({"kind": "devSev", "state": "gone"})
    except ControlError as e:
        seen["badFault"] = [e.status, str(e)]
    seen["handlersAtEnd"] = ctl.list_handlers()
    seen["restoredAtEnd"] = views(conn, root) == before
    conn.close()
    out[name] = seen

print(json.dumps(out))
