/**
 * Holds the fake to the oracle's records: each corpus document defined on a FakeHost, its answer
 * set beside what real libvirt 9.0 answered, and the disagreements sorted by kind. The worst kind is
 * `permissive`: the fake accepted a document libvirt refuses.
 */
import { fault } from '../fakelibvirt/control/fault.ts';
import { FakeHost } from '../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../fakelibvirt/profile/load.ts';
import { DomainFlags } from '../src/libvirt/flags.ts';
import { LibvirtError } from '../src/libvirt/errors.ts';
import type { CorpusDocument, DefineRecord } from './corpus.ts';
import { normaliseGenerated } from './normalise.ts';
import type { OracleAnswer } from './oracle-process.ts';

export type Verdict =
  /** Same outcome; same code, domain and message, or the same formatted XML. */
  | 'exact'
  /** Both accepted, the formatted inactive XML differs. */
  | 'format'
  /** Both refused, with a different code, domain or message. */
  | 'message'
  /** The fake refused what libvirt accepts. */
  | 'strict'
  /** The fake accepted what libvirt refuses. */
  | 'permissive'
  /** libvirt crashed or hung on it; the fake refused (as it must). */
  | 'crash-refused'
  /** libvirt crashed or hung on it; the fake accepted. */
  | 'crash-accepted'
  /** libvirt refused it for want of KVM, which the oracle host lacks and the profile has: not judged. */
  | 'environment';

export interface Judgement {
  readonly id: string;
  readonly group: string;
  readonly verdict: Verdict;
  readonly oracle: OracleAnswer;
  readonly fake: OracleAnswer;
}

/** The two hosts the records are held against: SEV as the patched oracle, and QEMU without SEV. */
export type OracleSide = 'sev' | 'plain';

export function fakeHostFor(side: OracleSide, profileName: string): FakeHost {
  const host = new FakeHost(loadProfile(profileName));
  if (side === 'plain') host.control.use(fault.kernelParam('sev', false));
  return host;
}

const UNDEFINE_ALL = DomainFlags.UNDEFINE_NVRAM | DomainFlags.UNDEFINE_MANAGED_SAVE;

/** virDomainDefineXML on the fake, answered as the oracle answers (then undefined again). */
export function defineOnFake(host: FakeHost, xml: string): OracleAnswer {
  try {
    const dom = host.defineXML(xml);
    const formatted = host.getXMLDesc(dom, DomainFlags.XML_INACTIVE);
    host.undefine(dom, UNDEFINE_ALL);
    return { outcome: 'ok', xml: normaliseGenerated(xml, formatted) };
  } catch (e) {
    if (e instanceof LibvirtError) return { outcome: 'error', code: e.code, domain: e.domain, message: e.message };
    return { outcome: 'error', code: -1, domain: -1, message: `fake crashed: ${e instanceof Error ? e.stack : String(e)}` };
  }
}

/**
 * The oracle runs QEMU without KVM (its namespace has no /dev/kvm), so it refuses every kvm-type
 * guest for that reason alone; the SEV profile has KVM. Such answers say nothing about the fake.
 */
const NO_KVM_ON_ORACLE = /does not support virt type 'kvm'|type=kvm$|the accel 'kvm' is not supported/;

export function verdictOf(oracle: OracleAnswer, fake: OracleAnswer): Verdict {
  if (oracle.outcome === 'error' && NO_KVM_ON_ORACLE.test(oracle.message)) return 'environment';
  if (oracle.outcome === 'crash' || oracle.outcome === 'hang') return fake.outcome === 'ok' ? 'crash-accepted' : 'crash-refused';
  if (oracle.outcome === 'ok') {
    if (fake.outcome !== 'ok') return 'strict';
    return fake.xml === oracle.xml ? 'exact' : 'format';
  }
  if (fake.outcome === 'ok') return 'permissive';
  if (fake.outcome !== 'error') return 'message';
  return fake.code === oracle.code && fake.domain === oracle.domain && fake.message === oracle.message ? 'exact' : 'message';
}

export function judgeCorpus(docs: readonly CorpusDocument[], records: ReadonlyMap<string, DefineRecord>, side: OracleSide, host: FakeHost): Judgement[] {
  const out: Judgement[] = [];
  for (const doc of docs) {
    const record = records.get(doc.id);
    if (!record) continue;
    const fake = defineOnFake(host, doc.xml);
    out.push({ id: doc.id, group: doc.group, verdict: verdictOf(record[side], fake), oracle: record[side], fake });
  }
  return out;
}

export interface Figures {
  /** Documents judged (those whose answer depends on the oracle host lacking KVM are left out). */
  readonly documents: number;
  /** Same outcome, code, domain and message (errors), or accepted by both (crashes refused count). */
  readonly agreeing: number;
  readonly permissive: number;
  readonly acceptedByBoth: number;
  readonly formattedAlike: number;
  readonly byVerdict: Readonly<Record<Verdict, number>>;
}

export function figuresOf(js: readonly Judgement[]): Figures {
  const byVerdict: Record<Verdict, number> = { exact: 0, format: 0, message: 0, strict: 0, permissive: 0, 'crash-refused': 0, 'crash-accepted': 0, environment: 0 };
  for (const j of js) byVerdict[j.verdict]++;
  const judged = js.length - byVerdict.environment;
  const acceptedByBoth = js.filter((j) => j.oracle.outcome === 'ok' && j.fake.outcome === 'ok').length;
  return {
    documents: judged,
    // Outcome agreement: a refusal must match exactly; an acceptance agrees whatever its XML.
    agreeing: byVerdict.exact + byVerdict.format + byVerdict['crash-refused'],
    permissive: byVerdict.permissive + byVerdict['crash-accepted'],
    acceptedByBoth,
    formattedAlike: js.filter((j) => j.verdict === 'exact' && j.oracle.outcome === 'ok').length,
    byVerdict,
  };
}

export const percent = (n: number, of: number) => (of === 0 ? '–' : `${((100 * n) / of).toFixed(1)}%`);

/** The documents the fake accepted though libvirt refused (or crashed on) them. */
export const permissiveIds = (js: readonly Judgement[]): string[] =>
  js.filter((j) => j.verdict === 'permissive' || j.verdict === 'crash-accepted').map((j) => j.id);

/** The share of a group's documents answered exactly (refusal texts and formatted XML alike). */
export function exactShare(js: readonly Judgement[], group: string): { exact: number; of: number } {
  const inGroup = js.filter((j) => j.group === group);
  return { exact: inGroup.filter((j) => j.verdict === 'exact').length, of: inGroup.length };
}
