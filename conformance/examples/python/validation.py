"""Request validation: which placement request a flavor and image make, and which requests are refused.

The rules are nova's (get_mem_encryption_constraint and the placement translation, with the model
selector of later releases), answered with the suite's refusal codes (conformance/refusal-codes.ts):

  1. hw:mem_encryption (flavor) / hw_mem_encryption (image) must be boolean-like  -> INVALID_BOOLEAN
  2. neither is true: a plain guest, nothing else is checked
  3. both are set and disagree                                                 -> FLAVOR_IMAGE_CONFLICT
  4. the image must say hw_firmware_type=uefi                                  -> UEFI_REQUIRED
  5. the machine type (image, else operator default, else 'pc') must contain q35 -> Q35_REQUIRED
  6. the models of flavor and image must agree and be known  -> FLAVOR_IMAGE_CONFLICT, INVALID_MODEL
  7. amd-sev-snp needs hw_firmware_stateless=True                              -> STATELESS_FIRMWARE_REQUIRED

With a host report (the runner passes one when the case is about a host) it also checks the host:

  8. a machine type the request names must be one the host's QEMU offers       -> UNKNOWN_MACHINE_TYPE
  9. the model must be supported and have slots on that host  -> NO_SEV_HOST, SEV_ES_UNAVAILABLE, NO_SLOTS

A HostReport carries no machine list, so rule 8 uses what this process learnt when it produced the
report (KnownHosts). A report this process did not produce skips rule 8 rather than guess.
"""
import json

RESOURCE_CLASS = "MEM_ENCRYPTION_CONTEXT"
MODEL_TRAITS = {"amd-sev": "HW_CPU_X86_AMD_SEV", "amd-sev-es": "HW_CPU_X86_AMD_SEV_ES", "amd-sev-snp": "HW_CPU_X86_AMD_SEV_SNP"}
DEFAULT_MODEL = "amd-sev"
# nova's default machine type for x86_64 when neither the image nor the operator names one.
DEFAULT_MACHINE = "pc"
# nova's strict boolean-like words (the API validator of the extra spec, FlexibleBooleanField).
TRUE_WORDS = {"1", "t", "true", "on", "y", "yes"}
FALSE_WORDS = {"0", "f", "false", "off", "n", "no"}
# When the host has no model, the refusal code saying so.
UNSUPPORTED_MODEL_CODES = {"amd-sev": "NO_SEV_HOST", "amd-sev-es": "SEV_ES_UNAVAILABLE", "amd-sev-snp": "NO_SLOTS"}


