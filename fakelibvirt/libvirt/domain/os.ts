/**
 * The guest OS part of a domain as libvirt 9.0 reads it (conf/domain_conf.c): the capabilities bits
 * read right after the IDs (virDomainDefParseCaps: virt type, OS type, arch, machine), the boot
 * options (firmware, loader, nvram, kernel, boot devices, boot menu, BIOS), the SMBIOS mode, the
 * QEMU driver's post-parse (default emulator and machine, alias expansion, the NVRAM path) and the
 * common post-parse (default boot device, loader type). Validation is in os-validate.ts.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { XmlNode } from '../xml-tree.ts';
import { inputAll, inputFirst, node, setTop, textNode, type DomainDraft, type DraftStep } from './draft.ts';
import { propEnum, propInt, propTristateBool, propUInt, unknownCauseError, xmlError } from './props.ts';

/** virDomainOS. */
export const OS_TYPES = ['hvm', 'xen', 'linux', 'exe', 'uml', 'xenpvh'] as const;
/** virArch (index 0 'none' is never matched by virArchFromString). */
export const ARCHES = [
  'none', 'alpha', 'armv6l', 'armv7l', 'armv7b', 'aarch64', 'cris', 'i686', 'ia64', 'lm32', 'm68k', 'microblaze',
  'microblazeel', 'mips', 'mipsel', 'mips64', 'mips64el', 'openrisc', 'parisc', 'parisc64', 'ppc', 'ppcle', 'ppc64',
  'ppc64le', 'ppcemb', 'riscv32', 'riscv64', 's390', 's390x', 'sh4', 'sh4eb', 'sparc', 'sparc64', 'unicore32',
  'x86_64', 'xtensa', 'xtensaeb',
] as const;
/** virDomainBoot. */
export const BOOT_DEVS = ['fd', 'cdrom', 'hd', 'network'] as const;
/** virDomainOsDefFirmware. */
export const FIRMWARES = ['none', 'bios', 'efi'] as const;
/** virDomainOsDefFirmwareFeature. */
export const FIRMWARE_FEATURES = ['enrolled-keys', 'secure-boot'] as const;
/** virDomainLoader. */
export const LOADER_TYPES = ['none', 'rom', 'pflash'] as const;
/** virDomainSmbiosMode. */
export const SMBIOS_MODES = ['none', 'emulate', 'host', 'sysinfo'] as const;
/** virStorageType, as `<nvram type=…>` reads it. */
export const STORAGE_TYPES = ['none', 'file', 'block', 'dir', 'network', 'volume', 'nvme', 'vhostuser'] as const;

/** The QEMU driver's NVRAM directory (qemu.conf nvram_dir default on a system daemon). */
export const NVRAM_DIR = '/var/lib/libvirt/qemu/nvram';

type Tri = 'yes' | 'no' | undefined;

export interface Loader {
  readonly: Tri;
  secure: Tri;
  stateless: Tri;
  type: (typeof LOADER_TYPES)[number] | undefined;
  path: string | undefined;
  nvramTemplate: string | undefined;
  /** The NVRAM as libvirt formats it: its path (old style) or the whole new-style element's children. */
  nvram: { readonly path?: string; readonly type?: string; readonly source?: XmlNode } | undefined;
}

/** What libvirt keeps of `<os>` and its neighbours (def->os, def->virtType, def->emulator). */
export interface OsDef {
  virtType: string;
  type: (typeof OS_TYPES)[number];
  arch: string;
  machine: string | undefined;
  bootloader: string | undefined;
  bootloaderArgs: string | undefined;
  firmware: 'bios' | 'efi' | undefined;
  firmwareFeatures: Map<string, 'yes' | 'no'> | undefined;
  loader: Loader | undefined;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  dtb?: string;
  root?: string;
  init?: string;
  initargs: string[];
  initenv: { name: string; value: string }[];
  initdir?: string;
  inituser?: string;
  initgroup?: string;
  slicTable?: string;
  bootDevs: string[];
  bootmenu: Tri;
  bootmenuTimeout: number | undefined;
  biosUseserial: Tri;
  biosRebootTimeout: number | undefined;
  smbiosMode: string | undefined;
}

const OS = new WeakMap<DomainDraft, OsDef>();

/** The OS part parsed so far (after parseCaps); other parts read the arch, machine and types here. */
export function osOf(d: DomainDraft): OsDef {
  const os = OS.get(d);
  if (!os) throw new Error('osOf: the capabilities part of the domain has not been parsed yet');
  return os;
}

