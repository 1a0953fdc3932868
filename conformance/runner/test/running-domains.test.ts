/**
 * `TargetHost.runningDomains()`, the seam through which judges learn which guests run: the fake
 * answers from its FakeHost (running and paused count, shut-off does not), and the refusal judge of
 * spawn uses it to catch a driver that refuses yet leaves a guest running — only guests started
 * during the judged call, never the host's others; a target that cannot tell gets a note, not a fail.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SevDriver, SpawnParams } from '../../contract.ts';
import type { Expectation } from '../../catalogue/types.ts';
import { caseById } from '../../catalogue/index.ts';
import { connect } from '../../../src/libvirt/client.ts';
import { guestXml } from '../../../test/daemon/helpers.ts';
import { CaseContext } from '../case-context.ts';
import { DriverSlot } from '../driver-slot.ts';
import { FakeTarget } from '../fake-target.ts';
import { judge } from '../judges/index.ts';
import { buildRequest, InstanceNames } from '../requests.ts';
import type { TargetHost } from '../target.ts';
import { describeAs, sevReport } from './toy-drivers.ts';

const PROFILE = 'milan-7003-es8';
const EXP: Expectation = { kind: 'refusal', op: 'spawn', code: 'NO_SEV_HOST' };
const targets: FakeTarget[] = [];
const contexts: CaseContext[] = [];
afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close();
  for (const t of targets.splice(0)) await t.close();
});

let serial = 0;
/** Starts a plain (unencrypted) guest over libvirt's wire, as a driver would; its name. */
async function startGuest(uri: string, name: string, opts: { pause?: boolean; defineOnly?: boolean } = {}): Promise<string> {
  const c = await connect(uri);
  try {
    const uuid = `c7a5fdbd-edaf-4455-926a-${(serial++).toString(16).padStart(12, '0')}`;
    const dom = await c.defineXML(guestXml({ name, uuid, sev: false }));
    if (!opts.defineOnly) await c.domainCreate(dom);
    if (opts.pause) await c.suspend(dom);
    return name;
  } finally {
    await c.close();
  }
}

/** Refuses every spawn; `leak` first starts a guest named after the instance (the bug to catch). */
function refusingDriver(leak: boolean): SevDriver {
  return {
    describe: describeAs(['reportHost', 'spawn']),
    reportHost: async () => sevReport(null),
    async spawn(p: SpawnParams) {
      if (leak) await startGuest(p.uri, 'instance' in p ? p.instance.name : 'leaked-guest');
      return { code: 'NO_SEV_HOST', message: 'no SEV here' };
    },
  };
}

async function contextOn(driver: SevDriver, wrap: (h: TargetHost) => TargetHost = (h) => h): Promise<CaseContext> {
  const target = new FakeTarget();
  targets.push(target);
  const host = wrap(await target.open(PROFILE));
  const ctx = new CaseContext(caseById('boot.no-sev-host-refuses-spawn')!, target.truth(PROFILE), host, target, new DriverSlot(async () => driver), buildRequest(), new InstanceNames());
  contexts.push(ctx);
  return ctx;
}

describe('runningDomains on the fake target', () => {
  it('lists running and paused domains, not defined-only ones', async () => {
    const ctx = await contextOn(refusingDriver(false));
    expect(await ctx.host.runningDomains()).toEqual([]);
    await startGuest(ctx.host.uri, 'up');
    await startGuest(ctx.host.uri, 'paused', { pause: true });
    await startGuest(ctx.host.uri, 'off', { defineOnly: true });
    expect([...(await ctx.host.runningDomains())!].sort()).toEqual(['paused', 'up']);
  });
});

describe('the spawn refusal judge sees what was left running', () => {
  it('fails a driver that refuses after starting a guest, naming it', async () => {
    const ctx = await contextOn(refusingDriver(true));
    const v = await judge(EXP, ctx);
    expect(v.ok).toBe(false);
    expect(v).toMatchObject({ reason: expect.stringMatching(/^spawn refused with NO_SEV_HOST, yet a guest was left running on the host \(\S+\)$/) });
  });

  it('passes a clean refusal although the host runs guests of its own', async () => {
    const ctx = await contextOn(refusingDriver(false));
    await startGuest(ctx.host.uri, 'tenant-guest');
    expect(await judge(EXP, ctx)).toEqual({ ok: true });
  });

  it('on a target that cannot list domains, passes with a note saying what was not checked', async () => {
    const blind = (h: TargetHost): TargetHost => Object.create(h, { runningDomains: { value: async () => null } }) as TargetHost;
    const ctx = await contextOn(refusingDriver(true), blind);
    expect(await judge(EXP, ctx)).toEqual({ ok: true, note: 'the target cannot list running domains: not checked that the refused spawn left nothing running' });
  });
});
