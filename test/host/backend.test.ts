/**
 * The host answers in-process what the daemon used to compute itself: secrets, CPU models,
 * baselines, the vCPU ceiling, driver features, node counters, migration's parameters. The daemon
 * now only shapes these answers (its tests check the bytes); here the host's side is checked.
 */
import { describe, expect, it } from 'vitest';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { LibvirtError, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { param } from '../../src/libvirt/typed-params.ts';
import { DrvFeature } from '../../src/rpc/constants.ts';
import { guestXml } from './sev-guests.ts';

const host = () => new FakeHost(loadProfile('milan-7003-es8'));

function thrown(f: () => unknown): LibvirtError {
  try {
    f();
  } catch (e) {
    if (e instanceof LibvirtError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('the host as the libvirt backend', () => {
  it('keeps secrets in its secret driver; control.reset() drops them with everything else', () => {
    const h = host();
    const s = h.secrets.define("<secret ephemeral='no' private='no'><usage type='ceph'><name>nova</name></usage></secret>");
    h.secrets.setValue(s.uuid, Buffer.from('k'));
    expect(h.secrets.lookupByUUID(s.uuid).usageID).toBe('nova');
    expect(h.secrets.getValue(s.uuid).toString()).toBe('k');
    h.control.reset();
    expect(h.secrets.all()).toEqual([]);
    expect(thrown(() => h.secrets.lookupByUUID(s.uuid)).code).toBe(VirErrorNumber.NO_SECRET);
  });

  it('answers the driver features; the transport features are the daemon’s', () => {
    const h = host();
    expect(h.supportsFeature(DrvFeature.MIGRATION_V3)).toBe(true);
    expect(h.supportsFeature(DrvFeature.TYPED_PARAM_STRING)).toBe(true);
    expect(h.supportsFeature(DrvFeature.FD_PASSING)).toBe(false);
    expect(h.supportsFeature(DrvFeature.MIGRATION_V1)).toBe(false);
  });

  it('lists x86 CPU models for x86 only and baselines CPUs', () => {
    const h = host();
    expect(h.getCPUModelNames('x86_64')).toContain('EPYC-Milan');
    expect(h.getCPUModelNames('aarch64')).toEqual([]);
    const cpu = "<cpu><arch>x86_64</arch><model>EPYC-Milan</model><vendor>AMD</vendor></cpu>";
    expect(h.baselineCPU([cpu, cpu])).toMatch(/<model[^>]*>EPYC-Milan<\/model>/);
    expect(thrown(() => h.baselineCPU([], 0)).code).toBeGreaterThan(0);
  });

  it('counts node statistics as libvirt does: nparams 0 asks for the count', () => {
    const h = host();
    expect(h.nodeGetCPUStats(-1, 0)).toEqual({ params: [], nparams: 4 });
    expect(h.nodeGetCPUStats(-1, 2).params.map((p) => p.field)).toEqual(['kernel', 'user']);
    const mem = h.nodeGetMemoryStats(4);
    expect(mem.params.find((p) => p.field === 'total')?.value).toBe(BigInt(h.nodeInfo().memory));
    expect(h.nodeGetCellsFreeMemory(0, 64)).toHaveLength(h.nodeInfo().nodes);
    expect(h.nodeGetCPUMap().online).toBe(h.nodeInfo().cpus);
  });

  it('refuses a Prepare without XML and a cancelled Finish in the QEMU driver’s words', () => {
    const h = host();
    expect(thrown(() => h.migratePrepare([])).message).toMatch(/no domain XML passed/);
    const xml = guestXml({ name: 'm' });
    const prepared = h.migratePrepare([param.string('destination_xml', xml)]);
    expect(prepared.uri).toBe(`tcp:${h.hostname()}:49152`);
    expect(thrown(() => h.migrateFinish(prepared.xml, [], true)).message).toMatch(/was cancelled/);
    expect(h.listAllDomains()).toEqual([]);
    const dom = h.migrateFinish(prepared.xml, [], false);
    expect(h.isActive(dom)).toBe(true);
  });

  it('answers the small domain queries for a known domain and NO_DOMAIN for an unknown one', () => {
    const h = host();
    const dom = h.defineXML(guestXml({ name: 'q' }));
    expect([h.isUpdated(dom), h.snapshotNum(dom), h.getMessages(dom), h.getJobInfo(dom).type]).toEqual([false, 0, [], 0]);
    expect(h.listDefinedDomains()).toEqual(['q']);
    const ghost = { name: 'ghost', uuid: '00000000-0000-0000-0000-000000000001' };
    for (const f of [() => h.isUpdated(ghost), () => h.getSecurityLabel(ghost), () => h.getJobStats(ghost)]) {
      expect(thrown(f).code).toBe(VirErrorNumber.NO_DOMAIN);
    }
  });
});
