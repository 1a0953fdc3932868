/**
 * The control socket from TypeScript: every fault kind through ControlClient, its effect seen by the
 * libvirt client over the daemon's socket and in the sysroot on disk; resetHandlers restores both
 * exactly; the socket is 0600, answers errors as JSON, and is never the libvirt socket.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect as dial } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlClient, ControlError } from '../../fakelibvirt/control/client.ts';
import { fault, type Fault } from '../../fakelibvirt/control/fault.ts';
import { startControlServer } from '../../fakelibvirt/control/server.ts';
import { syncSysroot } from '../../fakelibvirt/control/sysroot-sync.ts';
import { FakeLibvirtd } from '../../fakelibvirt/daemon/server.ts';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { decodeCpuid } from '../../fakelibvirt/profile/derive.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { connect, type LibvirtClient } from '../../src/libvirt/client.ts';
import { DomainFlags } from '../../src/libvirt/flags.ts';
import { guestXml, sevLaunch } from '../host/sev-guests.ts';

const PROFILES = ['naples-7001', 'milan-7003-es8'] as const;
type Profile = (typeof PROFILES)[number];

interface Served {
  readonly daemon: FakeLibvirtd<FakeHost>;
  readonly sysroot: string;
  readonly client: LibvirtClient;
  readonly ctl: ControlClient;
}

const dir = mkdtempSync(join(tmpdir(), 'sevharness-ctl-ts-'));
const controlPath = join(dir, 'ctl.sock');
const served = new Map<Profile, Served>();
let control: Awaited<ReturnType<typeof startControlServer>>;

beforeAll(async () => {
  for (const p of PROFILES) {
    const host = new FakeHost(loadProfile(p));
    const sysroot = join(dir, p, 'sysroot');
    syncSysroot(host, sysroot);
    const daemon = new FakeLibvirtd(host, { socketPath: join(dir, `${p}.sock`) });
    await daemon.listen();
    served.set(p, { daemon, sysroot, client: await connect(daemon.uri), ctl: new ControlClient(controlPath, p) });
  }
  control = await startControlServer(PROFILES.map((p) => ({ name: p, daemon: served.get(p)!.daemon, sysroot: served.get(p)!.sysroot })), controlPath);
});

afterAll(async () => {
  await control.close();
  for (const s of served.values()) {
    await s.client.close();
    await s.daemon.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

function tree(root: string): Record<string, [string, number]> {
  const out: Record<string, [string, number]> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(root, p)] = [readFileSync(p, 'utf8'), statSync(p).mode & 0o7777];
    }
  };
  walk(root);
  return out;
}

async function settled<T>(p: Promise<T>): Promise<T | string> {
  try {
    return await p;
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

async function views(s: Served) {
  return {
    caps: await s.client.getCapabilities(),
    domcaps: await settled(s.client.getDomainCapabilities({ arch: 'x86_64', machine: 'q35', virttype: 'kvm' })),
    sevInfo: await settled(s.client.nodeGetSevInfo()),
    files: tree(s.sysroot),
  };
}

const sevYes = async (s: Served) => /<sev supported='yes'/.test(await s.client.getDomainCapabilities({ arch: 'x86_64', machine: 'q35', virttype: 'kvm' }));

/** Defines and starts an SEV guest; null or libvirt's error. Leaves no domain behind. */
async function start(s: Served, p: Profile, locked = true): Promise<string | null> {
  const cbit = decodeCpuid(loadProfile(p))!.cbitpos;
  const xml = guestXml({ name: 'g', launchSecurity: sevLaunch('0x0033', `<cbitpos>${cbit}</cbitpos><reducedPhysBits>1</reducedPhysBits>`), ...(!locked && { memory: '' }) });
  let dom;
  try {
    dom = await s.client.defineXML(xml);
  } catch (e) {
    return (e as Error).message;
  }
  try {
    await s.client.domainCreate(dom);
    await s.client.destroy(dom);
    return null;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await s.client.undefineFlags(dom, DomainFlags.UNDEFINE_NVRAM);
  }
}

const read = (s: Served, rel: string): string | null => {
  try {
    return readFileSync(join(s.sysroot, rel), 'utf8');
  } catch {
    return null;
  }
};

