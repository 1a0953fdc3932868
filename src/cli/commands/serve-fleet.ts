/**
 * `sevharness serve --fleet SPEC`: many hosts from one process, one socket each
 * (fakelibvirt/daemon/fleet-server.ts). SPEC is the fleet text form (`milan-7003-es8:100,genoa-9004:50`,
 * `rome-7002:3,genoa-9004:1@1000`) or a JSON file holding that text or `{ "size"?, "mix": [{ "profile",
 * "weight" }] }`. `--json` prints one line per host: name, profile, uri, socket. Fleet hosts get no
 * sysroot (writing one costs ~80 ms a host, minutes for a thousand): a fleet is for schedulers and
 * placement code that talk libvirt; `serve --profile` writes one.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ServedFleet } from '../../../fakelibvirt/daemon/fleet-server.ts';
import { FakeFleet } from '../../../fakelibvirt/fleet/fake-fleet.ts';
import { FleetSpecError, parseFleetSpec, type FleetSpec } from '../../../fakelibvirt/fleet/fleet-spec.ts';
import { allProfiles } from '../../../fakelibvirt/profile/load.ts';
import { makeDirs } from '../../fs/make-dirs.ts';
import { optionalString, UsageError, type CliIo, type ParsedValues } from '../command.ts';

const FleetFile = z.union([
  z.string(),
  z.object({
    size: z.number().int().positive().optional(),
    mix: z.array(z.object({ profile: z.string().min(1), weight: z.number().positive() })).min(1),
  }),
]);

/** The SPEC argument: the text form, or a JSON file with either form. */
export function readFleetSpec(arg: string): FleetSpec {
  try {
    if (!arg.endsWith('.json')) return parseFleetSpec(arg);
    const parsed = FleetFile.safeParse(JSON.parse(readFileSync(arg, 'utf8')));
    if (!parsed.success) throw new UsageError(`--fleet ${arg}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    const v = parsed.data;
    if (typeof v === 'string') return parseFleetSpec(v);
    return { size: v.size ?? v.mix.reduce((s, m) => s + m.weight, 0), mix: v.mix };
  } catch (e) {
    if (e instanceof FleetSpecError || e instanceof SyntaxError) throw new UsageError(`--fleet: ${e.message}`);
    throw e;
  }
}

function parseMode(text: string | undefined): number {
  if (text === undefined) return 0o600;
  if (!/^0?[0-7]{3}$/.test(text)) throw new UsageError(`--socket-mode must be octal like 0600, not '${text}'`);
  return parseInt(text, 8);
}

function untilSignal(): Promise<void> {
  return new Promise((done) => {
    const on = () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      done();
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** Runs the fleet until SIGINT/SIGTERM. */
export async function serveFleet(values: ParsedValues, io: CliIo): Promise<number> {
  for (const other of ['profile', 'socket', 'read-only-socket']) {
    if (values[other] !== undefined) throw new UsageError(`--fleet serves its own hosts: --${other} cannot be combined with it`);
  }
  const spec = readFleetSpec(String(values.fleet));
  const mode = parseMode(optionalString(values, 'socket-mode'));
  const stopped = untilSignal();
  for (const { profile } of spec.mix) {
    if (typeof profile === 'string' && !profile.endsWith('.json') && !allProfiles().has(profile)) {
      throw new UsageError(`--fleet: unknown profile '${profile}'; known: ${[...allProfiles().keys()].join(', ')}`);
    }
  }
  let fleet: FakeFleet;
  try {
    fleet = new FakeFleet(spec);
  } catch (e) {
    if (e instanceof FleetSpecError) throw new UsageError(`--fleet: ${e.message}`);
    throw e;
  }
  const stateDir = optionalString(values, 'state-dir');
  const base = stateDir ? resolve(stateDir) : mkdtempSync(join(tmpdir(), 'sevharness-fleet-'));
  if (stateDir) makeDirs(base);
  let served: ServedFleet;
  try {
    served = await ServedFleet.start(fleet, { base, socketMode: mode, sysroot: false });
  } catch (e) {
    if (!stateDir) rmSync(base, { recursive: true, force: true });
    throw e;
  }
  const json = values.json === true;
  let text = '';
  for (const { sysroot: _none, ...a } of served.announcements()) text += json ? `${JSON.stringify(a)}\n` : `${a.name} (${a.profile})\n  uri:     ${a.uri}\n`;
  io.out(text);
  await stopped;
  await served.close();
  if (!stateDir) rmSync(base, { recursive: true, force: true });
  return 0;
}
