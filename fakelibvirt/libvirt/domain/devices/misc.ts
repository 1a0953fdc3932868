/**
 * The small device kinds' parse checks, in virDomainDefParseXML's terms: watchdog, memballoon, rng,
 * iommu, vsock (the single-device rules are counted over the whole document before the first one
 * is parsed, as libvirt does), and the first checks of memory devices. Elements are kept as written
 * once they pass; their canonical forms are not rebuilt yet.
 */
import { child, children, type XmlNode } from '../../xml-tree.ts';
import { strToInt, strToUIntPositive } from '../c-numbers.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import { cpuOf } from '../cpu.ts';
import { stringOf } from '../scaled.ts';
import { getTop, inputDevices, type DomainDraft } from '../draft.ts';
import { osOf } from '../os.ts';
import { isI440fxMachine, isQ35Machine } from '../machine.ts';
import { invalidAttr, missingAttr, ownText7, propEnum, propInt, propTristateBool, propTristateSwitch, propUInt, unsupportedDomain } from '../props.ts';
import { checkChrSourceType, validateChrSourceDefQemu } from './chardev.ts';
import { parseChrSource } from './chardev-source.ts';
import { domainXmlError, internalError, parseDeviceInfo, qemuUnsupported, unsupported, virtioOptions } from './device-info.ts';
import { AFTER_7_0, knownValues, ruleApplies, type Since } from '../since.ts';

const WATCHDOG_MODELS = ['i6300esb', 'ib700', 'diag288'];
const WATCHDOG_ACTIONS = ['reset', 'shutdown', 'poweroff', 'pause', 'dump', 'none', 'inject-nmi'];
const MEMBALLOON_MODELS = ['virtio', 'xen', 'none', 'virtio-transitional', 'virtio-non-transitional'] as const;
const RNG_MODELS = ['virtio', 'virtio-transitional', 'virtio-non-transitional'];
const RNG_BACKENDS = ['random', 'egd', 'builtin'];
const IOMMU_MODELS = ['intel', 'smmuv3', 'virtio'] as const;
/** NEWS 8.3.0 "Introduce support for virtio-iommu" (7.0 refuses it, measured). */
const IOMMU_MODELS_SINCE: Since = { virtio: [8, 3] };
const VSOCK_MODELS = ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'] as const;
/** virDomainMemoryModel, virDomainMemoryAccess. */
const MEMORY_MODELS = ['', 'dimm', 'nvdimm', 'virtio-pmem', 'virtio-mem', 'sgx-epc'] as const;
/** formatdomain.rst: virtio-pmem since 7.1.0, virtio-mem 7.9.0 (7.0 refuses it, measured), sgx-epc 8.10.0. */
const MEMORY_MODELS_SINCE: Since = { 'virtio-pmem': [7, 1], 'virtio-mem': [7, 9], 'sgx-epc': [8, 10] };
const MEMORY_ACCESS = ['default', 'shared', 'private'] as const;

/** The kinds of which a domain may have one; the error libvirt raises for a second. */
function single(d: DomainDraft, kind: string, error: () => Error): void {
  if (inputDevices(d, kind).length > 1) throw error();
}

export function parseWatchdog(n: XmlNode, d: DomainDraft): XmlNode {
  single(d, 'watchdog', () => internalError('only a single watchdog device is supported'));
  const model = n.attrs.model;
  const generic = ruleApplies('devicePropReaders', d.ctx);
  if (model === undefined) throw generic ? missingAttr(n, 'model') : internalError('watchdog must contain model name');
  if (!WATCHDOG_MODELS.includes(model)) throw generic ? invalidAttr(n, 'model', model) : unsupported(`unknown watchdog model '${model}'`);
  const action = n.attrs.action;
  if (action !== undefined && !WATCHDOG_ACTIONS.includes(action)) throw generic ? invalidAttr(n, 'action', action) : unsupported(`unknown watchdog action '${action}'`);
  parseDeviceInfo(n);
  return n;
}

