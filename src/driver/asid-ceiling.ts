/**
 * The SEV ASID count each EPYC generation's CPUID reports (Fn8000_001F ECX), as data
 * (sev-hardware.md §1.3). Used only when libvirt (< 8.0, no `<maxGuests>`) and the kernel (no misc
 * cgroup) cannot tell the driver the real count: the generation's total is an upper bound on SEV
 * guests (the BIOS may give part of it to SEV-ES), so a guest beyond the real count fails at launch
 * on the host instead of the driver over-committing without any bound.
 */
interface Generation {
  readonly name: string;
  readonly family: number;
  readonly models: readonly [number, number][];
  readonly asids: number;
}

export const EPYC_ASID_CEILINGS: readonly Generation[] = [
  { name: 'Naples (EPYC 7001)', family: 0x17, models: [[0x00, 0x0f]], asids: 15 },
  { name: 'Rome (EPYC 7002)', family: 0x17, models: [[0x30, 0x3f]], asids: 509 },
  { name: 'Milan (EPYC 7003)', family: 0x19, models: [[0x00, 0x0f]], asids: 509 },
  { name: 'Genoa (EPYC 9004)', family: 0x19, models: [[0x10, 0x1f], [0xa0, 0xaf]], asids: 1006 },
  { name: 'Turin (EPYC 9005)', family: 0x1a, models: [[0x00, 0x11]], asids: 1006 },
];

/** The first processor's family and model from /proc/cpuinfo text, or null. */
function cpuFamilyModel(cpuinfo: string | null): { family: number; model: number } | null {
  if (!cpuinfo) return null;
  const family = /^cpu family\s*:\s*(\d+)/m.exec(cpuinfo);
  const model = /^model\s*:\s*(\d+)/m.exec(cpuinfo);
  return family && model ? { family: Number(family[1]), model: Number(model[1]) } : null;
}

/** The EPYC generation of the host's CPU and its SEV ASID count; null for other CPUs or no cpuinfo. */
export function asidCeiling(cpuinfo: string | null): { generation: string; asids: number } | null {
  const fm = cpuFamilyModel(cpuinfo);
  if (!fm) return null;
  const g = EPYC_ASID_CEILINGS.find((x) => x.family === fm.family && x.models.some(([lo, hi]) => fm.model >= lo && fm.model <= hi));
  return g ? { generation: g.name, asids: g.asids } : null;
}
