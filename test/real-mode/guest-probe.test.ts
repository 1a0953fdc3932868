/**
 * Evidence from inside the guest. The probe's pieces (initramfs archive, console report) are
 * checked here on their own; then, against this machine's libvirt 9.0 under TCG, the probe guest
 * boots its Debian kernel and busybox initramfs and its own kernel reports no memory encryption.
 */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { initramfs, S_IFREG } from '../../conformance/real/guest-probe/cpio.ts';
import { PROBE_IMAGE_LIMIT } from '../../conformance/real/guest-probe/image.ts';
import { parseProbeLog, probeGuest } from '../../conformance/real/guest-probe/probe.ts';
import { connect } from '../../src/libvirt/client.ts';
import { requireMachineLibvirtd } from '../../conformance/real/system-libvirtd.ts';

const report = (lines: string[]) => ['noise', 'SEVPROBE-BEGIN', 'SEVPROBE-DMESG-LINES: 412', ...lines, 'SEVPROBE-KERNEL: 6.1.0-57-amd64', 'SEVPROBE-END', 'reboot: Power down'].join('\r\n');

describe('probe pieces', () => {
  it('the initramfs is a newc cpio the kernel can unpack: headers, 4-byte alignment, trailer', () => {
    const raw = gunzipSync(initramfs([{ name: 'init', mode: S_IFREG | 0o755, data: Buffer.from('#!/bin/sh\n') }]));
    expect(raw.subarray(0, 6).toString()).toBe('070701');
    expect(raw.subarray(110, 115).toString()).toBe('init\0');
    // header 110 + name 5 → padded to 116; data 10 → padded to 12: the trailer starts at 128.
    expect(raw.subarray(128, 134).toString()).toBe('070701');
    expect(raw.subarray(128 + 110, 128 + 120).toString()).toBe('TRAILER!!!');
    expect(parseInt(raw.subarray(6 + 6 * 8, 6 + 7 * 8).toString(), 16)).toBe(10);
  });

  it('reads the encryption the guest kernel reports, and nothing from an empty or cut log', () => {
    expect(parseProbeLog(report(['SEVPROBE-LOG: [    0.000000] Memory Encryption Features active: AMD SEV SEV-ES', 'SEVPROBE-FLAGS: sev sev_es ']))).toMatchObject({ encryption: 'sev-es', cpuFlags: ['sev', 'sev_es'] });
    expect(parseProbeLog(report(['SEVPROBE-LOG: Memory Encryption Features active: AMD SEV']))?.encryption).toBe('sev');
    expect(parseProbeLog(report(['SEVPROBE-LOG: Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP']))?.encryption).toBe('sev-snp');
    expect(parseProbeLog(report(['SEVPROBE-FLAGS: ']))).toMatchObject({ encryption: 'none', cpuFlags: [], guestKernel: '6.1.0-57-amd64' });
    expect(parseProbeLog('SEVPROBE-BEGIN\nSEVPROBE-DMESG-LINES: 0\nSEVPROBE-END')).toBeNull();
    expect(parseProbeLog('SEVPROBE-BEGIN\nSEVPROBE-DMESG-LINES: 5\n')).toBeNull();
  });
});

// The machine's own system daemon: the probe's kernel and initrd are paths on this machine.
describe.skipIf(!requireMachineLibvirtd(['libvirtd', 'qemu-system-x86_64', 'apt-get', 'dpkg-deb']))('the probe guest on this machine\'s libvirt 9.0 (TCG, no SEV)', () => {
  it('boots, and its own kernel reports no memory encryption', async () => {
    const c = await connect('qemu:///system');
    try {
      const e = await probeGuest(c, { domainType: 'qemu', timeoutMs: 300_000 });
      process.stderr.write(`guest probe: image ${e.image.bytes} bytes (${e.image.kernelSource}), built in ${e.image.buildMs} ms, TCG boot to power-off ${e.bootMs} ms; guest kernel ${e.guestKernel}\n`);
      expect(e.encryption).toBe('none');
      expect(e.kernelLines.filter((l) => /Memory Encryption Features active/i.test(l))).toEqual([]);
      expect(e.cpuFlags.filter((f) => f.startsWith('sev'))).toEqual([]);
      expect(e.image.bytes).toBeLessThan(PROBE_IMAGE_LIMIT);
      expect((await c.listAllDomains()).filter((d) => d.name.includes('probe'))).toEqual([]);
    } finally {
      await c.close();
    }
  }, 400_000);
});
