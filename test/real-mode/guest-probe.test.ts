/**
 * Evidence from inside the guest. The probe's pieces (initramfs archive, console report) are
 * checked here on their own; then, against real libvirt 9.0 under TCG (Debian 12's in a container
 * where Docker is available, else this machine's), the probe guest boots its Debian kernel and
 * busybox initramfs and its own kernel reports no memory encryption.
 */
import { gunzipSync } from 'node:zlib';
import { dirname } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initramfs, S_IFREG } from '../../conformance/real/guest-probe/cpio.ts';
import { PROBE_IMAGE_LIMIT, probeImage, type ProbeImage } from '../../conformance/real/guest-probe/image.ts';
import { parseProbeLog, probeGuest, type ProbeConsole } from '../../conformance/real/guest-probe/probe.ts';
import { connect } from '../../src/libvirt/client.ts';
import { requireMachineLibvirtd } from '../../conformance/real/system-libvirtd.ts';
import { containersUnavailable } from '../../containers/gate.ts';
import { requireRealStack } from '../../containers/real-stack.ts';
import { startRealLibvirt } from '../../containers/real-libvirt.ts';

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

/**
 * Where the probe boots: Debian 12's libvirtd in a container where Docker is available (the probe's
 * kernel and initramfs bind-mounted read-only at their own paths, the console written inside the
 * container and read through it), else this machine's own system daemon.
 */
async function probeDaemon(): Promise<{ where: string; uri: string; console?: (name: string) => ProbeConsole; image: ProbeImage; stop(): Promise<void> } | null> {
  if (!requireRealStack(['apt-get', 'dpkg-deb']).available) return null;
  if (containersUnavailable(['bookworm'], { build: false }) === null) {
    const image = await probeImage();
    const dirs = new Set([dirname(image.kernel), dirname(image.initrd)]);
    const real = await startRealLibvirt('bookworm', { mounts: Object.fromEntries([...dirs].map((d) => [d, d])) });
    const console = (name: string): ProbeConsole => {
      const path = `/tmp/${name}.log`;
      return {
        path,
        read: async () => {
          const r = await real.exec(['cat', path]);
          if (r.exitCode !== 0) throw new Error(`reading the probe console in the container: ${r.output}`);
          return r.output;
        },
        remove: async () => void (await real.exec(['rm', '-f', path])),
      };
    };
    return { where: `bookworm container (libvirt ${real.libvirt}, QEMU ${real.qemu})`, uri: real.uri, console, image, stop: () => real.stop() };
  }
  if (!requireMachineLibvirtd(['libvirtd', 'qemu-system-x86_64'])) return null;
  return { where: "this machine's qemu:///system", uri: 'qemu:///system', image: await probeImage(), stop: async () => {} };
}

const t0 = performance.now();
const daemon = await probeDaemon();
const startMs = Math.round(performance.now() - t0);
afterAll(async () => daemon?.stop());

describe.skipIf(daemon === null)('the probe guest on real libvirt 9.0 (TCG, no SEV)', () => {
  it('boots, and its own kernel reports no memory encryption', async () => {
    const d = daemon!;
    const c = await connect(d.uri);
    try {
      const e = await probeGuest(c, { domainType: 'qemu', timeoutMs: 300_000, ...(d.console && { console: d.console }) }, d.image);
      process.stderr.write(
        `guest probe on ${d.where}: image ${e.image.bytes} bytes (${e.image.kernelSource}), built in ${e.image.buildMs} ms, ` +
          `daemon ready in ${startMs} ms, TCG boot to power-off ${e.bootMs} ms; guest kernel ${e.guestKernel}\n`,
      );
      expect(e.encryption).toBe('none');
      expect(e.kernelLines.filter((l) => /Memory Encryption Features active/i.test(l))).toEqual([]);
      expect(e.cpuFlags.filter((f) => f.startsWith('sev'))).toEqual([]);
      expect(e.image.bytes).toBeLessThan(PROBE_IMAGE_LIMIT);
      expect((await c.listAllDomains()).filter((x) => x.name.includes('probe'))).toEqual([]);
    } finally {
      await c.close();
    }
  }, 400_000);
});
