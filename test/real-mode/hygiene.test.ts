/**
 * Clean hosts, on a fake host served as real: real mode sweeps what a run that died left behind
 * (domains carrying the runner's UUID prefix or the checks' name prefix) when it starts, removes
 * everything it made when it ends or is interrupted (SIGINT), never touches a domain it did not
 * create, and takes turns with another live run on the same host.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serveFake, type ServedFake } from '../../conformance/real/fake-as-real.ts';
import { CHECK_DOMAIN_PREFIX, HostLock, madeBySuite, removeSuiteDomain } from '../../conformance/real/host-hygiene.ts';
import { tinyDomainXml } from '../../conformance/real/checks.ts';
import { RealTarget } from '../../conformance/real/target.ts';
import { RUNNER_UUID_PREFIX } from '../../conformance/runner/requests.ts';
import { connect, uuidString, type LibvirtClient } from '../../src/libvirt/client.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const withUuid = (xml: string, uuid: string) => xml.replace('</name>', `</name><uuid>${uuid}</uuid>`);

let served: ServedFake | null = null;
let client: LibvirtClient | null = null;
afterEach(async () => {
  await client?.close();
  await served?.close();
  client = null;
  served = null;
});

async function host(profile = 'intel-xeon'): Promise<{ s: ServedFake; c: LibvirtClient }> {
  served = await serveFake(profile);
  client = await connect(served.uri);
  return { s: served, c: client };
}

const names = async (c: LibvirtClient) => (await c.listAllDomains()).map((d) => d.name).sort();

describe('real mode leaves the host as it found it', () => {
  it('sweeps a dead run\'s domains at start, leaves foreign ones alone, removes its own at the end', async () => {
    const { s, c } = await host();
    const foreign = await c.defineXML(tinyDomainXml('foreign-guest', 'kvm'));
    await c.domainCreate(foreign);
    // Leftovers of a run killed with -9: a running instance of the runner and a check's domain.
    const instance = await c.defineXML(withUuid(tinyDomainXml('conformance-7', 'kvm'), `${RUNNER_UUID_PREFIX}000000000007`));
    await c.domainCreate(instance);
    await c.defineXML(tinyDomainXml(`${CHECK_DOMAIN_PREFIX}plain`, 'kvm'));

    const target = await RealTarget.open({ uri: s.uri, sysroot: s.sysroot });
    expect([...target.swept].sort()).toEqual(['conformance-7', `${CHECK_DOMAIN_PREFIX}plain`]);
    expect(await names(c)).toEqual(['foreign-guest']);
    expect(await c.isActive(foreign)).toBe(true);

    // A guest made during the run is gone after close; the foreign one still runs.
    await c.defineXML(withUuid(tinyDomainXml('conformance-8', 'kvm'), `${RUNNER_UUID_PREFIX}000000000008`));
    await target.close();
    expect(await names(c)).toEqual(['foreign-guest']);
    expect(await c.isActive(foreign)).toBe(true);
  });

  it('refuses to remove a domain it did not create', async () => {
    const { c } = await host();
    const foreign = await c.defineXML(tinyDomainXml('sevharness-other', 'kvm'));
    expect(madeBySuite(foreign)).toBe(false);
    await expect(removeSuiteDomain(c, foreign)).rejects.toThrow(/refusing to remove domain 'sevharness-other'.*did not create it/);
    expect(await names(c)).toEqual(['sevharness-other']);
  });

  it('takes turns: a live run\'s lock refuses a second run; a dead run\'s lock is taken over', async () => {
    const { s } = await host();
    const first = await RealTarget.open({ uri: s.uri, sysroot: s.sysroot });
    await expect(RealTarget.open({ uri: s.uri, sysroot: s.sysroot })).rejects.toThrow(/another real-mode run \(a target of this process still open\) is using/);
    await first.close();
    // A lock left by a process that has exited.
    const dead = spawnSync('true').pid!;
    const lock = HostLock.acquire(s.uri);
    writeFileSync(lock.path, JSON.stringify({ pid: dead, uri: s.uri }));
    const again = await RealTarget.open({ uri: s.uri, sysroot: s.sysroot });
    await again.close();
  });

  it('Ctrl-C mid-run: the CLI removes the guests it booted and exits 130', async () => {
    const { s, c } = await host('milan-7003-253');
    mkdirSync(join(s.sysroot, '..'), { recursive: true });
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'sevharness.js'), 'conformance', '--target', 'real', '--uri', s.uri, '--sysroot', s.sysroot, '--cases', 'slots.sev-exhaustion'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Wait until the run has guests on the host, then interrupt it.
    const t0 = Date.now();
    while ((await c.listAllDomains(1)).filter(madeBySuite).length < 5) {
      if (Date.now() - t0 > 60_000) throw new Error(`no guests booted within 60 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/SIGINT: removing the suite's domains before exiting/);
    // A guest whose define was already on its way when the last sweep listed the host may land
    // after it: at most that one, and the next run's start sweeps it.
    const left = (await c.listAllDomains()).filter(madeBySuite).map((d) => `${d.name} ${uuidString(d.uuid)}`);
    expect(left.length, left.join(', ')).toBeLessThanOrEqual(1);
    const next = await RealTarget.open({ uri: s.uri, sysroot: s.sysroot });
    expect(next.swept.length).toBe(left.length);
    await next.close();
    expect((await c.listAllDomains()).filter(madeBySuite)).toEqual([]);
  }, 120_000);
});
