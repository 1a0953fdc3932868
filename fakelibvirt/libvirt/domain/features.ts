/**
 * `<features>` as libvirt 9.0 reads, formats and validates it (conf/domain_conf.c
 * virDomainFeaturesDefParse and virDomainDefFormatFeatures; qemu_validate.c
 * qemuValidateDomainDefFeatures). Every child of `<features>` must be a known feature; each is
 * stored in one slot (a later duplicate overwrites an earlier one) and formatted back in the
 * table's order, not the document's.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { XmlNode } from '../xml-tree.ts';
import { inputFirst, node, setTop, textNode, type DomainDraft, type DraftStep } from './draft.ts';
import { isI440fxMachine, isQ35Machine, isX86 } from './machine.ts';
import { osOf } from './os.ts';
import { propEnum, propTristateSwitch, propUInt } from './props.ts';
import { attrString, parseMemoryKiB, parseScaledValue, stringOf } from './scaled.ts';
import { AFTER_7_0, knownValues, ruleApplies, type Since } from './since.ts';
import { cpuOf } from './cpu.ts';

/** virDomainFeature, in libvirt's order (the format order). */
export const FEATURES = [
  'acpi', 'apic', 'pae', 'hap', 'viridian', 'privnet', 'hyperv', 'kvm', 'pvspinlock', 'capabilities', 'pmu',
  'vmport', 'gic', 'smm', 'ioapic', 'hpt', 'vmcoreinfo', 'htm', 'nested-hv', 'msrs', 'ccf-assist', 'xen', 'cfpc',
  'sbbc', 'ibs', 'tcg',
] as const;
/** virDomainHyperv. */
export const HYPERV_FEATURES = [
  'relaxed', 'vapic', 'spinlocks', 'vpindex', 'runtime', 'synic', 'stimer', 'reset', 'vendor_id', 'frequencies',
  'reenlightenment', 'tlbflush', 'ipi', 'evmcs', 'avic',
] as const;
/** formatdomain.rst: tcg (tb-cache) "Since 8.0.0" (7.0 does not know it, read in its source). */
const FEATURES_SINCE: Since = { tcg: [8, 0] };
/** formatdomain.rst: avic "8.10.0" (7.0 refuses it, measured). */
const HYPERV_SINCE: Since = { avic: [8, 10] };
/** formatdomain.rst: pv-ipi "7.10.0", dirty-ring "8.0.0" (7.0 refuses both, measured). */
const KVM_SINCE: Since = { 'pv-ipi': [7, 10], 'dirty-ring': [8, 0] };
export const HYPERV_MODES = ['none', 'custom', 'passthrough'] as const;
export const KVM_FEATURES = ['hidden', 'hint-dedicated', 'poll-control', 'pv-ipi', 'dirty-ring'] as const;
export const XEN_FEATURES = ['e820_host', 'passthrough'] as const;
export const XEN_PASSTHROUGH_MODES = ['default', 'sync_pt', 'share_pt'] as const;
export const CAPABILITIES_POLICIES = ['default', 'allow', 'deny'] as const;
/** virDomainProcessCapsFeature. */
export const PROCESS_CAPS = [
  'audit_control', 'audit_write', 'block_suspend', 'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid',
  'ipc_lock', 'ipc_owner', 'kill', 'lease', 'linux_immutable', 'mac_admin', 'mac_override', 'mknod', 'net_admin',
  'net_bind_service', 'net_broadcast', 'net_raw', 'setgid', 'setfcap', 'setpcap', 'setuid', 'sys_admin', 'sys_boot',
  'sys_chroot', 'sys_module', 'sys_nice', 'sys_pacct', 'sys_ptrace', 'sys_rawio', 'sys_resource', 'sys_time',
  'sys_tty_config', 'syslog', 'wake_alarm',
] as const;
export const MSRS_UNKNOWN = ['ignore', 'fault'] as const;
export const GIC_VERSIONS = ['none', 'host', '2', '3'] as const;
export const IOAPIC_DRIVERS = ['none', 'qemu', 'kvm'] as const;
export const HPT_RESIZING = ['none', 'enabled', 'disabled', 'required'] as const;
export const CFPC_VALUES = ['none', 'broken', 'workaround', 'fixed'] as const;
export const SBBC_VALUES = ['none', 'broken', 'workaround', 'fixed'] as const;
export const IBS_VALUES = ['none', 'broken', 'workaround', 'fixed-ibs', 'fixed-ccd', 'fixed-na'] as const;

