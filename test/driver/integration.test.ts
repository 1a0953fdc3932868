/**
 * Issue #4's integration acceptance: on every SEV profile, through the fake daemon's socket (the
 * driver only has the TS client and a materialised sysroot), boot one guest per request variant —
 * model × memory policy × device variant — and check what the host really did: ASID kind and
 * range, pinned memory, launch policy, guest firmware state, no guest fault, no crash.
 * One daemon per profile; every guest is destroyed and undefined before the next.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { allProfiles } from '../../fakelibvirt/profile/load.ts';
import { connect, type LibvirtClient } from '../../src/libvirt/client.ts';
import { WireSource } from '../../src/driver/host-source.ts';
import { ReferenceSevDriver } from '../../src/driver/index.ts';
import type { Image } from '../../src/driver/request.ts';
import { startFake, type FakeDaemon } from '../daemon/helpers.ts';
import { sevFlavor, sysrootOf, uefiImage } from './helpers.ts';

/** Device and guest-OS variants of the request (image properties, harness guest facts). */
const VARIANTS: ReadonlyArray<{ id: string; props: Record<string, string>; guestOs?: Image['guest_os'] }> = [
  { id: 'defaults', props: {} },
  { id: 'scsi-disk-scsi-cdrom', props: { hw_disk_bus: 'scsi', hw_scsi_model: 'virtio-scsi', hw_cdrom_bus: 'scsi' } },
  { id: 'sata-disk', props: { hw_disk_bus: 'sata' } },
  { id: 'virtio-disk-scsi-cdrom', props: { hw_cdrom_bus: 'scsi' } },
  { id: 'qxl-guest-agent', props: { hw_video_model: 'qxl', hw_qemu_guest_agent: 'yes' } },
  { id: 'vga', props: { hw_video_model: 'vga' } },
  { id: 'cirrus', props: { hw_video_model: 'cirrus' } },
  { id: 'no-video', props: { hw_video_model: 'none' } },
  { id: 'guest-without-virtio-blk-boot', props: {}, guestOs: { name: 'rhel7', sev: true, sev_es: true, virtio_blk_boot: false } },
];
const POLICIES = ['locked', 'hard-limit'] as const;

/** Profiles whose libvirt shows SEV at start (the stale-cache one is judged elsewhere). */
const sevProfiles = [...allProfiles().keys()].filter((name) => {
  const p = allProfiles().get(name)!;
  return (p.cpuid8000001f?.ecx ?? 0) > 0 && !name.startsWith('rome-7002-');
});

describe('reference driver boots every request variant through the socket', () => {
  const open: Array<{ fake: FakeDaemon; client: LibvirtClient }> = [];
  afterAll(async () => {
    for (const o of open) {
      await o.client.close().catch(() => undefined);
      await o.fake.close();
    }
  });

  it('covers the SEV profiles', () => expect(sevProfiles.length).toBeGreaterThanOrEqual(7));

  it.each(sevProfiles)('%s', async (profile) => {
    const fake = await startFake(profile);
    const client = await connect(fake.uri);
    open.push({ fake, client });
    const source = new WireSource(client);
    const files = sysrootOf(fake.host, fake.dir);
    // Libvirt < 8.0 without the misc cgroup (Naples) cannot tell the driver the slot count: state it.
    const view = fake.host.sevView!;
    const stated = fake.host.domainCapabilities().includes('<maxGuests>') ? {} : { num_memory_encrypted_guests: view.maxGuests };

    let booted = 0;
    for (const policy of POLICIES) {
      const driver = new ReferenceSevDriver(source, files, { hw_machine_type: { x86_64: 'q35' }, memory_policy: policy, ...stated });
      const report = await driver.init();
      const models = [...(report.sev.slots > 0 ? (['amd-sev'] as const) : []), ...(report.sevEs.slots > 0 ? (['amd-sev-es'] as const) : [])];
      expect(models.length).toBeGreaterThan(0);
      for (const model of models) {
        for (const v of VARIANTS) {
          const uuid = `1a7e0000-0000-4000-8000-${(++booted).toString(16).padStart(12, '0')}`;
          const name = `${model}-${v.id}-${policy}`;
          const image = uefiImage(v.props, v.guestOs ? { guest_os: v.guestOs } : {});
          const inst = await driver.spawn({ uuid, name, flavor: sevFlavor({ 'hw:mem_encryption': 'true', 'hw:mem_encryption_model': model }), image });
          const snap = fake.host.control.inspect();
          const g = snap.guests.find((x) => x.name === name);
          const kind = model === 'amd-sev' ? 'sev' : 'sev-es';
          const range = fake.host.control.asidRange(kind)!;
          const asid = snap.asids.inUse.find((a) => a.domain === name);
          const faults = fake.host.control.guest(name)?.faults ?? [];
          expect({ name, state: g?.state, firmware: g?.firmwareState, faults, kind: asid?.kind }).toEqual({ name, state: 'running', firmware: 'RUNNING', faults: [], kind });
          expect(g!.asid).toBeGreaterThanOrEqual(range.min);
          expect(g!.asid).toBeLessThanOrEqual(range.max);
          expect(g!.policy).toBe(model === 'amd-sev' ? '0x33' : '0x37');
          // All guest RAM is pinned (plus video RAM and QEMU's regions).
          expect(g!.pinnedKiB).toBeGreaterThan(inst.plan!.memoryMiB * 1024);
          if (v.guestOs?.virtio_blk_boot === false) expect(inst.xml).toMatch(/<target dev='sda' bus='scsi'\/><boot order='1'\/>/);
          expect(inst.xml.includes('<memoryBacking><locked/></memoryBacking>')).toBe(policy === 'locked');
          await driver.destroy(uuid);
        }
      }
    }
    const end = fake.host.control.inspect();
    expect([end.guests.length, end.asids.inUse.length, end.pinnedKiB]).toEqual([0, 0, 0]);
    expect(fake.host.control.events().filter((e) => /oom|killed|crash/i.test(e.message))).toEqual([]);
  });
});
