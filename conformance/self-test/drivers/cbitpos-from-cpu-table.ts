/**
 * Detection that takes the C-bit position and reducedPhysBits from a CPU-generation table (family
 * 17h → 47, 19h/1Ah → 51; reducedPhysBits 1) read off /proc/cpuinfo, instead of `<cbitpos>` in domain
 * capabilities. Every bundled profile has its generation's usual C-bit, so no bundled profile can
 * catch it: CPUID reports the C-bit, and a part (or a BIOS, or a nested host) with another one
 * makes QEMU refuse every launch ("cbitpos check failed").
 *
 * Who catches it: generated hosts whose C-bit is not the table's (fakelibvirt/profile/generate.ts
 * draws it among the address bits the host's reduction removes) — detect.sev-facts-from-domcaps and
 * detect.foreign-arch-domcaps-fails read the number, xml.cbitpos-from-domcaps finds it written, and
 * the boot cases see QEMU refuse the guest. The expected set is derived from each generated host's
 * truth (where the C-bit differs and the case applies), not listed by hand. Bundled profiles of each
 * C-bit (naples-7001: 47, milan-7003-es8: 51) and intel-xeon are the controls.
 */
import { decodeCpuid } from '../../../fakelibvirt/profile/derive.ts';
import { expandGeneratedSpec, generatedProfile } from '../../../fakelibvirt/profile/generate.ts';
import { CPUINFO_FILE, type HostReport, ReferenceSevDriver } from '../../../src/driver/index.ts';
import { caseById } from '../../catalogue/index.ts';
import { profileTruth } from '../../truth.ts';
import type { BrokenDriverSpec, FailureGroup } from '../types.ts';

/** The C-bit each CPU family "always" has, as such a table would list it. */
const CBIT_BY_FAMILY: Readonly<Record<number, number>> = { 0x17: 47, 0x19: 51, 0x1a: 51 };

class CbitposFromCpuTable extends ReferenceSevDriver {
  protected override async detect(): Promise<HostReport> {
    const r = await super.detect();
    const family = /^cpu family\s*:\s*(\d+)/m.exec(this.files.readText(CPUINFO_FILE) ?? '');
    const cbitpos = family ? CBIT_BY_FAMILY[Number(family[1])] : undefined;
    if (r.sev.cbitpos === undefined || cbitpos === undefined) return r;
    return { ...r, sev: { ...r.sev, cbitpos, reducedPhysBits: 1 } };
  }
}

/** Generated hosts of the default run's seed the self-test judges this driver on. */
export const CBIT_GENERATED = expandGeneratedSpec('generated:4')!;

/** The cases that read or use the C-bit: they fail wherever it is not the table's and they apply. */
const CBIT_CASES = [
  'detect.sev-facts-from-domcaps', 'detect.foreign-arch-domcaps-fails', 'xml.cbitpos-from-domcaps',
  'boot.sev-guest-runs-encrypted', 'boot.sev-es-guest-runs-encrypted',
];

function expectedOnGenerated(): FailureGroup[] {
  return CBIT_GENERATED.flatMap((name) => {
    const p = generatedProfile(name)!;
    const t = profileTruth(p);
    const table = CBIT_BY_FAMILY[p.cpu.family];
    if (t.sev === null || decodeCpuid(p)!.cbitpos === table) return [];
    const cases = CBIT_CASES.filter((id) => caseById(id)!.appliesTo(t) === true);
    return cases.length ? [{ cases, profiles: [name], why: `the host's C-bit is ${t.cbitpos}, the table says ${table}` }] : [];
  });
}

export const CBITPOS_FROM_CPU_TABLE: BrokenDriverSpec = {
  name: 'cbitpos-from-cpu-table',
  bug: 'takes cbitpos/reducedPhysBits from a CPU-generation table (47 up to Rome, 51 from Milan) instead of domain capabilities',
  variant: (h) => new CbitposFromCpuTable(h.libvirt, h.files, h.config),
  runs: [
    { profiles: ['naples-7001', 'intel-xeon'] },
    { profiles: ['milan-7003-es8', ...CBIT_GENERATED], cases: ['detect', 'xml', 'boot'] },
  ],
  expectedFailures: expectedOnGenerated(),
};