/** What the validators read: each feature's state as libvirt stores it (absent = undefined). */
export interface FeaturesDef {
  /** on/off for switches; the mode, driver or value for the enum-valued ones. */
  readonly state: Map<string, string>;
  /** The canonical child of `<features>` per feature. */
  readonly nodes: Map<string, XmlNode>;
  apicEoi?: string;
  tsegBytes?: bigint;
  tbCacheKiB?: bigint;
  readonly acpi: string | undefined;
  readonly smm: string | undefined;
}

const FEATS = new WeakMap<DomainDraft, FeaturesDef>();

export function featuresOf(d: DomainDraft): FeaturesDef {
  return FEATS.get(d) ?? newFeatures();
}

function newFeatures(): FeaturesDef {
  const state = new Map<string, string>();
  return {
    state,
    nodes: new Map(),
    get acpi() { return state.get('acpi'); },
    get smm() { return state.get('smm'); },
  };
}

const unsupportedConf = (t: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.DOMAIN, t);
const xmlErr = (t: string) => LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.DOMAIN, t);
const elementKids = (n: XmlNode) => n.children.filter((c) => !c.name.startsWith('#'));

/** 7.0 read every on/off state with virTristateSwitchTypeFromString and a text per feature kind (measured). */
const ownEra = (d: DomainDraft) => !d.ctx.libvirtAtLeast(AFTER_7_0[0], AFTER_7_0[1]);

/** A feature's `state`, with 7.0's own texts for a missing or unknown value where that era had them. */
function featureState(d: DomainDraft, n: XmlNode, required: boolean, missing: () => LibvirtError, invalid: (v: string) => LibvirtError) {
  if (required && n.attrs.state === undefined && ownEra(d)) throw missing();
  return propTristateSwitch(n, 'state', { required, ownText: { ctx: d.ctx, until: AFTER_7_0, error: invalid } });
}

export const parseFeatures: DraftStep = (d) => {
  const f = newFeatures();
  FEATS.set(d, f);
  const all = inputFirst(d, 'features') ? d.input.children.filter((c) => c.name === 'features').flatMap(elementKids) : [];
  for (const n of all) {
    if (!(knownValues(FEATURES, FEATURES_SINCE, d.ctx) as readonly string[]).includes(n.name)) throw unsupportedConf(`unexpected feature '${n.name}'`);
    parseOne(d, f, n);
  }
  formatFeatures(d, f);
};