export function parseMemballoon(n: XmlNode, d: DomainDraft): XmlNode {
  single(d, 'memballoon', () => internalError('only a single memory balloon device is supported'));
  if (n.attrs.model === undefined && !d.ctx.libvirtAtLeast(AFTER_7_0[0], AFTER_7_0[1])) throw domainXmlError('balloon memory must contain model name');
  propEnum(n, 'model', MEMBALLOON_MODELS, { required: true, ...ownText7(d.ctx, (v) => unsupportedDomain(`unknown memory balloon model '${v}'`)) });
  propTristateSwitch(n, 'autodeflate', ownText7(d.ctx, (v) => unsupportedDomain(`invalid autodeflate attribute value '${v}'`)));
  propTristateSwitch(n, 'freePageReporting', ownText7(d.ctx, (v) => unsupportedDomain(`invalid freePageReporting attribute value '${v}'`)));
  const stats = child(n, 'stats');
  if (stats && ruleApplies('memballoonPeriodUnsigned', d.ctx)) {
    // 7.0: virXPathUInt, no sign, 32 bits (measured: -1 and 2^32 refused alike).
    if (stats.attrs.period !== undefined && strToUIntPositive(stats.attrs.period, 10) === null) throw domainXmlError('invalid statistics collection period');
  } else if (stats) propInt(stats, 'period', 0);
  parseDeviceInfo(n);
  virtioOptions(child(n, 'driver'), d.ctx);
  return n;
}

export function parseRng(n: XmlNode, d: DomainDraft): XmlNode {
  const model = n.attrs.model;
  const generic = ruleApplies('devicePropReaders', d.ctx);
  if (model === undefined) throw generic ? missingAttr(n, 'model') : domainXmlError('missing RNG device model');
  if (!RNG_MODELS.includes(model)) throw generic ? invalidAttr(n, 'model', model) : unsupported(`unknown RNG model '${model}'`);
  const rate = child(n, 'rate');
  const bytes = rate?.attrs.bytes;
  const rateBytes = bytes === undefined ? 0 : strToUIntPositive(bytes, 10);
  if (rateBytes === null) throw domainXmlError('invalid RNG rate bytes value');
  const period = rate?.attrs.period;
  if (rateBytes > 0 && period !== undefined && strToUIntPositive(period, 10) === null) throw domainXmlError('invalid RNG rate period value');
  const backends = children(n, 'backend');
  if (backends.length !== 1) throw domainXmlError('only one RNG backend is supported');
  const backend = backends[0]!;
  const bmodel = backend.attrs.model;
  if (bmodel === undefined) throw generic ? missingAttr(backend, 'model') : domainXmlError('missing RNG device backend model');
  if (!RNG_BACKENDS.includes(bmodel)) throw generic ? invalidAttr(backend, 'model', bmodel) : unsupported(`unknown RNG backend model '${bmodel}'`);
  if (bmodel === 'egd') {
    const type = backend.attrs.type;
    if (type === undefined) throw domainXmlError('missing EGD backend type');
    try {
      checkChrSourceType(backend, d.ctx);
    } catch {
      throw unsupported(`unknown backend type '${type}' for egd`);
    }
  }
  parseDeviceInfo(n);
  virtioOptions(child(n, 'driver'), d.ctx);
  return n;
}

export function parseIommu(n: XmlNode, d: DomainDraft): XmlNode {
  single(d, 'iommu', () => domainXmlError('only a single IOMMU device is supported'));
  propEnum(n, 'model', knownValues(IOMMU_MODELS, IOMMU_MODELS_SINCE, d.ctx), {
    required: true,
    ownText: { ctx: d.ctx, until: AFTER_7_0, error: (v) => domainXmlError(`unknown IOMMU model: ${v}`) },
  });
  const driver = child(n, 'driver');
  if (driver) {
    for (const a of ['intremap', 'caching_mode', 'iotlb', 'eim']) propTristateSwitch(driver, a, ownText7(d.ctx, (v) => domainXmlError(`unknown ${a} value: ${v}`)));
    propUInt(driver, 'aw_bits', 10);
  }
  parseDeviceInfo(n);
  return n;
}

