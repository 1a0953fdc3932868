/** A case context on a fresh fake host, for judging hand-made driver answers. */
import type { SevDriver } from '../../contract.ts';
import { caseById } from '../../catalogue/index.ts';
import type { RequestGiven } from '../../catalogue/types.ts';
import { CaseContext } from '../case-context.ts';
import { DriverSlot } from '../driver-slot.ts';
import { FakeTarget } from '../fake-target.ts';
import { buildRequest, InstanceNames } from '../requests.ts';

export interface TestContext {
  readonly ctx: CaseContext;
  close(): Promise<void>;
}

export async function contextFor(driver: SevDriver, opts: { profile?: string; request?: RequestGiven } = {}): Promise<TestContext> {
  const target = new FakeTarget();
  const profile = opts.profile ?? 'milan-7003-es8';
  const request = buildRequest(opts.request);
  const ctx = new CaseContext(caseById('detect.sev-es')!, target.truth(profile), await target.open(profile), target, new DriverSlot(async () => driver), request, new InstanceNames());
  return {
    ctx,
    async close() {
      await ctx.close();
      await target.close();
    },
  };
}
