/**
 * Migration version 3 with typed parameters, as the client library drives it for a managed
 * (non-peer-to-peer) `virsh migrate`: Begin on the source, Prepare on the destination, Perform on
 * the source, Finish on the destination, Confirm on the source. The host decides everything; the
 * connection only keeps what Prepare answered until Finish on the same connection.
 */
import type { HandlerTable } from '../context.ts';
import { fromWire, toWire } from '../wire.ts';

const EMPTY_COOKIE = Buffer.alloc(0);

export const migrationHandlers: HandlerTable = {
  DOMAIN_MIGRATE_BEGIN3_PARAMS: ({ host }, { dom, params }) => ({ cookie_out: EMPTY_COOKIE, xml: host.migrateBegin(fromWire(dom), params) }),

  DOMAIN_MIGRATE_PREPARE3_PARAMS: ({ host, conn }, { params }) => {
    const prepared = host.migratePrepare(params);
    conn.incomingMigration = prepared.xml;
    return { cookie_out: EMPTY_COOKIE, uri_out: prepared.uri };
  },

  DOMAIN_MIGRATE_PERFORM3_PARAMS: ({ host }, { dom }) => {
    host.migratePerform(fromWire(dom));
    return { cookie_out: EMPTY_COOKIE };
  },

  DOMAIN_MIGRATE_FINISH3_PARAMS: ({ host, conn }, { params, cancelled }) => {
    const prepared = conn.incomingMigration;
    conn.incomingMigration = null;
    return { dom: toWire(host.migrateFinish(prepared, params, cancelled !== 0)), cookie_out: EMPTY_COOKIE };
  },

  DOMAIN_MIGRATE_CONFIRM3_PARAMS: ({ host }, { dom, cancelled }) => host.migrateConfirm(fromWire(dom), cancelled !== 0),
};