class Refusal(Exception):
    """A legitimate 'no': a refusal code of conformance/refusal-codes.ts and a text for humans."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def inventory_key(model):
    """Where a model's slots are counted: plain SEV keeps nova's root class, the others are qualified."""
    return RESOURCE_CLASS if model == "amd-sev" else f"{RESOURCE_CLASS}/{model}"


def boolean(value, name):
    """True/False for a boolean-like value, None when absent; anything else is refused."""
    if value is None or isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise Refusal("INVALID_BOOLEAN", f"{name}: '{value}' is not a valid boolean-like value")


def text(properties, name):
    """A string-valued image property, None when absent; a boolean there is a malformed request."""
    value = properties.get(name)
    if value is not None and not isinstance(value, str):
        raise Refusal("INVALID_REQUEST", f"image property {name} must be a string, not {value!r}")
    return value


def required_traits(extra_specs):
    """Traits the flavor asks for itself (trait:HW_CPU_X86_AMD_SEV=required)."""
    return [key[len("trait:"):] for key, value in extra_specs.items() if key.startswith("trait:") and value == "required"]


def encryption_model(flavor, image):
    """The requested model: flavor and image must agree; unset means plain SEV."""
    flavor_model = flavor["extraSpecs"].get("hw:mem_encryption_model")
    image_model = text(image["properties"], "hw_mem_encryption_model")
    if flavor_model is not None and image_model is not None and flavor_model != image_model:
        raise Refusal("FLAVOR_IMAGE_CONFLICT", f"Flavor {flavor['name']} asks for model {flavor_model}, "
                      f"image {image['name']} for {image_model}")
    model = flavor_model or image_model or DEFAULT_MODEL
    if model not in MODEL_TRAITS:
        raise Refusal("INVALID_MODEL", f"Invalid memory encryption model '{model}'. Allowed values: {', '.join(MODEL_TRAITS)}")
    return model


def validate_request(flavor, image, config, host=None, offered_machines=None):
    """The placement request for flavor + image (rules 1-7), checked against a host when given (8-9).

    offered_machines: the machine types the host's QEMU offers, or None when they are not known.
    """
    props = image["properties"]
    flavor_flag = boolean(flavor["extraSpecs"].get("hw:mem_encryption"), "hw:mem_encryption")
    image_flag = boolean(props.get("hw_mem_encryption"), "hw_mem_encryption")
    named_machine = text(props, "hw_machine_type") or config["machineTypes"].get("x86_64")
    traits = required_traits(flavor["extraSpecs"])
    result = {"resources": {}, "requiredTraits": traits, "model": None}
    if named_machine is not None:
        result["machineType"] = named_machine

    if flavor_flag or image_flag:
        if flavor_flag is not None and image_flag is not None and flavor_flag != image_flag:
            raise Refusal("FLAVOR_IMAGE_CONFLICT", f"Flavor {flavor['name']} sets hw:mem_encryption to {flavor_flag}, "
                          f"image {image['name']} sets hw_mem_encryption to {image_flag}")
        if text(props, "hw_firmware_type") != "uefi":
            raise Refusal("UEFI_REQUIRED", f"Memory encryption requested but image {image['name']} doesn't have "
                          "'hw_firmware_type' property set to 'uefi'")
        machine = named_machine or DEFAULT_MACHINE
        if "q35" not in machine:  # nova's substring rule: q35, pc-q35-7.2 and fake-q35-2.11 all pass
            raise Refusal("Q35_REQUIRED", f"Machine type '{machine}' is not compatible with image {image['name']}: "
                          "q35 type is required for SEV to work")
        model = encryption_model(flavor, image)
        if model == "amd-sev-snp" and boolean(props.get("hw_firmware_stateless"), "hw_firmware_stateless") is not True:
            raise Refusal("STATELESS_FIRMWARE_REQUIRED", "The amd-sev-snp model requires the image property "
                          "hw_firmware_stateless=True")
        result.update(model=model, resources={inventory_key(model): 1})
        result["requiredTraits"] = [MODEL_TRAITS[model]] + [t for t in traits if t != MODEL_TRAITS[model]]

    if host is not None:
        check_host(result, host, offered_machines)
    return result


def check_host(result, host, offered_machines):
    """Rules 8-9: the request against the host it would run on."""
    machine = result.get("machineType")
    # Only a machine the request names is checked: the default is the host's own choice.
    if machine is not None and offered_machines is not None and machine not in offered_machines:
        raise Refusal("UNKNOWN_MACHINE_TYPE", f"Machine type '{machine}' is not offered by this host; "
                      f"it offers: {', '.join(sorted(offered_machines)) or 'none'}")
    model = result["model"]
    if model is None:
        return
    reported = (host.get("models") or {}).get(model)
    if reported is not None and not reported["supported"]:
        raise Refusal(UNSUPPORTED_MODEL_CODES[model], f"This host does not support {model}")
    if inventory_key(model) not in host["inventories"]:
        raise Refusal("NO_SLOTS", f"This host has no {model} slots")


class KnownHosts:
    """The machine types of the hosts this process reported, found again by URI.

    validateRequest receives the host as the runner hands it back: this driver's report plus the
    host's `uri` (PROTOCOL.md §4, Host), and a report has no machine list; so the driver remembers
    the machines each URI offers. A caller that sends a bare report (no `uri`) is matched by the
    report itself; two hosts with equal reports then share an entry holding the machines of either,
    so a refusal is only given when no such host offers the machine.
    """

    LIMIT = 256  # reports remembered; the oldest is forgotten first

    def __init__(self):
        self.machines = {}

    @staticmethod
    def key(report):
        # The runner sends the report back after its own JSON round trip: 1.0 may come back as 1.
        def plain(v):
            if isinstance(v, float) and v.is_integer():
                return int(v)
            if isinstance(v, dict):
                return {k: plain(x) for k, x in v.items()}
            if isinstance(v, list):
                return [plain(x) for x in v]
            return v
        bare = {k: v for k, v in report.items() if k not in ("uri", "sysroot")}
        return json.dumps(plain(bare), sort_keys=True)

    def remember(self, report, machines, uri=None):
        """machines: a set of offered machine names, or None when the host could not say."""
        if uri is not None:
            self.machines[("uri", uri)] = machines
        key = self.key(report)
        if key in self.machines:
            before = self.machines.pop(key)
            machines = None if before is None or machines is None else before | machines
        self.machines[key] = machines
        if len(self.machines) > self.LIMIT:
            del self.machines[next(iter(self.machines))]

    def offered_machines(self, host):
        """The machines of this host (by its uri, else by its report); None when not known."""
        if host.get("uri") is not None and ("uri", host["uri"]) in self.machines:
            return self.machines[("uri", host["uri"])]
        return self.machines.get(self.key(host))
