/**
 * `<tpm>`: virDomainTPMDefParseXML (model, one backend: passthrough device, emulator version,
 * secret, persistent state and PCR banks, external socket), the QEMU driver's post-parse (default
 * model, and the emulator's TPM version chosen from the model), virDomainTPMDefFormat, and the
 * common and QEMU validation. Which emulator backends QEMU may use depends on swtpm being installed
 * on the host (the profile's `qemu.swtpm`), as libvirt's domain capabilities do.
 */
import { child, children, type XmlNode } from '../../xml-tree.ts';
import { node, type DomainDraft } from '../draft.ts';
import { propEnum } from '../props.ts';
import { CHR_TYPES } from './chardev.ts';
import { domainXmlError, guestArch, internalError, parseDeviceInfo, qemuUnsupported, unsupported } from './device-info.ts';

const TPM_MODELS = ['default', 'tpm-tis', 'tpm-crb', 'tpm-spapr', 'spapr-tpm-proxy'] as const;
const TPM_BACKENDS = ['passthrough', 'emulator', 'external'] as const;
const TPM_VERSIONS = ['default', '1.2', '2.0'] as const;
const PCR_BANKS = ['sha1', 'sha256', 'sha384', 'sha512'];
/** VIR_DOMAIN_TPM_DEFAULT_DEVICE. */
const DEFAULT_DEVICE = '/dev/tpm0';

/** The domain-wide count, checked before the first TPM is parsed. */
function checkTpmCount(count: number): void {
  if (count > 2) throw domainXmlError('a maximum of two TPM devices is supported, one of them being a TPM Proxy device');
}

/** A non-empty attribute value, as virXPathString("string(…/@attr)") returns it (empty reads as absent). */
const xpathString = (n: XmlNode | undefined, attr: string) => (n?.attrs[attr] ? n.attrs[attr] : undefined);

