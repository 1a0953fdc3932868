#!/usr/bin/python3
"""An example SEV driver for the sevharness conformance suite, in standard-library Python.

It speaks conformance/PROTOCOL.md (JSON lines on stdin/stdout) and implements host detection and
request validation: `hello`, `reportHost`, `validateRequest` and `shutdown`. Everything it knows
about a host comes from two places, as a compute service's would: the kvm_amd kernel parameters
under the sysroot, and libvirt's capabilities and domain capabilities fetched over libvirt's own RPC
protocol (libvirt_rpc.py). The request rules are in validation.py.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

from libvirt_rpc import LibvirtConnection, LibvirtError
from validation import KnownHosts, Refusal, validate_request

PROTOCOL = 1
DESCRIPTION = {"protocol": PROTOCOL, "name": "python-example", "version": "0.1.0", "ops": ["reportHost", "validateRequest"], "models": []}

# oslo's bool_from_string: the kernel prints 1/0 for int parameters (< 5.13) and Y/N for bools.
TRUE_WORDS = {"1", "t", "true", "on", "y", "yes"}
# What nova reports when it cannot learn the number of ASIDs: "effectively unlimited".
UNLIMITED = 2147483647
# What this process learnt about the hosts it reported (their machine types), by report.
KNOWN_HOSTS = KnownHosts()
SLOT_SHAPE = {"min_unit": 1, "max_unit": 1, "step_size": 1, "allocation_ratio": 1.0, "reserved": 0}
RESOURCE_CLASS = "MEM_ENCRYPTION_CONTEXT"
TRAITS = {"amd-sev": "HW_CPU_X86_AMD_SEV", "amd-sev-es": "HW_CPU_X86_AMD_SEV_ES", "amd-sev-snp": "HW_CPU_X86_AMD_SEV_SNP"}


class ProtocolError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


# ---- host facts -----------------------------------------------------------------------------

def kernel_param(sysroot, name):
    """True/False from /sys/module/kvm_amd/parameters/NAME under sysroot; None when absent."""
    path = os.path.join(sysroot, "sys/module/kvm_amd/parameters", name)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip().lower() in TRUE_WORDS
    except FileNotFoundError:
        return None


def dev_sev_usable(sysroot):
    """QEMU opens /dev/sev as the qemu user, to whom libvirt hands it: it must exist, owner read+write."""
    try:
        return os.stat(os.path.join(sysroot, "dev/sev")).st_mode & 0o600 == 0o600
    except FileNotFoundError:
        return False


def misc_capacity(sysroot):
    """The misc cgroup's capacity ('sev 509', 'sev_es 7'): kernels >= 5.17 print the ASID counts."""
    try:
        with open(os.path.join(sysroot, "sys/fs/cgroup/misc.capacity"), encoding="utf-8") as f:
            lines = [line.split() for line in f]
    except FileNotFoundError:
        return {}
    return {w[0]: int(w[1]) for w in lines if len(w) == 2 and w[1].isdigit()}


def domain_capabilities(conn):
    """Domain capabilities XML of x86_64/q35/kvm (the default machine if q35 is refused)."""
    try:
        return conn.domain_capabilities(arch="x86_64", machine="q35", virttype="kvm")
    except LibvirtError:
        return conn.domain_capabilities(arch="x86_64", virttype="kvm")


def x86_machines(conn):
    """The x86_64 machine types QEMU offers, aliases (q35) and versions (pc-q35-7.2); None if unknown."""
    try:
        root = ET.fromstring(conn.capabilities())
    except LibvirtError:
        return None
    names = set()
    for arch in root.findall("./guest/arch[@name='x86_64']"):
        for machine in arch.iter("machine"):
            names.update(n for n in (machine.text, machine.get("canonical")) if n)
    return names


def sev_feature(domcaps_xml):
    """The <sev> feature as a dict (None unless supported='yes'), plus the launchSecurity sectypes."""
    root = ET.fromstring(domcaps_xml)
    sectypes = [v.text for v in root.findall("./features/launchSecurity/enum[@name='sectype']/value")]
    sev = root.find("./features/sev")
    if sev is None or sev.get("supported") != "yes":
        return None, sectypes

    def number(tag):
        text = sev.findtext(tag)
        return int(text) if text is not None and text.strip().isdigit() else None

    facts = {k: number(k) for k in ("cbitpos", "reducedPhysBits", "maxGuests", "maxESGuests")}
    return facts, sectypes


