/**
 * PROTOCOL.md is enough to write a driver: the Python blocks of its §8, put one after another into a
 * file, are run through the process adapter and judged by the suite on every request-validation
 * case judged at API level (no host), on an SEV and a non-SEV profile; nothing may fail or error.
 * The handshake and shutdown of the documented loop are checked too.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireRealStack } from '../containers/real-stack.ts';
import { startProcessDriver } from './adapters/process.ts';
import { CASES } from './catalogue/index.ts';
import { isHostless } from './runner/case-context.ts';
import { runConformance } from './runner/run.ts';

const stack = requireRealStack(['/usr/bin/python3']);
const doc = readFileSync(new URL('./PROTOCOL.md', import.meta.url), 'utf8');
const section = doc.slice(doc.indexOf('## 8. A complete driver'));
const blocks = [...section.matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = mkdtempSync(join(tmpdir(), 'sevharness-protocol-doc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PROTOCOL.md §8 as a driver', () => {
  const file = join(dir, 'driver.py');
  writeFileSync(file, blocks.join('\n\n'));

  it('has the driver in its code blocks', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    expect(blocks.join('\n')).toContain('def main()');
  });

  it.runIf(stack.available)('passes every API-level request case on an SEV and a non-SEV host', async () => {
    const cases = CASES.filter((c) => c.area === 'request' && isHostless(c)).map((c) => c.id);
    const report = await runConformance({ driver: () => startProcessDriver(['/usr/bin/python3', file]), profiles: ['milan-7003-es8', 'intel-xeon'], cases });
    const bad = report.results.filter((r) => r.status === 'fail' || r.status === 'error').map((r) => `${r.caseId}@${r.profile}: ${r.reason}`);
    expect(bad).toEqual([]);
    expect(report.driver.name).toBe('protocol-doc-example');
    expect(report.counts.pass).toBeGreaterThanOrEqual(cases.length * 2 - 4);
  }, 120_000);

  it.runIf(stack.available)('reports a host from its sysroot and ends on shutdown', async () => {
    const d = await startProcessDriver(['/usr/bin/python3', file]);
    try {
      const sysroot = join(dir, 'root');
      mkdirSync(join(sysroot, 'sys/module/kvm_amd/parameters'), { recursive: true });
      mkdirSync(join(sysroot, 'sys/fs/cgroup'), { recursive: true });
      writeFileSync(join(sysroot, 'sys/module/kvm_amd/parameters/sev'), 'Y\n');
      writeFileSync(join(sysroot, 'sys/fs/cgroup/misc.capacity'), 'sev 502\nsev_es 7\n');
      const r = await d.reportHost({ uri: 'qemu:///system', sysroot, config: { machineTypes: {}, maxEncryptedGuests: 600, ovmf: [] } });
      expect(r.inventories.MEM_ENCRYPTION_CONTEXT?.total).toBe(502);
      expect(r.warnings).toEqual([{ code: 'CAP_EXCEEDS_HOST', message: 'cap 600, host has 502' }]);
    } finally {
      await d.close?.();
    }
  });
});
