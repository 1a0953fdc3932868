#!/usr/bin/python3
"""Real libvirt as the oracle: libvirt's own QEMU driver in-process (qemu:///embed) with a private
root, made to believe in a profile's SEV by patching its QEMU capability cache
(shared reference real-libvirt-oracle.md). Run by oracle/record.ts; needs python3-libvirt and the
QEMU driver (Debian: libvirt-daemon-driver-qemu, qemu-system-x86).

    libvirt_oracle.py prepare ROOT SEV_JSON   probe QEMU into ROOT's cache; SEV_JSON null or
                                              {cbitpos, reducedPhysBits, pdh, certChain, cpu0Id}
    libvirt_oracle.py serve ROOT              answer JSON-lines requests on stdin

libvirt 9.0 opens one embed root per process, so each root has its own server. Each request
{"op": "define", "xml": "..."} gets one reply line. A request that kills libvirt (some inputs make libvirt 9.0 abort) kills this process; the
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

QEMU_CONF = """user = "root"
group = "root"
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
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
        flag = "<flag name='sev-guest-kernel-hashes'/>"
        if flag not in text:
            raise SystemExit(f"oracle: {file} has no {flag}: QEMU too old for this patch")
        text = text.replace(flag, "<flag name='sev-guest'/>\n  " + flag, 1)
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
    return (xml.replace(os.path.join(root, "lib", "nvram"), "/var/lib/libvirt/qemu/nvram")
               .replace(os.path.join(root, "lib"), "/var/lib/libvirt/qemu")
               .replace(root, ""))


def define(conn, root, xml):
    try:
        dom = conn.defineXML(xml)
    except libvirt.libvirtError as e:
        return error_of(e)
    try:
        formatted = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    finally:
        try:
            dom.undefineFlags(UNDEFINE_ALL)
        except libvirt.libvirtError:
            dom.undefine()
    return {"outcome": "ok", "xml": normalise(formatted, root)}


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