# ---- the report -----------------------------------------------------------------------------

def warn(warnings, code, message):
    """A warning the suite judges carries a code (PROTOCOL.md §4, WARNING_CODES); the text is for people."""
    warnings.append({"code": code, "message": message})


def sev_slots(usable, detected, cap, why_not, warnings):
    """Plain SEV slots: the hardware count, lowered (never raised) by the operator's cap."""
    if not usable:
        if cap:
            warn(warnings, "CAP_WITHOUT_SEV", f"maxEncryptedGuests is set to {cap}, but the host is not SEV-capable ({why_not}); reporting 0 slots.")
        return 0
    if detected is None:
        if cap is not None:
            return cap
        warn(warnings, "SLOTS_UNKNOWN", "The number of SEV ASIDs is unknown (no maxGuests in domain capabilities, no misc cgroup); "
                                        "reporting unlimited slots as nova does. Set maxEncryptedGuests to the BIOS value.")
        return UNLIMITED
    if cap is not None and cap > detected:
        warn(warnings, "CAP_EXCEEDS_HOST", f"maxEncryptedGuests is set to {cap}, but the host supports only {detected} SEV guests; reporting {detected}.")
    return detected if cap is None else min(cap, detected)


def report_host(params):
    sysroot, config = params["sysroot"], params.get("config") or {}
    cap = config.get("maxEncryptedGuests")
    warnings = []
    sev_param, es_param, snp_param = (kernel_param(sysroot, p) for p in ("sev", "sev_es", "sev_snp"))
    machines = None
    try:
        with LibvirtConnection(params["uri"]) as conn:
            machines = x86_machines(conn)
            feature, sectypes = sev_feature(domain_capabilities(conn))
    except LibvirtError as e:
        warnings.append(f"libvirt could not describe x86_64 KVM guests: {e}")
        feature, sectypes = None, []
    misc = misc_capacity(sysroot)

    # The platform: the kernel has SEV on and libvirt (QEMU) can launch SEV guests.
    if sev_param is None:
        why_not = "kvm_amd has no sev parameter"
    elif not sev_param:
        why_not = "the kernel has SEV turned off"
    elif not dev_sev_usable(sysroot):
        why_not = "/dev/sev is missing or QEMU cannot open it"
    elif feature is None:
        why_not = "libvirt reports no SEV support"
    else:
        why_not = None
    platform = why_not is None
    if feature and feature["maxGuests"] is not None:
        detected, source = feature["maxGuests"], "domcaps maxGuests"
    else:
        detected, source = misc.get("sev"), "misc cgroup capacity" if "sev" in misc else "unknown"
    es_pool = feature["maxESGuests"] if feature and feature["maxESGuests"] is not None else misc.get("sev_es")
    if platform and detected == 0:
        why_not = "the BIOS gives every ASID to SEV-ES/SNP"

    sev_ok = why_not is None
    snp_ok = platform and bool(snp_param) and "sev-snp" in sectypes
    # SEV-ES needs its own ASIDs; firmware disables it once SNP is enabled (nova bug #2157891).
    es_ok = platform and bool(es_param) and not snp_param and bool(es_pool)
    if platform and es_param and snp_param:
        warn(warnings, "SEV_ES_IGNORED_FOR_SNP", "SEV-ES is ignored because SEV-SNP is enabled in the kernel.")

    models = {
        "amd-sev": {"supported": sev_ok, "slots": sev_slots(sev_ok, detected, cap, why_not, warnings), "source": source},
        "amd-sev-es": {"supported": es_ok, "slots": es_pool if es_ok else 0, "source": "maxESGuests"},
        "amd-sev-snp": {"supported": snp_ok, "slots": (es_pool or 0) if snp_ok else 0, "source": "maxESGuests"},
    }
    traits, inventories = [], {}
    if sev_ok:
        traits.append(TRAITS["amd-sev"])  # kept with an operator cap of 0, as in nova
    for model, m in models.items():
        if m["supported"] and m["slots"] > 0:
            if model != "amd-sev":
                traits.append(TRAITS[model])
            key = RESOURCE_CLASS if model == "amd-sev" else f"{RESOURCE_CLASS}/{model}"
            inventories[key] = {"total": m["slots"], **SLOT_SHAPE}
    sev = None
    if platform and feature["cbitpos"] is not None and feature["reducedPhysBits"] is not None:
        sev = {"cbitpos": feature["cbitpos"], "reducedPhysBits": feature["reducedPhysBits"]}
    report = {"traits": traits, "inventories": inventories, "warnings": warnings, "models": models, "sev": sev}
    KNOWN_HOSTS.remember(report, machines, params["uri"])  # validateRequest gets the host back by uri
    return report


