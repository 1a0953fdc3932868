#!/usr/bin/python3
"""Real libvirt as the oracle: libvirt's own QEMU driver in-process (qemu:///embed) with a private
root, made to believe in a profile's SEV by patching its QEMU capability cache
(shared reference real-libvirt-oracle.md). Run by oracle/record.ts; needs python3-libvirt and the
QEMU driver (Debian: libvirt-daemon-driver-qemu, qemu-system-x86).

    libvirt_oracle.py prepare ROOT SEV_JSON   probe QEMU into ROOT's cache; SEV_JSON null or
                                              {cbitpos, reducedPhysBits, pdh, certChain, cpu0Id,
                                               snp (true: QEMU offers sev-snp-guest too)}
    libvirt_oracle.py serve ROOT              answer JSON-lines requests on stdin

libvirt 9.0 opens one embed root per process, so each root has its own server. Each request
{"op": "define", "xml": "..."} (also "scenario", "capabilities",
"domcapabilities") gets one reply line. A request that kills libvirt (some inputs make libvirt 9.0 abort) kills this process; the
caller restarts it and records the crash. Runs inside a private mount namespace with a /dev of its
own (oracle/private-dev.sh), so every machine shows libvirt the same devices.
"""
import json
import os
import resource
import subprocess
import sys
import threading

import libvirt

# stdio_handler "file": QEMU's log goes straight to a file, so start needs no virtlogd daemon.
QEMU_CONF = """user = "root"
group = "root"
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
"""
X86_EMULATOR = "<emulator>/usr/bin/qemu-system-x86_64</emulator>"
# libvirt's inactive XML names the embed root in the paths it generates; records name the
# system paths a daemon would use instead (ROOT/lib → /var/lib/libvirt/qemu, etc.).
UNDEFINE_ALL = (libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA)


def prepare_root(path, sev):
    """Probe QEMU once (in a child, so the driver does not keep the probe in memory), then patch."""
    os.makedirs(os.path.join(path, "etc"), exist_ok=True)
    with open(os.path.join(path, "etc", "qemu.conf"), "w") as f:
        f.write(QEMU_CONF)
    caps_dir = os.path.join(path, "cache", "qemu", "capabilities")
    if not (os.path.isdir(caps_dir) and os.listdir(caps_dir)):
        subprocess.run([sys.executable, "-c", PROBE_SNIPPET, path], check=True)
    if sev is not None:
        patch_caps(caps_dir, sev)


PROBE_SNIPPET = """
import sys, threading, libvirt
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)], daemon=True).start()
libvirt.registerErrorHandler(lambda *a: None, None)
conn = libvirt.open('qemu:///embed?root=' + sys.argv[1])
conn.getCapabilities()
conn.close()
"""


def patch_caps(caps_dir, sev):
    """The x86_64 emulator's cache gains the sev-guest flag and a <sev> block (pdh and certChain are
    mandatory, else libvirt discards the cache); kvmSupportsSecureGuest stays absent so the cache
    still matches this host and is kept."""
    for name in os.listdir(caps_dir):
        file = os.path.join(caps_dir, name)
        with open(file) as f:
            text = f.read()
        if X86_EMULATOR not in text or "<sev>" in text:
            continue
        # libvirt reads the flags by name, in any order: the new one goes after the last flag.
        last_flag = text.rindex("<flag name=")
        end = text.index("\n", last_flag) + 1
        # SEV-SNP (libvirt 10.5+): its own QOM type; the <sev> block below serves both.
        flags = ["sev-guest"] + (["sev-snp-guest"] if sev.get("snp") else [])
        text = text[:end] + "".join(f"  <flag name='{f}'/>\n" for f in flags) + text[end:]
        block = ("  <sev>\n"
                 f"    <cbitpos>{int(sev['cbitpos'])}</cbitpos>\n"
                 f"    <reducedPhysBits>{int(sev['reducedPhysBits'])}</reducedPhysBits>\n"
                 f"    <pdh>{sev['pdh']}</pdh>\n"
                 f"    <certChain>{sev['certChain']}</certChain>\n"
                 + (f"    <cpu0Id>{sev['cpu0Id']}</cpu0Id>\n" if sev.get("cpu0Id") else "")
                 + "  </sev>\n")
        text = text.replace("</qemuCaps>", block + "</qemuCaps>", 1)
        with open(file, "w") as f:
            f.write(text)


def start_event_loop():
    libvirt.virEventRegisterDefaultImpl()

    def run():
        while True:
            libvirt.virEventRunDefaultImpl()

    threading.Thread(target=run, daemon=True).start()


def error_of(e):
    return {"outcome": "error", "code": e.get_error_code(), "domain": e.get_error_domain(),
            "message": e.get_error_message()}


def normalise(xml, root):
    """Paths under the embed root read as the system daemon's."""
    # embed: ROOT/lib/qemu is the system daemon's /var/lib/libvirt/qemu (NVRAM, channels, …)
    # and ROOT/etc is /etc/libvirt (domain configs in ROOT/etc/qemu)
    return (xml.replace(os.path.join(root, "lib", "qemu"), "/var/lib/libvirt/qemu")
               .replace(os.path.join(root, "lib"), "/var/lib/libvirt")
               .replace(os.path.join(root, "etc"), "/etc/libvirt")
               .replace(root, ""))


