/**
 * Requests as the runner builds them: the suite's standard flavor and image with a case's overrides,
 * following the merge rules of `RequestGiven` (flavor extra specs merge; image properties replace
 * the standard ones as a whole, an `undefined` property is left out), and instance identities.
 */
import { DriverConfigSchema, type BootRequest, type DriverConfig, type InstanceRef, type MemEncryptionModel } from '../contract.ts';
import { FLAG, IMAGE_FLAG, IMAGE_MODEL, MODEL_SPEC, PLAIN, SEV, SEV_ES, STANDARD_FLAVOR, STANDARD_IMAGE } from '../catalogue/requests.ts';
import type { RequestGiven } from '../catalogue/types.ts';

export const DEFAULT_CONFIG: DriverConfig = DriverConfigSchema.parse({});

function defined<V>(o: Readonly<Record<string, V | undefined>>): Record<string, V> {
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, V] => e[1] !== undefined));
}

export function buildRequest(given: RequestGiven = {}, config: DriverConfig = DEFAULT_CONFIG): BootRequest {
  const { extraSpecs, ...flavorRest } = given.flavor ?? {};
  const { properties, ...imageRest } = given.image ?? {};
  return {
    flavor: { ...STANDARD_FLAVOR, ...flavorRest, extraSpecs: defined({ ...STANDARD_FLAVOR.extraSpecs, ...extraSpecs }) },
    image: { ...STANDARD_IMAGE, ...imageRest, properties: defined({ ...(properties ?? STANDARD_IMAGE.properties) }) },
    config: { ...config, ...given.config },
  };
}

/** The same request with the operator config replaced (set-config actions apply to later calls). */
export function withConfig(req: BootRequest, config: DriverConfig): BootRequest {
  return { ...req, config };
}

/** The request with its flavor's memory changed (slot and memory cases size their guests). */
export function withMemory(req: BootRequest, memoryMiB: number): BootRequest {
  return { ...req, flavor: { ...req.flavor, memoryMiB } };
}

/** The request asking for `model` through the flavor (the `boot` host action's model). */
export function withModel(req: BootRequest, model: MemEncryptionModel): BootRequest {
  return { ...req, flavor: { ...req.flavor, extraSpecs: { ...req.flavor.extraSpecs, [MODEL_SPEC]: model } } };
}

/** The standard request for a schedule step's guest kind. */
export function requestForKind(kind: 'sev' | 'sev-es' | 'plain', config: DriverConfig): BootRequest {
  return buildRequest(kind === 'sev' ? SEV : kind === 'sev-es' ? SEV_ES : PLAIN, config);
}

/** The encryption model a request asks for by its spec keys alone, or null (used to spot models a driver does not build). */
export function requestedModel(req: BootRequest): string | null {
  const spec = req.flavor.extraSpecs[MODEL_SPEC] ?? req.image.properties[IMAGE_MODEL];
  return typeof spec === 'string' ? spec : null;
}

/** What every instance UUID the runner hands out starts with: the real target cleans up by it. */
export const RUNNER_UUID_PREFIX = '5e0c0000-0000-4000-8000-';

/** Run-wide instance identities: unique for the driver's whole life, stable from run to run. */
export class InstanceNames {
  private n = 0;

  next(): InstanceRef {
    const n = ++this.n;
    return { uuid: `${RUNNER_UUID_PREFIX}${n.toString(16).padStart(12, '0')}`, name: `conformance-${n}` };
  }
}

const isTrue = (v: string | boolean | undefined): boolean => v === true || (typeof v === 'string' && /^(true|1|yes|on|y|t)$/i.test(v));

/**
 * The model a guest booted from this request runs with, for the slots the runner counts on its
 * side (schedule allocations of guests it booted): a valid request with the flag is `amd-sev`
 * unless a known model is named.
 */
export function encryptionModelOf(req: BootRequest): MemEncryptionModel | null {
  const model = requestedModel(req);
  const flagged = isTrue(req.flavor.extraSpecs[FLAG]) || isTrue(req.image.properties[IMAGE_FLAG]);
  if (!flagged && model === null) return null;
  return model === 'amd-sev-es' || model === 'amd-sev-snp' ? model : 'amd-sev';
}
