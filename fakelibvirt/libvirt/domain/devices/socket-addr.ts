/**
 * virSocketAddrParse for a guestfwd channel's target address: getaddrinfo(AI_NUMERICHOST) as glibc
 * 2.36 reads a numeric host (IPv4 in inet_aton's forms — 1 to 4 parts, octal and hex — or IPv6),
 * and virSocketAddrFormat's dotted-quad form of the result.
 */
import { isIPv6 } from 'node:net';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import { unsupported } from './device-info.ts';

/** glibc's inet_aton_exact: the 32-bit address, or null. */
export function inetAton(s: string): number | null {
  const parts: number[] = [];
  let i = 0;
  for (;;) {
    if (!/[0-9]/.test(s[i] ?? '')) return null;
    let base = 10;
    if (s[i] === '0') {
      i++;
      if (s[i] === 'x' || s[i] === 'X') {
        base = 16;
        i++;
      } else base = 8;
    }
    let val = 0;
    for (;;) {
      const c = s[i] ?? '';
      if (/[0-9]/.test(c)) {
        if (base === 8 && (c === '8' || c === '9')) return null;
        val = val * base + Number(c);
      } else if (base === 16 && /[0-9a-fA-F]/.test(c)) val = val * 16 + parseInt(c, 16);
      else break;
      if (val > 0xffffffff) return null;
      i++;
    }
    if (s[i] === '.') {
      if (parts.length > 2 || val > 0xff) return null;
      parts.push(val);
      i++;
      continue;
    }
    parts.push(val);
    break;
  }
  if (i !== s.length) return null;
  const last = parts.pop()!;
  const limit = [0xffffffff, 0xffffff, 0xffff, 0xff][parts.length]!;
  if (last > limit) return null;
  return parts.reduce((acc, p, k) => acc + p * 2 ** (24 - 8 * k), 0) + last;
}

export function parseGuestfwdAddress(addr: string): string {
  const v4 = inetAton(addr);
  if (v4 !== null) return [24, 16, 8, 0].map((sh) => Math.floor(v4 / 2 ** sh) % 256).join('.');
  if (isIPv6(addr)) throw unsupported('guestfwd channel only supports IPv4 addresses');
  throw LibvirtError.of(VirErrorNumber.SYSTEM_ERROR, VirErrorDomain.NONE, `Cannot parse socket address '${addr}': Name or service not known`);
}
