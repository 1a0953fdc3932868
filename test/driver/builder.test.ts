import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { isVirtioDevice, parseDomainXml } from '../../fakelibvirt/libvirt/domain-def.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { pinnedBytesFor } from '../../src/sev/qemu-regions.ts';
import { buildDomainXml, chooseLoader, hardLimitKiB, hostFragments, VIDEO_RAM_KIB } from '../../src/driver/builder.ts';
import { planGuest, type Flavor, type Image } from '../../src/driver/request.ts';
import { filesOf, plainFlavor, profileNames, setup, sevFlavor, uefiImage } from './helpers.ts';
import { detectHost } from '../../src/driver/detect.ts';
import { validateDomainXml } from '../../conformance/runner/xml-schema.ts';
import { FakeHostSource } from '../../conformance/fake-host-source.ts';

/** The request matrix: bus, CD-ROM, video, agent and guest-kernel variants × memory policy. */
const VARIANTS: Array<{ id: string; props: Record<string, string>; guestBlk?: boolean }> = [
  { id: 'defaults', props: {} },
  { id: 'scsi', props: { hw_disk_bus: 'scsi', hw_scsi_model: 'virtio-scsi', hw_cdrom_bus: 'scsi' } },
  { id: 'sata', props: { hw_disk_bus: 'sata' } },
  { id: 'qxl-agent', props: { hw_video_model: 'qxl', hw_qemu_guest_agent: 'yes' } },
  { id: 'vga', props: { hw_video_model: 'vga', hw_cdrom_bus: 'scsi' } },
  { id: 'novideo', props: { hw_video_model: 'none' } },
  { id: 'no-virtio-blk-boot', props: {}, guestBlk: false },
];
const POLICIES = ['locked', 'hard-limit'] as const;

