/**
 * cputune's resource-control groups as libvirt parses them at define time (domain_conf.c
 * virDomainCachetuneDefParse / virDomainMemorytuneDefParse, util/virresctrl.c for the allocation
 * rules): vCPU sets, cache allocations, memory bandwidths and monitors. A group whose vCPUs all lie
 * beyond the vCPU count, or that allocates and monitors nothing, is dropped as libvirt drops it.
 * The kept groups stay as written (their canonical format is not modelled yet).
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { XmlNode } from '../xml-tree.ts';
import { parseBitmap } from './bitmap.ts';
import { propEnum, propUInt } from './props.ts';
import { parseScaledValue } from './scaled.ts';

/** virCacheType (VIR_ENUM_IMPL order). */
const CACHE_TYPES = ['both', 'code', 'data'] as const;
/** The only cache level a cache monitor may watch. */
const MONITOR_CACHE_LEVEL = 3;
const ULLONG_MAX = 2n ** 64n - 1n;

const domainError = (code: VirErrorNumber, m: string) => LibvirtError.of(code, VirErrorDomain.DOMAIN, m);
const resctrlError = (m: string) => LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.RESCTRL, m);

interface Group {
  vcpus: Set<number>;
  /** level → type → cache ids allocated. */
  caches: Map<number, Map<string, Set<number>>>;
  bandwidths: Set<number>;
  monitors: { vcpus: Set<number>; tag: 'cache' | 'membw' }[];
  node: XmlNode;
}

const equal = (a: Set<number>, b: Set<number>) => a.size === b.size && [...a].every((x) => b.has(x));
const overlaps = (a: Set<number>, b: Set<number>) => [...a].some((x) => b.has(x));

/** virDomainResctrlParseVcpus: required, a bitmap, shrunk to the vCPU count. */
function parseVcpus(el: XmlNode, maxVcpus: number): Set<number> {
  const text = el.attrs.vcpus;
  if (text === undefined) throw domainError(VirErrorNumber.XML_ERROR, `Missing ${el.name} attribute 'vcpus'`);
  const bits = parseBitmap(text);
  if (bits === null) throw domainError(VirErrorNumber.XML_ERROR, `Invalid ${el.name} attribute 'vcpus' value '${text}'`);
  return new Set([...bits].filter((b) => b < maxVcpus));
}

/** virDomainResctrlVcpuMatch: the group with exactly these vCPUs; overlapping ones are refused. */
function matchGroup(groups: Group[], vcpus: Set<number>): Group | undefined {
  for (const g of groups) {
    if (equal(g.vcpus, vcpus)) return g;
    if (overlaps(g.vcpus, vcpus)) throw domainError(VirErrorNumber.XML_ERROR, 'Overlapping vcpus in resctrls');
  }
  return undefined;
}

/** virResctrlAllocSetCacheSize's collision rule: 'both' excludes code/data for the same cache id. */
function addCache(g: Group, level: number, type: string, id: number): void {
  const types = g.caches.get(level) ?? new Map<string, Set<number>>();
  const has = (t: string) => types.get(t)?.has(id) ?? false;
  const collides = has('both') || (type === 'both' ? has('code') || has('data') : has(type));
  if (collides) throw resctrlError(`Colliding cache allocations for cache level '${level}' id '${id}', type '${type}'`);
  types.set(type, (types.get(type) ?? new Set()).add(id));
  g.caches.set(level, types);
}

/** virDomainResctrlMonDefParse with virDomainResctrlValidateMonitor. */
function parseMonitors(el: XmlNode, g: Group, tag: 'cache' | 'membw', maxVcpus: number): number {
  const invalid = (m: string) => domainError(VirErrorNumber.INVALID_ARG, m);
  let added = 0;
  for (const m of el.children.filter((c) => c.name === 'monitor')) {
    if (tag === 'cache') {
      const level = propUInt(m, 'level', 10, { required: true })!;
      if (level !== MONITOR_CACHE_LEVEL) throw domainError(VirErrorNumber.XML_ERROR, `Invalid monitor cache level '${level}'`);
    }
    const vcpus = parseVcpus(m, maxVcpus);
    if (vcpus.size === 0) throw invalid('vcpus is empty');
    if ([...vcpus].some((v) => !g.vcpus.has(v))) throw invalid('Monitor vcpus conflicts with allocation');
    const sameAsGroup = equal(vcpus, g.vcpus);
    const defaultAlloc = g.caches.size === 0 && g.bandwidths.size === 0;
    let overlapAny = false;
    let overlapNoGroup = false;
    for (const o of g.monitors) {
      if (equal(vcpus, o.vcpus)) {
        if (o.tag !== tag) continue;
        throw invalid('Identical vcpus found in same type monitors');
      }
      if (overlaps(vcpus, o.vcpus)) overlapAny = true;
      if (sameAsGroup || equal(o.vcpus, g.vcpus)) continue;
      if (overlaps(vcpus, o.vcpus)) overlapNoGroup = true;
    }
    if (overlapNoGroup || (defaultAlloc && overlapAny)) throw invalid('vcpus overlaps in resctrl groups');
    g.monitors.push({ vcpus, tag });
    added++;
  }
  return added;
}

function newGroup(vcpus: Set<number>, node: XmlNode): Group {
  return { vcpus, caches: new Map(), bandwidths: new Set(), monitors: [], node };
}

/** Every `<cachetune>`, then every `<memorytune>`; returns the elements of the groups libvirt keeps. */
export function parseResctrls(cachetunes: XmlNode[], memorytunes: XmlNode[], maxVcpus: number): XmlNode[] {
  const groups: Group[] = [];
  for (const el of cachetunes) {
    const vcpus = parseVcpus(el, maxVcpus);
    if (vcpus.size === 0) continue;
    const caches = el.children.filter((c) => c.name === 'cache');
    if (matchGroup(groups, vcpus)) throw domainError(VirErrorNumber.XML_ERROR, 'Identical vcpus in cachetunes found');
    const g = newGroup(vcpus, el);
    for (const c of caches) {
      const id = propUInt(c, 'id', 10, { required: true })!;
      const level = propUInt(c, 'level', 10, { required: true })!;
      const type = propEnum(c, 'type', CACHE_TYPES, { required: true })!;
      parseScaledValue('./@size', c.attrs.size, c.attrs.unit, 1024n, ULLONG_MAX, true);
      addCache(g, level, type, id);
    }
    const monitors = parseMonitors(el, g, 'cache', maxVcpus);
    if (monitors > 0 || caches.length > 0) groups.push(g);
  }
  const kept = groups.map((g) => g.node);
  for (const el of memorytunes) {
    const vcpus = parseVcpus(el, maxVcpus);
    if (vcpus.size === 0) continue;
    const nodes = el.children.filter((c) => c.name === 'node');
    const existing = matchGroup(groups, vcpus);
    const g = existing ?? newGroup(vcpus, el);
    for (const n of nodes) {
      const id = propUInt(n, 'id', 10, { required: true })!;
      const bandwidth = propUInt(n, 'bandwidth', 10, { required: true })!;
      if (bandwidth > 100) throw resctrlError('Memory Bandwidth value exceeding 100 is invalid.');
      if (g.bandwidths.has(id)) throw resctrlError(`Memory Bandwidth already defined for node ${id}`);
      g.bandwidths.add(id);
    }
    const monitors = parseMonitors(el, g, 'membw', maxVcpus);
    if (!existing && (monitors > 0 || nodes.length > 0)) groups.push(g);
    // libvirt formats a memorytune for every group with bandwidths; keep the written one.
    if (monitors > 0 || nodes.length > 0) kept.push(el);
  }
  return kept;
}
