/**
 * Real mode pointed at a fake host: a profile's fake libvirtd (in this process, on a UNIX socket)
 * and its materialised sysroot stand where a real EPYC host's libvirtd and `/` would be, and real
 * mode detects, synthesizes and judges it exactly as it would the real machine. Comparing its
 * verdicts with the fake target's, case by case, tests both paths: any difference is a bug in real
 * mode's reading of a host or in the fake's rendering of one.
 *
 * Some cases cannot run on a real host as such: they change kernel parameters or the capability
 * cache, inject firmware faults, look inside QEMU, or need a second host. Served with its control
 * socket and a peer (as `compareTargets` does by default), the fake gives real mode all of these;
 * without, real mode reports them not applicable with the reason, which `targetLimit` recognises.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { generatedProfile } from '../../fakelibvirt/profile/generate.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { serveProfile, type ServedProfile } from '../../fakelibvirt/serve-profile.ts';
import type { DriverFactory } from '../runner/driver-spec.ts';
import { runConformance } from '../runner/run.ts';
import type { CaseResult } from '../runner/types.ts';
import { runRealMode, type RealRunReport } from './run.ts';
import type { HostEndpoint } from './target.ts';

export interface ServedFake {
  readonly profile: string;
  readonly uri: string;
  readonly sysroot: string;
  /** The control socket, when served with one (host controls and inspection for real mode). */
  readonly control?: string;
  readonly host: FakeHost;
  close(): Promise<void>;
}

export interface ServeFakeOptions {
  /** Parent of the served host's directory; default the system's temporary directory. */
  readonly base?: string;
  /** Also serve the control socket, as `serve --control` does; the sysroot then follows faults. */
  readonly control?: boolean;
}

/** One profile's fake libvirtd and sysroot, as `sevharness serve` runs them (bundled or generated `gen-SEED-I`). */
export async function serveFake(profileName: string, opts: ServeFakeOptions = {}): Promise<ServedFake> {
  const dir = mkdtempSync(join(opts.base ?? tmpdir(), `fake-as-real-${profileName}-`));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  let served: ServedProfile;
  try {
    served = await serveProfile(generatedProfile(profileName) ?? loadProfile(profileName), { dir, control: opts.control === true });
  } catch (e) {
    remove();
    throw e;
  }
  return {
    profile: served.host.profile.name,
    uri: served.uri,
    sysroot: served.sysroot,
    ...(served.controlSocket !== null && { control: served.controlSocket }),
    host: served.host,
    async close() {
      await served.close();
      remove();
    },
  };
}

/** Where real mode finds a served fake: its URI, sysroot and (when served) control socket. */
export function endpointOf(s: ServedFake): HostEndpoint {
  return { uri: s.uri, sysroot: s.sysroot, ...(s.control !== undefined && { control: s.control }) };
}

/** Reasons a case is not applicable on every real host: a control, a view or a host it lacks. */
const TARGET_LIMITS: readonly RegExp[] = [
  /^the real \S+ target cannot inject /,
  /^the target cannot look inside the host\b/,
  /^the real target is a single host; a second one/,
  /^the real target has two hosts and both are in use$/,
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

export interface CompareOptions {
  /**
   * Serve the host with its control socket and a second host of the profile as migration peer, so
   * real mode reaches everything the fake target does (default). False: the host as a real one
   * with no control is seen, and the cases needing more are not applicable (`limited`).
   */
  readonly controls?: boolean;
}

/** Runs `cases` (all when absent) on the profile through both targets and compares the verdicts. */
export async function compareTargets(driver: DriverFactory, profile: string, cases?: readonly string[], opts: CompareOptions = {}): Promise<TargetComparison> {
  const controls = opts.controls ?? true;
  const served = await serveFake(profile, { control: controls });
  const peer = controls ? await serveFake(profile, { control: true }).catch(async (e: unknown) => {
    await served.close();
    throw e;
  }) : null;
  try {
    let t0 = performance.now();
    // A fake runs no guest code: bare, its boot cases get no probe guest's word (not applicable).
    const real = await runRealMode({ ...endpointOf(served), ...(peer && { peer: endpointOf(peer) }), ...(!controls && { guestProbe: false as const }), driver, ...(cases && { cases }) });
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
    await peer?.close();
    await served.close();
  }
}

/** One line per comparison, for the tests' timing report. */
export function summarize(c: TargetComparison): string {
  return `${c.profile}: ${c.same} alike, ${c.limited.length} beyond any real host, ${c.differences.length} different (real ${Math.round(c.realMs)} ms, fake ${Math.round(c.fakeMs)} ms)`;
}
