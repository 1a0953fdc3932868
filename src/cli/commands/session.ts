/**
 * `sevharness session PDH_FILE POLICY [--name NAME] [--dir DIR]`: the guest owner's launch session,
 * written as `sevctl session` writes it: NAME_godh.b64 and NAME_session.b64 (standard base64 for
 * `<dhCert>` and `<session>`), NAME_tek.bin and NAME_tik.bin (16 raw bytes each). TEK, TIK and the
 * DH key are fresh on every call. POLICY_MAC covers the raw policy word as LAUNCH_START checks it;
 * sevctl packs the policy differently above bit 5, so only policies of bits 0–5 agree with sevctl.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createSession } from '../../../fakelibvirt/firmware/session.ts';
import { SEV_CERT_SIZE } from '../../../fakelibvirt/firmware/sev-cert.ts';
import { writeOwnFile } from '../../fs/own-files.ts';
import { UsageError, optionalString, type Command } from '../command.ts';

/** The PDH as `virsh nodesevinfo` prints it decoded (binary), or still base64. */
export function readCertFile(path: string, size: number): Buffer {
  const raw = readFileSync(path);
  if (raw.length === size) return raw;
  const text = raw.toString('latin1').trim();
  const decoded = /^[A-Za-z0-9+/=\s]+$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  if (decoded.length !== size) throw new UsageError(`${path}: expected ${size} bytes (binary or base64), got ${raw.length} bytes`);
  return decoded;
}

export function parsePolicy(text: string): number {
  const v = /^0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text.slice(2), 16) : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new UsageError(`invalid policy '${text}' (a 32-bit number, decimal or 0x hex)`);
  return v;
}

export const sessionCommand: Command = {
  name: 'session',
  summary: "a guest owner's launch session for a PDH (as sevctl session)",
  usage: 'PDH_FILE POLICY [--name NAME] [--dir DIR]',
  options: { name: { type: 'string', short: 'n' }, dir: { type: 'string', short: 'd' } },
  positionals: true,
  run(values, positionals, io) {
    if (positionals.length !== 2) throw new UsageError('expected PDH_FILE and POLICY');
    const [pdhFile, policyText] = positionals as [string, string];
    const policy = parsePolicy(policyText);
    const name = optionalString(values, 'name') ?? 'vm';
    if (!/^[\w.-]+$/.test(name)) throw new UsageError(`invalid --name '${name}'`);
    const dir = resolve(optionalString(values, 'dir') ?? '.');
    let s;
    try {
      s = createSession(readCertFile(pdhFile, SEV_CERT_SIZE), policy);
    } catch (e) {
      if (e instanceof RangeError) throw new UsageError(`${pdhFile}: ${e.message}`);
      throw e;
    }
    const files: [string, string | Buffer][] = [
      [`${name}_godh.b64`, s.godh.toString('base64')],
      [`${name}_session.b64`, s.session.toString('base64')],
      [`${name}_tek.bin`, s.tek],
      [`${name}_tik.bin`, s.tik],
    ];
    for (const [file, content] of files) writeOwnFile(join(dir, file), content, { durable: false });
    io.out(files.map(([f]) => `${join(dir, f)}\n`).join(''));
    return 0;
  },
};