const unsupported = (detail: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.DOMAIN, detail);
const domainXmlError = (detail: string) => LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.DOMAIN, detail);

/** virXPathString("string(…)"): the text content, NULL (undefined) when empty. */
const xpathString = (n: XmlNode | undefined): string | undefined => {
  if (!n) return undefined;
  const v = n.raw ?? n.text;
  return v === '' ? undefined : v;
};
/** virXMLNodeContentString: the text content, '' when empty. */
const contentString = (n: XmlNode): string => n.raw ?? n.text;

/** `./os/NAME` across every `<os>` element, as libvirt's XPath selects them. */
const osChildren = (d: DomainDraft, name: string): XmlNode[] =>
  inputAll(d, 'os').flatMap((os) => os.children.filter((c) => c.name === name));
const osChild = (d: DomainDraft, name: string): XmlNode | undefined => osChildren(d, name)[0];

/** virDomainDefParseCaps after its virt-type check (general.parseIds): OS type, arch, machine. */
export const parseCaps: DraftStep = (d) => {
  const virtType = d.input.attrs.type as string;
  const typeNode = osChild(d, 'type');
  const ostype = xpathString(typeNode);
  const arch = typeNode?.attrs.arch;
  const bootloader = xpathString(inputFirst(d, 'bootloader'));
  const bootloaderArgs = xpathString(inputFirst(d, 'bootloader_args'));
  const machine = typeNode?.attrs.machine === '' ? undefined : typeNode?.attrs.machine;

  let type: OsDef['type'];
  if (ostype === undefined) {
    if (bootloader === undefined) throw domainXmlError('an os <type> must be specified');
    type = 'xen';
  } else {
    if (!(OS_TYPES as readonly string[]).includes(ostype)) throw unsupported(`unknown OS type '${ostype}'`);
    type = ostype as OsDef['type'];
  }
  if (arch !== undefined && arch !== '' && !ARCHES.slice(1).includes(arch as never)) {
    throw unsupported(`Unknown architecture ${arch}`);
  }
  OS.set(d, {
    virtType,
    type,
    // No arch: the driver's default (none for QEMU), then the host's.
    arch: arch || d.ctx.profile.arch,
    machine,
    bootloader,
    bootloaderArgs,
    firmware: undefined,
    firmwareFeatures: undefined,
    loader: undefined,
    initargs: [],
    initenv: [],
    bootDevs: [],
    bootmenu: undefined,
    bootmenuTimeout: undefined,
    biosUseserial: undefined,
    biosRebootTimeout: undefined,
    smbiosMode: undefined,
  });
};

/** virDomainDefParseBootOptions: which parts are read depends on the OS type. */
export const parseBootOptions: DraftStep = (d) => {
  const os = osOf(d);
  switch (os.type) {
    case 'hvm':
      parseKernelOptions(d, os);
      parseFirmwareOptions(d, os);
      parseLoaderOptions(d, os);
      parseAcpiOptions(d, os);
      parseBootXml(d, os);
      break;
    case 'xen':
    case 'xenpvh':
    case 'uml':
      parseKernelOptions(d, os);
      parseLoaderOptions(d, os);
      break;
    case 'exe':
      parseInitOptions(d, os);
      break;
    case 'linux':
      break;
  }
  formatOs(d);
};

function parseKernelOptions(d: DomainDraft, os: OsDef): void {
  os.kernel = xpathString(osChild(d, 'kernel'));
  os.initrd = xpathString(osChild(d, 'initrd'));
  os.cmdline = xpathString(osChild(d, 'cmdline'));
  os.dtb = xpathString(osChild(d, 'dtb'));
  os.root = xpathString(osChild(d, 'root'));
}

function parseInitOptions(d: DomainDraft, os: OsDef): void {
  os.init = xpathString(osChild(d, 'init'));
  os.cmdline = xpathString(osChild(d, 'cmdline'));
  os.initdir = xpathString(osChild(d, 'initdir'));
  os.inituser = xpathString(osChild(d, 'inituser'));
  os.initgroup = xpathString(osChild(d, 'initgroup'));
  for (const a of osChildren(d, 'initarg')) {
    if (contentString(a) === '') throw domainXmlError('No data supplied for <initarg> element');
    os.initargs.push(contentString(a));
  }
  for (const e of osChildren(d, 'initenv')) {
    const name = e.attrs.name;
    if (name === undefined) throw domainXmlError('No name supplied for <initenv> element');
    if (contentString(e) === '') throw domainXmlError(`No value supplied for <initenv name='${name}'> element`);
    os.initenv.push({ name, value: contentString(e) });
  }
}