export function parseVsock(n: XmlNode, d: DomainDraft): XmlNode {
  single(d, 'vsock', () => domainXmlError('only a single vsock device is supported'));
  propEnum(n, 'model', VSOCK_MODELS, ownText7(d.ctx, (v) => domainXmlError(`unknown vsock model: ${v}`)));
  const cid = child(n, 'cid');
  if (cid) {
    propUInt(cid, 'address', 10, { nonzero: true });
    propTristateBool(cid, 'auto');
  }
  parseDeviceInfo(n);
  virtioOptions(child(n, 'driver'), d.ctx);
  return n;
}

/**
 * `<memory>` devices: virDomainMemoryDefParseXML's first checks (model, access, discard, a target
 * present, device info). The source and target readers and the canonical form are not modelled
 * yet: the element is kept as written once it passes.
 */
export function parseMemoryDevice(n: XmlNode, d: DomainDraft): XmlNode {
  propEnum(n, 'model', knownValues(MEMORY_MODELS, MEMORY_MODELS_SINCE, d.ctx), { required: true, nonzero: true, ...ownText7(d.ctx, (v) => domainXmlError(`invalid memory model '${v}'`)) });
  propEnum(n, 'access', MEMORY_ACCESS, { nonzero: true, ...ownText7(d.ctx, (v) => domainXmlError(`invalid access mode '${v}'`)) });
  propTristateBool(n, 'discard');
  const target = child(n, 'target');
  if (!target) throw domainXmlError('missing <target> element for <memory> device');
  memoryTargetNode(target);
  parseDeviceInfo(n);
  return n;
}

/** virDomainMemoryTargetDefParseXML's `./node` (virXPathInt: -1 when absent, never negative). */
function memoryTargetNode(target: XmlNode): number {
  const text = stringOf(child(target, 'node'));
  if (text === undefined || text === '') return -1;
  const v = strToInt(text, 10);
  if (v === null || v < 0) throw domainXmlError('invalid value of memory device node');
  return v;
}

const xmlDetail = (m: string) => LibvirtError.of(VirErrorNumber.XML_DETAIL, VirErrorDomain.DOMAIN, m);

/**
 * virDomainMemoryDefValidate's rules on the fields libvirt reads from the source and target (NUMA
 * node in range, per-model path/discard/access/uuid/address), then qemuValidateDomainDeviceDefMemory's
 * capability rule the host decides: no SGX (domain capabilities say so).
 */
export function validateMemoryDevice(n: XmlNode, d: DomainDraft): void {
  const model = n.attrs.model;
  const targetNode = memoryTargetNode(child(n, 'target')!);
  if (targetNode !== -1) {
    const nodes = cpuOf(d)?.cells.length ?? 0;
    if (nodes === 0) throw xmlDetail("can't add memory backend as guest has no NUMA nodes configured");
    if (targetNode >= nodes) {
      throw xmlDetail(`can't add memory backend for guest node '${targetNode}' as the guest has only '${nodes}' NUMA nodes configured`);
    }
  }
  const source = child(n, 'source');
  const path = model === 'nvdimm' || model === 'virtio-pmem' ? stringOf(source && child(source, 'path')) : undefined;
  const discard = n.attrs.discard === 'yes';
  if (model === 'nvdimm') {
    if (path === undefined) throw xmlDetail("path is required for model 'nvdimm'");
    if (discard) throw unsupported('discard is not supported for nvdimms');
    if (!osOf(d).arch.startsWith('ppc64') && child(n, 'uuid')) throw unsupported('UUID is not supported for NVDIMM device');
  } else if (model === 'virtio-pmem') {
    if (path === undefined) throw xmlDetail("path is required for model 'virtio-pmem'");
    if (discard) throw unsupported("discard is not supported for model 'virtio-pmem'");
    // virDomainMemoryDefPostParse makes an unset access 'shared' for virtio-pmem.
    if ((n.attrs.access ?? 'shared') !== 'shared') throw unsupported('shared access mode required for virtio-pmem device');
    if (targetNode !== -1) throw unsupported('virtio-pmem does not support NUMA nodes');
  } else if (model === 'sgx-epc' && addressType(n) !== undefined) {
    throw unsupported("memory device address is not supported for model 'sgx-epc'");
  }
  if (n.attrs.model === 'sgx-epc') throw qemuUnsupported("sgx epc isn't supported by this QEMU binary");
}

