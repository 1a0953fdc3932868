import { describe, expect, it } from 'vitest';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { guardOperation, OPERATIONS, operationNotSupportedText } from '../../src/driver/guards.ts';
import { FakeHostSource } from '../../conformance/fake-host-source.ts';
import type { LibvirtSource } from '../../src/driver/host-source.ts';
import { DriverRefusal, ReferenceSevDriver } from '../../src/driver/index.ts';
import { REFUSALS } from '../../src/driver/refusals.ts';
import { filesOf, plainFlavor, sevFlavor, uefiImage } from './helpers.ts';

const UUID = 'c0ffee00-0000-4000-8000-000000000001';

/** Records every libvirt call so tests can prove a refusal never reached libvirt. */
function spy(src: LibvirtSource): { src: LibvirtSource; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(src, {
    get(t, k, r) {
      const v = Reflect.get(t, k, r) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.push(String(k));
        return (v as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
  return { src: proxy, calls };
}

async function driverOn(profile: string) {
  const host = new FakeHost(loadProfile(profile));
  const s = spy(new FakeHostSource(host));
  const driver = new ReferenceSevDriver(s.src, filesOf(host), { hw_machine_type: { x86_64: 'q35' } });
  await driver.init();
  return { host, driver, calls: s.calls };
}

const refusalOf = async (p: Promise<unknown>) => {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(DriverRefusal);
  return e as DriverRefusal;
};

describe('lifecycle guards', () => {
  it.each(Object.entries(OPERATIONS))('%s is %s for SEV guests', (op, rule) => {
    const fn = () => guardOperation(op as keyof typeof OPERATIONS, { uuid: UUID, encrypted: true });
    if (rule === 'refused') expect(fn).toThrow(operationNotSupportedText(op, UUID));
    else expect(fn).not.toThrow();
    expect(() => guardOperation(op as keyof typeof OPERATIONS, { uuid: UUID, encrypted: false })).not.toThrow();
  });
  it('uses nova text', () => {
    expect(operationNotSupportedText('suspend', UUID)).toBe(`Operation 'suspend' not supported for SEV-enabled instance (${UUID}).`);
  });
});

describe('ReferenceSevDriver on a FakeHost', () => {
  it('spawns an SEV guest, refuses suspend / live migration / PCI before touching libvirt', async () => {
    const { host, driver, calls } = await driverOn('rome-7002');
    const inst = await driver.spawn({ uuid: UUID, name: 'vm1', flavor: sevFlavor(), image: uefiImage() });
    expect(inst.encrypted).toBe(true);
    expect(host.control.inspect().guests[0]).toMatchObject({ state: 'running', policy: '0x33', faults: [] });
    const before = calls.length;
    for (const [p, op] of [[driver.suspend(UUID), 'suspend'], [driver.liveMigrate(UUID), 'live-migration'], [driver.attachPciDevice(UUID), 'pci-passthrough']] as const) {
      const r = await refusalOf(p);
      expect(r.code).toBe('OPERATION_NOT_SUPPORTED_FOR_SEV');
      expect(r.message).toBe(operationNotSupportedText(op, UUID));
      expect(r.http).toBe(REFUSALS.OPERATION_NOT_SUPPORTED_FOR_SEV.http);
    }
    expect(calls.length).toBe(before);
  });

  it('pause/unpause, hard reboot, snapshot, rebuild, shelve/unshelve, destroy', async () => {
    const { host, driver } = await driverOn('milan-7003-253');
    await driver.spawn({ uuid: UUID, name: 'vm1', flavor: sevFlavor(), image: uefiImage() });
    await driver.pause(UUID);
    expect(host.control.inspect().guests[0]!.state).toBe('paused');
    await driver.unpause(UUID);
    await driver.hardReboot(UUID);
    await driver.snapshot(UUID);
    expect(host.control.inspect().guests[0]).toMatchObject({ state: 'running', faults: [] });
    expect((await refusalOf(driver.rebuild(UUID, { id: 'b', name: 'bios-image', properties: {} }))).code).toBe('UEFI_REQUIRED');
    expect(host.control.inspect().guests[0]!.state).toBe('running');
    await driver.rebuild(UUID, uefiImage({ hw_machine_type: 'q35' }));
    expect(host.control.inspect().asids.inUse).toHaveLength(1);
    await driver.shelve(UUID);
    expect(host.control.inspect().guests).toHaveLength(0);
    await driver.unshelve(UUID);
    await driver.destroy(UUID);
    expect(host.control.inspect()).toMatchObject({ guests: [], asids: { inUse: [] }, pinnedKiB: 0 });
  });

  it('cold migration between two hosts: source kept until confirm, revert restarts it', async () => {
    const a = await driverOn('rome-7002');
    const b = await driverOn('turin-9005');
    await a.driver.spawn({ uuid: UUID, name: 'vm1', flavor: sevFlavor(), image: uefiImage() });
    const req = await a.driver.migrateOut(UUID);
    await b.driver.spawn(req);
    expect(a.host.control.inspect().guests[0]!.state).toBe('shut off');
    await b.driver.destroy(UUID);
    await a.driver.revertMigration(UUID);
    expect(a.host.control.inspect().guests[0]!.state).toBe('running');
    await a.driver.migrateOut(UUID);
    await b.driver.spawn(req);
    await a.driver.confirmMigration(UUID);
    expect(a.host.control.inspect().guests).toHaveLength(0);
    expect(b.host.control.inspect().guests[0]).toMatchObject({ state: 'running', faults: [] });
  });

  it('SEV-ES guests boot with policy 0x0037 on an ES host', async () => {
    const { host, driver } = await driverOn('milan-7003-all-es');
    await driver.spawn({ uuid: UUID, name: 'es', flavor: sevFlavor({ 'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'amd-sev-es' }), image: uefiImage() });
    expect(host.control.inspect().guests[0]).toMatchObject({ policy: '0x37', faults: [] });
  });

  it('plain guests may be suspended (managed save)', async () => {
    const { host, driver } = await driverOn('rome-7002');
    await driver.spawn({ uuid: UUID, name: 'plain', flavor: plainFlavor, image: uefiImage() });
    await driver.suspend(UUID);
    expect(host.control.inspect().guests[0]!.state).toBe('shut off');
  });

  it('non-SEV host: SEV boot refused with NO_SEV_HOST, no domain defined', async () => {
    const { host, driver, calls } = await driverOn('rome-7002-sev-off');
    expect((await refusalOf(driver.spawn({ uuid: UUID, name: 'vm', flavor: sevFlavor(), image: uefiImage() }))).code).toBe('NO_SEV_HOST');
    expect(calls).not.toContain('defineXML');
    expect(host.control.inspect().guests).toHaveLength(0);
  });

  it('hostSpec exposes traits and per-model pools for the scheduler', async () => {
    const { driver } = await driverOn('milan-7003-all-es');
    expect(driver.hostSpec('n1', 1024, 8)).toEqual({
      // No plain-SEV ASIDs on this host, so no SEV trait: a plain SEV guest must not be placed here.
      id: 'n1', traits: ['HW_CPU_X86_AMD_SEV_ES'], capacity: { MEMORY_MB: 1024, VCPU: 8, 'MEM_ENCRYPTION_CONTEXT@amd_sev_es': 509 },
    });
  });
});
