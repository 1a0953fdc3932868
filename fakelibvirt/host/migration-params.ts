/**
 * The typed parameters of migration version 3 the fake reads (VIR_MIGRATE_PARAM_*), and what the
 * destination answers in Prepare: the client refuses a Prepare that names no URI to migrate to.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import type { TypedParam } from '../../src/libvirt/typed-params.ts';

/** VIR_MIGRATE_PARAM_* names the fake reads. */
export const MigrateParam = { DEST_XML: 'destination_xml', URI: 'migrate_uri' } as const;

/** The port QEMU's incoming migration listens on when the caller names no URI. */
const DEFAULT_MIGRATION_PORT = 49152;

function stringParam(params: readonly TypedParam[], field: string): string | null {
  const p = params.find((x) => x.field === field);
  return p && p.type === 7 ? p.value : null;
}

/** The destination XML the caller passed, if any. */
export function migrationXml(params: readonly TypedParam[]): string | null {
  return stringParam(params, MigrateParam.DEST_XML);
}

export interface PreparedMigration {
  /** The definition the incoming guest starts from (kept until Finish). */
  readonly xml: string;
  readonly uri: string;
}

export function migrationPrepare(params: readonly TypedParam[], hostname: string): PreparedMigration {
  const xml = migrationXml(params);
  if (xml === null) throw LibvirtError.of(VirErrorNumber.INVALID_ARG, VirErrorDomain.QEMU, 'no domain XML passed');
  return { xml, uri: stringParam(params, MigrateParam.URI) ?? `tcp:${hostname}:${DEFAULT_MIGRATION_PORT}` };
}
