/**
 * What a fleet is made of: a size and a mix of profiles, written as `serve --fleet` and the bench
 * take it (`rome-7002:3,milan-7003-es8:5,genoa-9004:2@1000` or `rome-7002:300,genoa-9004:700`).
 * Shares are weights, so a mix reads the same at any size; without `@size` the weights are the
 * host counts.
 */
import type { HardwareProfile } from '../profile/schema.ts';

export interface FleetShare {
  /** A bundled profile's name, a profile file's path, or a profile already loaded. */
  readonly profile: string | HardwareProfile;
  /** Relative weight (host count when the fleet's size is not given). */
  readonly weight: number;
}

export interface FleetSpec {
  readonly size: number;
  readonly mix: readonly FleetShare[];
}

export class FleetSpecError extends Error {
  override readonly name = 'FleetSpecError';
}

const positiveInt = (text: string, what: string): number => {
  if (!/^[1-9]\d*$/.test(text)) throw new FleetSpecError(`${what} must be a positive integer, not '${text}'`);
  return Number(text);
};

/** `NAME:WEIGHT,…[@SIZE]`; a share without `:WEIGHT` weighs 1. */
export function parseFleetSpec(text: string): FleetSpec {
  const at = text.lastIndexOf('@');
  const body = at >= 0 ? text.slice(0, at) : text;
  const mix = body.split(',').map((part): FleetShare => {
    const p = part.trim();
    if (p === '') throw new FleetSpecError(`empty share in fleet spec '${text}'`);
    const colon = p.lastIndexOf(':');
    if (colon < 0) return { profile: p, weight: 1 };
    return { profile: p.slice(0, colon), weight: positiveInt(p.slice(colon + 1), `weight of ${p.slice(0, colon)}`) };
  });
  const size = at >= 0 ? positiveInt(text.slice(at + 1), 'fleet size') : mix.reduce((s, m) => s + m.weight, 0);
  return { size, mix };
}

/**
 * Which share each host index gets: counts by largest remainder (they sum to `size`), then the
 * shares interleaved so that any prefix of the fleet has about the mix's proportions.
 */
export function fleetLayout(spec: FleetSpec): number[] {
  const { size, mix } = spec;
  if (!Number.isInteger(size) || size < 1) throw new FleetSpecError(`fleet size must be a positive integer, not ${size}`);
  if (mix.length === 0) throw new FleetSpecError('a fleet needs at least one profile');
  const total = mix.reduce((s, m) => s + m.weight, 0);
  if (!mix.every((m) => Number.isFinite(m.weight) && m.weight > 0)) throw new FleetSpecError('fleet weights must be positive numbers');
  const exact = mix.map((m) => (m.weight / total) * size);
  const counts = exact.map(Math.floor);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0, left = size - counts.reduce((s, c) => s + c, 0); k < left; k++) counts[order[k]!.i]! += 1;
  // Smooth weighted round-robin: each step the share furthest behind its proportion goes next.
  const layout = new Array<number>(size);
  const credit = counts.map(() => 0);
  for (let n = 0; n < size; n++) {
    let best = -1;
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] === 0) continue;
      credit[i]! += counts[i]!;
      if (best < 0 || credit[i]! > credit[best]!) best = i;
    }
    credit[best]! -= size;
    layout[n] = best;
  }
  return layout;
}