const dir = mkdtempSync(join(tmpdir(), 'sev-xml-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Built { file: string; xml: string; profile: string; variant: string; policy: string; model: string; plan: ReturnType<typeof planGuest> }

async function buildMatrix(): Promise<Built[]> {
  const out: Built[] = [];
  // The driver builds x86_64 guests; an aarch64 host offers no q35 to build one for.
  for (const profile of profileNames.filter((n) => loadProfile(n).arch === 'x86_64')) {
    const { report } = await setup(profile);
    const frag = hostFragments(report);
    const models = [...(report.sev.slots > 0 ? ['amd-sev'] : []), ...(report.sevEs.slots > 0 ? ['amd-sev-es'] : []), 'plain'];
    for (const model of models) {
      for (const v of VARIANTS) for (const policy of POLICIES) {
        const flavor: Flavor = model === 'plain' ? plainFlavor : sevFlavor({ 'hw:mem_encryption': 'true', 'hw:mem_encryption_model': model });
        const image: Image = uefiImage(v.props, v.guestBlk === false ? { guest_os: { name: 'old-kernel', sev: true, sev_es: true, virtio_blk_boot: false } } : {});
        const name = `${profile}-${model}-${v.id}-${policy}`;
        const plan = planGuest({ name, flavor, image }, report);
        const xml = buildDomainXml(plan, frag, { memoryPolicy: policy, uuid: undefined });
        const file = join(dir, `${name}.xml`);
        writeFileSync(file, xml);
        out.push({ file, xml, profile, variant: v.id, policy, model, plan });
      }
    }
  }
  return out;
}

const matrix = await buildMatrix();

describe('domain XML builder', () => {
  it('covers SEV and SEV-ES variants', () => {
    expect(matrix.filter((b) => b.model === 'amd-sev').length).toBeGreaterThan(40);
    expect(matrix.filter((b) => b.model === 'amd-sev-es').length).toBeGreaterThan(0);
  });

  // virt-xml-validate FILE domain is `xmllint --relaxng domain.rng FILE`; one xmllint compiles the schema once for all.
  it("every document validates against libvirt's domain schema (one xmllint run)", async () => {
    const verdicts = await validateDomainXml(matrix.map((b) => b.xml));
    expect(matrix.map((b, i) => [b.file, verdicts[i]]).filter(([, v]) => v !== null)).toEqual([]);
  });

  it.each(matrix.filter((b) => b.model !== 'plain').map((b) => [b.file.split('/').pop()!, b] as const))('%s: SEV structure rules', (_n, b) => {
    const def = parseDomainXml(b.xml, { snpKnown: false });
    expect(def.os.machine).toMatch(/^pc-q35-/);
    expect(def.os.loader).toMatchObject({ type: 'pflash', readonly: true });
    expect(def.os.nvram).toMatch(/OVMF_VARS/);
    expect(def.launchSecurity).toMatchObject({ type: 'sev', policy: b.model === 'amd-sev-es' ? 0x37 : 0x33 });
    expect(b.xml).toMatch(/<\/devices><launchSecurity type='sev'>.*<\/launchSecurity><\/domain>$/);
    expect(def.features.has('vmcoreinfo')).toBe(false);
    // virtio channels are ports of the virtio-serial controller: the controller carries the iommu.
    const ports = def.devices.filter((d) => (d.kind === 'channel' || d.kind === 'console') && d.model === 'virtio');
    if (ports.length > 0) expect(def.devices.some((d) => d.controllerType === 'virtio-serial' && d.iommu)).toBe(true);
    for (const d of def.devices.filter((x) => !ports.includes(x))) {
      expect([d.kind, d.model ?? d.bus ?? d.controllerType, d.iommu]).toEqual([d.kind, d.model ?? d.bus ?? d.controllerType, isVirtioDevice(d)]);
    }
    expect(def.devices.some((d) => d.bus === 'ide' || d.controllerType === 'ide')).toBe(false);
    expect(def.devices.filter((d) => d.kind === 'interface').every((d) => !d.romEnabled)).toBe(true);
    if (b.variant === 'no-virtio-blk-boot') expect(def.devices.find((d) => d.device === 'disk')?.bus).toBe('scsi');
    if (b.policy === 'locked') expect([def.lockedMemory, def.hardLimitKiB]).toEqual([true, undefined]);
    else {
      expect(def.lockedMemory).toBe(false);
      const pinned = pinnedBytesFor({ guestRamKiB: def.memoryKiB, videoRamKiB: VIDEO_RAM_KIB[b.plan.videoModel], firmware: 'uefi' }) / 1024;
      expect(def.hardLimitKiB).toBeGreaterThanOrEqual(pinned);
      expect((def.hardLimitKiB! - def.memoryKiB) % (16 * 1024)).toBe(0);
    }
    expect(def.guestOs.virtioBlkBoot).toBe(b.variant !== 'no-virtio-blk-boot');
  });

  it('plain guests get neither iommu nor launchSecurity, and keep vmcoreinfo', () => {
    for (const b of matrix.filter((x) => x.model === 'plain')) {
      const def = parseDomainXml(b.xml, { snpKnown: false });
      expect(def.launchSecurity).toBeNull();
      expect(def.devices.some((d) => d.iommu)).toBe(false);
      expect(def.features.has('vmcoreinfo')).toBe(true);
    }
  });

  it('boots every encrypted variant on its FakeHost: ASID in range, memory pinned, policy, no faults', () => {
    const byProfile = new Map<string, Built[]>();
    for (const b of matrix) if (b.model !== 'plain') byProfile.set(b.profile, [...(byProfile.get(b.profile) ?? []), b]);
    expect(byProfile.size).toBeGreaterThanOrEqual(6);
    for (const [profile, builds] of byProfile) {
      for (const b of builds) {
        const host = new FakeHost(loadProfile(profile));
        host.create(host.defineXML(b.xml));
        const snap = host.control.inspect();
        const g = snap.guests[0]!;
        const cpuid = host.cpuid!;
        const faults = host.control.guest(b.plan.name)?.faults ?? [];
        expect({ file: b.file, state: g.state, faults }).toEqual({ file: b.file, state: 'running', faults: [] });
        expect(g.policy).toBe(b.model === 'amd-sev-es' ? '0x37' : '0x33');
        if (b.model === 'amd-sev') expect(g.asid!).toBeGreaterThanOrEqual(cpuid.minSevAsid);
        else expect(g.asid!).toBeLessThan(cpuid.minSevAsid);
        expect(g.asid!).toBeLessThanOrEqual(cpuid.maxSevAsid);
        expect(g.pinnedKiB).toBeGreaterThanOrEqual(b.plan.memoryMiB * 1024);
      }
    }
  });

  it('hard limit arithmetic and loader choice', () => {
    expect(hardLimitKiB(2048, 'virtio', true)).toBe(2048 * 1024 + 16 * 1024);
    expect(hardLimitKiB(2048, 'qxl', true)).toBe(2048 * 1024 + 160 * 1024);
    expect(chooseLoader(['/x/OVMF_CODE.secboot.fd', '/x/OVMF_CODE_4M.fd'])).toEqual({ code: '/x/OVMF_CODE_4M.fd', vars: '/x/OVMF_VARS_4M.fd' });
    expect(chooseLoader([])).toBeNull();
  });

  it('a reused shape carries no value of the guest it was first built for', async () => {
    const { report } = await setup('milan-7003-es8');
    const shared = hostFragments(report);
    const plan = (name: string, memory_mb: number, vcpus: number) =>
      planGuest({ name, flavor: { ...sevFlavor({ 'hw:mem_encryption': 'true' }), memory_mb, vcpus }, image: uefiImage({}) }, report);
    for (const policy of POLICIES) {
      buildDomainXml(plan('first-guest', 2048, 2), shared, { memoryPolicy: policy, uuid: '11111111-1111-4111-8111-111111111111' });
      const second = plan('second&guest', 4096, 4);
      const opts = { memoryPolicy: policy, uuid: '22222222-2222-4222-8222-222222222222' };
      // A fresh fragments object has an empty cache: the document as first rendered for this guest.
      expect(buildDomainXml(second, shared, opts)).toBe(buildDomainXml(second, hostFragments(report), opts));
      expect(buildDomainXml(second, shared, opts)).not.toMatch(/first-guest|11111111|2097152/);
    }
  });

  it('a guest-OS name that reads as a template mark is kept as given, not filled with guest values', async () => {
    const { report } = await setup('milan-7003-es8');
    const image = uefiImage({}, { guest_os: { name: 'os\u00010\u0001x', sev: true, sev_es: true, virtio_blk_boot: true } });
    const plan = planGuest({ name: 'vm', flavor: sevFlavor(), image }, report);
    const frag = hostFragments(report);
    for (let build = 0; build < 2; build++) expect(buildDomainXml(plan, frag, { uuid: '33333333-3333-4333-8333-333333333333' })).toContain("name='os\u00010\u0001x'");
  });

  it('escapes names and guest OS facts', async () => {
    const host = new FakeHost(loadProfile('rome-7002'));
    const report = await detectHost(new FakeHostSource(host), filesOf(host), { hw_machine_type: { x86_64: 'q35' } });
    const plan = planGuest({ name: "a&b'<c>", flavor: sevFlavor(), image: uefiImage({}, { guest_os: { name: 'x"y', sev: true, sev_es: true, virtio_blk_boot: true } }) }, report);
    const def = parseDomainXml(buildDomainXml(plan, hostFragments(report)), { snpKnown: false });
    expect([def.name, def.guestOs.name]).toEqual(["a&b'<c>", 'x"y']);
  });
});
