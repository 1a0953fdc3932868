/** Small hand-written drivers for the runner's own tests: each answers exactly what a test needs. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inventoryKey, MODEL_TRAITS, type DriverDescription, type HostReport, type OperationName, type SevDriver } from '../../contract.ts';

const SLOT = { min_unit: 1, max_unit: 1, step_size: 1, allocation_ratio: 1, reserved: 0 } as const;

/** A report with `slots` SEV slots (none: no SEV at all). */
export function sevReport(slots: number | null, extra: Partial<HostReport> = {}): HostReport {
  if (slots === null) return { traits: [], inventories: {}, warnings: [], models: { 'amd-sev': { supported: false, slots: 0 } }, sev: null, ...extra };
  return {
    traits: [MODEL_TRAITS['amd-sev']],
    inventories: { [inventoryKey('amd-sev')]: { total: slots, ...SLOT } },
    warnings: [],
    models: { 'amd-sev': { supported: true, slots } },
    sev: { cbitpos: 51, reducedPhysBits: 1 },
    ...extra,
  };
}

export function describeAs(ops: readonly OperationName[], name = 'toy'): () => DriverDescription {
  return () => ({ name, version: '1.0', ops: [...ops], models: ['amd-sev'] });
}

/** What the sysroot's kvm_amd sev parameter says (absent: off). */
function sevOn(sysroot: string): boolean {
  try {
    return /^(1|Y)$/.test(readFileSync(join(sysroot, 'sys/module/kvm_amd/parameters/sev'), 'utf8').trim());
  } catch {
    return false;
  }
}

/** Reports exactly what the kvm_amd sev parameter file of the sysroot says (no slots knowledge beyond a fixed count). */
export function sysfsDriver(slots = 10): SevDriver {
  return {
    describe: describeAs(['reportHost']),
    reportHost: async (p) => sevReport(sevOn(p.sysroot) ? slots : null),
  };
}

/** Always claims SEV, whatever the host: wrong on every host without it. */
export function braggingDriver(): SevDriver {
  return { describe: describeAs(['reportHost'], 'bragging'), reportHost: async () => sevReport(10) };
}

/**
 * Schedules by counting: a host fits when it has the SEV trait and a free SEV slot (inventory minus
 * passed allocations minus its own claims); `countSlots: false` makes it ignore slots (a bug).
 */
export function countingScheduler(opts: { countSlots: boolean }): SevDriver {
  const claims = new Map<string, string>();
  const rc = inventoryKey('amd-sev');
  return {
    describe: describeAs(['reportHost', 'validateRequest', 'schedule', 'release'], 'counting-scheduler'),
    reportHost: async (p) => (sevOn(p.sysroot) ? sevReport(p.config.maxEncryptedGuests ?? 10) : sevReport(null)),
    validateRequest: async () => ({ resources: {}, requiredTraits: [], model: null }),
    async schedule(p) {
      const sev = p.request.flavor.extraSpecs['hw:mem_encryption'] === 'true';
      for (const h of p.hosts) {
        const total = h.report.inventories[rc]?.total ?? 0;
        const used = (h.allocations[rc] ?? 0) + [...claims.values()].filter((x) => x === h.name).length;
        if (sev && !h.report.traits.includes(MODEL_TRAITS['amd-sev'])) continue;
        if (sev && opts.countSlots && used >= total) continue;
        if (sev) claims.set(p.instance.uuid, h.name);
        return { host: h.name, allocation: sev ? { [rc]: 1 } : {} };
      }
      return { code: 'NO_VALID_HOST', message: 'no host fits' };
    },
    async release(p) {
      const had = claims.delete(p.instance.uuid);
      return { ok: true, freed: had ? { [rc]: 1 } : {} };
    },
  };
}
