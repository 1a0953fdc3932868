/**
 * Re-records the golden outcomes: every corpus document defined on real libvirt 9.0's QEMU driver
 * twice — once with QEMU capabilities patched to report the SEV profile's values, once as this
 * machine's QEMU really is (no SEV) — and what libvirt answered written to oracle/records/.
 *
 *   node bin/run-ts.js oracle/record.ts                     re-record the whole corpus
 *   node bin/run-ts.js oracle/record.ts --corpus C --out R  record another corpus (JSON lines)
 *   node bin/run-ts.js oracle/record.ts --probe A.xml …     print what libvirt says of these files
 *   … --container bullseye|bookworm|trixie                  the same, in that release's real-libvirt
 *                                                           container (records libvirt-7.0.0-…, -11.3.0-…)
 *
 * Needs root, /usr/bin/python3 with python3-libvirt, libvirt-daemon-driver-qemu and
 * qemu-system-x86 (scripts/ensure-real-stack.sh installs them).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { deriveKernel } from '../fakelibvirt/profile/derive.ts';
import { loadProfile } from '../fakelibvirt/profile/load.ts';
import { profileSevView } from '../fakelibvirt/views/libvirt-sev.ts';
import { CORPUS_FILE, RECORDS_DIR, readCorpus, type DefineRecord } from './corpus.ts';
import { normaliseGenerated } from './normalise.ts';
import type { RecordTarget } from './record-target.ts';
import { OracleProcess, SYSTEM_PYTHON, oracleUnavailable, prepareRoot, type OracleAnswer, type OracleContainer, type OracleSev } from './oracle-process.ts';

/** The SEV profile whose values the patched oracle reports (libvirt 9.0, QEMU 7.2 like the oracle). */
export const ORACLE_SEV_PROFILE = 'milan-7003-es8';
export const ORACLE_LIBVIRT = '9.0.0';
export const DEFINE_RECORDS = join(RECORDS_DIR, `libvirt-${ORACLE_LIBVIRT}-define.jsonl`);

export function oracleSevOf(profileName: string): OracleSev {
  const profile = loadProfile(profileName);
  const view = profileSevView(profile, deriveKernel(profile));
  if (!view) throw new Error(`oracle: profile ${profileName} has no SEV for libvirt to report`);
  return {
    cbitpos: view.cbitpos,
    reducedPhysBits: view.reducedPhysBits,
    pdh: view.pdh,
    certChain: view.certChain,
    ...(view.cpu0Id !== undefined && { cpu0Id: view.cpu0Id }),
    ...(view.sectypes.includes('sev-snp') && { snp: true as const }),
  };
}

/**
 * Two prepared oracles (SEV-aware and plain) in a scratch directory, removed by close(): on this
 * machine, or inside a real-libvirt container (oracle/in-container.ts) when one is given.
 */
export class OraclePair {
  readonly sev: OracleProcess;
  readonly plain: OracleProcess;
  private constructor(
    private readonly dir: string,
    private readonly container?: OracleContainer,
  ) {
    this.sev = new OracleProcess(join(dir, 'sev'), undefined, container);
    this.plain = new OracleProcess(join(dir, 'plain'), undefined, container);
  }

  static open(sevProfile = ORACLE_SEV_PROFILE, container?: OracleContainer): OraclePair {
    let dir: string;
    if (container) {
      dir = `/var/tmp/sevharness-oracle-${process.pid}-${Date.now()}`;
    } else {
      const why = oracleUnavailable();
      if (why) throw new Error(`oracle: cannot run: ${why}`);
      dir = mkdtempSync(join(tmpdir(), 'sevharness-oracle-'));
    }
    prepareRoot(join(dir, 'sev'), oracleSevOf(sevProfile), container);
    prepareRoot(join(dir, 'plain'), null, container);
    return new OraclePair(dir, container);
  }

  async define(xml: string): Promise<{ sev: OracleAnswer; plain: OracleAnswer }> {
    const [sev, plain] = await Promise.all([this.sev.define(xml), this.plain.define(xml)]);
    return { sev: normaliseAnswer(xml, sev), plain: normaliseAnswer(xml, plain) };
  }

