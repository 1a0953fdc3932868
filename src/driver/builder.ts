/**
 * Domain XML for a validated guest plan. The hot path of a boot, so it is plain string building:
 * everything that depends only on the host (loader, NVRAM template, launchSecurity per model,
 * constant devices) is rendered once into `HostFragments`, and each guest shape once into a
 * template; a build fills in the guest's name, uuid, memory and vCPUs.
 *
 * SEV rules encoded here: q35 with the host's canonical machine name, OVMF pflash + NVRAM template,
 * `<launchSecurity>` last, `<locked/>` or a computed `<hard_limit>`, `iommu='on'` on every virtio
 * device and no other, no IDE, virtio-net without the iPXE ROM, no vmcoreinfo on encrypted guests.
 */
import { randomUUID } from 'node:crypto';
import { EXTRA_REGIONS_PADDING_KIB, extraRegionsKiB } from '../sev/qemu-regions.ts';
import { GUEST_OS_NAMESPACE } from '../sev/guest-os.ts';
import type { HostReport } from './detect.ts';
import { MODELS, type EncryptionModel } from './inventory.ts';
import type { GuestPlan, VideoModel } from './request.ts';

/** Host RAM QEMU allocates per display model with libvirt's default attributes (KiB). virtio-gpu uses guest RAM. */
export const VIDEO_RAM_KIB: Readonly<Record<VideoModel, number>> = {
  qxl: 65536 + 65536 + 16384,
  vga: 16384,
  cirrus: 16384,
  bochs: 16384,
  virtio: 0,
  none: 0,
};

/** The hard limit's overhead is rounded up to this, as nova sized its per-guest host reservation. */
export const HARD_LIMIT_ROUNDING_KIB = 16 * 1024;

/** `<hard_limit>`: guest RAM + video RAM + QEMU's extra regions + padding, overhead rounded up to 16 MiB. */
export function hardLimitKiB(memoryMiB: number, video: VideoModel, uefi: boolean): number {
  const overhead = VIDEO_RAM_KIB[video] + extraRegionsKiB(uefi ? 'uefi' : 'bios') + EXTRA_REGIONS_PADDING_KIB;
  return memoryMiB * 1024 + Math.ceil(overhead / HARD_LIMIT_ROUNDING_KIB) * HARD_LIMIT_ROUNDING_KIB;
}

export const INSTANCE_DIR = '/var/lib/sevharness/instances';