const addressType = (n: XmlNode): string | undefined => child(n, 'address')?.attrs.type;

/** qemuValidateDomainWatchdogDef: where each model may sit, and diag288 only on s390. */
export function validateWatchdog(n: XmlNode, d: DomainDraft): void {
  const model = n.attrs.model;
  const addr = addressType(n);
  if (model === 'i6300esb' && addr !== undefined && addr !== 'pci') throw qemuUnsupported('i6300esb model of watchdog can go only on PCI bus');
  if (model === 'ib700' && addr !== undefined) throw qemuUnsupported('ib700 model of watchdog does not support configuring the address');
  if (model === 'ib700' && ruleApplies('ib700OnI440fxOnly', d.ctx) && !isI440fxMachine(osOf(d).machine, osOf(d).arch)) {
    throw qemuUnsupported('ib700 model of watchdog cannot be used with this machine type');
  }
  if (model === 'diag288') {
    if (addr !== undefined) throw qemuUnsupported('diag288 model of watchdog is virtual and cannot go on any bus.');
    if (!osOf(d).arch.startsWith('s390')) throw qemuUnsupported('diag288 model of watchdog is allowed for s390 and s390x only');
  }
}

/** qemuValidateDomainRNGDef: an egd backend's chardev is validated as any chardev source is. */
export function validateRng(n: XmlNode, d: DomainDraft): void {
  const backend = child(n, 'backend');
  if (backend?.attrs.model !== 'egd') return;
  validateChrSourceDefQemu(parseChrSource(backend, backend.attrs.type ?? 'pty'), d);
}

const isArmVirt = (arch: string, machine: string | undefined) =>
  (arch === 'aarch64' || arch === 'armv7l') && machine !== undefined && (machine === 'virt' || machine.startsWith('virt-'));

/** virDomainIOMMUDefValidate, then qemuValidateDomainDeviceDefIOMMU (QEMU 7.2 has every IOMMU device). */
export function validateIommu(n: XmlNode, d: DomainDraft): void {
  const model = n.attrs.model;
  const driver = child(n, 'driver');
  const addr = addressType(n);
  if ((model === 'smmuv3' || model === 'virtio') && driver) {
    const extra = ['intremap', 'caching_mode', 'eim', 'iotlb'].some((a) => driver.attrs[a] !== undefined) || (driver.attrs.aw_bits !== undefined && driver.attrs.aw_bits !== '0');
    if (extra) throw domainXmlError(`iommu model '${model}' doesn't support additional attributes`);
  }
  if ((model === 'smmuv3' || model === 'intel') && addr !== undefined) throw domainXmlError(`iommu model '${model}' can't have address`);
  const { arch, machine } = osOf(d);
  const q35 = isQ35Machine(machine, arch);
  const armVirt = isArmVirt(arch, machine);
  if (model === 'intel' && !q35) throw qemuUnsupported("IOMMU device: 'intel' is only supported with Q35 machines");
  if (model === 'smmuv3' && !armVirt) throw qemuUnsupported("IOMMU device: 'smmuv3' is only supported with ARM Virt machines");
  if (model === 'virtio') {
    if (!q35 && !armVirt) throw qemuUnsupported("IOMMU device: 'virtio' is only supported with Q35 and ARM Virt machines");
    if (!(getTop(d, 'features')?.children ?? []).some((c) => c.name === 'acpi')) throw qemuUnsupported("IOMMU device: 'virtio' requires ACPI");
    if (addr !== undefined && addr !== 'pci') throw qemuUnsupported("IOMMU device: 'virtio' needs a PCI address");
  }
}