# ---- the protocol loop ----------------------------------------------------------------------

def hello(params):
    if params.get("protocol") != PROTOCOL:
        raise ProtocolError("PROTOCOL_MISMATCH", f"this driver speaks protocol {PROTOCOL}, not {params.get('protocol')!r}")
    return DESCRIPTION


def check_report_params(params):
    for key in ("uri", "sysroot"):
        if not isinstance(params.get(key), str) or not params[key]:
            raise ProtocolError("BAD_REQUEST", f"reportHost needs a non-empty string {key!r}")
    cap = (params.get("config") or {}).get("maxEncryptedGuests")
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 0):
        raise ProtocolError("BAD_REQUEST", f"config.maxEncryptedGuests must be null or an integer >= 0, not {cap!r}")
    return report_host(params)


def require(ok, what):
    if not ok:
        raise ProtocolError("BAD_REQUEST", f"validateRequest needs {what}")


def is_str_map(v):
    return isinstance(v, dict) and all(isinstance(x, str) for x in v.values())


def check_validate_params(params):
    flavor, image, config, host = (params.get(k) for k in ("flavor", "image", "config", "host"))
    require(isinstance(flavor, dict) and isinstance(flavor.get("name"), str), "a flavor object with a name")
    require(is_str_map(flavor.get("extraSpecs")), "flavor.extraSpecs: an object of strings")
    require(isinstance(image, dict) and isinstance(image.get("name"), str), "an image object with a name")
    require(isinstance(image.get("properties"), dict), "image.properties: an object")
    require(isinstance(config, dict) and is_str_map(config.get("machineTypes")), "config.machineTypes: an object of strings")
    require(host is None or (isinstance(host, dict) and isinstance(host.get("inventories"), dict)),
            "host, when given, to be a host report")
    offered = KNOWN_HOSTS.offered_machines(host) if host is not None else None
    return validate_request(flavor, image, config, host, offered)


OPS = {"hello": hello, "reportHost": check_report_params, "validateRequest": check_validate_params, "shutdown": lambda params: {}}


def answer(request):
    op, params = request.get("op"), request.get("params")
    if op not in OPS:
        return {"error": {"code": "UNKNOWN_OP", "message": f"{op} is not implemented"}}
    if not isinstance(params, dict):
        return {"error": {"code": "BAD_REQUEST", "message": "params must be an object"}}
    try:
        return {"result": OPS[op](params)}
    except (ProtocolError, Refusal) as e:  # a refusal is an answer too, with its refusal code
        return {"error": {"code": e.code, "message": str(e)}}
    except Exception as e:  # the driver failed: details on stderr, the runner reports INTERNAL
        import traceback  # only here: the driver starts once per profile and restart, and rarely fails

        traceback.print_exc(file=sys.stderr)
        return {"error": {"code": "INTERNAL", "message": f"{type(e).__name__}: {e}"}}


def main():
    for line in sys.stdin:
        try:
            request = json.loads(line)
            request_id = request["id"]
        except (ValueError, KeyError, TypeError):
            print(f"ignoring a line that is not a request: {line[:200]!r}", file=sys.stderr, flush=True)
            continue
        response = {"id": request_id, **answer(request)}
        sys.stdout.write(json.dumps(response) + "\n")
        sys.stdout.flush()
        if request.get("op") == "shutdown" or response.get("error", {}).get("code") == "PROTOCOL_MISMATCH":
            return


if __name__ == "__main__":
    main()