describe('every fault kind over the control socket, seen through libvirt and the sysroot', () => {
  const cases: Array<{ p: Profile; f: Fault; seen: (s: Served) => Promise<void> }> = [
    {
      p: 'milan-7003-es8',
      f: fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT', { times: 1 }),
      seen: async (s) => {
        expect(await start(s, 'milan-7003-es8')).toMatch(/fw_error=23 'Required firmware resource depleted'/);
        expect(await start(s, 'milan-7003-es8')).toBeNull();
      },
    },
    {
      p: 'milan-7003-es8',
      f: fault.domcaps('x86_64', { times: 'always' }),
      seen: async (s) => expect(await settled(s.client.getDomainCapabilities({ arch: 'x86_64' }))).toMatch(/^error: .*qemu-system-x86_64/),
    },
    {
      p: 'milan-7003-es8',
      f: fault.kernelParam('sev', 'N'),
      seen: async (s) => {
        expect(read(s, 'sys/module/kvm_amd/parameters/sev')).toBe('N\n');
        expect(read(s, 'proc/cmdline')).toMatch(/kvm_amd\.sev=N\n$/);
        expect(await sevYes(s)).toBe(false);
      },
    },
    {
      p: 'naples-7001',
      f: fault.devSev('missing'),
      seen: async (s) => {
        expect(read(s, 'dev/sev')).toBeNull();
        expect(await sevYes(s)).toBe(true);
        expect(await start(s, 'naples-7001')).toBe("Path '/dev/sev' is not accessible: No such file or directory");
      },
    },
    {
      p: 'milan-7003-es8',
      f: fault.devSev('eacces'),
      seen: async (s) => {
        expect(statSync(join(s.sysroot, 'dev/sev')).mode & 0o777).toBe(0);
        expect(await sevYes(s)).toBe(true);
        expect(await start(s, 'milan-7003-es8')).toMatch(/Failed to open \/dev\/sev 'Permission denied'/);
      },
    },
    {
      p: 'milan-7003-es8',
      f: fault.memlock(4 * 1024 * 1024),
      seen: async (s) => expect(await start(s, 'milan-7003-es8', false)).toBeNull(),
    },
    {
      p: 'milan-7003-es8',
      f: fault.cacheStale(),
      seen: async (s) => {
        expect(await sevYes(s)).toBe(false);
        expect(await settled(s.client.nodeGetSevInfo())).toMatch(/^error: .*SEV/);
      },
    },
    {
      p: 'naples-7001',
      f: fault.cacheRefresh(),
      seen: async (s) => {
        // Only after kvm_amd.sev=0 (applied first below) does a re-probe change libvirt 6.0's answer.
        expect(await sevYes(s)).toBe(false);
      },
    },
  ];

  for (const c of cases) {
    it(`${c.p}: ${c.f.kind}`, async () => {
      const s = served.get(c.p)!;
      const before = await views(s);
      if (c.f.kind === 'cacheRefresh') await s.ctl.use(fault.kernelParam('sev', '0'));
      const listed = await s.ctl.use(c.f);
      expect(listed[0]!.fault).toEqual(c.f);
      await c.seen(s);
      expect(await s.ctl.resetHandlers()).toEqual([]);
      expect(await views(s)).toEqual(before);
    });
  }

  it('without the memlock fault the profile default cannot pin an unlocked SEV guest', async () => {
    expect(await start(served.get('milan-7003-es8')!, 'milan-7003-es8', false)).toMatch(/Cannot allocate memory|-12/);
  });
});

describe('the control socket itself', () => {
  it('is 0600 and is not the libvirt socket: an HTTP request there gets no HTTP answer', async () => {
    expect(statSync(controlPath).mode & 0o777).toBe(0o600);
    const answer = await new Promise<string>((resolve) => {
      const sock = dial(served.get('milan-7003-es8')!.daemon.socketPath);
      let got = '';
      sock.on('data', (d) => (got += d.toString('latin1')));
      sock.on('close', () => resolve(got));
      sock.on('error', () => resolve(got));
      sock.write('GET /faults HTTP/1.1\r\nHost: x\r\n\r\n');
      setTimeout(() => sock.destroy(), 1000);
    });
    expect(answer).not.toMatch(/^HTTP\//);
  });

  it('answers errors as JSON with their status', async () => {
    const ctl = served.get('milan-7003-es8')!.ctl;
    const status = (p: Promise<unknown>) => p.then(() => 200, (e: ControlError) => [e.status, e.message] as const);
    expect(await status(ctl.call('POST', '/faults', { kind: 'firmware', command: 'LAUNCH_START', status: 'SUCCESS' }))).toEqual([400, expect.stringMatching(/must be a failure/)]);
    expect(await status(ctl.call('POST', '/faults'))).toEqual([400, expect.stringMatching(/needs a fault/)]);
    expect(await status(ctl.call('GET', '/nope'))).toEqual([404, 'no such control resource: /nope']);
    expect(await status(ctl.call('PUT', '/faults'))).toEqual([405, expect.stringMatching(/not allowed/)]);
    expect(await status(new ControlClient(controlPath).listHandlers())).toEqual([400, expect.stringMatching(/several hosts/)]);
    expect(await status(new ControlClient(controlPath, 'rome-7002').listHandlers())).toEqual([404, expect.stringMatching(/no host 'rome-7002'/)]);
  });

  it('refuses a kvm_amd reload under a running SEV guest (409) and applies nothing', async () => {
    const s = served.get('milan-7003-es8')!;
    const dom = await s.client.defineXML(guestXml({ name: 'busy' }));
    await s.client.domainCreate(dom);
    try {
      await expect(s.ctl.use(fault.kernelParam('sev', 'N'))).rejects.toMatchObject({ status: 409 });
      expect(await s.ctl.listHandlers()).toEqual([]);
      const inside = await s.ctl.inspect();
      expect(inside).toMatchObject({ host: 'milan-7003-es8', pinnedKiB: expect.any(Number) });
      expect((inside.asids as { inUse: unknown[] }).inUse).toHaveLength(1);
      expect((inside.firmware as { guests: Array<{ state: string }> }).guests.map((g) => g.state)).toEqual(['RUNNING']);
    } finally {
      await s.client.destroy(dom);
      await s.client.undefineFlags(dom, DomainFlags.UNDEFINE_NVRAM);
    }
  });

  it('reset rebuilds the host: guests, definitions, secrets and events gone', async () => {
    const s = served.get('naples-7001')!;
    const before = await views(s);
    await s.client.defineXML(guestXml({ name: 'kept', launchSecurity: null }));
    s.daemon.host.secrets.define("<secret ephemeral='no' private='no'><usage type='ceph'><name>nova</name></usage></secret>");
    await s.ctl.use(fault.devSev('missing'));
    expect(((await s.ctl.inspect()).secrets as unknown[]).length).toBe(1);
    await s.ctl.reset();
    expect(await s.client.listAllDomains()).toEqual([]);
    const after = await s.ctl.inspect();
    expect(after).toMatchObject({ secrets: [], events: [], handlers: [], guests: [] });
    expect(await views(s)).toEqual(before);
  });
});
