/**
 * C's strtol family as glibc implements it, and libvirt's virStrToLong_* wrappers on top
 * (util/virstring.c): leading white space and a sign are accepted, base 0 reads 0x… as hex and 0… as
 * octal, the whole string must be consumed, and values out of the type's range are errors. Numbers
 * are BigInt so 64-bit limits are exact.
 */

const C_SPACE = new Set([' ', '\t', '\n', '\v', '\f', '\r']);

interface Scan {
  /** The magnitude read (before the sign is applied). */
  readonly magnitude: bigint;
  readonly negative: boolean;
  /** Characters consumed; 0 when no digits were read (strtol's `endptr == s`). */
  readonly end: number;
}

function digitValue(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 122) return code - 87;
  if (code >= 65 && code <= 90) return code - 55;
  return 99;
}

function scan(s: string, base: number): Scan {
  let i = 0;
  while (i < s.length && C_SPACE.has(s[i]!)) i++;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') {
    negative = s[i] === '-';
    i++;
  }
  let b = base;
  const hexPrefix = (s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && digitValue(s[i + 2] ?? '') < 16);
  if ((b === 0 || b === 16) && hexPrefix) {
    i += 2;
    b = 16;
  } else if (b === 0) {
    b = s[i] === '0' ? 8 : 10;
  }
  const start = i;
  let magnitude = 0n;
  while (i < s.length && digitValue(s[i]!) < b) {
    magnitude = magnitude * BigInt(b) + BigInt(digitValue(s[i]!));
    i++;
  }
  if (i === start) return { magnitude: 0n, negative: false, end: 0 };
  return { magnitude, negative, end: i };
}

const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;
const UINT_MAX = 2n ** 32n - 1n;
const LLONG_MIN = -(2n ** 63n);
const LLONG_MAX = 2n ** 63n - 1n;
const ULLONG_MAX = 2n ** 64n - 1n;

/** strtoul/strtoull: a negative number wraps (`-1` is the maximum); overflow is ERANGE. */
function strtoUnsigned(s: string, base: number, max: bigint): { value: bigint; end: number; erange: boolean } | null {
  const r = scan(s, base);
  if (r.end === 0) return null;
  if (r.magnitude > max) return { value: max, end: r.end, erange: true };
  const value = r.negative ? (r.magnitude === 0n ? 0n : max + 1n - r.magnitude) : r.magnitude;
  return { value, end: r.end, erange: false };
}

/** virStrToLong_i: a C int, the whole string. */
export function strToInt(s: string, base = 10): number | null {
  const r = scan(s, base);
  if (r.end === 0 || r.end !== s.length) return null;
  const v = r.negative ? -r.magnitude : r.magnitude;
  if (v < LLONG_MIN || v > LLONG_MAX) return null; // strtol's ERANGE on a 64-bit long
  if (v < INT_MIN || v > INT_MAX) return null;
  return Number(v);
}

/** virStrToLong_ui: an unsigned int; "-1" (and any negative whose magnitude fits) wraps. */
export function strToUInt(s: string, base = 10): number | null {
  const r = strtoUnsigned(s, base, 2n ** 64n - 1n);
  if (!r || r.erange || r.end !== s.length) return null;
  let v = r.value;
  if (s.slice(0, r.end).includes('-')) {
    const magnitude = 2n ** 64n - v;
    if (v !== 0n && magnitude > UINT_MAX) return null;
    v &= UINT_MAX;
  }
  return v > UINT_MAX ? null : Number(v);
}

/** virStrToLong_uip: an unsigned int; any '-' is refused. */
export function strToUIntPositive(s: string, base = 10): number | null {
  const r = strtoUnsigned(s, base, ULLONG_MAX);
  if (!r || r.erange || r.end !== s.length || s.slice(0, r.end).includes('-')) return null;
  return r.value > UINT_MAX ? null : Number(r.value);
}

/** virStrToLong_ll: a C long long. */
export function strToLongLong(s: string, base = 10): bigint | null {
  const r = scan(s, base);
  if (r.end === 0 || r.end !== s.length) return null;
  const v = r.negative ? -r.magnitude : r.magnitude;
  return v < LLONG_MIN || v > LLONG_MAX ? null : v;
}

/** virStrToLong_ull: an unsigned long long; a negative number wraps as strtoull does. */
export function strToULongLong(s: string, base = 10): bigint | null {
  const r = strtoUnsigned(s, base, ULLONG_MAX);
  if (!r || r.erange || r.end !== s.length) return null;
  return r.value;
}

/** virStrToLong_ullp: an unsigned long long; any '-' is refused. */
export function strToULongLongPositive(s: string, base = 10): bigint | null {
  const r = strtoUnsigned(s, base, ULLONG_MAX);
  if (!r || r.erange || r.end !== s.length || s.slice(0, r.end).includes('-')) return null;
  return r.value;
}
