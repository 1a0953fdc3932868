/**
 * libvirt's secret driver, reduced to what Nova uses: define from XML, look up by UUID or usage,
 * set and get the value, undefine, list. Secrets live in memory for the daemon's lifetime.
 */
import { randomUUID } from 'node:crypto';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';

/** VIR_SECRET_USAGE_TYPE_* and the element under <usage> that names the secret. */
export const SecretUsage = { NONE: 0, VOLUME: 1, CEPH: 2, ISCSI: 3, TLS: 4, VTPM: 5 } as const;
const USAGE_BY_NAME: Record<string, { type: number; idElement: string }> = {
  volume: { type: SecretUsage.VOLUME, idElement: 'volume' },
  ceph: { type: SecretUsage.CEPH, idElement: 'name' },
  iscsi: { type: SecretUsage.ISCSI, idElement: 'target' },
  tls: { type: SecretUsage.TLS, idElement: 'name' },
  vtpm: { type: SecretUsage.VTPM, idElement: 'name' },
};

export interface Secret {
  readonly uuid: string;
  readonly usageType: number;
  readonly usageID: string;
  readonly ephemeral: boolean;
  readonly isPrivate: boolean;
  readonly xml: string;
  value: Buffer | null;
}

const noSecret = (detail: string) => LibvirtError.of(VirErrorNumber.NO_SECRET, VirErrorDomain.SECRET, detail);
const xmlError = (detail: string) => LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.SECRET, detail);

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\b${name}\\s*=\\s*['"]([^'"]*)['"]`).exec(tag)?.[1];
}

function parseSecretXml(xml: string): Omit<Secret, 'value'> {
  const root = /<secret\b[^>]*>/.exec(xml);
  if (!root) throw xmlError('unexpected root element <unknown>, expecting <secret>');
  const uuid = /<uuid>\s*([0-9a-fA-F-]{32,36})\s*<\/uuid>/.exec(xml)?.[1]?.toLowerCase() ?? randomUUID();
  const usageTag = /<usage\b[^>]*>/.exec(xml)?.[0];
  let usageType: number = SecretUsage.NONE;
  let usageID = '';
  if (usageTag) {
    const kind = attr(usageTag, 'type') ?? '';
    const u = USAGE_BY_NAME[kind];
    if (!u) throw xmlError(`unknown secret usage type ${kind}`);
    usageType = u.type;
    usageID = new RegExp(`<${u.idElement}>([^<]*)</${u.idElement}>`).exec(xml)?.[1]?.trim() ?? '';
  }
  const yes = (v: string | undefined) => v === 'yes';
  return { uuid, usageType, usageID, ephemeral: yes(attr(root[0], 'ephemeral')), isPrivate: yes(attr(root[0], 'private')), xml };
}

export class SecretStore {
  private readonly byUuid = new Map<string, Secret>();

  define(xml: string): Secret {
    const parsed = parseSecretXml(xml);
    for (const s of this.byUuid.values()) {
      if (s.uuid !== parsed.uuid && parsed.usageType !== SecretUsage.NONE && s.usageType === parsed.usageType && s.usageID === parsed.usageID) {
        throw LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.SECRET, `a secret with UUID ${s.uuid} already defined for use with ${parsed.usageID}`);
      }
    }
    const s: Secret = { ...parsed, value: this.byUuid.get(parsed.uuid)?.value ?? null };
    this.byUuid.set(s.uuid, s);
    return s;
  }

  lookupByUUID(uuid: string): Secret {
    const s = this.byUuid.get(uuid);
    if (!s) throw noSecret(`no secret with matching uuid '${uuid}'`);
    return s;
  }

  lookupByUsage(usageType: number, usageID: string): Secret {
    for (const s of this.byUuid.values()) if (s.usageType === usageType && s.usageID === usageID) return s;
    throw noSecret(`no secret with matching usage '${usageID}'`);
  }

  setValue(uuid: string, value: Buffer): void {
    this.lookupByUUID(uuid).value = Buffer.from(value);
  }

  getValue(uuid: string): Buffer {
    const s = this.lookupByUUID(uuid);
    if (s.isPrivate) throw LibvirtError.of(VirErrorNumber.OPERATION_DENIED, VirErrorDomain.SECRET, 'secret is private');
    if (!s.value) throw noSecret(`secret '${uuid}' does not have a value`);
    return s.value;
  }

  undefine(uuid: string): void {
    this.lookupByUUID(uuid);
    this.byUuid.delete(uuid);
  }

  all(): Secret[] {
    return [...this.byUuid.values()];
  }
}
