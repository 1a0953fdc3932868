/**
 * Migration version 3 with typed parameters, as the client library drives it for a managed
 * (non-peer-to-peer) `virsh migrate`: Begin on the source, Prepare on the destination, Perform on
 * the source, Finish on the destination, Confirm on the source. The fake moves no memory: Finish
 * starts the guest here from the XML Prepare received, and Confirm stops it on the source.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { TypedParam } from '../../../src/libvirt/typed-params.ts';
import type { HandlerTable } from '../context.ts';
import { fromWire, toWire } from '../wire.ts';

/** VIR_MIGRATE_PARAM_* names the fake reads. */
export const MigrateParam = { DEST_XML: 'destination_xml', URI: 'migrate_uri' } as const;

const EMPTY_COOKIE = Buffer.alloc(0);

function stringParam(params: readonly TypedParam[], field: string): string | null {
  const p = params.find((x) => x.field === field);
  return p && p.type === 7 ? p.value : null;
}

export const migrationHandlers: HandlerTable = {
  DOMAIN_MIGRATE_BEGIN3_PARAMS: ({ host }, { dom, params }) => {
    const xml = host.migrateBegin(fromWire(dom));
    return { cookie_out: EMPTY_COOKIE, xml: stringParam(params, MigrateParam.DEST_XML) ?? xml };
  },

  DOMAIN_MIGRATE_PREPARE3_PARAMS: ({ host, conn }, { params }) => {
    const xml = stringParam(params, MigrateParam.DEST_XML);
    if (xml === null) throw LibvirtError.of(VirErrorNumber.INVALID_ARG, VirErrorDomain.QEMU, 'no domain XML passed');
    conn.incomingMigration = xml;
    // The client refuses a Prepare that names no URI to migrate to ("did not set uri").
    return { cookie_out: EMPTY_COOKIE, uri_out: stringParam(params, MigrateParam.URI) ?? `tcp:${host.hostname()}:49152` };
  },

  DOMAIN_MIGRATE_PERFORM3_PARAMS: ({ host }, { dom }) => {
    if (!host.isActive(fromWire(dom))) throw LibvirtError.of(VirErrorNumber.OPERATION_INVALID, VirErrorDomain.DOMAIN, 'domain is not running');
    return { cookie_out: EMPTY_COOKIE };
  },

  DOMAIN_MIGRATE_FINISH3_PARAMS: ({ host, conn }, { params, cancelled }) => {
    const xml = conn.incomingMigration ?? stringParam(params, MigrateParam.DEST_XML);
    conn.incomingMigration = null;
    if (cancelled) throw LibvirtError.of(VirErrorNumber.OPERATION_FAILED, VirErrorDomain.QEMU, 'migration job: was cancelled');
    if (xml === null) throw LibvirtError.of(VirErrorNumber.OPERATION_INVALID, VirErrorDomain.QEMU, 'no incoming migration was prepared on this connection');
    return { dom: toWire(host.migrateIncoming(xml)), cookie_out: EMPTY_COOKIE };
  },

  DOMAIN_MIGRATE_CONFIRM3_PARAMS: ({ host }, { dom, cancelled }) => {
    // A cancelled migration leaves the guest running on the source.
    if (!cancelled) host.migrateConfirm(fromWire(dom));
  },
};
