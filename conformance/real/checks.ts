/**
 * Real-mode-only checks, reported in the same table as the catalogue's cases: they judge the host
 * and the suite's model of it rather than a driver. On a host without SEV, libvirt itself must
 * refuse an SEV domain with the text the fake models for that libvirt; on an SEV host it must accept
 * one; and a plain guest must go through define → start → pause → resume → destroy → undefine.
 * Guests are tiny (64 MiB, no disk, no network) and use the target's domain type (`qemu` = TCG where
 * KVM cannot run guests).
 */
import { domainContext } from '../../fakelibvirt/libvirt/domain/context.ts';
import { launchSecurityUnsupportedError } from '../../fakelibvirt/libvirt/domain/launch-security.ts';
import { isLibvirtError, VirErrorNumber } from '../../src/libvirt/errors.ts';
import type { DomainRef, LibvirtClient } from '../../src/libvirt/client.ts';
import type { Area } from '../catalogue/types.ts';
import type { CaseResult, CaseStatus } from '../runner/types.ts';
import { noSevReason, type ProfileTruth } from '../truth.ts';
import { CHECK_DOMAIN_PREFIX, type RealTarget } from './target.ts';

/** virDomainState values the lifecycle check walks through. */
export const DomainState = { RUNNING: 1, PAUSED: 3, SHUTOFF: 5 } as const;

const STATE_NAMES: Record<number, string> = { 0: 'no state', 1: 'running', 2: 'blocked', 3: 'paused', 4: 'shutdown', 5: 'shut off', 6: 'crashed', 7: 'pmsuspended' };

export interface RealCheck {
  readonly id: string;
  readonly area: Area;
  readonly title: string;
  /** `true`, or why the check does not apply to this host. */
  appliesTo(truth: ProfileTruth): true | string;
  /** Resolves to a pass note, or throws CheckFailed. */
  run(ctx: CheckContext): Promise<string>;
}

export interface CheckContext {
  readonly client: LibvirtClient;
  readonly truth: ProfileTruth;
  readonly domainType: 'kvm' | 'qemu';
  readonly summary: string;
}

export class CheckFailed extends Error {
  override readonly name = 'CheckFailed';
}

/** A minimal guest: no disk, no network, q35 when the host has it. */
export function tinyDomainXml(name: string, domainType: 'kvm' | 'qemu', opts: { machine?: string; sev?: boolean; cbitpos?: number | null; reducedPhysBits?: number | null } = {}): string {
  const machine = opts.machine ? ` machine='${opts.machine}'` : '';
  // libvirt before 7.x refuses launchSecurity without cbitpos and reducedPhysBits; give the host's.
  const bits = (opts.cbitpos ?? null) !== null && (opts.reducedPhysBits ?? null) !== null ? `<cbitpos>${opts.cbitpos}</cbitpos><reducedPhysBits>${opts.reducedPhysBits}</reducedPhysBits>` : '';
  const sev = opts.sev ? `<launchSecurity type='sev'>${bits}<policy>0x0033</policy></launchSecurity>` : '';
  return (
    `<domain type='${domainType}'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>` +
    `<os><type arch='x86_64'${machine}>hvm</type></os><on_poweroff>destroy</on_poweroff>` +
    `<devices><memballoon model='none'/></devices>${sev}</domain>`
  );
}

const q35Of = (t: ProfileTruth): string | undefined => (t.q35Machines.includes('q35') ? 'q35' : t.q35Machines[0]);

async function stateOf(client: LibvirtClient, dom: DomainRef): Promise<number> {
  return (await client.getState(dom)).state;
}

async function expectState(client: LibvirtClient, dom: DomainRef, want: number, after: string): Promise<void> {
  const got = await stateOf(client, dom);
  if (got !== want) throw new CheckFailed(`after ${after} the domain is '${STATE_NAMES[got] ?? got}', expected '${STATE_NAMES[want]}'`);
}

/** Removes a check domain whatever state it is in. */
async function discard(client: LibvirtClient, dom: DomainRef): Promise<void> {
  if (await client.isActive(dom).catch(() => false)) await client.destroy(dom).catch(() => undefined);
  await client.undefine(dom).catch(() => undefined);
}

// What libvirt shows now decides: a stale capability cache hides SEV until it is refreshed.
const needsNoSevHere = (t: ProfileTruth): true | string => (t.sevUsableAtStart ? 'host has SEV' : true);
const needsSevHere = (t: ProfileTruth): true | string =>
  t.sevUsableAtStart ? true : t.sevUsable ? "libvirt's capability cache is stale: SEV shows only after a refresh" : (noSevReason(t) ?? 'host has no SEV');

