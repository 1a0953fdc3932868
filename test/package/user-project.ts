/**
 * The files of the empty user project the packed-install test installs the tarball into: what a
 * new user writes against `sevharness`, `sevharness/client`, … with their own Node, vitest and tsc.
 * Kept as strings so neither this repository's tsc nor its vitest picks them up as its own.
 */

/** A profile with SEV and SEV-ES, and one with no SEV at all. */
export const PROFILES = ['milan-7003-es8', 'intel-xeon'] as const;
/** Areas of the catalogue the plain-Node run judges (a subset keeps the test short). */
export const NODE_CASES = ['detect', 'request', 'xml', 'boot'] as const;
export const VITEST_PROFILE = 'genoa-9004';
export const VITEST_CASES = ['detect', 'lifecycle'] as const;

export const PACKAGE_JSON = `${JSON.stringify({ name: 'sevharness-user', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`;

const SEV_GUEST = `<domain type='kvm'>
  <name>sevguest</name>
  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
  <memory unit='KiB'>524288</memory>
  <vcpu>1</vcpu>
  <memoryBacking><locked/></memoryBacking>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>
    <nvram>/var/lib/libvirt/qemu/nvram/sevguest_VARS.fd</nvram>
  </os>
  <features><acpi/></features>
  <launchSecurity type='sev'><policy>0x0033</policy></launchSecurity>
</domain>
`;

/**
 * Plain Node, no loader: every entry point, a FakeHost with a started SEV guest, a served profile
 * reached by the client, the reference driver judged by the suite. Prints one JSON line.
 */
export const SMOKE_MJS = `import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as main from 'sevharness';
import * as client from 'sevharness/client';
import * as driver from 'sevharness/driver';
import * as conformance from 'sevharness/conformance';
import * as vitestEntry from 'sevharness/vitest';
import * as kds from 'sevharness/kds';

const xml = ${JSON.stringify(SEV_GUEST)};
const out = { exports: {}, inProcess: {}, served: {}, conformance: {} };
for (const [name, mod] of Object.entries({ main, client, driver, conformance, vitest: vitestEntry, kds })) out.exports[name] = Object.keys(mod).sort();

// In-process: a bundled profile, an SEV guest defined and started.
const host = new main.FakeHost(main.loadProfile('milan-7003-es8'));
const dom = host.defineXML(xml);
host.create(dom);
out.inProcess = {
  profiles: [...main.allProfiles().keys()].length,
  active: host.isActive(dom),
  asidsInUse: host.control.inspect().asids.inUse.map((a) => a.kind),
};

// Served over a UNIX socket in a directory of ours; our client connects.
const dir = mkdtempSync(join(tmpdir(), 'sevharness-user-'));
const served = await main.serveProfile('milan-7003-es8', { dir, control: true });
try {
  const conn = await client.connect(served.uri);
  try {
    const d = await conn.defineXML(xml);
    await conn.domainCreate(d);
    const info = client.paramsToRecord(await conn.getLaunchSecurityInfo(d));
    let refused = null;
    try {
      await conn.lookupByName('no-such-guest');
    } catch (e) {
      refused = client.isLibvirtError(e, client.VirErrorNumber.NO_DOMAIN) ? e.message : String(e);
    }
    out.served = {
      uri: served.uri,
      libVersion: await conn.getLibVersion(),
      active: await conn.isActive(d),
      measurement: typeof info['sev-measurement'] === 'string',
      refused,
      controlHandlers: (await new main.ControlClient(served.controlSocket).listHandlers()).length,
    };
  } finally {
    await conn.close();
  }
} finally {
  await served.close();
  rmSync(dir, { recursive: true, force: true });
}

// The suite on the reference driver.
const report = await conformance.runConformance({
  driver: async () => conformance.createReferenceDriver(),
  profiles: ${JSON.stringify(PROFILES)},
  cases: ${JSON.stringify(NODE_CASES)},
});
out.conformance = { counts: conformance.countStatuses(report.results), failures: report.results.filter((r) => r.status === 'fail' || r.status === 'error').map((r) => r.caseId + ' [' + r.profile + ']: ' + r.reason) };
console.log(JSON.stringify(out));
`;

/** describeConformance in the user's own vitest (its copy, not ours). */
export const SUITE_TEST_MTS = `import { createReferenceDriver } from 'sevharness/conformance';
import { describeConformance } from 'sevharness/vitest';

describeConformance({ driver: () => createReferenceDriver(), profiles: [${JSON.stringify(VITEST_PROFILE)}], cases: ${JSON.stringify(VITEST_CASES)} });
`;

/** A user file touching every entry's main types, for a default `tsc --strict` project. */
export const APP_TS = `import { FakeHost, loadProfile, serveProfile, fault, ControlClient, type HardwareProfile, type ServedProfile } from 'sevharness';
import { connect, isLibvirtError, LibvirtError, VirErrorNumber, param, parseUri, type LibvirtClient, type TypedParam } from 'sevharness/client';
import { ReferenceSevDriver, SysrootFiles, WireSource, type HostReport, type Flavor } from 'sevharness/driver';
import { runConformance, createReferenceDriver, formatTable, formatJunit, REFUSAL_CODES, type RefusalCode, type SevDriver, type RunReport } from 'sevharness/conformance';
import { describeConformance, type ConformanceSuiteOptions } from 'sevharness/vitest';
import { kdsHandlers, KDS_ORIGIN } from 'sevharness/kds';

export async function check(): Promise<string> {
  const profile: HardwareProfile = loadProfile('milan-7003-es8');
  const host = new FakeHost(profile);
  host.control.use(fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT', { times: 1 }));
  const served: ServedProfile = await serveProfile(profile, { control: true });
  const conn: LibvirtClient = await connect(served.uri);
  const params: TypedParam[] = await conn.nodeGetSevInfo();
  const driver = new ReferenceSevDriver(new WireSource(conn), new SysrootFiles(served.sysroot));
  const report: HostReport = await driver.init();
  const flavor: Flavor = { name: 'm1', memory_mb: 2048, vcpus: 2, extra_specs: {} };
  const sev: SevDriver = createReferenceDriver();
  const run: RunReport = await runConformance({ driver: async () => sev, profiles: ['milan-7003-es8'], cases: ['detect'] });
  const code: RefusalCode = 'NO_SEV_HOST';
  const opts: ConformanceSuiteOptions = { driver: () => createReferenceDriver() };
  void describeConformance;
  void new ControlClient(served.controlSocket ?? '');
  void kdsHandlers([host]);
  try {
    await conn.lookupByName('missing');
  } catch (e) {
    if (isLibvirtError(e, VirErrorNumber.NO_DOMAIN) && e instanceof LibvirtError) return e.message;
  }
  await conn.close();
  await served.close();
  return [params.length, report.traits.length, flavor.name, formatTable(run), formatJunit(run), REFUSAL_CODES[code].meaning, opts.name, parseUri('qemu:///system').transport, param.int('x', 1).field, KDS_ORIGIN].join(' ');
}
`;

/** A default strict project; skipLibCheck off so our .d.ts files are checked too. */
export function tsconfig(exactOptionalPropertyTypes: boolean): string {
  return `${JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        exactOptionalPropertyTypes,
        skipLibCheck: false,
        noEmit: true,
        types: ['node'],
      },
      files: ['app.ts'],
    },
    null,
    2,
  )}\n`;
}
