/**
 * A broken driver: the reference adapter, unchanged, around a variant of the reference driver with
 * one behaviour changed where a driver developer would get it wrong — its detection, its XML
 * builder, its lifecycle guard, its host-file reads. The variant plugs in through the adapter's
 * supported hook (`ReferenceDriverOptions.createDriver`), usually as a `ReferenceSevDriver`
 * subclass; the contract answers are whatever the changed driver naturally produces.
 */
import type { SevDriver } from '../contract.ts';
import { createReferenceDriver } from '../adapters/reference.ts';
import { hostInventory, type HostReport, hostTraits, type ModelReport } from '../../src/driver/index.ts';
import type { BrokenDriverSpec } from './types.ts';

/** The reference adapter around the spec's variant, describing itself as `broken:<name>`. */
export function brokenReference(spec: Pick<BrokenDriverSpec, 'name' | 'variant' | 'wrap'>): SevDriver {
  const adapter = createReferenceDriver({ name: `broken:${spec.name}`, createDriver: spec.variant });
  return spec.wrap ? spec.wrap(adapter) : adapter;
}

/** A detection report with changed model facts, and the traits and inventory the driver derives from them. */
export function withModels(r: HostReport, change: (m: ModelReport, model: 'sev' | 'sevEs') => ModelReport): HostReport {
  const sev = { ...r.sev, ...change(r.sev, 'sev') };
  const sevEs = change(r.sevEs, 'sevEs');
  return { ...r, sev, sevEs, traits: hostTraits(sev, sevEs), inventories: hostInventory(sev, sevEs) };
}
