/**
 * libvirt's own attestation tool, unmodified, against the fake: `virt-qemu-sev-validate` reads the
 * launch measurement, domain XML and host capabilities over the fake daemon, recomputes the
 * measurement from the guest owner's TIK and the firmware file in the sysroot (and the kernel hashes
 * table, and the SEV-ES VMSAs from the host CPU signature), and injects secrets.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchPaused, openLab, requireValidator, validate, type Lab, type ServedHost } from './support.ts';

const available = await requireValidator();
const GOOD = 'OK: Looks good to me';
const MISMATCH = 'ERROR: Measurement does not match, VM is not trustworthy';

/** Loader paths the profiles list (hardware-profiles/*.json), as the sysroot carries them. */
const LOADER: Record<string, string> = {
  'naples-7001': '/usr/share/OVMF/OVMF_CODE.fd',
  'rome-7002': '/usr/share/OVMF/OVMF_CODE_4M.fd',
  'milan-7003-es8': '/usr/share/edk2/ovmf/OVMF_CODE.fd',
  'milan-7003-all-es': '/usr/share/OVMF/OVMF_CODE_4M.fd',
  'genoa-9004': '/usr/share/edk2/ovmf/OVMF_CODE.fd',
};

describe.skipIf(!available)('virt-qemu-sev-validate against the fake', () => {
  let lab: Lab;
  const at = (p: string): ServedHost => lab.hosts.get(p)!;
  const connected = (p: string, name: string, tik: string, tek: string, ...more: string[]) =>
    validate(['--connect', at(p).uri, '--domain', name, '--tik', tik, '--tek', tek, '--firmware', join(at(p).sysroot, LOADER[p]!), '--insecure', ...more]);

  beforeAll(async () => {
    lab = await openLab(Object.keys(LOADER));
  });
  afterAll(async () => lab?.close());

  it.each(['rome-7002', 'milan-7003-es8', 'genoa-9004'])('SEV guest (policy 0x33) on %s: the measurement is good', async (p) => {
    const g = launchPaused(lab, at(p), { name: 'sev33', policy: 0x33, vcpus: 2, loader: LOADER[p]! });
    const r = await connected(p, 'sev33', g.tik, g.tek);
    expect(r.stdout.trim() + r.stderr.trim()).toBe(GOOD);
    expect(r.status).toBe(0);
  });

  it('Naples (libvirt 6.0 reports the measurement alone): connected mode is refused as on libvirt 6.0, offline mode with the host values is good', async () => {
    const p = 'naples-7001';
    const g = launchPaused(lab, at(p), { name: 'naples', policy: 0x33, loader: LOADER[p]! });
    const online = await connected(p, 'naples', g.tik, g.tek);
    expect(online.stderr.trim()).toBe("ERROR: 'api-major' not reported in domain launch security info");
    const info = Object.fromEntries(at(p).host.launchSecurityInfo({ name: 'naples', uuid: at(p).host.lookupByName('naples').uuid }).map((x) => [x.field, x.value]));
    expect(Object.keys(info)).toEqual(['sev-measurement']);
    const fw = at(p).host.profile.firmware!;
    const offline = await validate([
      '--measurement', String(info['sev-measurement']), '--api-major', String(fw.apiMajor), '--api-minor', String(fw.apiMinor),
      '--build-id', String(fw.build), '--policy', String(0x33), '--tik', g.tik, '--tek', g.tek, '--firmware', join(at(p).sysroot, LOADER[p]!),
    ]);
    expect(offline.stdout.trim()).toBe(GOOD);
  });

  it.each(['milan-7003-es8', 'milan-7003-all-es', 'genoa-9004'])('SEV-ES guest (policy 0x37, 4 vCPUs) on %s: VMSAs from the host CPU signature match', async (p) => {
    const g = launchPaused(lab, at(p), { name: 'es37', policy: 0x37, vcpus: 4, loader: LOADER[p]! });
    const r = await connected(p, 'es37', g.tik, g.tek);
    expect(r.stdout.trim() + r.stderr.trim()).toBe(GOOD);
  });

  it('measured direct kernel boot (kernelHashes=yes, AmdSev OVMF): good with --kernel/--initrd/--cmdline, mismatch with another cmdline', async () => {
    const p = 'genoa-9004';
    const kernel = lab.file('vmlinuz', Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) & 0xff)));
    const initrd = lab.file('initrd.img', Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff)));
    const cmdline = 'console=ttyS0 root=/dev/vda1';
    const loader = '/usr/share/edk2/ovmf/OVMF.amdsev.fd';
    const g = launchPaused(lab, at(p), { name: 'kh', policy: 0x37, vcpus: 2, loader, loaderType: 'rom', kernel: { kernel, initrd, cmdline } });
    const args = ['--connect', at(p).uri, '--domain', 'kh', '--tik', g.tik, '--tek', g.tek, '--firmware', join(at(p).sysroot, loader), '--kernel', kernel, '--initrd', initrd, '--insecure'];
    expect((await validate([...args, '--cmdline', cmdline])).stdout.trim()).toBe(GOOD);
    expect((await validate([...args, '--cmdline', 'console=ttyS0'])).stderr.trim()).toBe(MISMATCH);
  });

  it('reports a mismatch for a wrong TIK, a tampered firmware file, and a policy other than the one launched', async () => {
    const p = 'milan-7003-es8';
    const g = launchPaused(lab, at(p), { name: 'neg', policy: 0x33, loader: LOADER[p]! });
    const wrongTik = lab.file('wrong_tik.bin', Buffer.alloc(16, 7));
    expect((await connected(p, 'neg', wrongTik, g.tek)).stderr.trim()).toBe(MISMATCH);

    const tampered = join(lab.dir, 'tampered.fd');
    copyFileSync(join(at(p).sysroot, LOADER[p]!), tampered);
    const bytes = readFileSync(tampered);
    bytes[1000] = bytes[1000]! ^ 0x01;
    writeFileSync(tampered, bytes);
    const r = await validate(['--connect', at(p).uri, '--domain', 'neg', '--tik', g.tik, '--tek', g.tek, '--firmware', tampered, '--insecure']);
    expect(r.stderr.trim()).toBe(MISMATCH);

    // The owner expects 0x37 but the guest runs with the 0x33 its session was made for.
    expect((await connected(p, 'neg', g.tik, g.tek, '--policy', String(0x37))).stderr.trim()).toBe(MISMATCH);
  });

  it('--inject-secret: the secret table lands in the guest, which then runs; a wrong TEK gives the guest no readable table', async () => {
    const p = 'milan-7003-es8';
    const h = at(p).host;
    const secret = lab.file('luks.txt', 'correct horse battery staple');
    const g = launchPaused(lab, at(p), { name: 'sec', policy: 0x33, loader: LOADER[p]! });
    const r = await connected(p, 'sec', g.tik, g.tek, '--inject-secret', `luks-key:${secret}`);
    expect(r.stdout.trim().split('\n')).toEqual([GOOD, 'OK: Injected 1 secrets']);
    const landed = h.control.launchSecrets('sec');
    expect(landed).toHaveLength(1);
    expect(landed[0]!.entries).toEqual([{ guid: '736869e5-84f0-4973-92ec-06879ce3da0b', data: Buffer.from('correct horse battery staple') }]);
    expect(h.control.inspect().guests.find((x) => x.name === 'sec')?.firmwareState).toBe('RUNNING');

    // The packet MAC is under the TIK, so the firmware accepts it; decrypted with the real TEK the
    // payload is noise, and OVMF finds no secret table in it.
    const h2 = launchPaused(lab, at(p), { name: 'sec2', policy: 0x33, loader: LOADER[p]! });
    const wrongTek = lab.file('wrong_tek.bin', Buffer.alloc(16, 9));
    const r2 = await connected(p, 'sec2', h2.tik, wrongTek, '--inject-secret', `luks-key:${secret}`);
    expect(r2.status).toBe(0);
    expect(h.control.launchSecrets('sec2').map((s) => s.entries)).toEqual([null]);
  });
});