function parseOne(d: DomainDraft, f: FeaturesDef, n: XmlNode): void {
  const name = n.name;
  const set = (v: string | undefined, canonical?: XmlNode) => {
    if (v === undefined) {
      f.state.delete(name);
      f.nodes.delete(name);
      return;
    }
    f.state.set(name, v);
    f.nodes.set(name, canonical ?? node(name));
  };
  switch (name) {
    case 'acpi':
    case 'pae':
    case 'viridian':
    case 'privnet':
      return set('on');
    case 'apic': {
      const eoi = propTristateSwitch(n, 'eoi');
      f.apicEoi = eoi;
      return set('on', node('apic', { eoi }));
    }
    case 'msrs': {
      const unknown = propEnum(n, 'unknown', MSRS_UNKNOWN, { required: true });
      return set('on', node('msrs', { unknown }));
    }
    case 'hyperv':
      return parseHyperv(d, f, n);
    case 'kvm':
      return parseKvm(d, f, n);
    case 'xen':
      return parseXen(f, n);
    case 'capabilities':
      return parseCapabilities(f, n);
    case 'vmcoreinfo':
    case 'hap':
    case 'pmu':
    case 'pvspinlock':
    case 'vmport': {
      const state = featureState(d, n, false, () => unsupportedConf(''), (v) => unsupportedConf(`unknown state attribute '${v}' of feature '${name}'`)) ?? 'on';
      return set(state, node(name, { state }));
    }
    case 'smm': {
      const state = featureState(d, n, false, () => unsupportedConf(''), (v) => unsupportedConf(`unknown state attribute '${v}' of feature '${name}'`)) ?? 'on';
      f.tsegBytes = undefined;
      if (state === 'on') {
        // virParseScaledValue on ./features/smm/tseg: the first <smm>'s, in MiB by default.
        const smm = inputFirst(d, 'features')?.children.find((c) => c.name === 'smm');
        const tseg = smm?.children.find((c) => c.name === 'tseg');
        f.tsegBytes = parseScaledValue('string(./features/smm/tseg)', stringOf(tseg), attrString(tseg, 'unit'), 1024n * 1024n, 2n ** 64n - 1n, false);
      }
      const tsegKid = state === 'on' && f.tsegBytes !== undefined ? prettyTseg(f.tsegBytes) : undefined;
      return set(state, node('smm', { state }, [tsegKid]));
    }
    case 'gic': {
      const version = propEnum(n, 'version', GIC_VERSIONS, { nonzero: true });
      return set('on', node('gic', { version }));
    }
    case 'ioapic': {
      const driver = propEnum(n, 'driver', IOAPIC_DRIVERS, { nonzero: true });
      return set(driver, driver === undefined ? undefined : node('ioapic', { driver }));
    }
    case 'hpt': {
      const resizing = propEnum(n, 'resizing', HPT_RESIZING, { nonzero: true });
      // maxpagesize is only meaningful on pseries, which QEMU validation refuses below on x86.
      return set(resizing !== undefined ? 'on' : undefined, node('hpt', { resizing }));
    }
    case 'cfpc':
    case 'sbbc':
    case 'ibs': {
      const table = name === 'cfpc' ? CFPC_VALUES : name === 'sbbc' ? SBBC_VALUES : IBS_VALUES;
      const value = propEnum(n, 'value', table as readonly string[], { nonzero: true });
      return set(value, value === undefined ? undefined : node(name, { value }));
    }
    case 'htm':
    case 'nested-hv':
    case 'ccf-assist': {
      const state = featureState(d, n, true, () => unsupportedConf(`missing state attribute '(null)' of feature '${name}'`),
        (v) => unsupportedConf(`unknown state attribute '${v}' of feature '${name}'`));
      return set(state, node(name, { state }));
    }
    case 'tcg': {
      const cache = n.children.find((c) => c.name === 'tb-cache');
      const kib = parseMemoryKiB('./tb-cache', stringOf(cache), attrString(cache, 'unit'));
      f.tbCacheKiB = kib;
      return set(kib > 0n ? 'on' : undefined, node('tcg', {}, [textNode('tb-cache', String(kib), { unit: 'KiB' })]));
    }
  }
}

/** virFormatIntPretty: the largest binary unit that divides the size exactly. */
function prettyTseg(bytes: bigint): XmlNode {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let i = 0;
  while (v !== 0n && v % 1024n === 0n && i < units.length - 1) {
    v /= 1024n;
    i++;
  }
  return textNode('tseg', String(v), { unit: units[i] });
}

function parseHyperv(d: DomainDraft, f: FeaturesDef, n: XmlNode): void {
  const known = knownValues(HYPERV_FEATURES, HYPERV_SINCE, d.ctx) as readonly string[];
  const mode = propEnum(n, 'mode', HYPERV_MODES, { nonzero: true }) ?? 'custom';
  const states = new Map<string, string>();
  let spinlocks: number | undefined;
  let vendorId: string | undefined;
  let stimerDirect: string | undefined;
  for (const c of elementKids(n)) {
    if (!known.includes(c.name)) {
      throw unsupportedConf(`unsupported HyperV Enlightenment feature: ${c.name}`);
    }
    const value = featureState(d, c, true, () => xmlErr(`missing 'state' attribute for HyperV Enlightenment feature '${c.name}'`),
      () => unsupportedConf(`invalid value of state argument for HyperV Enlightenment feature '${c.name}'`)) as string;
    states.set(c.name, value);
    if (value !== 'on') continue;
    if (c.name === 'stimer') {
      for (const s of elementKids(c)) {
        if (s.name !== 'direct') throw unsupportedConf(`unsupported Hyper-V stimer feature: ${s.name}`);
        stimerDirect = propTristateSwitch(s, 'state', { required: true });
      }
    } else if (c.name === 'spinlocks') {
      spinlocks = propUInt(c, 'retries', 0, { required: true }) as number;
      if (spinlocks < 0xfff) throw xmlErr('HyperV spinlock retry count must be at least 4095');
    } else if (c.name === 'vendor_id') {
      vendorId = c.attrs.value;
      if (vendorId === undefined) throw xmlErr("missing 'value' attribute for HyperV feature 'vendor_id'");
      if ([...vendorId].length > 12) throw xmlErr('HyperV vendor_id value must not be more than 12 characters.');
      if (vendorId.includes(',')) throw xmlErr('HyperV vendor_id value is invalid');
    }
  }
  const kids = HYPERV_FEATURES.filter((h) => states.has(h)).map((h) => {
    const state = states.get(h)!;
    if (h === 'spinlocks' && state === 'on') return node(h, { state, retries: spinlocks });
    if (h === 'vendor_id' && state === 'on') return node(h, { state, value: vendorId });
    if (h === 'stimer' && state === 'on' && stimerDirect === 'on') return node(h, { state }, [node('direct', { state: 'on' })]);
    return node(h, { state });
  });
  f.state.set('hyperv', mode);
  f.nodes.set('hyperv', node('hyperv', { mode }, kids));
}

