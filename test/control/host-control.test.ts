/**
 * host.control in process: every fault kind shows through libvirt's answers and the host files,
 * resetHandlers() puts back exactly the host the profile made (every view compared), listHandlers
 * counts uses, boundary() scopes, reset() drops guests, and faults are plain JSON.
 */
import { describe, expect, it } from 'vitest';
import { fault, FaultError, faultFromWords, parseFault, FAULT_KINDS, type Fault } from '../../fakelibvirt/control/fault.ts';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { LifecycleEvent } from '../../fakelibvirt/libvirt/states.ts';
import { allProfiles, loadProfile } from '../../fakelibvirt/profile/load.ts';
import { sysrootFiles } from '../../fakelibvirt/views/sysroot.ts';
import { DomainFlags } from '../../src/libvirt/flags.ts';
import { guestXml, sevLaunch } from '../host/sev-guests.ts';

/** Everything a client or a driver can see of a host, as one comparable value. */
function views(h: FakeHost) {
  const files = Object.fromEntries([...sysrootFiles(h.profile, h.kernel)].map(([p, f]) => [p, { content: f.content, entry: f.entry }]));
  let domcaps: string;
  try {
    domcaps = h.domainCapabilities({ arch: 'x86_64', machine: 'q35', virttype: 'kvm' });
  } catch (e) {
    domcaps = `error: ${(e as Error).message}`;
  }
  let sevInfo: unknown;
  try {
    sevInfo = h.nodeSevInfo();
  } catch (e) {
    sevInfo = `error: ${(e as Error).message}`;
  }
  // The firmware's history and the event log are what happened, not what the host is: left out.
  const { asids, firmware: _history, events: _log, ...snap } = h.control.inspect();
  return { caps: h.capabilities(), domcaps, sevInfo, sectypes: h.sectypes(), files, snap, inUse: asids.inUse };
}

const sevSeen = (h: FakeHost) => /<sev supported='yes'/.test(h.domainCapabilities({ arch: 'x86_64', machine: 'q35', virttype: 'kvm' }));

function startSev(h: FakeHost, name: string, memory?: string): Error | null {
  try {
    // libvirt before 6.? needs cbitpos and reducedPhysBits written out; every version accepts them.
    const ls = sevLaunch('0x0033', `<cbitpos>${h.cpuid?.cbitpos ?? 0}</cbitpos><reducedPhysBits>1</reducedPhysBits>`);
    h.create(h.defineXML(guestXml({ name, launchSecurity: ls, ...(memory !== undefined && { memory }) })));
    return null;
  } catch (e) {
    return e as Error;
  }
}

