/**
 * virConnectBaselineCPU as the QEMU driver of libvirt 9.0 answers it: host CPU definitions in, the
 * biggest guest CPU every one of them can run out. Each host CPU is its model's features plus the
 * features it lists (a host definition's feature policies are ignored); the CPUs' feature sets are
 * intersected; the model that needs the fewest required + disabled features to describe the result
 * is named, the first in map order winning ties. VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES lists
 * every feature of the result (model included) sorted by name, which is what nova turns into CPU
 * traits. Error codes and texts were measured against libvirt 9.0's test driver, which shares this
 * code path with the QEMU driver.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { escapeText } from '../views/xml.ts';
import { checkFlags } from './check-flags.ts';
import { child, children, parseXmlDocument, type XmlNode } from './xml-tree.ts';
import { X86_FEATURE_ORDER, X86_MODELS, X86_NON_MIGRATABLE, type X86CpuModel } from './x86-cpu-map.ts';

/** virConnectBaselineCPUFlags. */
export const BaselineCpuFlag = { EXPAND_FEATURES: 1, MIGRATABLE: 2 } as const;
const KNOWN_FLAGS = BaselineCpuFlag.EXPAND_FEATURES | BaselineCpuFlag.MIGRATABLE;

const X86_ARCHES = new Set(['x86_64', 'i686']);
const ARM_ARCHES = new Set(['aarch64', 'armv7l', 'armv6l']);
const VENDORS = new Set(['AMD', 'Intel', 'Hygon']);
const MODELS = new Map(X86_MODELS.map((m) => [m.name, m]));
const FEATURE_RANK = new Map(X86_FEATURE_ORDER.map((f, i) => [f, i]));

/** A host CPU definition as libvirt parses it (a host CPU's feature policies are ignored). */
interface ParsedCpu {
  readonly arch: string;
  readonly modelName: string;
  readonly vendor: string | null;
  readonly featureNames: readonly string[];
}

/** An x86 host CPU resolved against the CPU map: its model and all its features. */
interface HostCpu {
  readonly model: X86CpuModel;
  readonly vendor: string | null;
  readonly features: ReadonlySet<string>;
}

/** libvirt's CPU driver (VIR_FROM_CPU) raises every error of the computation itself. */
function cpuError(code: VirErrorNumber, detail: string): LibvirtError {
  return LibvirtError.of(code, VirErrorDomain.CPU, detail);
}

function parseCpu(xml: string): ParsedCpu {
  let root: XmlNode;
  try {
    root = parseXmlDocument(xml, 'CPU_definition');
  } catch (e) {
    if (e instanceof LibvirtError) throw new LibvirtError({ ...e, message: e.message, domain: VirErrorDomain.CPU });
    throw e;
  }
  if (root.name !== 'cpu') throw cpuError(VirErrorNumber.XML_ERROR, "XML does not contain expected 'cpu' element");
  const arch = child(root, 'arch')?.text ?? '';
  if (arch === '') throw cpuError(VirErrorNumber.XML_ERROR, 'Missing CPU architecture');
  const modelName = child(root, 'model')?.text ?? '';
  if (modelName === '') throw cpuError(VirErrorNumber.XML_ERROR, 'Missing CPU model name');
  return {
    arch,
    modelName,
    vendor: child(root, 'vendor')?.text || null,
    featureNames: children(root, 'feature').map((f) => f.attrs['name'] ?? ''),
  };
}

/** The x86 driver reads every CPU as x86 (whatever its arch), so foreign models are unknown ones. */
function resolveX86(cpu: ParsedCpu): HostCpu {
  const model = MODELS.get(cpu.modelName);
  if (!model) throw cpuError(VirErrorNumber.INTERNAL_ERROR, `Unknown CPU model ${cpu.modelName}`);
  const features = new Set(model.features);
  for (const name of cpu.featureNames) {
    if (!FEATURE_RANK.has(name)) throw cpuError(VirErrorNumber.INTERNAL_ERROR, `Unknown CPU feature ${name}`);
    features.add(name);
  }
  return { model, vendor: cpu.vendor, features };
}

/** One vendor for all CPUs, and whether every CPU named it (only then does the result name it). */
function commonVendor(cpus: readonly HostCpu[]): { vendor: string | null; output: boolean } {
  let vendor: string | null = null;
  for (const c of cpus) {
    if (c.vendor === null) continue;
    if (!VENDORS.has(c.vendor)) throw cpuError(VirErrorNumber.OPERATION_FAILED, `Unknown CPU vendor ${c.vendor}`);
    if (vendor !== null && vendor !== c.vendor) throw cpuError(VirErrorNumber.OPERATION_FAILED, 'CPU vendors do not match');
    vendor = c.vendor;
  }
  return { vendor, output: cpus.every((c) => c.vendor !== null) };
}