/** Lower-case, dashed form of a UUID libvirt accepts (virUUIDParse: hex pairs, dashes and spaces between them). */
function parseUuid(s: string): string | null {
  let hex = '';
  let i = 0;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  for (; i < s.length && hex.length < 32; i++) {
    const c = s[i]!;
    if (c === '-') continue;
    if (!/[0-9a-fA-F]/.test(c) || !/[0-9a-fA-F]/.test(s[i + 1] ?? '')) return null;
    hex += (c + s[i + 1]).toLowerCase();
    i++;
  }
  if (hex.length < 32) return null;
  for (; i < s.length; i++) if (!/\s/.test(s[i]!)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function parseTpm(n: XmlNode, d: DomainDraft): XmlNode {
  if (!d.devices.some((x) => x.name === 'tpm')) checkTpmCount(countInput(d));
  let model = propEnum(n, 'model', TPM_MODELS, { nonzero: true });
  const backends = children(n, 'backend');
  if (backends.length > 1) throw domainXmlError('only one TPM backend is supported');
  if (backends.length === 0) throw domainXmlError('missing TPM device backend');
  const backend = backends[0]!;
  const type = propEnum(backend, 'type', TPM_BACKENDS, { required: true })!;
  const backendAttrs: Record<string, string | undefined> = { type };
  const backendKids: (XmlNode | undefined)[] = [];
  let version: string | undefined;
  if (type === 'passthrough') {
    backendKids.push(node('device', { path: xpathString(child(backend, 'device'), 'path') ?? DEFAULT_DEVICE }));
  } else if (type === 'emulator') {
    version = propEnum(backend, 'version', TPM_VERSIONS, { nonzero: true });
    const secret = xpathString(child(backend, 'encryption'), 'secret');
    let secretUuid: string | undefined;
    if (secret !== undefined) {
      secretUuid = parseUuid(secret) ?? undefined;
      if (secretUuid === undefined) throw internalError(`Unable to parse secret uuid '${secret}'`);
    }
    const ps = backend.attrs.persistent_state;
    if (ps !== undefined && ps !== 'yes' && ps !== 'no') throw internalError("Invalid persistent_state value, either 'yes' or 'no'");
    const bankNodes = children(backend, 'active_pcr_banks').flatMap((b) => b.children);
    const banks = new Set<number>();
    for (const b of bankNodes) {
      const i = PCR_BANKS.indexOf(b.name);
      if (i < 0) throw unsupported(`Unsupported PCR banks '${b.name}'`);
      banks.add(i);
    }
    backendAttrs.persistent_state = ps === 'yes' ? 'yes' : undefined;
    backendKids.push(secretUuid !== undefined ? node('encryption', { secret: secretUuid }) : undefined);
    if (bankNodes.length > 0) {
      backendKids.push(node('active_pcr_banks', {}, PCR_BANKS.filter((_, i) => banks.has(i)).map((b) => node(b))));
    }
  } else {
    const source = child(backend, 'source');
    const stype = xpathString(source, 'type');
    if (stype === undefined) throw domainXmlError('missing external TPM backend type');
    if (!CHR_TYPES.includes(stype as never)) throw unsupported(`unknown backend type '${stype}' for external TPM`);
    const mode = source ? propEnum(source, 'mode', ['connect', 'bind'] as const) : undefined;
    external.set(backend, { type: stype, bind: mode === 'bind', path: source?.attrs.path });
    if (stype === 'unix') backendKids.push(node('source', { type: 'unix', mode: 'connect', path: source?.attrs.path }));
  }
  const info = parseDeviceInfo(n);

  // qemuDomainTPMDefPostParse.
  const arch = guestArch(d);
  const ppc64 = arch.startsWith('ppc64');
  model ??= ppc64 ? 'tpm-spapr' : 'tpm-tis';
  if (type === 'emulator' && version === undefined) {
    version = model === 'tpm-spapr' || model === 'tpm-crb' || isArmVirt(d) ? '2.0' : '1.2';
  }
  const b = node('backend', { type, version, persistent_state: backendAttrs.persistent_state }, backendKids);
  if (type === 'external') external.set(b, external.get(backend)!);
  return node('tpm', { model }, [b, ...info.nodes]);
}

const countInput = (d: DomainDraft) => d.input.children.filter((c) => c.name === 'devices').flatMap((c) => c.children).filter((c) => c.name === 'tpm' && c.ns === undefined).length;

/** The external backend's source as parsed (its formatted form keeps only a unix client). */
const external = new WeakMap<XmlNode, { type: string; bind: boolean; path: string | undefined }>();

const isArmVirt = (d: DomainDraft) => {
  const arch = guestArch(d);
  const machine = d.top.get('os')?.[0]?.children.find((c) => c.name === 'type')?.attrs.machine ?? '';
  return (arch === 'aarch64' || arch === 'armv7l') && (machine === 'virt' || machine.startsWith('virt-'));
};

/** qemuValidateDomainDefTPMs: one TPM and one TPM proxy at most. */
export function validateTpmSet(d: DomainDraft): void {
  let proxy = false;
  let regular = false;
  for (const t of d.devices.filter((x) => x.name === 'tpm')) {
    if (t.attrs.model === 'spapr-tpm-proxy') {
      if (proxy) throw qemuUnsupported('only a single TPM Proxy device is supported');
      proxy = true;
    } else {
      if (regular) throw qemuUnsupported('only a single TPM non-proxy device is supported');
      regular = true;
    }
  }
}

/** virDomainTPMDevValidate, then qemuValidateDomainDeviceDefTPM against QEMU's and swtpm's offer. */
export function validateTpm(t: XmlNode, d: DomainDraft): void {
  const backend = child(t, 'backend')!;
  const type = backend.attrs.type!;
  const version = backend.attrs.version;
  const model = t.attrs.model!;
  if (type === 'emulator' && child(backend, 'active_pcr_banks') && version !== '2.0') {
    throw domainXmlError("<active_pcr_banks/> requires TPM version '2.0'");
  }
  if (type === 'external') {
    const src = external.get(backend)!;
    if (src.type !== 'unix') throw domainXmlError("only source type 'unix' is supported for external TPM device");
    if (src.bind) throw domainXmlError("only 'client' mode is supported for external TPM device");
    if (src.path === undefined) throw domainXmlError('missing socket path for external TPM device');
  }

  const swtpm = d.ctx.profile.qemu.swtpm;
  if (type === 'emulator') {
    if (!swtpm?.versions.includes(version as '1.2' | '2.0')) throw qemuUnsupported(`TPM version '${version}' is not supported`);
    if (version === '1.2') {
      if (model === 'tpm-crb') throw qemuUnsupported("Unsupported interface 'tpm-crb' for TPM 1.2");
      if (model === 'tpm-spapr') throw qemuUnsupported('TPM 1.2 is not supported with the SPAPR device model');
      if (isArmVirt(d)) throw qemuUnsupported('TPM 1.2 is not supported on ARM');
    }
  }
  const emulator = d.emulator ?? '';
  // The emulator and external backends need swtpm on the host; passthrough needs only QEMU.
  if (type !== 'passthrough' && swtpm === undefined) {
    throw qemuUnsupported(`The QEMU executable ${emulator} does not support TPM backend type ${type}`);
  }
  const arch = guestArch(d);
  if (arch.startsWith('ppc64') && model === 'spapr-tpm-proxy' && type !== 'passthrough') {
    throw qemuUnsupported(`TPM Proxy model ${model} requires 'Passthrough' backend`);
  }
  // QEMU's x86 builds offer tpm-tis and tpm-crb, its ARM builds tpm-tis only.
  const models = arch === 'x86_64' || arch === 'i686' ? ['tpm-tis', 'tpm-crb'] : ['tpm-tis'];
  if (!models.includes(model)) throw qemuUnsupported(`The QEMU executable ${emulator} does not support TPM model ${model}`);
}