function parseFirmwareOptions(d: DomainDraft, os: OsDef): void {
  const fw = inputFirst(d, 'os')?.attrs.firmware;
  const features = osChildren(d, 'firmware').flatMap((f) => f.children.filter((c) => c.name === 'feature'));
  if (features.length > 0) os.firmwareFeatures = new Map();
  for (const f of features) {
    const name = propEnum(f, 'name', FIRMWARE_FEATURES, { required: true }) as string;
    const enabled = propTristateBool(f, 'enabled', { required: true }) as 'yes' | 'no';
    os.firmwareFeatures!.set(name, enabled);
  }
  if (fw === undefined) return;
  const i = FIRMWARES.indexOf(fw as never);
  // virXPathString turns '' into NULL: an empty firmware attribute is no attribute.
  if (fw === '') return;
  if (i <= 0) throw domainXmlError(`unknown firmware value ${fw}`);
  os.firmware = fw as 'bios' | 'efi';
}

function parseLoaderOptions(d: DomainDraft, os: OsDef): void {
  const loaderNode = osChild(d, 'loader');
  const nvramNode = osChild(d, 'nvram');
  if (!loaderNode && !nvramNode) return;
  const loader: Loader = {
    readonly: undefined, secure: undefined, stateless: undefined, type: undefined, path: undefined,
    nvramTemplate: undefined, nvram: undefined,
  };
  os.loader = loader;
  if (nvramNode) {
    loader.nvramTemplate = nvramNode.attrs.template;
    const type = propEnum(nvramNode, 'type', STORAGE_TYPES);
    if (type === undefined) {
      const path = contentString(nvramNode);
      if (path !== '') loader.nvram = { path };
    } else {
      const source = nvramNode.children.find((c) => c.name === 'source');
      // libvirt fails here without a message of its own; the storage source parser reports the rest.
      if (!source) throw unknownCauseError();
      loader.nvram = { type, source: nvramSource(type, source) };
    }
  }
  if (!loaderNode) return;
  loader.readonly = propTristateBool(loaderNode, 'readonly');
  loader.type = propEnum(loaderNode, 'type', LOADER_TYPES, { nonzero: true });
  const path = contentString(loaderNode);
  loader.path = path === '' ? undefined : path;
  loader.secure = propTristateBool(loaderNode, 'secure');
  loader.stateless = propTristateBool(loaderNode, 'stateless');
}

/** The parts of virDomainStorageSourceParse an NVRAM source needs (file and block paths). */
function nvramSource(type: string, source: XmlNode): XmlNode {
  switch (type) {
    case 'file':
      return node('source', { file: source.attrs.file });
    case 'block':
      return node('source', { dev: source.attrs.dev });
    case 'dir':
      return node('source', { dir: source.attrs.dir });
    case 'network': {
      if (source.attrs.protocol === undefined) throw xmlError("Missing required attribute 'protocol' in element 'source'");
      return source;
    }
    case 'volume':
      return node('source', { pool: source.attrs.pool, volume: source.attrs.volume });
    case 'nvme':
      throw domainXmlError("missing 'type' attribute to disk source");
    case 'vhostuser':
      throw domainXmlError("missing 'type' attribute for vhostuser disk source");
    default:
      return source;
  }
}

function parseAcpiOptions(d: DomainDraft, os: OsDef): void {
  const tables = osChildren(d, 'acpi').flatMap((a) => a.children.filter((c) => c.name === 'table'));
  if (tables.length > 1) throw domainXmlError('Only one acpi table is supported');
  const table = tables[0];
  if (!table) return;
  const type = table.attrs.type;
  if (type === undefined) throw domainXmlError('Missing acpi table type');
  if (type !== 'slic') throw domainXmlError(`Unknown acpi table type: ${type}`);
  os.slicTable = sanitizePath(contentString(table));
}

/** virFileSanitizePath: collapse repeated slashes and drop a trailing one. */
function sanitizePath(p: string): string {
  let out = p.replace(/\/{2,}/g, '/');
  if (out.length > 1 && out.endsWith('/')) out = out.slice(0, -1);
  return out;
}

