/**
 * libvirt's CPU/node lists ("0-3,^2,8"), util/virbitmap.c: virBitmapParse with a size limit and
 * virBitmapFormat, which prints ranges back in canonical form.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';

/** VIR_DOMAIN_CPUMASK_LEN: bits a cpuset/nodeset may name. */
export const CPUMASK_LEN = 16384;

const SPACE = /[ \t\n\v\f\r]/;
const DIGIT = /[0-9]/;

/** strtol's prefix read with virStrToLong_i's checks (ERANGE and int range); null on failure. */
function readInt(s: string, at: number): { value: number; end: number } | null {
  let i = at;
  while (i < s.length && SPACE.test(s[i]!)) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') neg = s[i++] === '-';
  const start = i;
  while (i < s.length && DIGIT.test(s[i]!)) i++;
  if (i === start) return null;
  const v = (neg ? -1 : 1) * Number(s.slice(start, i));
  if (v > 2147483647 || v < -2147483648) return null;
  return { value: v, end: i };
}

/** virBitmapParse(str, size): the set bits, or null where libvirt reports "Failed to parse bitmap". */
export function parseBitmap(str: string, size = CPUMASK_LEN): Set<number> | null {
  const bits = new Set<number>();
  let i = 0;
  const skip = () => {
    while (i < str.length && SPACE.test(str[i]!)) i++;
  };
  skip();
  if (i >= str.length) return null;
  while (i < str.length) {
    let neg = false;
    if (str[i] === '^') {
      i++;
      neg = true;
    }
    if (!DIGIT.test(str[i] ?? '')) return null;
    const a = readInt(str, i);
    if (!a || a.value < 0) return null;
    i = a.end;
    skip();
    if (str[i] === ',' || i >= str.length) {
      if (a.value >= size) return null;
      if (neg) bits.delete(a.value);
      else bits.add(a.value);
    } else if (str[i] === '-') {
      if (neg) return null;
      i++;
      skip();
      const b = readInt(str, i);
      if (!b || b.value < a.value) return null;
      i = b.end;
      if (b.value >= size) return null;
      for (let k = a.value; k <= b.value; k++) bits.add(k);
      skip();
    }
    if (str[i] === ',') {
      i++;
      skip();
    } else if (i >= str.length) break;
    else return null;
  }
  return bits;
}

/** virBitmapParse's error text. */
export const bitmapError = (str: string) => LibvirtError.of(VirErrorNumber.INVALID_ARG, VirErrorDomain.NONE, `Failed to parse bitmap '${str}'`);

/** virBitmapFormat: "0-3,8". */
export function formatBitmap(bits: Iterable<number>): string {
  const sorted = [...bits].sort((a, b) => a - b);
  const out: string[] = [];
  for (let k = 0; k < sorted.length; ) {
    let j = k;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(j === k ? `${sorted[k]}` : `${sorted[k]}-${sorted[j]}`);
    k = j + 1;
  }
  return out.join(',');
}
