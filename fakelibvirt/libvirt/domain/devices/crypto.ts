/**
 * `<crypto>` (libvirt 9.1+, virDomainCryptoDefParseXML and qemuValidateDomainDeviceDefCrypto): a
 * virtio-crypto device with one backend. Before 9.1 libvirt did not know the element and dropped it.
 * Measured against 11.3 (trixie): Debian 13's QEMU 10.0 has the builtin backend, not lkcf.
 */
import type { XmlNode } from '../../xml-tree.ts';
import { node, type DomainDraft } from '../draft.ts';
import { propEnum, propUInt } from '../props.ts';
import { domainXmlError, parseDeviceInfo, qemuUnsupported, virtioOptions } from './device-info.ts';

const CRYPTO_MODELS = ['virtio'] as const;
const CRYPTO_TYPES = ['qemu'] as const;
const CRYPTO_BACKENDS = ['builtin', 'lkcf'] as const;
/** The backends QEMU offers (virQEMUCapsFillDomainDeviceCryptoCaps): cryptodev-backend-lkcf is not built in Debian's QEMU. */
const QEMU_CRYPTO_BACKENDS: readonly string[] = ['builtin'];

export function parseCrypto(n: XmlNode, d: DomainDraft): XmlNode {
  const model = propEnum(n, 'model', CRYPTO_MODELS, { required: true });
  const type = propEnum(n, 'type', CRYPTO_TYPES, { required: true });
  const backends = n.children.filter((c) => c.name === 'backend');
  if (backends.length !== 1) throw domainXmlError('only one crypto backend is supported');
  const backend = backends[0]!;
  const backendModel = propEnum(backend, 'model', CRYPTO_BACKENDS, { required: true });
  const queues = propUInt(backend, 'queues', 10);
  const info = parseDeviceInfo(n);
  virtioOptions(n.children.find((c) => c.name === 'driver'), d.ctx);
  return node('crypto', { model, type }, [node('backend', { model: backendModel, queues: queues || undefined }), ...info.nodes]);
}

export function validateCrypto(n: XmlNode, _d: DomainDraft): void {
  const backend = n.children.find((c) => c.name === 'backend')?.attrs.model;
  if (backend !== undefined && !QEMU_CRYPTO_BACKENDS.includes(backend)) throw qemuUnsupported(`crypto backend ${backend} is not supported`);
}
