/**
 * The lifecycle judge: boot an SEV guest, bring it into the operation's starting state, run the
 * operation, compare the outcome, and check the guest is (or is no longer) encrypted afterwards.
 */
import { isRefusal, type LifecycleParams } from '../../contract.ts';
import { refusalText, type BootedGuest, type CaseContext } from '../case-context.ts';
import { ArrangeFailure, fail, PASS, type Verdict } from '../outcomes.ts';
import type { TargetHost } from '../target.ts';
import { LIFECYCLE_INPUTS } from './lifecycle-inputs.ts';
import type { ExpectationOf, Judge } from './types.ts';

async function bootGuest(ctx: CaseContext): Promise<BootedGuest> {
  const r = await ctx.spawn();
  if (isRefusal(r)) throw new ArrangeFailure(`the SEV guest to operate on was refused: ${refusalText(r)}`);
  return ctx.booted.at(-1)!;
}

/** The guest's XML after the operation: the driver's answer, else what a host holding it shows. */
async function xmlAfter(answer: string | undefined, guest: BootedGuest, hosts: readonly TargetHost[]): Promise<string | null> {
  if (answer) return answer;
  for (const h of hosts) {
    const x = (await h.domainXml(guest.instance.uuid)) ?? (await h.domainXml(guest.spawned.domainName));
    if (x) return x;
  }
  return null;
}

/** Whether the guest, where a host shows it running, runs with an ASID (null when nowhere to be seen). */
async function runsEncrypted(guest: BootedGuest, hosts: readonly TargetHost[]): Promise<boolean | null> {
  for (const h of hosts) {
    const g = (await h.inspect())?.guests.find((x) => x.name === guest.spawned.domainName && x.state === 'running');
    if (g) return g.asid !== undefined;
  }
  return null;
}

function judgeEncryption(exp: ExpectationOf<'lifecycle'>, xml: string | null, encrypted: boolean | null): Verdict {
  if (exp.encryptedAfter === undefined) return PASS;
  const want = exp.encryptedAfter ? 'encrypted' : 'unencrypted';
  if (xml !== null && /<launchSecurity\b/.test(xml) !== exp.encryptedAfter) {
    return fail(`after ${exp.operation} the guest XML ${exp.encryptedAfter ? 'lacks' : 'still has'} <launchSecurity>; expected ${want}`);
  }
  if (encrypted !== null && encrypted !== exp.encryptedAfter) {
    return fail(`after ${exp.operation} the guest runs ${encrypted ? 'with' : 'without'} an SEV ASID; expected ${want}`);
  }
  return PASS;
}

export const judgeLifecycle: Judge<'lifecycle'> = async (exp, ctx) => {
  const guest = await bootGuest(ctx);
  const inputs = LIFECYCLE_INPUTS[exp.operation] ?? {};
  const base = { uri: ctx.host.uri, instance: guest.instance, request: guest.request };
  for (const op of inputs.before ?? []) {
    const r = await ctx.call('lifecycle', { ...base, operation: op });
    if (isRefusal(r)) throw new ArrangeFailure(`${op} before ${exp.operation} was refused: ${refusalText(r)}`);
  }
  const hosts: TargetHost[] = [ctx.host];
  const params: LifecycleParams = { ...base, operation: exp.operation };
  if (inputs.destination === 'other-host') {
    const dest = await ctx.openHost(ctx.host.name);
    // The destination's compute service has reported its host, as it would have at its start.
    await ctx.report(dest);
    hosts.push(dest);
    params.targetUri = dest.uri;
  } else if (inputs.destination === 'same-host') {
    params.targetUri = ctx.host.uri;
  }
  if (inputs.image) params.image = inputs.image(exp.outcome);
  if (inputs.flavor) params.flavor = inputs.flavor(exp.encryptedAfter);

  const r = await ctx.call('lifecycle', params);
  if (exp.outcome !== 'ok') {
    if (!isRefusal(r)) return fail(`expected ${exp.operation} refused with ${exp.outcome}, driver performed it`);
    return r.code === exp.outcome ? PASS : fail(`expected ${exp.operation} refused with ${exp.outcome}, driver refused ${refusalText(r)}`);
  }
  if (isRefusal(r)) return fail(`expected ${exp.operation} allowed, driver refused ${refusalText(r)}`);
  const xml = await xmlAfter(r.xml, guest, hosts);
  if (xml !== null) ctx.xmlSubject = xml;
  return judgeEncryption(exp, xml, await runsEncrypted(guest, hosts));
};