  async close(): Promise<void> {
    await Promise.all([this.sev.close(), this.plain.close()]);
    if (this.container) spawnSync('docker', ['exec', this.container.id, 'rm', '-rf', this.dir]);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}

function normaliseAnswer(input: string, a: OracleAnswer): OracleAnswer {
  return a.outcome === 'ok' ? { outcome: 'ok', xml: normaliseGenerated(input, a.xml) } : a;
}

export type { RecordTarget } from './record-target.ts';

export const MACHINE_TARGET: RecordTarget = {
  sevProfile: ORACLE_SEV_PROFILE,
  libvirt: ORACLE_LIBVIRT,
  packageVersion(name) {
    const r = spawnSync('dpkg-query', ['-W', '-f', '${Version}', name], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : 'unknown';
  },
};

export const defineRecordsOf = (libvirt: string) => join(RECORDS_DIR, `libvirt-${libvirt}-define.jsonl`);
const metaOf = (libvirt: string) => join(RECORDS_DIR, `libvirt-${libvirt}.json`);

async function recordCorpus(target: RecordTarget, corpusFile: string, out: string): Promise<void> {
  const docs = readCorpus(corpusFile);
  const started = Date.now();
  const pair = OraclePair.open(target.sevProfile, target.container);
  const lines: string[] = [];
  const counts: Record<string, number> = {};
  try {
    for (const [i, doc] of docs.entries()) {
      const answer = await pair.define(doc.xml);
      const record: DefineRecord = { id: doc.id, ...answer };
      lines.push(JSON.stringify(record));
      for (const k of ['sev', 'plain'] as const) counts[`${k}.${answer[k].outcome}`] = (counts[`${k}.${answer[k].outcome}`] ?? 0) + 1;
      if (process.stderr.isTTY && i % 50 === 0) process.stderr.write(`\r${i}/${docs.length}`);
    }
  } finally {
    await pair.close();
  }
  writeFileSync(out, `${lines.join('\n')}\n`);
  if (out !== defineRecordsOf(target.libvirt) || corpusFile !== CORPUS_FILE) {
    console.log(`recorded ${docs.length} documents into ${out}`);
    return;
  }
  const meta = {
    libvirt: target.packageVersion('libvirt-daemon-driver-qemu'),
    qemu: target.packageVersion('qemu-system-x86'),
    python3Libvirt: target.packageVersion('python3-libvirt'),
    ...(target.container && { where: 'container (containers/, oracle/in-container.ts)' }),
    sevProfile: target.sevProfile,
    corpusSha256: createHash('sha256').update(readFileSync(CORPUS_FILE)).digest('hex'),
    documents: docs.length,
    counts,
  };
  writeFileSync(metaOf(target.libvirt), `${JSON.stringify(meta, null, 2)}\n`);
  console.log(`recorded ${docs.length} documents in ${((Date.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(counts)}`);
}

async function probe(target: RecordTarget, files: readonly string[]): Promise<void> {
  const pair = OraclePair.open(target.sevProfile, target.container);
  try {
    for (const f of files) {
      const xml = f === '-' ? readFileSync(0, 'utf8') : readFileSync(f, 'utf8');
      const answer = await pair.define(xml);
      console.log(JSON.stringify({ file: f, ...answer }, null, 2));
    }
  } finally {
    await pair.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      corpus: { type: 'string' },
      out: { type: 'string' },
      probe: { type: 'boolean', default: false },
      container: { type: 'string' },
    },
  });
  // Loaded only when asked for: the machine's own path needs no Docker.
  const inContainer = values.container === undefined ? null : await import('./in-container.ts');
  const running = inContainer ? await inContainer.containerTarget(values.container!) : null;
  const target = running?.target ?? MACHINE_TARGET;
  try {
    if (values.probe) await probe(target, positionals);
    else if (positionals.length === 0) {
      await recordCorpus(target, values.corpus ?? CORPUS_FILE, values.out ?? defineRecordsOf(target.libvirt));
    } else {
      console.error('usage: record.ts [--container bullseye|bookworm|trixie] [--corpus FILE --out FILE] | --probe FILE…');
      process.exitCode = 2;
    }
  } finally {
    await running?.stop();
  }
}
