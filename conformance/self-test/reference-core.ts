/**
 * Reaching the `ReferenceSevDriver` behind one host of the reference adapter, so a broken driver
 * can change one behaviour of the real driver (its detection, builder or guard) instead of
 * rewriting the adapter's answers. The adapter offers no seam for this yet, so the lookup reads its
 * private host table and fails loudly, naming this file, if that table changes shape.
 */
import type { ReferenceDriverAdapter } from '../adapters/reference.ts';
import { ReferenceSevDriver } from '../../src/driver/index.ts';

export function referenceCore(adapter: ReferenceDriverAdapter, uri: string): ReferenceSevDriver {
  const hosts: unknown = Reflect.get(adapter, 'hosts');
  if (!(hosts instanceof Map)) {
    throw new Error('ReferenceDriverAdapter no longer keeps its hosts in `hosts`; update conformance/self-test/reference-core.ts');
  }
  const entry: unknown = hosts.get(uri);
  const core: unknown = entry !== null && typeof entry === 'object' ? Reflect.get(entry, 'driver') : undefined;
  if (!(core instanceof ReferenceSevDriver)) {
    throw new Error(`the reference adapter has no ReferenceSevDriver for ${uri}; update conformance/self-test/reference-core.ts`);
  }
  return core;
}

/** Makes one driver instance see its detected report through `change` (detection itself is unchanged). */
export function overrideReport(core: ReferenceSevDriver, change: (r: ReferenceSevDriver['report']) => ReferenceSevDriver['report']): void {
  const getter = Object.getOwnPropertyDescriptor(ReferenceSevDriver.prototype, 'report')?.get;
  if (!getter) throw new Error('ReferenceSevDriver.report is no longer a getter; update conformance/self-test/reference-core.ts');
  const memo = new WeakMap<ReferenceSevDriver['report'], ReferenceSevDriver['report']>();
  Object.defineProperty(core, 'report', {
    configurable: true,
    get: () => {
      const detected = getter.call(core) as ReferenceSevDriver['report'];
      let changed = memo.get(detected);
      if (!changed) memo.set(detected, (changed = change(detected)));
      return changed;
    },
  });
}