function parseBootXml(d: DomainDraft, os: OsDef): void {
  // At most VIR_DOMAIN_BOOT_LAST (4) boot devices are read; the rest are ignored.
  for (const b of osChildren(d, 'boot').slice(0, BOOT_DEVS.length)) {
    os.bootDevs.push(propEnum(b, 'dev', BOOT_DEVS, { required: true }) as string);
  }
  const menu = osChild(d, 'bootmenu');
  if (menu) {
    os.bootmenu = propTristateBool(menu, 'enable');
    if (os.bootmenu === 'yes') os.bootmenuTimeout = propUInt(menu, 'timeout', 10);
  }
  const bios = osChild(d, 'bios');
  if (bios) {
    // libvirt reports a bad useserial but carries on with 'no' (the define still succeeds).
    const v = bios.attrs.useserial;
    os.biosUseserial = v === undefined ? undefined : v === 'yes' || v === 'no' ? v : 'no';
    os.biosRebootTimeout = propInt(bios, 'rebootTimeout', 10);
  }
}

/** `./os/smbios/@mode`, read after `<sysinfo>`. */
export function parseSmbiosMode(d: DomainDraft): void {
  const os = osOf(d);
  const mode = osChild(d, 'smbios')?.attrs.mode;
  // virXPathString: an empty attribute reads as none.
  if (mode === undefined || mode === '') return;
  if (!(SMBIOS_MODES as readonly string[]).includes(mode)) throw unsupported(`unknown smbios mode '${mode}'`);
  os.smbiosMode = mode === 'none' ? undefined : mode;
  formatOs(d);
}

/** The default emulator for an arch (virQEMUCapsGetDefaultEmulator): the host's QEMU binary for it. */
function defaultEmulator(d: DomainDraft, arch: string): string | undefined {
  return d.ctx.arches.find((a) => a.arch === arch)?.emulator;
}

/**
 * The QEMU driver's basic post-parse callback (default emulator) and the machine steps of its
 * domain callback: bootloader refusal, preferred machine, the old-style read-only UEFI's NVRAM path,
 * and the alias's canonical name.
 */
export const postParseMachine: DraftStep = (d) => {
  const os = osOf(d);
  if (d.emulator === undefined) {
    const e = defaultEmulator(d, os.arch);
    if (e === undefined) throw LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, `No emulator found for arch '${os.arch}'`);
    d.emulator = e;
  }
  // virQEMUCapsCacheLookup stats the binary: the host has only its QEMU's emulators.
  if (!d.ctx.arches.some((a) => a.emulator === d.emulator)) {
    throw LibvirtError.of(VirErrorNumber.SYSTEM_ERROR, VirErrorDomain.QEMU, `Cannot check QEMU binary ${d.emulator}: No such file or directory`);
  }
  if (os.bootloader !== undefined || os.bootloaderArgs !== undefined) {
    throw LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, 'bootloader is not supported by QEMU');
  }
  const machines = d.ctx.machines;
  if (os.machine === undefined) os.machine = (machines.find((m) => m.default) ?? machines[0])?.name;
  const l = os.loader;
  if (l && l.readonly === 'yes' && l.type === 'pflash' && l.nvram === undefined && l.stateless !== 'yes') {
    l.nvram = { path: `${NVRAM_DIR}/${nameOf(d)}_VARS.fd` };
  }
  const hit = machines.find((m) => m.alias === os.machine);
  if (hit) os.machine = hit.name;
  formatOs(d);
};

const nameOf = (d: DomainDraft): string => xpathString(inputFirst(d, 'name')) ?? '';

/** The common post-parse: firmware features, the loader's default type, the default boot device. */
export const postParse: DraftStep = (d) => {
  const os = osOf(d);
  if (os.type === 'exe' && os.init === undefined) throw domainXmlError('init binary must be specified');
  const ff = os.firmwareFeatures;
  if (ff?.get('enrolled-keys') === 'yes') {
    if (ff.get('secure-boot') === 'no') {
      throw LibvirtError.of(VirErrorNumber.XML_DETAIL, VirErrorDomain.DOMAIN,
        "firmware feature 'enrolled-keys' cannot be enabled when firmware feature 'secure-boot' is disabled");
    }
    ff.set('secure-boot', 'yes');
  }
  if (os.loader && os.loader.path !== undefined && os.loader.type === undefined) os.loader.type = 'rom';
  if (os.type === 'hvm') bootOrderPostParse(d, os);
  formatOs(d);
};