function parseKvm(d: DomainDraft, f: FeaturesDef, n: XmlNode): void {
  const known = knownValues(KVM_FEATURES, KVM_SINCE, d.ctx) as readonly string[];
  const states = new Map<string, string>();
  let ringSize: number | undefined;
  for (const c of elementKids(n)) {
    if (!known.includes(c.name)) throw unsupportedConf(`unsupported KVM feature: ${c.name}`);
    const value = featureState(d, c, true, () => xmlErr(`missing 'state' attribute for KVM feature '${c.name}'`),
      () => unsupportedConf(`invalid value of state argument for KVM feature '${c.name}'`)) as string;
    states.set(c.name, value);
    if (c.name === 'dirty-ring' && value === 'on') {
      ringSize = propUInt(c, 'size', 0, { required: true }) as number;
      const pow2 = ringSize > 0 && (ringSize & (ringSize - 1)) === 0;
      if (!pow2 || ringSize < 1024 || ringSize > 65536) throw xmlErr('dirty ring must be power of 2 and ranges [1024, 65536]');
    }
  }
  const kids = KVM_FEATURES.filter((k) => states.has(k)).map((k) =>
    node(k, { state: states.get(k), size: k === 'dirty-ring' && ringSize ? ringSize : undefined }));
  f.state.set('kvm', 'on');
  f.nodes.set('kvm', node('kvm', {}, kids));
}

function parseXen(f: FeaturesDef, n: XmlNode): void {
  const states = new Map<string, string>();
  let mode: string | undefined;
  for (const c of elementKids(n)) {
    if (!(XEN_FEATURES as readonly string[]).includes(c.name)) throw unsupportedConf(`unsupported Xen feature: ${c.name}`);
    const value = propTristateSwitch(c, 'state', { required: true }) as string;
    states.set(c.name, value);
    if (c.name === 'passthrough' && value === 'on') mode = propEnum(c, 'mode', XEN_PASSTHROUGH_MODES, { nonzero: true });
  }
  const kids = XEN_FEATURES.filter((x) => states.has(x)).map((x) =>
    node(x, { state: states.get(x), mode: x === 'passthrough' && states.get(x) === 'on' ? mode : undefined }));
  f.state.set('xen', 'on');
  f.nodes.set('xen', node('xen', {}, kids));
}

function parseCapabilities(f: FeaturesDef, n: XmlNode): void {
  const policy = propEnum(n, 'policy', CAPABILITIES_POLICIES) ?? 'default';
  const caps = new Map<string, string>();
  for (const c of elementKids(n)) {
    if (!(PROCESS_CAPS as readonly string[]).includes(c.name)) throw unsupportedConf(`unexpected capability feature '${c.name}'`);
    caps.set(c.name, propTristateSwitch(c, 'state') ?? 'on');
  }
  const kids = PROCESS_CAPS.filter((c) => caps.has(c)).map((c) => node(c, { state: caps.get(c) }));
  // The 'default' policy is written only when some capability is listed; with neither, nothing is.
  f.state.set('capabilities', policy);
  if (policy === 'default' && kids.length === 0) f.nodes.delete('capabilities');
  else f.nodes.set('capabilities', node('capabilities', { policy }, kids));
}

