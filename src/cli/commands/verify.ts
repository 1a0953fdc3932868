/**
 * `sevharness verify --pdh FILE --cert-chain FILE [--generation G | --ca FILE]`: checks a platform's
 * certificates as `sevctl verify` does: OCA self-signed, OCA and CEK sign the PEK, the PEK signs the
 * PDH, and the AMD root signs the CEK. The files are what `virsh nodesevinfo` prints (base64) or
 * their binary form; the root is the fake AMD root built in for a CPU generation (as sevctl ships
 * AMD's per generation) or a file of ASK ‖ ARK in AMD's format. Exit status 1 when a link fails.
 */
import { readFileSync } from 'node:fs';
import { fakeAmdRoot } from '../../../fakelibvirt/firmware/amd-root.ts';
import { splitCertChain, verifyCertChain } from '../../../fakelibvirt/firmware/cert-chain.ts';
import { SEV_CERT_SIZE } from '../../../fakelibvirt/firmware/sev-cert.ts';
import { UsageError, optionalString, requireString, type Command, type ParsedValues } from '../command.ts';
import { readCertFile } from './session.ts';

const GENERATIONS = ['naples', 'rome', 'milan', 'genoa', 'turin'] as const;

function caOf(values: ParsedValues): { ask: Buffer; ark: Buffer } | null {
  const gen = optionalString(values, 'generation');
  const file = optionalString(values, 'ca');
  if (gen && file) throw new UsageError('--generation and --ca are exclusive');
  if (gen) {
    if (!(GENERATIONS as readonly string[]).includes(gen)) throw new UsageError(`unknown generation '${gen}' (${GENERATIONS.join(', ')})`);
    const root = fakeAmdRoot(gen);
    return { ask: root.askCert, ark: root.arkCert };
  }
  if (file) {
    const both = readFileSync(file);
    const half = both.length / 2;
    if (!Number.isInteger(half) || half === 0) throw new UsageError(`${file}: expected ASK ‖ ARK of equal size`);
    return { ask: both.subarray(0, half), ark: both.subarray(half) };
  }
  return null;
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: "check a platform's SEV certificate chain (as sevctl verify)",
  usage: '--pdh FILE --cert-chain FILE [--generation naples|rome|milan|genoa|turin | --ca FILE]',
  options: { pdh: { type: 'string' }, 'cert-chain': { type: 'string' }, generation: { type: 'string' }, ca: { type: 'string' } },
  run(values, _positionals, io) {
    const pdh = readCertFile(requireString(values, 'pdh'), SEV_CERT_SIZE);
    const chainFile = requireString(values, 'cert-chain');
    let chain;
    try {
      chain = splitCertChain(readCertFile(chainFile, 3 * SEV_CERT_SIZE));
    } catch (e) {
      if (e instanceof RangeError) throw new UsageError(`${chainFile}: ${e.message}`);
      throw e;
    }
    const links = verifyCertChain({ pdh, ...chain, ...caOf(values) });
    io.out(links.map((l) => `${l.ok ? 'ok  ' : 'FAIL'} ${l.link}\n`).join(''));
    return links.every((l) => l.ok) ? 0 : 1;
  },
};