const ESC_RE = /[&<>'"]/;
const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', "'": '&apos;', '"': '&quot;' };
export const escapeXml = (s: string): string => (ESC_RE.test(s) ? s.replace(/[&<>'"]/g, (c) => ESC[c]!) : s);

/** Picks the plain OVMF build: secure-boot builds need SMM, and amdsev builds are stateless (no VARS). */
export function chooseLoader(loaders: readonly string[]): { code: string; vars: string } | null {
  const plain = loaders.find((l) => /OVMF_CODE/.test(l) && !/secboot|amdsev/i.test(l)) ?? loaders.find((l) => /OVMF_CODE/.test(l));
  return plain ? { code: plain, vars: plain.replace('OVMF_CODE', 'OVMF_VARS') } : null;
}

const IOMMU = "<driver iommu='on'/>";

/** Everything a build can reuse for one host. */
export interface HostFragments {
  readonly emulator: string;
  readonly osUefi: string;
  /** SNP: a stateless loader chosen by libvirt from the firmware descriptors (amd-sev-snp feature), no NVRAM. */
  readonly osSnp: string;
  readonly launchSecurity: Readonly<Record<EncryptionModel, string>>;
  readonly tailPlain: string;
  readonly tailEncrypted: string;
}

function constantDevices(encrypted: boolean): string {
  const io = encrypted ? IOMMU : '';
  return (
    "<serial type='pty'><target port='0'/></serial><console type='pty'><target type='serial' port='0'/></console>" +
    "<input type='tablet' bus='usb'/><graphics type='vnc' autoport='yes' listen='127.0.0.1'/>" +
    `<rng model='virtio'><backend model='random'>/dev/urandom</backend>${io}</rng>` +
    `<memballoon model='virtio'><stats period='10'/>${io}</memballoon>`
  );
}

/** `ovmf`: firmware images the operator configured; the first wins over what domcaps list. */
export function hostFragments(report: HostReport, ovmf: readonly { code: string; vars: string }[] = []): HostFragments {
  const loader = ovmf[0] ?? chooseLoader(report.facts.loaders);
  const osUefi = loader ? `<loader readonly='yes' type='pflash'>${escapeXml(loader.code)}</loader><nvram template='${escapeXml(loader.vars)}'/>` : '';
  const cbit = report.sev.cbitpos !== undefined ? `<cbitpos>${report.sev.cbitpos}</cbitpos>` : '';
  const rpb = report.sev.reducedPhysBits !== undefined ? `<reducedPhysBits>${report.sev.reducedPhysBits}</reducedPhysBits>` : '';
  const ls = (policy: number) => `<launchSecurity type='sev'><policy>0x${policy.toString(16).padStart(4, '0')}</policy>${cbit}${rpb}</launchSecurity>`;
  // No ID block or author key: the guest owner attests with the VCEK-signed report.
  const snp = `<launchSecurity type='sev-snp' authorKey='no' vcek='yes'>${cbit}${rpb}<policy>0x${MODELS['amd-sev-snp'].policy.toString(16).padStart(8, '0')}</policy></launchSecurity>`;
  return {
    emulator: report.facts.emulator ? `<emulator>${escapeXml(report.facts.emulator)}</emulator>` : '',
    osUefi,
    osSnp: "<loader stateless='yes'/>",
    launchSecurity: { 'amd-sev': ls(MODELS['amd-sev'].policy), 'amd-sev-es': ls(MODELS['amd-sev-es'].policy), 'amd-sev-snp': snp },
    tailPlain: constantDevices(false),
    tailEncrypted: constantDevices(true),
  };
}

const DISK_PREFIX: Readonly<Record<string, string>> = { virtio: 'vd', scsi: 'sd', sata: 'sd', ide: 'hd' };
const yn = (b: boolean) => (b ? 'yes' : 'no');

export interface BuildOptions {
  readonly uuid?: string;
  readonly memoryPolicy?: 'locked' | 'hard-limit';
  readonly network?: string;
}

/** Marks where the per-guest instance directory goes in a cached device fragment. */
const DIR = '\u0000DIR\u0000';

/** Device sections differ only by a handful of plan fields; each distinct shape is rendered once per host. */
const deviceCache = new WeakMap<HostFragments, Array<readonly string[] | undefined>>();
const DISK_IX: Readonly<Record<string, number>> = { virtio: 0, scsi: 1, sata: 2, ide: 3 };
const CDROM_IX: Readonly<Record<string, number>> = { sata: 0, scsi: 1, ide: 2 };
const VIDEO_IX: Readonly<Record<string, number>> = { virtio: 0, vga: 1, qxl: 2, cirrus: 3, bochs: 4, none: 5 };

/** The device section's shape as a number (a string key cost more than the lookup saved); -1 = not cached. */
function deviceSlot(plan: GuestPlan, network: string): number {
  if (network !== 'default') return -1;
  return (((DISK_IX[plan.diskBus]! * 3 + CDROM_IX[plan.cdromBus]!) * 6 + VIDEO_IX[plan.videoModel]!) * 2 + (plan.guestAgent ? 1 : 0)) * 2 + (plan.encrypted ? 1 : 0);
}

function deviceSegments(plan: GuestPlan, frag: HostFragments, network: string): readonly string[] {
  const enc = plan.encrypted;
  const slot = deviceSlot(plan, network);
  let perHost = deviceCache.get(frag);
  if (!perHost) deviceCache.set(frag, (perHost = []));
  const hit = slot >= 0 ? perHost[slot] : undefined;
  if (hit) return hit;
  const io = enc ? IOMMU : '';
  // Boot disk and config-drive CD-ROM; sd* names are shared by sata and scsi, so the CD-ROM takes the next letter.
  const bootPrefix = DISK_PREFIX[plan.diskBus]!;
  const cdPrefix = DISK_PREFIX[plan.cdromBus]!;
  const cdDev = cdPrefix === bootPrefix ? `${cdPrefix}b` : `${cdPrefix}a`;
  const needsScsi = plan.diskBus === 'scsi' || plan.cdromBus === 'scsi';
  let devices =
    frag.emulator +
    `<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'${plan.diskBus === 'virtio' && enc ? " iommu='on'" : ''}/>` +
    `<source file='${DIR}/disk'/><target dev='${bootPrefix}a' bus='${plan.diskBus}'/><boot order='1'/></disk>` +
    `<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='${DIR}/disk.config'/>` +
    `<target dev='${cdDev}' bus='${plan.cdromBus}'/><readonly/></disk>`;
  if (needsScsi) devices += `<controller type='scsi' index='0' model='virtio-scsi'>${io}</controller>`;
  devices += "<controller type='usb' index='0' model='qemu-xhci'/>";
  if (plan.guestAgent) devices += `<controller type='virtio-serial' index='0'>${io}</controller>`;
  devices +=
    `<interface type='network'><source network='${escapeXml(network)}'/><model type='virtio'/>` +
    `${io}${enc ? "<rom enabled='no'/>" : ''}</interface>`;
  if (plan.guestAgent) {
    devices += `<channel type='unix'><source mode='bind' path='${DIR}/qga.sock'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>`;
  }
  // 'none' is written too (as nova does): graphics without a <video> get libvirt's default cirrus, 16 MiB of VRAM.
  devices += `<video><model type='${plan.videoModel}'/>${plan.videoModel === 'virtio' ? io : ''}</video>`;
  devices += enc ? frag.tailEncrypted : frag.tailPlain;
  const segs = `<devices>${devices}</devices>`.split(DIR);
  if (slot >= 0) perHost[slot] = segs;
  return segs;
}

/** Per guest-OS name, the eight flag combinations of the metadata element. */
const metaCache = new Map<string, Array<string | undefined>>();
function guestOsMetadata(os: GuestPlan['guestOs']): string {
  let byFlags = metaCache.get(os.name);
  if (!byFlags) {
    byFlags = [];
    if (metaCache.size < 1024) metaCache.set(os.name, byFlags);
  }
  const ix = (os.sev ? 4 : 0) + (os.sevEs ? 2 : 0) + (os.virtioBlkBoot ? 1 : 0);
  return (byFlags[ix] ??= `<metadata><sh:guest-os xmlns:sh='${GUEST_OS_NAMESPACE}' name='${escapeXml(os.name)}' sev='${yn(os.sev)}' sev-es='${yn(os.sevEs)}' virtio-blk-boot='${yn(os.virtioBlkBoot)}'/></metadata>`);
}

// vmcoreinfo needs fw_cfg DMA, which an encrypted guest cannot do (nova bug #2117170).
const FEATURES_ENC = "<features><acpi/><apic/></features><cpu mode='host-model'/><clock offset='utc'/><on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>";
const FEATURES_PLAIN = "<features><acpi/><apic/><vmcoreinfo state='on'/></features><cpu mode='host-model'/><clock offset='utc'/><on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>";

/** The per-guest values of a document, in this order; everything else follows from the plan's shape and the host. */
const NAME = 0, UUID = 1, MEM_KIB = 2, HARD_LIMIT_KIB = 3, VCPUS = 4, DIR_PATH = 5;
type GuestValues = readonly [name: string, uuid: string, memKiB: string, hardLimitKiB: string, vcpus: string, dir: string];

function renderDomain(plan: GuestPlan, frag: HostFragments, opts: BuildOptions, v: GuestValues): string {
  const enc = plan.encrypted;
  const snp = plan.model === 'amd-sev-snp';
  let mem = '';
  // SNP guest memory is private guest_memfd memory, never pinned through RLIMIT_MEMLOCK (nova master).
  if (enc && !snp) {
    mem = opts.memoryPolicy === 'hard-limit'
      ? `<memtune><hard_limit unit='KiB'>${v[HARD_LIMIT_KIB]}</hard_limit></memtune>`
      : '<memoryBacking><locked/></memoryBacking>';
  }
  const segs = deviceSegments(plan, frag, opts.network ?? 'default');
  let devices = segs[0]!;
  for (let i = 1; i < segs.length; i++) devices += v[DIR_PATH] + segs[i]!;
  return (
    `<domain type='kvm'><name>${v[NAME]}</name><uuid>${v[UUID]}</uuid>${guestOsMetadata(plan.guestOs)}` +
    `<memory unit='KiB'>${v[MEM_KIB]}</memory><currentMemory unit='KiB'>${v[MEM_KIB]}</currentMemory>${mem}<vcpu>${v[VCPUS]}</vcpu>` +
    (snp
      ? `<os firmware='efi'><type arch='x86_64' machine='${escapeXml(plan.machine)}'>hvm</type>${frag.osSnp}</os>`
      : `<os><type arch='x86_64' machine='${escapeXml(plan.machine)}'>hvm</type>${plan.uefi ? frag.osUefi : ''}</os>`) +
    (enc ? FEATURES_ENC : FEATURES_PLAIN) +
    devices +
    (enc ? frag.launchSecurity[plan.model!] : '') +
    '</domain>'
  );
}

/**
 * A rendered document with its per-guest values cut out: `parts[0]`, value `holes[0]`, `parts[1]`, …
 * Guests of one shape (devices, model, firmware, memory policy, machine, guest OS) on one host share it,
 * so a build does the floor's work: a handful of interpolations.
 */
interface Template {
  readonly parts: readonly string[];
  readonly holes: readonly number[];
}

const HOLE_MARKS: GuestValues = ['\u00010\u0001', '\u00011\u0001', '\u00012\u0001', '\u00013\u0001', '\u00014\u0001', '\u00015\u0001'];
const HOLE_RE = /\u0001(\d)\u0001/;
const MODEL_IX: Readonly<Record<string, number>> = { 'amd-sev': 1, 'amd-sev-es': 2, 'amd-sev-snp': 3 };

/** Values no request can produce as a whole, for checking a new template against a full render. */
const PROBE_VALUES: GuestValues = ['\u0002n\u0002', '\u0002u\u0002', '\u0002m\u0002', '\u0002h\u0002', '\u0002c\u0002', '\u0002d\u0002'];

function fill(t: Template, v: GuestValues): string {
  let out = t.parts[0]!;
  for (let i = 0; i < t.holes.length; i++) out += v[t.holes[i]!]! + t.parts[i + 1]!;
  return out;
}

/**
 * Null when the shape cannot be templated: a request-derived string (machine, guest-OS name) that
 * itself reads as a mark would be cut out as a hole, so every new template must fill back to
 * exactly what a full render gives.
 */
function makeTemplate(plan: GuestPlan, frag: HostFragments, opts: BuildOptions): Template | null {
  const pieces = renderDomain(plan, frag, opts, HOLE_MARKS).split(HOLE_RE);
  const t = { parts: pieces.filter((_, i) => i % 2 === 0), holes: pieces.filter((_, i) => i % 2 === 1).map(Number) };
  return fill(t, PROBE_VALUES) === renderDomain(plan, frag, opts, PROBE_VALUES) ? t : null;
}

/** Machine names and guest-OS names come from requests: bound how many of each a host keeps. */
const NAMES_KEPT = 256;
/** Per host, machine and guest-OS name, the templates by shape index; null: that shape is rendered whole. */
const templateCache = new WeakMap<HostFragments, Map<string, Map<string, Array<Template | null | undefined>>>>();

function templateFor(plan: GuestPlan, frag: HostFragments, opts: BuildOptions): Template | null {
  const slot = deviceSlot(plan, opts.network ?? 'default');
  if (slot < 0) return null;
  const os = plan.guestOs;
  const ix = ((((slot * 4 + (plan.model ? MODEL_IX[plan.model]! : 0)) * 2 + (plan.uefi ? 1 : 0)) * 2 +
    (opts.memoryPolicy === 'hard-limit' ? 1 : 0)) * 8) + (os.sev ? 4 : 0) + (os.sevEs ? 2 : 0) + (os.virtioBlkBoot ? 1 : 0);
  let byMachine = templateCache.get(frag);
  if (!byMachine) templateCache.set(frag, (byMachine = new Map()));
  let byOs = byMachine.get(plan.machine);
  if (!byOs) {
    byOs = new Map();
    if (byMachine.size < NAMES_KEPT) byMachine.set(plan.machine, byOs);
  }
  let byShape = byOs.get(os.name);
  if (!byShape) {
    byShape = [];
    if (byOs.size < NAMES_KEPT) byOs.set(os.name, byShape);
  }
  if (byShape[ix] === undefined) byShape[ix] = makeTemplate(plan, frag, opts);
  return byShape[ix];
}

export function buildDomainXml(plan: GuestPlan, frag: HostFragments, opts: BuildOptions = {}): string {
  const name = escapeXml(plan.name);
  const v: GuestValues = [
    name,
    opts.uuid ?? randomUUID(),
    String(plan.memoryMiB * 1024),
    opts.memoryPolicy === 'hard-limit' ? String(hardLimitKiB(plan.memoryMiB, plan.videoModel, plan.uefi)) : '',
    String(plan.vcpus),
    `${INSTANCE_DIR}/${name}`,
  ];
  const t = templateFor(plan, frag, opts);
  return t ? fill(t, v) : renderDomain(plan, frag, opts, v);
}
