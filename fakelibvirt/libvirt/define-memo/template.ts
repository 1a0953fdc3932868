/**
 * A defined domain as a template: the definition (its tree and the host's fields) with every string
 * that holds one of the define's variable values (the name, the uuid, a random draw) found and
 * marked. Filling it in for other values copies only the paths to those strings; every other
 * subtree is shared, frozen so that no domain's later change can reach another's definition.
 */
import { MARK_BASE, MARK_COUNT } from './identity.ts';

type Key = string | number;

/**
 * One string of the definition that holds variable values: where it is, and its text split at
 * them (literal, value index, literal, …, literal).
 */
interface Site {
  readonly path: readonly Key[];
  readonly parts: readonly (string | number)[];
}

/** The masked string as literals and value indices. */
function partsOf(masked: string): (string | number)[] {
  const parts: (string | number)[] = [];
  let lit = '';
  for (let i = 0; i < masked.length; i++) {
    const c = masked.charCodeAt(i);
    if (c >= MARK_BASE && c < MARK_BASE + MARK_COUNT) {
      parts.push(lit, c - MARK_BASE);
      lit = '';
    } else {
      lit += masked[i];
    }
  }
  parts.push(lit);
  return parts;
}

function fill(parts: readonly (string | number)[], values: readonly string[]): string {
  let s = parts[0] as string;
  for (let i = 1; i < parts.length; i += 2) s += values[parts[i] as number]! + (parts[i + 1] as string);
  return s;
}

export interface Template<T> {
  readonly base: T;
  /** The sites as a tree of keys from the base: each object on a path to a site is copied once. */
  readonly paths: PathTree;
}

interface PathTree {
  readonly kids: Map<Key, PathTree>;
  parts?: readonly (string | number)[];
}

function pathTreeOf(sites: readonly Site[]): PathTree {
  const root: PathTree = { kids: new Map() };
  for (const { path, parts } of sites) {
    let at = root;
    for (const k of path) {
      let next = at.kids.get(k);
      if (!next) at.kids.set(k, (next = { kids: new Map() }));
      at = next;
    }
    at.parts = parts;
  }
  return root;
}

const mark = (i: number) => String.fromCharCode(MARK_BASE + i);

/** The string with each value marked, the last values first (draws, then the uuid, then the name). */
function maskString(s: string, values: readonly string[]): string {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i]!;
    if (v !== '' && s.includes(v)) s = s.replaceAll(v, mark(i));
  }
  return s;
}

const isPlain = (v: object) => {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/**
 * The template of `base` for these values (index i is marked U+E000+i; '' for an absent one), or
 * null when the definition holds something a template cannot vary (a value inside a Set or an object
 * that is not plain data).
 */
export function templateOf<T extends object>(base: T, values: readonly string[]): Template<T> | null {
  if (values.length > MARK_COUNT) return null;
  const sites: Site[] = [];
  const path: Key[] = [];
  const walk = (v: unknown): boolean => {
    if (typeof v === 'string') {
      const masked = maskString(v, values);
      if (masked !== v) sites.push({ path: [...path], parts: partsOf(masked) });
      return true;
    }
    if (v === null || typeof v !== 'object') return true;
    if (v instanceof Set) {
      for (const x of v) if (typeof x !== 'string' || maskString(x, values) !== x) return false;
      return true;
    }
    if (!Array.isArray(v) && !isPlain(v)) return false;
    const keys: Key[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
    for (const k of keys) {
      path.push(k);
      const ok = walk((v as Record<Key, unknown>)[k]);
      path.pop();
      if (!ok) return false;
    }
    return true;
  };
  return walk(base) ? { base, paths: pathTreeOf(sites) } : null;
}

const copyOf = (o: object): Record<Key, unknown> => (Array.isArray(o) ? o.slice() : { ...o }) as Record<Key, unknown>;

/** The template filled in with `values` (the same indices as templateOf's): a new object, sharing every subtree no value reaches. */
export function instantiate<T extends object>(t: Template<T>, values: readonly string[]): T {
  return filled(t.base, t.paths, values) as T;
}

function filled(v: object, at: PathTree, values: readonly string[]): Record<Key, unknown> {
  const copy = copyOf(v);
  for (const [k, next] of at.kids) copy[k] = next.parts ? fill(next.parts, values) : filled(copy[k] as object, next, values);
  return copy;
}

/** Structural equality as formatting sees it: same keys in the same order, same array and Set order. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Number.isNaN(a) && Number.isNaN(b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Set) {
    const bs = [...(b as Set<unknown>)];
    return a.size === bs.length && [...a].every((x, i) => sameValue(x, bs[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!;
    if (k !== kb[i] || !sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** Freezes every object and array under `v` (a Set's members and binary views stay as they are). */
export function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v) || v instanceof Set || ArrayBuffer.isView(v)) return;
  Object.freeze(v);
  for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
}
