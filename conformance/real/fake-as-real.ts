/**
 * Real mode pointed at a fake host: a profile's fake libvirtd (in this process, on a UNIX socket)
 * and its materialised sysroot stand where a real EPYC host's libvirtd and `/` would be, and real
 * mode detects, synthesizes and judges it exactly as it would the real machine. Comparing its
 * verdicts with the fake target's, case by case, tests both paths: any difference is a bug in real
 * mode's reading of a host or in the fake's rendering of one.
 *
 * Some cases cannot run on any real host, whoever serves it: they change kernel parameters or the
 * capability cache, inject firmware faults, look inside QEMU, or need a second host. Real mode
 * reports them not applicable with the reason; `targetLimit` recognises those reasons.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeLibvirtd } from '../../fakelibvirt/daemon/server.ts';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { generatedProfile } from '../../fakelibvirt/profile/generate.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { materializeSysroot } from '../../fakelibvirt/views/sysroot.ts';
import type { DriverFactory } from '../runner/driver-spec.ts';
import { runConformance } from '../runner/run.ts';
import type { CaseResult } from '../runner/types.ts';
import { runRealMode, type RealRunReport } from './run.ts';

export interface ServedFake {
  readonly profile: string;
  readonly uri: string;
  readonly sysroot: string;
  readonly host: FakeHost;
  close(): Promise<void>;
}

/** One profile's fake libvirtd and sysroot, as `sevharness serve` runs them (bundled or generated `gen-SEED-I`). */
export async function serveFake(profileName: string, base?: string): Promise<ServedFake> {
  const dir = mkdtempSync(join(base ?? tmpdir(), `fake-as-real-${profileName}-`));
  const profile = generatedProfile(profileName) ?? loadProfile(profileName);
  const host = new FakeHost(profile);
  const sysroot = join(dir, 'sysroot');
  materializeSysroot(profile, host.kernel, sysroot);
  const daemon = new FakeLibvirtd(host, { socketPath: join(dir, 'libvirt-sock') });
  await daemon.listen();
  return {
    profile: profile.name,
    uri: daemon.uri,
    sysroot,
    host,
    async close() {
      await daemon.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reasons a case is not applicable on every real host: a control, a view or a host it lacks. */
const TARGET_LIMITS: readonly RegExp[] = [
  /^the real \S+ target cannot (?:inject |set-kernel-param|stale-capability-cache|refresh-capability-cache|firmware-fault|domcaps-fault)/,
  /^the target cannot look inside the host\b/,
  /^the real target is the one host '[^']+'; it has no '[^']+' host beside it$/,
  /^the real target is a single host; a second one/,
];

export function targetLimit(r: Pick<CaseResult, 'status' | 'reason'>): boolean {
  return r.status === 'not-applicable' && TARGET_LIMITS.some((re) => re.test(r.reason ?? ''));
}

export interface VerdictDifference {
  readonly caseId: string;
  readonly fake: string;
  readonly real: string;
}

export interface TargetComparison {
  readonly profile: string;
  readonly real: RealRunReport;
  readonly fakeResults: readonly CaseResult[];
  /** Cases whose status differs, target limits excepted. */
  readonly differences: readonly VerdictDifference[];
  /** Cases real mode could not run here because no real host can (targetLimit). */
  readonly limited: readonly string[];
  /** Cases judged alike on both targets. */
  readonly same: number;
  readonly realMs: number;
  readonly fakeMs: number;
}

const show = (r: CaseResult | undefined) => (r ? `${r.status}${r.reason ? `: ${r.reason}` : ''}` : 'not run');

/** Runs `cases` (all when absent) on the profile through both targets and compares the verdicts. */
export async function compareTargets(driver: DriverFactory, profile: string, cases?: readonly string[]): Promise<TargetComparison> {
  const served = await serveFake(profile);
  try {
    let t0 = performance.now();
    const real = await runRealMode({ uri: served.uri, sysroot: served.sysroot, driver, ...(cases && { cases }) });
    const realMs = performance.now() - t0;
    t0 = performance.now();
    const fake = await runConformance({ driver, profiles: [profile], ...(cases && { cases }) });
    const fakeMs = performance.now() - t0;
    const byId = new Map(fake.results.map((r) => [r.caseId, r]));
    const differences: VerdictDifference[] = [];
    const limited: string[] = [];
    let same = 0;
    for (const r of real.report.results) {
      if (r.caseId.startsWith('real.')) continue;
      const f = byId.get(r.caseId);
      if (targetLimit(r)) limited.push(r.caseId);
      else if (f?.status === r.status && (r.status !== 'not-applicable' || f.reason === r.reason)) same++;
      else differences.push({ caseId: r.caseId, fake: show(f), real: show(r) });
    }
    for (const f of fake.results) {
      if (!real.report.results.some((r) => r.caseId === f.caseId)) differences.push({ caseId: f.caseId, fake: show(f), real: 'not run' });
    }
    return { profile, real, fakeResults: fake.results, differences, limited, same, realMs, fakeMs };
  } finally {
    await served.close();
  }
}

/** One line per comparison, for the tests' timing report. */
export function summarize(c: TargetComparison): string {
  return `${c.profile}: ${c.same} alike, ${c.limited.length} beyond any real host, ${c.differences.length} different (real ${Math.round(c.realMs)} ms, fake ${Math.round(c.fakeMs)} ms)`;
}
