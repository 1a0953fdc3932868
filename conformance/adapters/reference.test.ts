/**
 * The reference driver behind the conformance contract, driven against fake daemons through their
 * sockets (the adapter only ever uses the TS libvirt client) with materialised sysroots.
 */
import { fault } from '../../fakelibvirt/control/fault.ts';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { materializeSysroot } from '../../fakelibvirt/views/sysroot.ts';
import { startFake, type FakeDaemon } from '../../test/daemon/helpers.ts';
import {
  DriverConfigSchema,
  inventoryKey,
  isRefusal,
  LIFECYCLE_OPERATIONS,
  MEM_ENCRYPTION_CONTEXT,
  type BootRequest,
  type DriverConfig,
  type HostReport,
  type InstanceRef,
  type LifecycleOperation,
  type Outcome,
  type SevDriver,
} from '../contract.ts';
import { STANDARD_FLAVOR, STANDARD_IMAGE } from '../catalogue/requests.ts';
import { DriverRefusal, ReferenceSevDriver, WireSource, type GuestPlan, type HostReport as DriverHostReport } from '../../src/driver/index.ts';
import { refuse } from '../../src/driver/refusals.ts';
import { createReferenceDriver, type ReferenceHost } from './reference.ts';

const config = (c: Partial<DriverConfig> = {}): DriverConfig => DriverConfigSchema.parse(c);
const request = (extraSpecs: Record<string, string> = {}, properties: Record<string, string | boolean> = STANDARD_IMAGE.properties): BootRequest => ({
  flavor: { ...STANDARD_FLAVOR, extraSpecs },
  image: { ...STANDARD_IMAGE, properties },
  config: config(),
});
const SEV = request({ 'hw:mem_encryption': 'true' });
const SEV_ES = request({ 'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'amd-sev-es' });
const PLAIN = request();

let serial = 0;
const instance = (): InstanceRef => {
  serial += 1;
  return { uuid: `5e0c0000-0000-4000-8000-${serial.toString(16).padStart(12, '0')}`, name: `instance-${serial.toString(16).padStart(8, '0')}` };
};

function ok<T extends object>(o: Outcome<T>): T {
  if (isRefusal(o)) throw new Error(`unexpected refusal ${o.code}: ${o.message}`);
  return o;
}
function code<T extends object>(o: Outcome<T>): string {
  return isRefusal(o) ? o.code : 'ok';
}

interface Host {
  readonly fake: FakeDaemon;
  readonly sysroot: string;
}
async function host(profile: string): Promise<Host> {
  const fake = await startFake(profile);
  const sysroot = join(fake.dir, 'root');
  mkdirSync(sysroot);
  materializeSysroot(fake.host.profile, fake.host.kernel, sysroot);
  return { fake, sysroot };
}

describe('reference adapter on milan-7003-es8 (SEV + 7 SEV-ES slots)', () => {
  let milan: Host;
  let rome: Host;
  let driver: SevDriver;
  let report: HostReport;
  const reportOf = (h: Host, c: Partial<DriverConfig> = {}) => driver.reportHost({ uri: h.fake.uri, sysroot: h.sysroot, config: config(c) });

  beforeAll(async () => {
    [milan, rome] = await Promise.all([host('milan-7003-es8'), host('rome-7002')]);
    driver = createReferenceDriver();
    report = await reportOf(milan);
  });
  afterAll(async () => {
    await driver.close?.();
    await milan.fake.close();
    await rome.fake.close();
  });

  it('describes every operation', () => {
    expect(driver.describe().ops).toEqual(['reportHost', 'validateRequest', 'buildGuestXml', 'spawn', 'lifecycle', 'schedule', 'release']);
  });

  it('reports traits, inventories keyed by model, cbitpos and per-model slots', () => {
    expect(report.traits).toEqual(['HW_CPU_X86_AMD_SEV', 'HW_CPU_X86_AMD_SEV_ES']);
    const shape = { min_unit: 1, max_unit: 1, step_size: 1, allocation_ratio: 1, reserved: 0 };
    expect(report.inventories).toEqual({ [MEM_ENCRYPTION_CONTEXT]: { total: 502, ...shape }, [inventoryKey('amd-sev-es')]: { total: 7, ...shape } });
    expect(report.sev).toEqual({ cbitpos: 51, reducedPhysBits: 1 });
    expect(report.models?.['amd-sev']).toMatchObject({ supported: true, slots: 502 });
    expect(report.models?.['amd-sev-es']).toMatchObject({ supported: true, slots: 7 });
    expect(report.models?.['amd-sev-snp']).toMatchObject({ supported: false, slots: 0 });
    expect(report.warnings).toEqual([]);
  });

  it('caches detection per URI and config; a new config re-detects (operator cap, with warning above hardware)', async () => {
    expect(await reportOf(milan)).toBe(report);
    const capped = await reportOf(milan, { maxEncryptedGuests: 600 });
    expect(capped.inventories[MEM_ENCRYPTION_CONTEXT]?.total).toBe(502);
    // Coded for the suite, nova's text for people.
    expect(capped.warnings).toEqual([{ code: 'CAP_EXCEEDS_HOST', message: expect.stringMatching(/set to 600, but supports only 502/) }]);
    const low = await reportOf(milan, { maxEncryptedGuests: 3 });
    expect(low.inventories[MEM_ENCRYPTION_CONTEXT]?.total).toBe(3);
    report = await reportOf(milan);
    expect(report.inventories[MEM_ENCRYPTION_CONTEXT]?.total).toBe(502);
  });

  it('a cap below the running SEV guests keeps them running and warns; slots follow the cap', async () => {
    const inst = instance();
    ok(await driver.spawn!({ uri: milan.fake.uri, request: SEV, instance: inst }));
    const off = await reportOf(milan, { maxEncryptedGuests: 0 });
    expect(off.inventories[MEM_ENCRYPTION_CONTEXT]).toBeUndefined();
    expect(off.traits).toContain('HW_CPU_X86_AMD_SEV');
    expect(off.models?.['amd-sev']?.supported).toBe(true);
    expect(off.warnings).toEqual([{ code: 'GUESTS_EXCEED_SLOTS', message: expect.stringMatching(/^1 amd-sev guest\(s\) are running but this host now offers 0 amd-sev slot\(s\)/) }]);
    expect(milan.fake.host.control.inspect().guests).toMatchObject([{ name: inst.name, state: 'running' }]);
    expect(code(await driver.spawn!({ uri: milan.fake.uri, request: SEV, instance: instance() }))).toBe('NO_SLOTS');
    ok(await driver.lifecycle!({ operation: 'delete', uri: milan.fake.uri, instance: inst, request: SEV }));
    report = await reportOf(milan);
  });

  it('validates requests in the contract shape', async () => {
    const v = driver.validateRequest!;
    expect(ok(await v({ ...SEV, host: report }))).toEqual({
      resources: { [MEM_ENCRYPTION_CONTEXT]: 1 }, requiredTraits: ['HW_CPU_X86_AMD_SEV'], model: 'amd-sev', machineType: expect.stringMatching(/^pc-q35-/),
    });
    expect(ok(await v({ ...SEV_ES, host: report }))).toMatchObject({ resources: { [inventoryKey('amd-sev-es')]: 1 }, requiredTraits: ['HW_CPU_X86_AMD_SEV_ES'], model: 'amd-sev-es' });
    expect(ok(await v(PLAIN))).toMatchObject({ resources: {}, requiredTraits: [], model: null });
    expect(ok(await v(request({ 'trait:HW_CPU_X86_AMD_SEV': 'required' })))).toMatchObject({ resources: {}, requiredTraits: ['HW_CPU_X86_AMD_SEV'], model: null });
    expect(code(await v(request({ 'hw:mem_encryption': 'tru' })))).toBe('INVALID_BOOLEAN');
    expect(code(await v(request({ 'hw:mem_encryption': 'true' }, { hw_firmware_type: 'uefi', hw_machine_type: 'pc' })))).toBe('Q35_REQUIRED');
    expect(code(await v({ ...request({ 'hw:mem_encryption': 'true' }, { hw_firmware_type: 'uefi' }), config: config({ machineTypes: { x86_64: 'pc' } }) }))).toBe('Q35_REQUIRED');
    expect(code(await v(request({ 'hw:mem_encryption': 'true' }, { hw_machine_type: 'q35' })))).toBe('UEFI_REQUIRED');
    expect(code(await v({ ...request({ 'hw:mem_encryption': 'true' }, { hw_firmware_type: 'uefi', hw_machine_type: 'pc-q35-1.0' }), host: report }))).toBe('UNKNOWN_MACHINE_TYPE');
    expect(code(await v(request({ 'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'amd-sev-xx' })))).toBe('INVALID_MODEL');
    expect(code(await v({ ...SEV, flavor: { ...SEV.flavor, vcpus: 0 } }))).toBe('INVALID_REQUEST');
  });

  it('builds SEV and SEV-ES guest XML with the host cbitpos and the model policy', async () => {
    const sev = ok(await driver.buildGuestXml!({ request: SEV, host: report, instance: instance() })).xml;
    expect(sev).toMatch(/<launchSecurity type='sev'><policy>0x0033<\/policy><cbitpos>51<\/cbitpos><reducedPhysBits>1<\/reducedPhysBits><\/launchSecurity>/);
    const es = ok(await driver.buildGuestXml!({ request: SEV_ES, host: report, instance: instance() })).xml;
    expect(es).toContain('<policy>0x0037</policy>');
  });

  it('spawns SEV and SEV-ES guests through the socket into the right ASID ranges', async () => {
    const cpuid = milan.fake.host.cpuid!;
    for (const [req, range] of [[SEV, [cpuid.minSevAsid, cpuid.maxSevAsid]], [SEV_ES, [1, cpuid.minSevAsid - 1]]] as const) {
      const inst = instance();
      expect(ok(await driver.spawn!({ uri: milan.fake.uri, request: req, instance: inst }))).toEqual({ domainName: inst.name, uuid: inst.uuid });
      const g = milan.fake.host.control.inspect().guests.find((x) => x.name === inst.name)!;
      expect(g).toMatchObject({ state: 'running', firmwareState: 'RUNNING', faults: [] });
      expect(g.asid).toBeGreaterThanOrEqual(range[0]);
      expect(g.asid).toBeLessThanOrEqual(range[1]);
      expect(ok(await driver.lifecycle!({ operation: 'delete', uri: milan.fake.uri, instance: inst, request: req }))).toEqual({ ok: true });
    }
    expect(milan.fake.host.control.inspect().guests).toEqual([]);
  });

  it('spawns caller-supplied XML', async () => {
    const inst = instance();
    const xml = ok(await driver.buildGuestXml!({ request: SEV, host: report, instance: inst })).xml;
    expect(ok(await driver.spawn!({ uri: milan.fake.uri, xml }))).toEqual({ domainName: inst.name, uuid: inst.uuid });
    expect(code(await driver.lifecycle!({ operation: 'suspend', uri: milan.fake.uri, instance: inst, request: SEV }))).toBe('OPERATION_NOT_SUPPORTED_FOR_SEV');
    ok(await driver.lifecycle!({ operation: 'delete', uri: milan.fake.uri, instance: inst, request: SEV }));
  });

  it('a firmware failure on launch is HOST_FAULT with libvirt\'s text, and leaves nothing behind', async () => {
    milan.fake.host.control.use(fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT'));
    const r = await driver.spawn!({ uri: milan.fake.uri, request: SEV, instance: instance() });
    expect(isRefusal(r) && r.code).toBe('HOST_FAULT');
    expect(isRefusal(r) && r.message).toMatch(/qemu|sev/i);
    expect(milan.fake.host.control.inspect().guests).toEqual([]);
    expect(milan.fake.host.control.inspect().asids.inUse).toEqual([]);
  });

  /** Every lifecycle operation on a fresh SEV guest: the outcome and whether the guest stays encrypted. */
  const EXPECTED: Record<LifecycleOperation, { outcome: string; encryptedAfter?: boolean }> = {
    pause: { outcome: 'ok', encryptedAfter: true },
    resume: { outcome: 'ok', encryptedAfter: true },
    'hard-reboot': { outcome: 'ok', encryptedAfter: true },
    suspend: { outcome: 'OPERATION_NOT_SUPPORTED_FOR_SEV' },
    'live-migrate': { outcome: 'OPERATION_NOT_SUPPORTED_FOR_SEV' },
    'cold-migrate': { outcome: 'ok', encryptedAfter: true },
    shelve: { outcome: 'ok' },
    unshelve: { outcome: 'ok', encryptedAfter: true },
    snapshot: { outcome: 'ok', encryptedAfter: true },
    rebuild: { outcome: 'ok', encryptedAfter: true },
    resize: { outcome: 'ok', encryptedAfter: false },
    'attach-volume': { outcome: 'ok', encryptedAfter: true },
    'attach-interface': { outcome: 'ok', encryptedAfter: true },
    delete: { outcome: 'ok' },
  };
  it('covers all 14 lifecycle operations', () => expect(Object.keys(EXPECTED).sort()).toEqual([...LIFECYCLE_OPERATIONS].sort()));

  it.each([...LIFECYCLE_OPERATIONS])('lifecycle %s on an SEV guest', async (op) => {
    const inst = instance();
    const uri = milan.fake.uri;
    ok(await driver.spawn!({ uri, request: SEV, instance: inst }));
    if (op === 'resume') ok(await driver.lifecycle!({ operation: 'pause', uri, instance: inst, request: SEV }));
    if (op === 'unshelve') ok(await driver.lifecycle!({ operation: 'shelve', uri, instance: inst, request: SEV }));
    const extra = op === 'rebuild' ? { image: { ...STANDARD_IMAGE, id: 'b0000000-0000-4000-8000-000000000001', name: 'other-uefi' } } : op === 'resize' ? { flavor: { ...STANDARD_FLAVOR, name: 'm1.plain' } } : {};
    const r = await driver.lifecycle!({ operation: op, uri, instance: inst, request: SEV, ...extra });
    const want = EXPECTED[op];
    expect(code(r)).toBe(want.outcome);
    const guest = milan.fake.host.control.inspect().guests.find((g) => g.name === inst.name);
    if (want.encryptedAfter !== undefined) {
      const xml = ok(r).xml!;
      expect(xml.includes('<launchSecurity')).toBe(want.encryptedAfter);
      expect(guest).toMatchObject({ faults: [] });
      expect(guest?.state).toBe(op === 'pause' ? 'paused' : 'running');
      if (want.encryptedAfter) expect(guest?.policy).toBe('0x33');
    }
    if (op === 'delete' || op === 'shelve') expect(guest).toBeUndefined();
    if (want.outcome === 'OPERATION_NOT_SUPPORTED_FOR_SEV') expect(guest?.state).toBe('running');
    if (guest) ok(await driver.lifecycle!({ operation: 'delete', uri, instance: inst, request: SEV }));
  });

  it('hot-plugged virtio volume and NIC carry iommu=on (NIC without ROM), plain guests none', async () => {
    const uri = milan.fake.uri;
    for (const [req, enc] of [[SEV, true], [PLAIN, false]] as const) {
      const inst = instance();
      ok(await driver.spawn!({ uri, request: req, instance: inst }));
      const vol = ok(await driver.lifecycle!({ operation: 'attach-volume', uri, instance: inst, request: req })).xml!;
      expect(vol).toMatch(enc ? /<disk[^]*?<driver[^>]*iommu='on'[^>]*\/>[^]*?<target dev='vdb' bus='virtio'\/>/ : /<target dev='vdb' bus='virtio'\/>/);
      const nic = ok(await driver.lifecycle!({ operation: 'attach-interface', uri, instance: inst, request: req })).xml!;
      const nics = nic.match(/<interface[^]*?<\/interface>/g) ?? [];
      expect(nics).toHaveLength(2);
      for (const n of nics) {
        expect(n.includes("iommu='on'")).toBe(enc);
        expect(n.includes("<rom enabled='no'/>")).toBe(enc);
      }
      // The attached devices survive a hard reboot, which regenerates the XML.
      ok(await driver.lifecycle!({ operation: 'hard-reboot', uri, instance: inst, request: req }));
      const after = ok(await driver.lifecycle!({ operation: 'pause', uri, instance: inst, request: req })).xml!;
      expect(after.match(/<interface/g)).toHaveLength(2);
      expect(after).toContain("dev='vdb'");
      ok(await driver.lifecycle!({ operation: 'delete', uri, instance: inst, request: req }));
    }
  });

  it('rebuild onto a BIOS image is refused before the guest is touched', async () => {
    const inst = instance();
    ok(await driver.spawn!({ uri: milan.fake.uri, request: SEV, instance: inst }));
    const bios = { ...STANDARD_IMAGE, properties: { hw_firmware_type: 'bios', hw_machine_type: 'q35' } };
    expect(code(await driver.lifecycle!({ operation: 'rebuild', uri: milan.fake.uri, instance: inst, request: SEV, image: bios }))).toBe('UEFI_REQUIRED');
    expect(milan.fake.host.control.inspect().guests.find((g) => g.name === inst.name)?.state).toBe('running');
    ok(await driver.lifecycle!({ operation: 'delete', uri: milan.fake.uri, instance: inst, request: SEV }));
  });

  it('cold migration and unshelve move the guest to targetUri, where it launches anew', async () => {
    await reportOf(rome);
    const inst = instance();
    ok(await driver.spawn!({ uri: milan.fake.uri, request: SEV, instance: inst }));
    const moved = ok(await driver.lifecycle!({ operation: 'cold-migrate', uri: milan.fake.uri, targetUri: rome.fake.uri, instance: inst, request: SEV }));
    expect(moved.xml).toContain('<cbitpos>47</cbitpos>');
    expect(milan.fake.host.control.inspect().guests).toEqual([]);
    expect(rome.fake.host.control.inspect().guests).toMatchObject([{ name: inst.name, state: 'running', policy: '0x33', faults: [] }]);
    ok(await driver.lifecycle!({ operation: 'shelve', uri: rome.fake.uri, instance: inst, request: SEV }));
    ok(await driver.lifecycle!({ operation: 'unshelve', uri: rome.fake.uri, targetUri: milan.fake.uri, instance: inst, request: SEV }));
    expect(rome.fake.host.control.inspect().guests).toEqual([]);
    expect(milan.fake.host.control.inspect().guests).toMatchObject([{ name: inst.name, state: 'running', faults: [] }]);
    ok(await driver.lifecycle!({ operation: 'delete', uri: milan.fake.uri, instance: inst, request: SEV }));
  });

  it('a new adapter (service restart) takes over running guests; unknown instances are UNKNOWN_INSTANCE', async () => {
    const inst = instance();
    ok(await driver.spawn!({ uri: milan.fake.uri, request: SEV, instance: inst }));
    const restarted = createReferenceDriver();
    try {
      await restarted.reportHost({ uri: milan.fake.uri, sysroot: milan.sysroot, config: config() });
      expect(code(await restarted.lifecycle!({ operation: 'live-migrate', uri: milan.fake.uri, instance: inst, request: SEV }))).toBe('OPERATION_NOT_SUPPORTED_FOR_SEV');
      ok(await restarted.lifecycle!({ operation: 'delete', uri: milan.fake.uri, instance: inst, request: SEV }));
      expect(code(await restarted.lifecycle!({ operation: 'pause', uri: milan.fake.uri, instance: instance(), request: SEV }))).toBe('UNKNOWN_INSTANCE');
    } finally {
      await restarted.close?.();
    }
    expect(milan.fake.host.control.inspect().guests).toEqual([]);
  });

  it('schedules onto the hosts with traits and free slots, and release gives the slot back', async () => {
    const plainHost = { traits: [], inventories: {}, warnings: [] };
    const capped = { ...report, inventories: { [MEM_ENCRYPTION_CONTEXT]: { ...report.inventories[MEM_ENCRYPTION_CONTEXT]!, total: 2 } } };
    const hosts = [
      { name: 'sev', report: capped, freeRamMiB: 65536, allocations: {} },
      { name: 'plain', report: plainHost, freeRamMiB: 131072, allocations: {} },
    ];
    const [a, b, c, d] = [instance(), instance(), instance(), instance()];
    const s = driver.schedule!;
    expect(ok(await s({ hosts, request: SEV, instance: a }))).toEqual({ host: 'sev', allocation: { [MEM_ENCRYPTION_CONTEXT]: 1, MEMORY_MB: 2048 } });
    expect(ok(await s({ hosts, request: SEV, instance: b })).host).toBe('sev');
    expect(code(await s({ hosts, request: SEV, instance: c }))).toBe('NO_VALID_HOST');
    expect(ok(await s({ hosts, request: PLAIN, instance: d })).host).toBe('plain');
    expect(code(await s({ hosts, request: SEV_ES, instance: c }))).toBe('NO_VALID_HOST');
    expect(ok(await driver.release!({ host: 'sev', instance: a }))).toEqual({ ok: true, freed: { [MEM_ENCRYPTION_CONTEXT]: 1, MEMORY_MB: 2048 } });
    expect(code(await driver.release!({ host: 'sev', instance: a }))).toBe('UNKNOWN_INSTANCE');
    expect(ok(await s({ hosts, request: SEV, instance: c })).host).toBe('sev');
    // Allocations the caller passes count as used.
    const used = hosts.map((h) => (h.name === 'sev' ? { ...h, allocations: { [MEM_ENCRYPTION_CONTEXT]: 1 } } : h));
    for (const i of [b, c, d]) ok(await driver.release!({ host: i === d ? 'plain' : 'sev', instance: i }));
    expect(ok(await s({ hosts: used, request: SEV, instance: a })).host).toBe('sev');
    expect(code(await s({ hosts: used, request: SEV, instance: b }))).toBe('NO_VALID_HOST');
  });
});

describe('reference adapter on a host without SEV (intel-xeon)', () => {
  let intel: Host;
  let driver: SevDriver;
  let report: HostReport;
  beforeAll(async () => {
    intel = await host('intel-xeon');
    driver = createReferenceDriver();
    report = await driver.reportHost({ uri: intel.fake.uri, sysroot: intel.sysroot, config: config({ maxEncryptedGuests: 5 }) });
  });
  afterAll(async () => {
    await driver.close?.();
    await intel.fake.close();
  });

  it('reports no traits, no inventory, no SEV facts, and warns about the configured cap', () => {
    expect(report).toMatchObject({ traits: [], inventories: {}, sev: null });
    expect(report.models?.['amd-sev']).toMatchObject({ supported: false, slots: 0 });
    expect(report.warnings).toEqual([{ code: 'CAP_WITHOUT_SEV', message: 'Host is configured with libvirt.num_memory_encrypted_guests set to 5, but is not SEV-capable.' }]);
  });

  it('refuses SEV requests with NO_SEV_HOST (validate, build, spawn) and boots plain guests', async () => {
    expect(code(await driver.validateRequest!({ ...SEV, host: report }))).toBe('NO_SEV_HOST');
    expect(code(await driver.buildGuestXml!({ request: SEV, host: report, instance: instance() }))).toBe('NO_SEV_HOST');
    expect(code(await driver.spawn!({ uri: intel.fake.uri, request: SEV, instance: instance() }))).toBe('NO_SEV_HOST');
    expect(intel.fake.host.control.inspect().guests).toEqual([]);
    const inst = instance();
    ok(await driver.spawn!({ uri: intel.fake.uri, request: PLAIN, instance: inst }));
    expect(intel.fake.host.control.inspect().guests).toMatchObject([{ name: inst.name, state: 'running' }]);
    // A plain guest may be suspended (managed save); live migration is outside the reference driver.
    expect(code(await driver.lifecycle!({ operation: 'live-migrate', uri: intel.fake.uri, instance: inst, request: PLAIN }))).toBe('NOT_IMPLEMENTED');
    ok(await driver.lifecycle!({ operation: 'suspend', uri: intel.fake.uri, instance: inst, request: PLAIN }));
    ok(await driver.lifecycle!({ operation: 'delete', uri: intel.fake.uri, instance: inst, request: PLAIN }));
  });

  it('refuses operations on a URI it never reported with a clear error', async () => {
    await expect(driver.spawn!({ uri: 'qemu+unix:///system?socket=/nonexistent', request: PLAIN, instance: instance() })).rejects.toThrow(/reportHost/);
  });
});

describe('variants of the reference driver through createDriver', () => {
  let milan: Host;
  const params = (c: Partial<DriverConfig> = {}) => ({ uri: milan.fake.uri, sysroot: milan.sysroot, config: config(c) });
  beforeAll(async () => {
    milan = await host('milan-7003-es8');
  });
  afterAll(async () => {
    await milan.fake.close();
  });

  it('creates one driver per host from the stock doors and the config, and takes the given name', async () => {
    const seen: ReferenceHost[] = [];
    const driver = createReferenceDriver({
      name: 'my-variant',
      createDriver: (h) => {
        seen.push(h);
        return new ReferenceSevDriver(h.libvirt, h.files, h.config);
      },
    });
    try {
      expect(driver.describe().name).toBe('my-variant');
      const capped = await driver.reportHost(params({ maxEncryptedGuests: 3 }));
      await driver.reportHost(params({ maxEncryptedGuests: 3 }));
      const uncapped = await driver.reportHost(params());
      expect(seen).toHaveLength(1); // a config change reconfigures the same driver
      expect(seen[0]).toMatchObject({ uri: milan.fake.uri, sysroot: milan.sysroot, config: { num_memory_encrypted_guests: 3 } });
      expect(seen[0]!.libvirt).toBeInstanceOf(WireSource);
      expect((seen[0]!.libvirt as WireSource).client).toBe(seen[0]!.client);
      expect(capped.inventories[MEM_ENCRYPTION_CONTEXT]?.total).toBe(3);
      expect(uncapped.inventories[MEM_ENCRYPTION_CONTEXT]?.total).toBe(502);
    } finally {
      await driver.close?.();
    }
  });

  it('a detect() override changes the report and the XML built from it, and the guest QEMU refuses', async () => {
    class Cbitpos47 extends ReferenceSevDriver {
      protected override async detect(): Promise<DriverHostReport> {
        const r = await super.detect();
        return { ...r, sev: { ...r.sev, cbitpos: 47 } };
      }
    }
    const driver = createReferenceDriver({ createDriver: (h) => new Cbitpos47(h.libvirt, h.files, h.config) });
    try {
      const report = await driver.reportHost(params());
      expect(report.sev).toEqual({ cbitpos: 47, reducedPhysBits: 1 });
      expect(ok(await driver.buildGuestXml!({ request: SEV, host: report, instance: instance() })).xml).toContain('<cbitpos>47</cbitpos>');
      expect(code(await driver.spawn!({ uri: milan.fake.uri, request: SEV, instance: instance() }))).toBe('HOST_FAULT');
      expect(milan.fake.host.control.inspect().guests).toEqual([]);
    } finally {
      await driver.close?.();
    }
  });

  it('buildGuestXml and spawn plan through the driver; validateRequest is the placement check over its report', async () => {
    class NeverPlans extends ReferenceSevDriver {
      override plan(): GuestPlan {
        return refuse('GUEST_OS_NOT_SEV_CAPABLE', 'this variant plans nothing');
      }
    }
    const driver = createReferenceDriver({ createDriver: (h) => new NeverPlans(h.libvirt, h.files, h.config) });
    try {
      const report = await driver.reportHost(params());
      expect(ok(await driver.validateRequest!({ ...SEV, host: report })).model).toBe('amd-sev');
      expect(code(await driver.buildGuestXml!({ request: SEV, host: report, instance: instance() }))).toBe('GUEST_OS_NOT_SEV_CAPABLE');
      expect(code(await driver.spawn!({ uri: milan.fake.uri, request: PLAIN, instance: instance() }))).toBe('GUEST_OS_NOT_SEV_CAPABLE');
      expect(milan.fake.host.control.inspect().guests).toEqual([]);
    } finally {
      await driver.close?.();
    }
  });

  it('a createDriver that returns no ReferenceSevDriver, or throws, fails reportHost clearly and closes the connection', async () => {
    const seen: ReferenceHost[] = [];
    const notADriver = createReferenceDriver({
      createDriver: (h) => {
        seen.push(h);
        return { init: async () => ({}) } as unknown as ReferenceSevDriver;
      },
    });
    await expect(notADriver.reportHost(params())).rejects.toThrow(/createDriver must return a ReferenceSevDriver/);
    const throwing = createReferenceDriver({
      createDriver: (h) => {
        seen.push(h);
        throw new DriverRefusal('INVALID_REQUEST', 'variant refuses to start');
      },
    });
    await expect(throwing.reportHost(params())).rejects.toThrow(/variant refuses to start/);
    expect(seen).toHaveLength(2);
    for (const h of seen) await expect(h.client.getVersion()).rejects.toThrow();
  });
});