function formatFeatures(d: DomainDraft, f: FeaturesDef): void {
  const kids = FEATURES.map((name) => f.nodes.get(name)).filter((n): n is XmlNode => n !== undefined);
  setTop(d, 'features', ...(kids.length > 0 ? [node('features', {}, kids)] : []));
}

/** qemuDomainDefTsegPostParse: a TSEG size needs q35 and whole MiB. */
export const postParse: DraftStep = (d) => {
  const f = featuresOf(d);
  if (f.smm !== 'on' || f.tsegBytes === undefined) return;
  const os = osOf(d);
  const qemu = (t: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, t);
  if (!isQ35Machine(os.machine, os.arch)) throw qemu('SMM TSEG is only supported with q35 machine type');
  if (f.tsegBytes % (1024n * 1024n) !== 0n) throw qemu('SMM TSEG size must be divisible by 1 MiB');
};

/** Common validation has no feature rules of its own here (IOMMU's ioapic check belongs to the IOMMU). */
export const validate: DraftStep = () => {};

/** qemuValidateDomainDefFeatures, for the x86 QEMU the profiles describe. */
export function qemuValidateFeatures(d: DomainDraft): void {
  const f = featuresOf(d);
  const os = osOf(d);
  const qemu = (t: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, t);
  const notFor = (name: string) => qemu(`The '${name}' feature is not supported for architecture '${os.arch}' or machine type '${os.machine}'`);
  const armVirt = (os.arch === 'aarch64' || os.arch === 'armv7l' || os.arch === 'armv6l') &&
    (os.machine === 'virt' || (os.machine ?? '').startsWith('virt-'));
  const pseries = /^ppc64/.test(os.arch) && (os.machine === 'pseries' || (os.machine ?? '').startsWith('pseries-'));
  for (const name of FEATURES) {
    const v = f.state.get(name);
    if (v === undefined) continue;
    switch (name) {
      case 'ioapic':
        if (!isX86(os.arch)) throw notFor(name);
        break;
      case 'hpt':
      case 'htm':
      case 'nested-hv':
      case 'ccf-assist':
      case 'cfpc':
      case 'sbbc':
      case 'ibs':
        if (!pseries) throw notFor(name);
        break;
      case 'gic':
        if (!armVirt) throw notFor(name);
        break;
      case 'vmport':
        if (!(isI440fxMachine(os.machine, os.arch) || isQ35Machine(os.machine, os.arch) || os.machine === 'isapc')) {
          throw qemu('vmport is not available with this QEMU binary');
        }
        break;
      case 'apic':
        if (f.apicEoi !== undefined && !isX86(os.arch)) {
          throw qemu(`The 'eoi' attribute of the '${name}' feature is not supported for architecture '${os.arch}' or machine type '${os.machine}'`);
        }
        break;
      case 'pvspinlock':
        if (!isX86(os.arch)) throw notFor(name);
        break;
      case 'kvm':
        if (ruleApplies('hintDedicatedNeedsHostPassthrough', d.ctx) && f.nodes.get('kvm')?.children.some((c) => c.name === 'hint-dedicated' && c.attrs.state === 'on') &&
          cpuOf(d)?.mode !== 'host-passthrough') {
          throw qemu('kvm-hint-dedicated=on is only applicable for cpu host-passthrough');
        }
        break;
      case 'hyperv':
        if (!isX86(os.arch) && !armVirt) {
          throw qemu(`Hyperv features are not supported for architecture '${os.arch}' or machine type '${os.machine}'`);
        }
        break;
      case 'pmu':
        if (v === 'off' && /^ppc64/.test(os.arch)) throw qemu(`PMU is always enabled for architecture '${os.arch}'`);
        break;
      case 'tcg':
        if (os.virtType !== 'qemu') throw qemu(`TCG features are incompatible with domain type '${os.virtType}'`);
        if ((f.tbCacheKiB ?? 0n) % 1024n !== 0n) throw qemu('tb-cache size must be an integer multiple of MiB');
        break;
    }
  }
}
