/**
 * Two answers of the define pipeline compared as the memo promises them alike: the same error
 * (every field), or the same definition and tree, where strings may differ only in random draws
 * (a generated MAC or uuid the document does not hold), mapped one to one.
 */
import { LibvirtError } from '../../src/libvirt/errors.ts';

export type Answer = { readonly def: unknown } | { readonly error: unknown };

const DRAW = /52:54:00(?::[0-9a-f]{2}){3}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

const ERROR_FIELDS = ['code', 'domain', 'message', 'level', 'str1', 'str2', 'str3', 'int1', 'int2'] as const;

/** '' when alike, else what differs. */
export function sameAnswer(got: Answer, want: Answer, text: string): string {
  if ('error' in got || 'error' in want) {
    if (!('error' in got)) return `accepted, the pipeline refuses: ${String((want as { error: unknown }).error)}`;
    if (!('error' in want)) return `refused (${String(got.error)}), the pipeline accepts`;
    const [a, b] = [got.error, want.error];
    if (a instanceof LibvirtError && b instanceof LibvirtError) {
      const f = ERROR_FIELDS.find((k) => a[k] !== b[k]);
      return f ? `error ${f}: ${String(a[f])} ≠ ${String(b[f])}` : '';
    }
    return String(a) === String(b) ? '' : `error ${String(a)} ≠ ${String(b)}`;
  }
  const lower = text.toLowerCase();
  const drawn = new Map<string, string>();
  const back = new Map<string, string>();
  const sameString = (x: string, y: string): boolean => {
    if (x === y) return true;
    const dx = x.match(DRAW) ?? [];
    const dy = y.match(DRAW) ?? [];
    if (dx.length !== dy.length || x.split(DRAW).join('\0') !== y.split(DRAW).join('\0')) return false;
    return dx.every((v, i) => {
      const w = dy[i]!;
      if (v === w) return true;
      if (lower.includes(v) || lower.includes(w)) return false;
      if ((drawn.get(v) ?? w) !== w || (back.get(w) ?? v) !== v) return false;
      drawn.set(v, w);
      back.set(w, v);
      return true;
    });
  };
  const walk = (a: unknown, b: unknown, path: string): string => {
    if (typeof a === 'string' && typeof b === 'string') return sameString(a, b) ? '' : `${path}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`;
    if (a === b) return '';
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return `${path}: ${String(a)} ≠ ${String(b)}`;
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: not the same kind of value`;
    const [x, y] = a instanceof Set ? [[...a], [...(b as Set<unknown>)]] : [a, b];
    const ka = Object.keys(x);
    const kb = Object.keys(y);
    if (ka.join() !== kb.join()) return `${path}: keys ${ka.join()} ≠ ${kb.join()}`;
    for (const k of ka) {
      const why = walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${path}.${k}`);
      if (why) return why;
    }
    return '';
  };
  return walk(got.def, want.def, 'def');
}