/** virDomainDefBootOrderPostParse: per-device `<boot order>` is unique and excludes `<os><boot>`. */
function bootOrderPostParse(d: DomainDraft, os: OsDef): void {
  const seen = new Set<string>();
  for (const dev of d.devices) {
    for (const order of deviceBootOrders(dev)) {
      if (seen.has(order)) throw unsupported(`boot order '${order}' used for more than one device`);
      seen.add(order);
    }
  }
  if (os.bootDevs.length > 0 && seen.size > 0) {
    throw unsupported('per-device boot elements cannot be used together with os/boot elements');
  }
  if (os.bootDevs.length === 0 && seen.size === 0) os.bootDevs.push('hd');
}

/** A device's `<boot order>` (and those of an interface's or hostdev's own children). */
function deviceBootOrders(dev: XmlNode): string[] {
  const out: string[] = [];
  for (const c of dev.children) if (c.name === 'boot' && c.attrs.order !== undefined && c.attrs.order !== '0') out.push(String(Number(c.attrs.order)));
  return out;
}

/** virDomainDefFormatInternal's `<os>` (and `<bootloader>`) as the canonical nodes. */
export function formatOs(d: DomainDraft): void {
  const os = osOf(d);
  if (os.bootloader !== undefined) {
    setTop(d, 'bootloader', textNode('bootloader', os.bootloader));
    if (os.bootloaderArgs !== undefined) setTop(d, 'bootloader_args', textNode('bootloader_args', os.bootloaderArgs));
  }
  const t = (name: string, v: string | undefined) => v !== undefined && textNode(name, v);
  const l = os.loader;
  const kids: (XmlNode | false | undefined)[] = [
    textNode('type', os.type, { arch: os.arch, machine: os.machine }),
    os.firmwareFeatures && node('firmware', {}, FIRMWARE_FEATURES.filter((f) => os.firmwareFeatures!.has(f))
      .map((f) => node('feature', { enabled: os.firmwareFeatures!.get(f), name: f }))),
    t('init', os.init),
    ...os.initargs.map((a) => textNode('initarg', a)),
    ...os.initenv.map((e) => textNode('initenv', e.value, { name: e.name })),
    t('initdir', os.initdir),
    t('inituser', os.inituser),
    t('initgroup', os.initgroup),
    l && loaderNode(l),
    l && nvramNode(l),
    t('kernel', os.kernel),
    t('initrd', os.initrd),
    t('cmdline', os.cmdline),
    t('dtb', os.dtb),
    t('root', os.root),
    os.slicTable !== undefined && node('acpi', {}, [textNode('table', os.slicTable, { type: 'slic' })]),
  ];
  if (os.bootloader === undefined) {
    kids.push(...os.bootDevs.map((b) => node('boot', { dev: b })));
    if (os.bootmenu) kids.push(node('bootmenu', { enable: os.bootmenu, timeout: os.bootmenuTimeout }));
    if (os.biosUseserial || os.biosRebootTimeout !== undefined) {
      kids.push(node('bios', { useserial: os.biosUseserial, rebootTimeout: os.biosRebootTimeout }));
    }
  }
  if (os.smbiosMode) kids.push(node('smbios', { mode: os.smbiosMode }));
  setTop(d, 'os', node('os', { firmware: os.firmware }, kids));
}

/** `<loader>`: virXMLFormatElement writes nothing for an element with no attribute and no text. */
function loaderNode(l: Loader): XmlNode | false {
  const attrs = { readonly: l.readonly, secure: l.secure, type: l.type, stateless: l.stateless };
  if (l.path === undefined && Object.values(attrs).every((v) => v === undefined)) return false;
  return textNode('loader', l.path ?? '', attrs);
}

/** `<nvram>` as libvirt formats it: nothing at all when it has neither template nor path. */
function nvramNode(l: Loader): XmlNode | false {
  const n = l.nvram;
  if (l.nvramTemplate === undefined && n === undefined) return false;
  if (n?.type !== undefined) {
    // An empty <source/> is not written (virXMLFormatElement).
    const source = n.source && (Object.keys(n.source.attrs).length > 0 || n.source.children.length > 0) ? n.source : undefined;
    return node('nvram', { template: l.nvramTemplate, type: n.type }, [source]);
  }
  return textNode('nvram', n?.path ?? '', { template: l.nvramTemplate });
}