def as_embedded(xml, root):
    """The system daemon's own directories named as this root's, so libvirt treats a document's
    paths as the system daemon would (e.g. it drops a virtio channel path under its own channel
    directory); normalise() maps them back."""
    return (xml.replace("/var/lib/libvirt/qemu", os.path.join(root, "lib", "qemu"))
               .replace("/etc/libvirt", os.path.join(root, "etc")))


def define(conn, root, xml):
    try:
        dom = conn.defineXML(as_embedded(xml, root))
    except libvirt.libvirtError as e:
        # e.g. a name libvirt cannot store names the file under the embed root
        return {**error_of(e), "message": normalise(e.get_error_message(), root)}
    try:
        formatted = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    finally:
        try:
            dom.undefineFlags(UNDEFINE_ALL)
        except libvirt.libvirtError:
            dom.undefine()
    return {"outcome": "ok", "xml": normalise(formatted, root)}


# Lifecycle scenarios (oracle/lifecycle/): one domain defined from "xml", then each step run on it.
# A step is [name, *args]; its answer is the return value (JSON-able) or libvirt's error.
STEPS = {
    "create": lambda d, flags=0: d.createWithFlags(flags),
    "resume": lambda d: d.resume(),
    "suspend": lambda d: d.suspend(),
    "shutdown": lambda d, flags=0: d.shutdownFlags(flags),
    "reboot": lambda d, flags=0: d.reboot(flags),
    "reset": lambda d, flags=0: d.reset(flags),
    "destroy": lambda d, flags=0: d.destroyFlags(flags),
    "undefineFlags": lambda d, flags=0: d.undefineFlags(flags),
    "getXMLDesc": lambda d, flags=0: d.XMLDesc(flags),
    "setMemory": lambda d, kib: d.setMemory(kib),
    "setMemoryFlags": lambda d, kib, flags: d.setMemoryFlags(kib, flags),
    "setMaxMemory": lambda d, kib: d.setMaxMemory(kib),
    "setVcpus": lambda d, n: d.setVcpus(n),
    "setVcpusFlags": lambda d, n, flags: d.setVcpusFlags(n, flags),
    "getVcpusFlags": lambda d, flags=0: d.vcpusFlags(flags),
    "getMaxVcpus": lambda d: d.maxVcpus(),
    "getMaxMemory": lambda d: d.maxMemory(),
    # cpuTime is the QEMU process's: not comparable, so it is left out.
    "getInfo": lambda d: d.info()[:4],
    "getState": lambda d, flags=0: d.state(flags),
    "isActive": lambda d: d.isActive(),
    "isPersistent": lambda d: d.isPersistent(),
}


def scenario(conn, root, xml, steps):
    try:
        dom = conn.defineXML(xml)
    except libvirt.libvirtError as e:
        return {"outcome": "error", "define": error_of(e), "steps": []}
    answers = []
    try:
        for step in steps:
            try:
                ret = STEPS[step[0]](dom, *step[1:])
                if isinstance(ret, str):
                    ret = normalise(ret, root)
                answers.append({"outcome": "ok", "ret": ret})
            except libvirt.libvirtError as e:
                answers.append(error_of(e))
    finally:
        try:
            if dom.isActive():
                dom.destroy()
        except libvirt.libvirtError:
            pass
        try:
            dom.undefineFlags(UNDEFINE_ALL)
        except libvirt.libvirtError:
            pass
    return {"outcome": "ok", "steps": answers}


def host_view(conn, req):
    try:
        if req["op"] == "capabilities":
            xml = conn.getCapabilities()
        else:
            xml = conn.getDomainCapabilities(req.get("emulator"), req.get("arch"), req.get("machine"),
                                             req.get("virttype"), req.get("flags", 0))
    except libvirt.libvirtError as e:
        return error_of(e)
    return {"outcome": "ok", "xml": xml}


def serve(path):
    # A request that makes libvirt allocate without bound (<vcpu>-1</vcpu>) must fail fast, not
    # push the machine into swap: the address space is capped, so glib aborts at once.
    cap = 8 << 30
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    libvirt.registerErrorHandler(lambda *a: None, None)
    start_event_loop()
    conn = libvirt.open("qemu:///embed?root=" + path)
    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        req = json.loads(line)
        if req["op"] == "define":
            reply = define(conn, path, req["xml"])
        elif req["op"] == "scenario":
            reply = scenario(conn, path, req["xml"], req["steps"])
        elif req["op"] in ("capabilities", "domcapabilities"):
            reply = host_view(conn, req)
        else:
            reply = {"outcome": "error", "message": f"oracle: unknown op {req['op']}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "prepare":
        prepare_root(sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else None)
    elif len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        raise SystemExit(f"usage: {sys.argv[0]} prepare ROOT [SEV_JSON] | serve ROOT")


if __name__ == "__main__":
    main()