describe('faults are data', () => {
  it('every factory makes JSON that parses back to itself; bad data is refused with the path', () => {
    const all: Fault[] = [
      fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT', { times: 1 }),
      fault.domcaps('i686'),
      fault.kernelParam('sev', 'N'),
      fault.devSev('missing'),
      fault.devSev('eacces'),
      fault.memlock(64),
      fault.cacheStale(),
      fault.cacheRefresh(),
    ];
    expect(new Set(all.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
    for (const f of all) expect(parseFault(JSON.parse(JSON.stringify(f)))).toEqual(f);
    expect(() => parseFault({ kind: 'firmware', command: 'LAUNCH_START', status: 'SUCCESS' })).toThrow(/must be a failure/);
    expect(() => parseFault({ kind: 'firmware', command: 'LAUNCH_START', status: 0x17 })).toThrow(FaultError);
    expect(() => parseFault({ kind: 'firmware', command: 'NOPE', status: 'RESOURCE_LIMIT' })).toThrow(/command/);
    expect(() => parseFault({ kind: 'kernelParam', param: 'sev', value: 'maybe' })).toThrow(/value/);
    expect(() => parseFault({ kind: 'devSev', state: 'missing', extra: 1 })).toThrow(FaultError);
    expect(() => parseFault({ kind: 'firmware', command: 'LAUNCH_START', status: 'RESOURCE_LIMIT', times: 0 })).toThrow(/times/);
  });

  it('shell words build the same faults as the factories', () => {
    expect(faultFromWords('firmware', ['LAUNCH_START', 'RESOURCE_LIMIT', 'times=2'])).toEqual(fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT', { times: 2 }));
    expect(faultFromWords('devSev', ['missing'])).toEqual(fault.devSev('missing'));
    expect(faultFromWords('kernelParam', ['sev', 'N'])).toEqual(fault.kernelParam('sev', 'N'));
    expect(faultFromWords('memlock', ['8192'])).toEqual(fault.memlock(8192));
    expect(faultFromWords('domcaps', ['i686', 'times=always'])).toEqual(fault.domcaps('i686', { times: 'always' }));
    expect(() => faultFromWords('meltdown', [])).toThrow(/unknown fault kind 'meltdown'/);
  });
});

describe('each fault kind shows through libvirt and the host files; resetHandlers restores exactly', () => {
  const cases: Array<{ profile: string; f: Fault; seen: (h: FakeHost) => void }> = [
    {
      profile: 'milan-7003-es8',
      f: fault.kernelParam('sev', 'N'),
      seen: (h) => {
        expect(h.kernel.sysfs.sev).toBe('N\n');
        expect(sysrootFiles(h.profile, h.kernel).get('proc/cmdline')?.content).toMatch(/kvm_amd\.sev=N\n$/);
        expect(sevSeen(h)).toBe(false); // libvirt 9.0 re-probes when kvm_amd reloads
      },
    },
    {
      profile: 'naples-7001',
      f: fault.kernelParam('sev', '0'),
      seen: (h) => {
        expect(h.kernel.sysfs.sev).toBe('0\n');
        expect(sysrootFiles(h.profile, h.kernel).get('proc/cmdline')?.content).toMatch(/kvm_amd\.sev=0\n$/);
        expect(sevSeen(h)).toBe(true); // libvirt 6.0 keeps its cache
      },
    },
    {
      profile: 'naples-7001',
      f: fault.devSev('missing'),
      seen: (h) => {
        expect(sysrootFiles(h.profile, h.kernel).has('dev/sev')).toBe(false);
        expect(sevSeen(h)).toBe(true); // libvirt 6.0 does not look again
        expect(startSev(h, 'g')?.message).toBe("Path '/dev/sev' is not accessible: No such file or directory");
      },
    },
    {
      profile: 'milan-7003-es8',
      f: fault.devSev('missing'),
      seen: (h) => {
        expect(sysrootFiles(h.profile, h.kernel).has('dev/sev')).toBe(false);
        expect(sevSeen(h)).toBe(false); // libvirt ≥ 6.5 notices /dev/sev is gone
      },
    },
    {
      profile: 'milan-7003-es8',
      f: fault.devSev('eacces'),
      seen: (h) => {
        expect(sysrootFiles(h.profile, h.kernel).get('dev/sev')?.entry.mode).toBe('0000');
        expect(sevSeen(h)).toBe(true); // the file exists: libvirt's check passes
        expect(startSev(h, 'g')?.message).toMatch(/Failed to open \/dev\/sev 'Permission denied'/);
      },
    },
    {
      profile: 'milan-7003-es8',
      // 4 GiB of RLIMIT_MEMLOCK: a 512 MiB guest without <locked/> pins under it (65536 KiB it cannot).
      f: fault.memlock(4 * 1024 * 1024),
      seen: (h) => {
        expect(startSev(h, 'g', '')).toBeNull();
        expect(h.control.guest('g')?.memlockLimitKiB).toBe(4 * 1024 * 1024);
      },
    },
    {
      profile: 'milan-7003-es8',
      f: fault.cacheStale(),
      seen: (h) => {
        expect(sevSeen(h)).toBe(false);
        expect(() => h.nodeSevInfo()).toThrow(/does not support SEV/);
      },
    },
    {
      profile: 'rome-7002-stale-cache',
      f: fault.cacheRefresh(),
      seen: (h) => expect(sevSeen(h)).toBe(true),
    },
    {
      profile: 'milan-7003-es8',
      f: fault.domcaps('x86_64'),
      seen: (h) => expect(() => h.domainCapabilities({ arch: 'x86_64' })).toThrow(/Cannot check QEMU binary|No such file/),
    },
    {
      profile: 'milan-7003-es8',
      f: fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT'),
      seen: (h) => {
        expect(startSev(h, 'g')?.message).toMatch(/fw_error=23 'Required firmware resource depleted'/);
        expect(startSev(h, 'g2')).toBeNull(); // used up after one launch
      },
    },
  ];

  for (const c of cases) {
    it(`${c.profile}: ${JSON.stringify(c.f)}`, () => {
      const h = new FakeHost(loadProfile(c.profile));
      const before = views(h);
      h.control.use(c.f);
      c.seen(h);
      for (const g of h.control.inspect().guests) if (g.state !== 'shut off') h.destroy(h.lookupByName(g.name));
      for (const g of h.control.inspect().guests) h.undefine(h.lookupByName(g.name), DomainFlags.UNDEFINE_NVRAM);
      h.control.resetHandlers();
      expect(h.control.listHandlers()).toEqual([]);
      expect(views(h)).toEqual(before);
    });
  }
});

describe('resetHandlers restores every bundled host exactly, whatever was applied', () => {
  const faults: Fault[] = [
    fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT', { times: 'always' }),
    fault.domcaps('x86_64'),
    fault.kernelParam('sev', '0'),
    fault.kernelParam('sev_es', 'Y'),
    fault.kernelParam('sev_snp', 'N'),
    fault.devSev('missing'),
    fault.devSev('eacces'),
    fault.memlock(1),
    fault.cacheStale(),
    fault.cacheRefresh(),
  ];
  for (const name of allProfiles().keys()) {
    it(name, () => {
      const h = new FakeHost(loadProfile(name));
      const before = views(h);
      const applicable = faults.filter((f) => f.kind !== 'firmware' || h.control.firmware.present);
      for (const f of applicable) h.control.use(f);
      h.control.resetHandlers();
      expect(views(h)).toEqual(before);
      // All at once, in one batch, then undone the same way.
      h.control.use(...applicable);
      h.control.resetHandlers();
      expect(views(h)).toEqual(before);
      expect(h.control.firmware.snapshot()?.pendingOverrides ?? 0).toBe(0);
      expect(h.control.pendingRules()).toBe(0);
    });
  }
});

describe('memlock', () => {
  it("without the fault the profile's 64 MiB default cannot pin a 512 MiB SEV guest", () => {
    const h = new FakeHost(loadProfile('milan-7003-es8'));
    expect(startSev(h, 'g', '')?.message).toMatch(/Cannot allocate memory|ENOMEM|-12/);
  });
});

describe('handlers', () => {
  it('lists the newest first with the uses left; a spent rule stays listed as used', () => {
    const h = new FakeHost(loadProfile('milan-7003-es8'));
    h.control.use(fault.devSev('eacces'));
    h.control.use(fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT', { times: 2 }), fault.domcaps('i686'));
    expect(h.control.listHandlers().map((x) => [x.fault.kind, x.remaining, x.used])).toEqual([
      ['firmware', 2, false],
      ['domcaps', 'always', false],
      ['devSev', null, false],
    ]);
    h.control.resetHandlers();
    h.control.use(fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT'));
    expect(startSev(h, 'a')).not.toBeNull();
    expect(h.control.listHandlers()[0]).toMatchObject({ remaining: 0, used: true, description: 'firmware LAUNCH_START RESOURCE_LIMIT' });
  });

  it('the first fault given wins over the ones after it and over older ones', () => {
    const h = new FakeHost(loadProfile('milan-7003-es8'));
    h.control.use(fault.kernelParam('sev', 'N'));
    h.control.use(fault.kernelParam('sev', 'Y'), fault.kernelParam('sev', 'N'));
    expect(h.kernel.sevEnabled).toBe(true);
    expect(h.profile.kernel.cmdline.match(/kvm_amd\.sev=\S+/g)).toEqual(['kvm_amd.sev=Y']);
  });

  it('refuses a kvm_amd reload under a running SEV guest and applies nothing of the batch', () => {
    const h = new FakeHost(loadProfile('milan-7003-es8'));
    expect(startSev(h, 'g')).toBeNull();
    expect(() => h.control.use(fault.devSev('eacces'), fault.kernelParam('sev', 'N'))).toThrow(/in use by running SEV guests/);
    expect(h.control.listHandlers()).toEqual([]);
    expect(h.profile.devSev.mode).toBe('0600');
  });

  it('refuses a firmware fault on a host without SEV firmware', () => {
    const h = new FakeHost(loadProfile('intel-xeon'));
    expect(() => h.control.use(fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT'))).toThrow(/no SEV firmware/);
  });

  it('boundary() scopes what the callback adds or resets, sync and async', async () => {
    const h = new FakeHost(loadProfile('naples-7001'));
    h.control.use(fault.firmware('LAUNCH_START', 'HWERROR_PLATFORM', { times: 3 }));
    const outer = views(h);
    h.control.boundary(() => {
      h.control.use(fault.devSev('missing'), fault.kernelParam('sev', '0'));
      expect(sysrootFiles(h.profile, h.kernel).has('dev/sev')).toBe(false);
    })();
    expect(views(h)).toEqual(outer);
    await h.control.boundary(async () => {
      h.control.resetHandlers();
      await Promise.resolve();
      expect(startSev(h, 'inside')).toBeNull();
      h.destroy(h.lookupByName('inside'));
      h.undefine(h.lookupByName('inside'), DomainFlags.UNDEFINE_NVRAM);
    })();
    expect(h.control.listHandlers().map((x) => x.remaining)).toEqual([3]);
    expect(startSev(h, 'after')?.message).toMatch(/fw_error=19/);
    expect(() => h.control.boundary(() => {
      h.control.use(fault.cacheStale());
      throw new Error('boom');
    })()).toThrow('boom');
    expect(sevSeen(h)).toBe(true);
  });
});

describe('inspect and reset', () => {
  it('inspect shows ASIDs, pinned memory, guest firmware states, events and handlers; reset() is a new host', () => {
    const h = new FakeHost(loadProfile('milan-7003-es8'));
    const pristine = views(h);
    expect(startSev(h, 'g')).toBeNull();
    h.control.use(fault.domcaps('i686'));
    const s = h.control.inspect();
    expect(s.asids.inUse).toHaveLength(1);
    expect(s.pinnedKiB).toBeGreaterThan(0);
    expect(s.firmware?.guests.map((g) => g.state)).toEqual(['RUNNING']);
    expect(s.events.map((e) => e.message)).toContain('control: use domcaps i686');
    expect(s.handlers).toHaveLength(1);
    const heard: number[] = [];
    h.onLifecycle((e) => heard.push(e.event));
    h.control.reset();
    // Stopped and undefined as libvirt would (so a state directory and event clients hear of it).
    expect(heard).toEqual([LifecycleEvent.STOPPED, LifecycleEvent.UNDEFINED]);
    expect(h.control.inspect().events).toEqual([]);
    expect(h.listAllDomains()).toEqual([]);
    expect(views(h)).toEqual(pristine);
    expect(startSev(h, 'g')).toBeNull();
  });

});

describe('reloading kvm_amd flushes the ASIDs its guests left (sev_hardware_unsetup → sev_flush_asids)', () => {
  it('a guest started after a reload that followed guests gets a key slot, with no DF_FLUSH-required refusal', () => {
    const h = new FakeHost(loadProfile('milan-7003-es8'));
    // Guests that ran leave their ASIDs deactivated in the firmware, awaiting DF_FLUSH; a fresh
    // pool after the reload hands out the lowest ASID first, which is one of them.
    const names = ['g0', 'g1', 'g2'];
    for (const n of names) expect(startSev(h, n)).toBeNull();
    for (const n of names) h.destroy(h.lookupByName(n));
    const flushes = () => h.control.firmware.snapshot()?.dfFlushCount ?? -1;
    const before = flushes();
    h.control.use(fault.kernelParam('sev_es', 'N'));
    expect(flushes()).toBe(before + 1);
    expect(h.control.firmware.commandLog().filter((c) => c.status !== 0)).toEqual([]);
    expect(startSev(h, 'after-reload')).toBeNull();
    h.destroy(h.lookupByName('after-reload'));
    h.control.resetHandlers();
    expect(startSev(h, 'after-reset')).toBeNull();
  });
});