export const REAL_CHECKS: readonly RealCheck[] = [
  {
    id: 'real.host-detected',
    area: 'detect',
    title: "The host's SEV state is read from its files and libvirtd and agrees with the model",
    appliesTo: () => true,
    async run(ctx) {
      return ctx.summary;
    },
  },
  {
    id: 'real.sev-define-refused',
    area: 'boot',
    title: "Host without SEV: libvirt refuses an SEV domain with its own error, the text the fake models",
    appliesTo: needsNoSevHere,
    async run(ctx) {
      const name = `${CHECK_DOMAIN_PREFIX}sev-refused`;
      const expected = launchSecurityUnsupportedError(domainContext(ctx.truth.profile, []), 'sev');
      let dom: DomainRef | null = null;
      try {
        const machine = q35Of(ctx.truth);
        // libvirt before 7.x wants cbitpos/reducedPhysBits at parse; without them it would refuse the
        // XML before ever asking whether QEMU has SEV. A host without SEV may report none: use 47/1.
        const sevBits = { cbitpos: ctx.truth.cbitpos ?? 47, reducedPhysBits: ctx.truth.reducedPhysBits ?? 1 };
        dom = await ctx.client.defineXML(tinyDomainXml(name, ctx.domainType, { sev: true, ...sevBits, ...(machine ? { machine } : {}) }));
        await ctx.client.domainCreate(dom);
      } catch (e) {
        if (!isLibvirtError(e)) throw e;
        const step = dom ? 'start' : 'define';
        // libvirt that shows SEV on a host with no SEV ASIDs (all given to SEV-ES) defines the guest;
        // it is QEMU that fails at start, when KVM has no ASID for it.
        if (ctx.truth.sevAtStart !== null && dom) return `defined, refused at start (no SEV ASIDs): ${e.message.split('\n')[0]}`;
        if (e.message !== expected.message || e.code !== expected.code) {
          throw new CheckFailed(`libvirt refused the SEV domain at ${step} with '${e.message}' (${e.codeName()}); the fake models '${expected.message}' (${expected.codeName()})`);
        }
        return `refused at ${step}: ${e.message}`;
      } finally {
        if (dom) await discard(ctx.client, dom);
      }
      throw new CheckFailed('libvirt defined and started an SEV domain on a host the model says has no SEV');
    },
  },
  {
    id: 'real.sev-define-accepted',
    area: 'boot',
    title: 'Host with SEV: libvirt accepts an SEV domain definition and keeps launchSecurity',
    appliesTo: needsSevHere,
    async run(ctx) {
      const name = `${CHECK_DOMAIN_PREFIX}sev-accepted`;
      const machine = q35Of(ctx.truth);
      let dom: DomainRef | null = null;
      try {
        const sevBits = { cbitpos: ctx.truth.cbitpos, reducedPhysBits: ctx.truth.reducedPhysBits };
        dom = await ctx.client.defineXML(tinyDomainXml(name, ctx.domainType, { sev: true, ...sevBits, ...(machine ? { machine } : {}) }));
        const xml = await ctx.client.getXMLDesc(dom);
        if (!/<launchSecurity type=['"]sev['"]/.test(xml)) throw new CheckFailed('the defined domain lost its launchSecurity element');
        return 'defined with launchSecurity sev (not started)';
      } catch (e) {
        if (isLibvirtError(e)) throw new CheckFailed(`libvirt refused an SEV domain on an SEV host: ${e.message}`);
        throw e;
      } finally {
        if (dom) await discard(ctx.client, dom);
      }
    },
  },
  {
    id: 'real.plain-lifecycle',
    area: 'lifecycle',
    title: 'A plain guest is defined, started, paused, resumed, destroyed and undefined',
    appliesTo: () => true,
    async run(ctx) {
      const c = ctx.client;
      const name = `${CHECK_DOMAIN_PREFIX}plain`;
      let dom: DomainRef | null = null;
      try {
        dom = await c.defineXML(tinyDomainXml(name, ctx.domainType));
        await expectState(c, dom, DomainState.SHUTOFF, 'define');
        await c.domainCreate(dom);
        await expectState(c, dom, DomainState.RUNNING, 'start');
        await c.suspend(dom);
        await expectState(c, dom, DomainState.PAUSED, 'suspend');
        await c.resume(dom);
        await expectState(c, dom, DomainState.RUNNING, 'resume');
        await c.destroy(dom);
        await expectState(c, dom, DomainState.SHUTOFF, 'destroy');
        await c.undefine(dom);
        const left = await c.lookupByName(name).then(() => true, (e: unknown) => !isLibvirtError(e, VirErrorNumber.NO_DOMAIN));
        if (left) throw new CheckFailed('the domain is still known after undefine');
        return `type='${ctx.domainType}': define, start, pause, resume, destroy, undefine`;
      } catch (e) {
        if (dom) await discard(c, dom);
        if (isLibvirtError(e)) throw new CheckFailed(`libvirt: ${e.message}`);
        throw e;
      }
    },
  },
];

/** One line saying what the host is, for the detection check and the report header. */
export function hostSummary(target: RealTarget): string {
  const d = target.detection;
  const t = d.truth;
  const sev = (noSevReason(t) ?? `SEV: ${t.maxGuests} guests, ${t.maxESGuests} ES guests, cbitpos ${t.cbitpos}${t.snpUsable ? ', SNP' : ''}`) + (t.sevUsable && !t.sevUsableAtStart ? " (hidden by libvirt's stale capability cache)" : '');
  return `${sev}; libvirt ${d.libvirt.libvirtVersion}, QEMU ${d.libvirt.qemuVersion}, guests use type='${d.domainType}'`;
}

/** Runs the checks against the target's host and reports them as case results. */
export async function runRealChecks(target: RealTarget, only: (id: string) => boolean = () => true): Promise<CaseResult[]> {
  const truth = target.detection.truth;
  const ctx: CheckContext = { client: target.connection, truth, domainType: target.domainType, summary: hostSummary(target) };
  const results: CaseResult[] = [];
  for (const check of REAL_CHECKS.filter((c) => only(c.id))) {
    const start = performance.now();
    const applies = check.appliesTo(truth);
    let status: CaseStatus;
    let reason: string;
    if (applies !== true) {
      status = 'not-applicable';
      reason = applies;
    } else {
      try {
        reason = await check.run(ctx);
        status = 'pass';
      } catch (e) {
        status = e instanceof CheckFailed ? 'fail' : 'error';
        reason = e instanceof Error ? e.message : String(e);
      }
    }
    const base = { caseId: check.id, area: check.area, title: check.title, profile: target.detection.profile.name };
    results.push({ ...base, status, reason, durationMs: performance.now() - start });
  }
  return results;
}