const byMapOrder = (a: string, b: string) => (FEATURE_RANK.get(a) ?? 0) - (FEATURE_RANK.get(b) ?? 0);

interface Decoded {
  readonly model: X86CpuModel;
  /** Features beyond the model, in map order. */
  readonly required: string[];
  /** Model features the data lacks, then features QEMU removed from the model, in map order. */
  readonly disabled: string[];
}

function describeWith(model: X86CpuModel, data: ReadonlySet<string>): Decoded {
  const own = new Set(model.features);
  return {
    model,
    required: [...data].filter((f) => !own.has(f)).sort(byMapOrder),
    disabled: [
      ...model.features.filter((f) => !data.has(f)).sort(byMapOrder),
      ...model.removed.filter((f) => !data.has(f)),
    ],
  };
}

/** The guest model that describes `data` with the fewest required + disabled features. */
function decode(data: ReadonlySet<string>, vendor: string | null): Decoded {
  let best: Decoded | null = null;
  let bestSize = Infinity;
  for (const model of X86_MODELS) {
    if (!model.decodeGuest) continue;
    if (vendor !== null && model.vendor !== null && model.vendor !== vendor) continue;
    const candidate = describeWith(model, data);
    const size = candidate.required.length + model.features.filter((f) => !data.has(f)).length;
    if (size < bestSize) {
      best = candidate;
      bestSize = size;
    }
  }
  if (!best) throw cpuError(VirErrorNumber.OPERATION_FAILED, 'Cannot find suitable CPU model for given data');
  return best;
}

function featureLine(policy: 'require' | 'disable', name: string): string {
  return `  <feature policy='${policy}' name='${name}'/>\n`;
}

/**
 * The baseline CPU of `xmlCpus` (host CPU definitions) as libvirt formats it, or a LibvirtError with
 * libvirt's code and text.
 */
export function baselineCpu(xmlCpus: readonly string[], flags: number): string {
  checkFlags(flags, KNOWN_FLAGS, 'qemuConnectBaselineCPU', VirErrorDomain.QEMU);
  if (xmlCpus.length === 0) throw cpuError(VirErrorNumber.INVALID_ARG, 'no CPUs given');
  const parsed = xmlCpus.map(parseCpu);
  const arch = parsed[0]!.arch;
  if (ARM_ARCHES.has(arch)) {
    // libvirt 9.0's ARM driver names the first CPU's model, never forbids fallback, lists nothing
    // else (measured: other CPUs, vendors and features are not compared).
    return `<cpu mode='custom' match='exact'>\n  <model fallback='allow'>${escapeText(parsed[0]!.modelName)}</model>\n</cpu>\n`;
  }
  if (!X86_ARCHES.has(arch)) {
    // measured for s390x; libvirt's POWER driver is not modelled (the fake hosts are x86 and ARM).
    throw cpuError(VirErrorNumber.NO_SUPPORT, `cannot compute baseline CPU of ${arch} architecture`);
  }
  const x86 = parsed.map(resolveX86);
  const first = x86[0]!;
  const { vendor, output: outputVendor } = commonVendor(x86);

  const data = new Set(first.features);
  for (const c of x86.slice(1)) for (const f of data) if (!c.features.has(f)) data.delete(f);
  if (flags & BaselineCpuFlag.MIGRATABLE) for (const f of X86_NON_MIGRATABLE) data.delete(f);
  if (data.size === 0) throw cpuError(VirErrorNumber.OPERATION_FAILED, 'CPUs are incompatible');

  const decoded = decode(data, vendor);
  const sameModel = x86.every((c) => c.model === first.model);
  const fallback = sameModel && decoded.model === first.model ? 'forbid' : 'allow';

  let features: string;
  if (flags & BaselineCpuFlag.EXPAND_FEATURES) {
    const disabled = new Set(decoded.disabled);
    const all = [...new Set([...decoded.model.features, ...decoded.required, ...decoded.disabled])].sort();
    features = all.map((f) => featureLine(disabled.has(f) ? 'disable' : 'require', f)).join('');
  } else {
    features = decoded.required.map((f) => featureLine('require', f)).join('') + decoded.disabled.map((f) => featureLine('disable', f)).join('');
  }
  return (
    `<cpu mode='custom' match='exact'>\n` +
    `  <model fallback='${fallback}'>${decoded.model.name}</model>\n` +
    (outputVendor && vendor !== null ? `  <vendor>${vendor}</vendor>\n` : '') +
    features +
    `</cpu>\n`
  );
}
