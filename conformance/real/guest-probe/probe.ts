/**
 * Evidence from inside the guest: real mode boots its own probe guest (image.ts) by direct kernel
 * boot and reads, from the serial console log, what the guest kernel reports about memory
 * encryption. That — not libvirt's say-so — is what tells whether guests on this host really run
 * encrypted. Under TCG (or on a host without SEV) the guest must report none.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DomainRef, LibvirtClient } from '../../../src/libvirt/client.ts';
import { CHECK_DOMAIN_PREFIX, removeSuiteDomain } from '../host-hygiene.ts';
import { probeCacheDir, probeImage, type ProbeImage } from './image.ts';
import { PROBE_BEGIN, PROBE_END } from './init-script.ts';

export type GuestEncryption = 'none' | 'sev' | 'sev-es' | 'sev-snp';

export interface ProbeReport {
  /** The strongest encryption the guest kernel reports active. */
  readonly encryption: GuestEncryption;
  /** The guest kernel's own lines (its "Memory Encryption Features active" line, SEV messages). */
  readonly kernelLines: readonly string[];
  /** Memory-encryption flags in the guest's /proc/cpuinfo. */
  readonly cpuFlags: readonly string[];
  readonly guestKernel: string;
  readonly image: ProbeImage;
  /** From create to the guest powering itself off. */
  readonly bootMs: number;
}

/**
 * Where the guest's serial console is written, as the daemon names the file, and how it is read
 * back here: a daemon in a container writes inside the container, which this process reads through
 * the container. Default: a file in the probe cache, read directly.
 */
export interface ProbeConsole {
  readonly path: string;
  read(): Promise<string>;
  remove(): Promise<void>;
}

function cacheConsole(name: string): ProbeConsole {
  const path = join(probeCacheDir(), `${name}.log`);
  return { path, read: async () => readFileSync(path, 'utf8'), remove: async () => rmSync(path, { force: true }) };
}

export interface ProbeOptions {
  readonly domainType: 'kvm' | 'qemu';
  /** The console file of the probe guest named `name` (default: in the probe cache, on this machine). */
  readonly console?: (name: string) => ProbeConsole;
  /** Launch the probe as an SEV guest of this kind (needs OVMF with kernel hashes). */
  readonly sev?: { readonly kind: 'sev' | 'sev-es'; readonly loader: string; readonly cbitpos: number; readonly reducedPhysBits: number };
  readonly timeoutMs?: number;
}

const STATE_SHUTOFF = 5;

export function probeDomainXml(name: string, image: ProbeImage, log: string, o: ProbeOptions): string {
  const sev = o.sev;
  const loader = sev ? `<loader readonly='yes' type='pflash'>${sev.loader}</loader>` : '';
  // Policy 0x1 (no debug); SEV-ES adds bit 2. The kernel, initrd and command line are measured.
  const launch = sev
    ? `<launchSecurity type='sev' kernelHashes='yes'><cbitpos>${sev.cbitpos}</cbitpos><reducedPhysBits>${sev.reducedPhysBits}</reducedPhysBits><policy>${sev.kind === 'sev-es' ? '0x0005' : '0x0001'}</policy></launchSecurity>`
    : '';
  return (
    `<domain type='${o.domainType}'><name>${name}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>` +
    (sev ? '<memoryBacking><locked/></memoryBacking>' : '') +
    `<os><type arch='x86_64' machine='q35'>hvm</type>${loader}<kernel>${image.kernel}</kernel><initrd>${image.initrd}</initrd>` +
    `<cmdline>console=ttyS0 panic=-1 loglevel=6</cmdline></os>` +
    `<on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>` +
    `<devices><serial type='file'><source path='${log}'/><target port='0'/></serial><memballoon model='none'/></devices>${launch}</domain>`
  );
}

/** Reads the probe's report out of the serial log; null when its markers or the kernel log are missing. */
export function parseProbeLog(text: string): Omit<ProbeReport, 'image' | 'bootMs'> | null {
  const begin = text.indexOf(PROBE_BEGIN);
  const end = text.indexOf(PROBE_END, begin);
  if (begin < 0 || end < 0) return null;
  const lines = text.slice(begin, end).split(/\r?\n/);
  const value = (tag: string) => lines.filter((l) => l.startsWith(`SEVPROBE-${tag}: `)).map((l) => l.slice(tag.length + 11).trim());
  const kernelLines = value('LOG');
  const cpuFlags = (value('FLAGS')[0] ?? '').split(/\s+/).filter(Boolean);
  // An empty kernel log would make "no encryption line" mean nothing: the report needs the log.
  if (Number(value('DMESG-LINES')[0] ?? '0') === 0) return null;
  const active = kernelLines.find((l) => /Memory Encryption Features active:/i.test(l)) ?? '';
  const encryption: GuestEncryption = /SEV-SNP/.test(active) ? 'sev-snp' : /SEV-ES/.test(active) ? 'sev-es' : /\bSEV\b/.test(active) ? 'sev' : 'none';
  return { encryption, kernelLines, cpuFlags, guestKernel: value('KERNEL')[0] ?? 'unknown' };
}

/** Boots the probe guest, waits for it to power off, and returns what its kernel reported. */
export async function probeGuest(client: LibvirtClient, o: ProbeOptions, prebuilt?: ProbeImage): Promise<ProbeReport> {
  const image = prebuilt ?? (await probeImage());
  const name = `${CHECK_DOMAIN_PREFIX}probe-${process.pid}`;
  const log = (o.console ?? cacheConsole)(name);
  await log.remove();
  let dom: DomainRef | null = null;
  try {
    dom = await client.defineXML(probeDomainXml(name, image, log.path, o));
    const t0 = performance.now();
    await client.domainCreate(dom);
    const deadline = t0 + (o.timeoutMs ?? 180_000);
    while ((await client.getState(dom)).state !== STATE_SHUTOFF) {
      if (performance.now() > deadline) throw new Error(`the probe guest did not power off within ${o.timeoutMs ?? 180_000} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const bootMs = Math.round(performance.now() - t0);
    const text = await log.read();
    const report = parseProbeLog(text);
    if (!report) throw new Error(`the probe guest powered off without its report; console ends: ${text.slice(-400)}`);
    return { ...report, image, bootMs };
  } finally {
    if (dom) await removeSuiteDomain(client, dom).catch(() => undefined);
    await log.remove().catch(() => undefined);
  }
}
