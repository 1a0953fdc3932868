/**
 * Records real libvirt 9.0's host views with QEMU capabilities patched to the SEV profile's values
 * (as oracle/record.ts prepares them): `capabilities` and `domcapabilities` for x86_64 TCG
 * (virttype qemu: the oracle has no KVM) with the default machine and q35, into
 * oracle/records/libvirt-9.0.0-hostviews.json.
 *
 *   node bin/run-ts.js oracle/hostviews/record-views.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RECORDS_DIR } from '../corpus.ts';
import { OracleProcess, oracleUnavailable, prepareRoot, type OracleAnswer } from '../oracle-process.ts';
import { ORACLE_SEV_PROFILE, oracleSevOf } from '../record.ts';

export const HOSTVIEWS_RECORDS = join(RECORDS_DIR, 'libvirt-9.0.0-hostviews.json');

/** The domain-capabilities queries recorded, by name. */
export const DOMCAPS_QUERIES = {
  default: { emulator: '/usr/bin/qemu-system-x86_64', arch: 'x86_64', virttype: 'qemu' },
  q35: { emulator: '/usr/bin/qemu-system-x86_64', arch: 'x86_64', machine: 'q35', virttype: 'qemu' },
} as const;

export interface HostViewsRecord {
  readonly profile: string;
  readonly capabilities: OracleAnswer;
  readonly domcapabilities: Record<keyof typeof DOMCAPS_QUERIES, OracleAnswer>;
}

async function record(): Promise<void> {
  const why = oracleUnavailable();
  if (why) throw new Error(`oracle: cannot run: ${why}`);
  const dir = mkdtempSync(join(tmpdir(), 'sevharness-hostviews-'));
  try {
    prepareRoot(dir, oracleSevOf(ORACLE_SEV_PROFILE));
    const oracle = new OracleProcess(dir);
    try {
      const rec: HostViewsRecord = {
        profile: ORACLE_SEV_PROFILE,
        capabilities: await oracle.capabilities(),
        domcapabilities: {
          default: await oracle.domainCapabilities(DOMCAPS_QUERIES.default),
          q35: await oracle.domainCapabilities(DOMCAPS_QUERIES.q35),
        },
      };
      writeFileSync(HOSTVIEWS_RECORDS, `${JSON.stringify(rec, null, 1)}\n`);
    } finally {
      await oracle.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`recorded ${HOSTVIEWS_RECORDS}`);
}

// Run only as the command itself (oracle/record.ts, imported above, guards on its name's ending).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await record();
