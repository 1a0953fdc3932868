/** `sevharness profiles`: one row per bundled profile with its derived SEV facts. */
import { allProfiles } from '../../../fakelibvirt/profile/load.ts';
import { hostViews } from '../../../fakelibvirt/views/index.ts';
import type { Command } from '../command.ts';

const yn = (b: boolean) => (b ? 'Y' : 'N');

export function profilesTable(): string[][] {
  const rows = [['NAME', 'GENERATION', 'CPU', 'SEV/ES/SNP', 'GUESTS/ES', 'LIBVIRT', 'QEMU', 'KERNEL']];
  for (const p of allProfiles().values()) {
    const { kernel, sev } = hostViews(p);
    rows.push([
      p.name,
      p.generation,
      p.cpu.modelName,
      `${yn(kernel.sevEnabled)}/${yn(kernel.sevEsEnabled)}/${yn(kernel.snpEnabled)}`,
      sev ? `${sev.maxGuests}/${sev.maxESGuests}` : '-',
      p.libvirt.version,
      p.qemu.version,
      p.kernel.version,
    ]);
  }
  return rows;
}

export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n') + '\n';
}

export const profilesCommand: Command = {
  name: 'profiles',
  summary: 'list the bundled hardware profiles and their derived SEV facts',
  usage: '',
  options: {},
  run(_values, _positionals, io) {
    io.out(formatTable(profilesTable()));
    return 0;
  },
};
