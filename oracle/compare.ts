/**
 * The fake against the recorded oracle, for a person at a terminal:
 *
 *   node bin/run-ts.js oracle/compare.ts [--libvirt 9.0.0|7.0.0|11.3.0] [--side sev|plain] [--group G] [--id-prefix P]
 *        [--corpus C --records R] [--verdict permissive,message,…] [--show N] [--diff] [--write-floors]
 *
 * prints the figures per group and the first N disagreements (with --diff, a line diff of the
 * formatted XML). --libvirt picks the recorded version and its profile (oracle/versions.ts).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readCorpus, readJsonLines, type DefineRecord } from './corpus.ts';
import { exactShare, fakeHostFor, figuresOf, judgeCorpus, percent, permissiveIds, type Judgement, type OracleSide } from './judge.ts';
import { ORACLE_LIBVIRT, defineRecordsOf } from './record.ts';
import { RECORDED_VERSIONS, floorsFile, isRecordedLibvirt } from './versions.ts';

const { values } = parseArgs({
  options: {
    side: { type: 'string', default: 'sev' },
    corpus: { type: 'string' },
    records: { type: 'string' },
    group: { type: 'string' },
    'id-prefix': { type: 'string' },
    verdict: { type: 'string' },
    show: { type: 'string', default: '20' },
    diff: { type: 'boolean', default: false },
    'write-floors': { type: 'boolean', default: false },
    libvirt: { type: 'string', default: ORACLE_LIBVIRT },
  },
});

if (!isRecordedLibvirt(values.libvirt)) throw new Error(`--libvirt: one of ${Object.keys(RECORDED_VERSIONS).join(', ')}`);
const version = values.libvirt;
const profileName = RECORDED_VERSIONS[version].profile;

if (values['write-floors']) {
  writeFloors();
  process.exit(0);
}

const side = values.side as OracleSide;
const recordsFile = values.records ?? defineRecordsOf(version);
const records = new Map(readJsonLines<DefineRecord>(recordsFile).map((r) => [r.id, r]));
const docs = readCorpus(values.corpus).filter(
  (d) => (!values.group || d.group === values.group) && (!values['id-prefix'] || d.id.startsWith(values['id-prefix'])),
);
const judged = judgeCorpus(docs, records, side, fakeHostFor(side, profileName));

const groups = [...new Set(judged.map((j) => j.group))];
const row = (label: string, js: readonly Judgement[]) => {
  const f = figuresOf(js);
  const v = f.byVerdict;
  console.log(
    `${label.padEnd(10)} ${String(f.documents).padStart(5)}  agree ${percent(f.agreeing, f.documents).padStart(6)}  ` +
      `permissive ${String(f.permissive).padStart(4)}  strict ${String(v.strict).padStart(4)}  message ${String(v.message).padStart(4)}  ` +
      `format ${String(v.format).padStart(4)} (alike ${percent(f.formattedAlike, f.acceptedByBoth)} of ${f.acceptedByBoth})`,
  );
};
console.log(`side ${side}: fake ${profileName}${side === 'plain' ? ' with kvm_amd.sev=0' : ''} against ${recordsFile}`);
for (const g of groups) row(g, judged.filter((j) => j.group === g));
row('all', judged);

const wanted = values.verdict ? new Set(values.verdict.split(',')) : new Set(['permissive', 'crash-accepted', 'message', 'strict', 'format']);
const shown = judged.filter((j) => wanted.has(j.verdict)).slice(0, Number(values.show));
for (const j of shown) {
  console.log(`\n── ${j.verdict}  ${j.id}`);
  const say = (who: string, a: Judgement['oracle']) =>
    console.log(`   ${who}: ${a.outcome === 'error' ? `${a.code}/${a.domain} ${a.message}` : a.outcome === 'ok' ? 'ok' : JSON.stringify(a)}`);
  say('libvirt', j.oracle);
  say('fake   ', j.fake);
  if (values.diff && j.oracle.outcome === 'ok' && j.fake.outcome === 'ok') console.log(lineDiff(j.oracle.xml, j.fake.xml));
}

/** The lines only one side has, marked -libvirt / +fake, in order. */
function lineDiff(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const lcs: number[][] = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let k = y.length - 1; k >= 0; k--) lcs[i]![k] = x[i] === y[k] ? lcs[i + 1]![k + 1]! + 1 : Math.max(lcs[i + 1]![k]!, lcs[i]![k + 1]!);
  }
  const out: string[] = [];
  let i = 0;
  let k = 0;
  while (i < x.length || k < y.length) {
    if (i < x.length && k < y.length && x[i] === y[k]) {
      i++;
      k++;
    } else if (k < y.length && (i >= x.length || lcs[i]![k + 1]! >= lcs[i + 1]![k]!)) out.push(`   + ${y[k++]}`);
    else out.push(`   - ${x[i++]}`);
  }
  return out.join('\n');
}

/**
 * Rewrites oracle/records/floors.json from the fake as it is now: the golden test then holds every
 * later change to at least these figures and to no new permissive answer.
 */
function writeFloors(): void {
  const all = new Map(readJsonLines<DefineRecord>(defineRecordsOf(version)).map((r) => [r.id, r]));
  const corpus = readCorpus();
  const floors: Record<string, object> = {};
  const down = (x: number) => Math.floor(x * 1000) / 1000;
  for (const s of ['sev', 'plain'] as const) {
    const js = judgeCorpus(corpus, all, s, fakeHostFor(s, profileName));
    const f = figuresOf(js);
    const lsec = exactShare(js, 'launchsec');
    floors[s] = {
      agreeing: down(f.agreeing / f.documents),
      formattedAlike: down(f.acceptedByBoth === 0 ? 0 : f.formattedAlike / f.acceptedByBoth),
      launchSecurityExact: down(lsec.exact / lsec.of),
      permissive: permissiveIds(js),
    };
  }
  writeFileSync(floorsFile(version), `${JSON.stringify(floors, null, 1)}\n`);
  console.log(`wrote ${floorsFile(version)}`);
}
