/** `sevharness serve --fleet SPEC`: many hosts from one process, a socket each, every one a full host. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { connect } from '../../src/libvirt/client.ts';
import { guestXml, PLAIN_GUEST } from './helpers.ts';

const CLI = resolve(import.meta.dirname, '../../bin/sevharness.js');

interface Host {
  readonly name: string;
  readonly profile: string;
  readonly uri: string;
  readonly socket: string;
}

async function serveFleet(spec: string, count: number): Promise<{ hosts: Host[]; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--fleet', spec, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
  const hosts: Host[] = [];
  await new Promise<void>((ready, fail) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      hosts.push(JSON.parse(l) as Host);
      if (hosts.length === count) ready();
    });
    void exited.then((code) => fail(new Error(`serve --fleet exited with ${code}: ${stderr}`)));
  });
  return {
    hosts,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('serve --fleet', () => {
  it('serves each host of the mix on its own socket, with its own profile and its own domains', async () => {
    const fleet = await serveFleet('milan-7003-es8:2,genoa-9004:1', 3);
    try {
      expect(fleet.hosts.map((h) => h.name)).toEqual(['milan-7003-es8-1', 'genoa-9004-1', 'milan-7003-es8-2']);
      const clients = await Promise.all(fleet.hosts.map((h) => connect(h.uri)));
      const maxGuests = await Promise.all(clients.map(async (c) => (await c.nodeGetSevInfo()).find((p) => p.field === 'max-guests')?.value));
      // Milan with the ES limit 8: 502 SEV guests; Genoa: 907.
      expect(maxGuests).toEqual([502, 907, 502]);
      await clients[0]!.defineXML(guestXml(PLAIN_GUEST));
      expect((await clients[0]!.listAllDomains()).map((d) => d.name)).toEqual([PLAIN_GUEST.name]);
      expect(await clients[2]!.listAllDomains()).toEqual([]);
      await Promise.all(clients.map((c) => c.close()));
    } finally {
      expect(await fleet.stop()).toBe(0);
    }
    // Without --state-dir the fleet's directory was temporary: gone with the process.
    expect(existsSync(dirname(dirname(fleet.hosts[0]!.socket)))).toBe(false);
  });

  it('takes the spec from a JSON file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sevharness-fleet-spec-'));
    try {
      const file = join(dir, 'fleet.json');
      writeFileSync(file, JSON.stringify({ size: 4, mix: [{ profile: 'rome-7002', weight: 1 }, { profile: 'naples-7001', weight: 3 }] }));
      const fleet = await serveFleet(file, 4);
      expect(fleet.hosts.map((h) => h.profile).sort()).toEqual(['naples-7001', 'naples-7001', 'naples-7001', 'rome-7002']);
      expect(await fleet.stop()).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['milan-7003-es8:0', /weight of milan-7003-es8 must be a positive integer/],
    ['no-such-host:3', /unknown profile 'no-such-host'/],
  ])('refuses %s with a usage error', (spec, text) => {
    const r = spawnSync(process.execPath, [CLI, 'serve', '--fleet', spec], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(text);
  });
});
