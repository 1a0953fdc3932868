/**
 * libvirt's own domain schema (the RelaxNG grammar `virt-xml-validate` uses), checked with one
 * `xmllint` process per batch of documents rather than one per document; identical documents are
 * checked once per process. One xmllint runs at a time: documents asked for meanwhile (the next
 * profiles' cases) wait and go together in the next, so a run forks a few times, not once per profile.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const XMLLINT = '/usr/bin/xmllint';
export const DOMAIN_RNG = '/usr/share/libvirt/schemas/domain.rng';

export function schemaCheckAvailable(): boolean {
  return existsSync(XMLLINT) && existsSync(DOMAIN_RNG);
}

/**
 * Why guest XML cannot be checked against libvirt's schema here, or null when it can. The check is
 * never skipped silently: the run notes the reason on every case whose XML went unchecked, and with
 * CI=true (where the packages must be installed, scripts/ensure-real-stack.sh) those cases fail.
 */
export function schemaCheckSkipped(env: Readonly<Record<string, string | undefined>> = process.env): { reason: string; fail: boolean } | null {
  const missing = [
    ...(existsSync(XMLLINT) ? [] : [`${XMLLINT} (Debian package libxml2-utils)`]),
    ...(existsSync(DOMAIN_RNG) ? [] : [`${DOMAIN_RNG} (Debian package libvirt-daemon)`]),
  ];
  if (missing.length === 0) return null;
  return { reason: `guest XML not checked against libvirt's domain schema: ${missing.join(' and ')} missing`, fail: env.CI === 'true' };
}

/** Verdicts by document text: the schema file does not change under a running process. */
const verdicts = new Map<string, string | null>();
/** Past this many documents the remembered verdicts are dropped (a long-lived process, e.g. a vitest run). */
const MAX_REMEMBERED = 20_000;

interface Waiting {
  readonly docs: readonly string[];
  resolve(v: Array<string | null>): void;
  reject(e: unknown): void;
}
let waiting: Waiting[] = [];
let checking = false;

/** Validates the documents; returns, per document, null (valid) or the schema's first complaint. */
export function validateDomainXml(docs: readonly string[]): Promise<Array<string | null>> {
  if (docs.length === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    waiting.push({ docs, resolve, reject });
    void checkWaiting();
  });
}

async function checkWaiting(): Promise<void> {
  if (checking || waiting.length === 0) return;
  checking = true;
  const batch = waiting;
  waiting = [];
  try {
    const docs = [...new Set(batch.flatMap((w) => w.docs))];
    if (verdicts.size + docs.length > MAX_REMEMBERED) verdicts.clear();
    const unknown = docs.filter((d) => !verdicts.has(d));
    if (unknown.length > 0) for (const [doc, v] of await runXmllint(unknown)) verdicts.set(doc, v);
    for (const w of batch) w.resolve(w.docs.map((d) => verdicts.get(d) ?? null));
  } catch (e) {
    for (const w of batch) w.reject(e);
  } finally {
    checking = false;
    void checkWaiting();
  }
}

/** One xmllint over distinct documents: each one's verdict. */
async function runXmllint(unique: readonly string[]): Promise<Map<string, string | null>> {
  const dir = mkdtempSync(join(tmpdir(), 'sevharness-rng-'));
  try {
    const files = unique.map((doc, i) => {
      const f = join(dir, `${i}.xml`);
      writeFileSync(f, doc);
      return f;
    });
    const stderr = await new Promise<string>((resolve) => {
      execFile(XMLLINT, ['--noout', '--relaxng', DOMAIN_RNG, ...files], { maxBuffer: 64 << 20 }, (_err, _out, err) => resolve(String(err)));
    });
    const lines = stderr.split('\n');
    const verdict = new Map<string, string | null>();
    files.forEach((f, i) => {
      if (lines.includes(`${f} validates`)) {
        verdict.set(unique[i]!, null);
        return;
      }
      const complaint = lines.find((l) => l.startsWith(`${f}:`))?.slice(f.length + 1).trim();
      verdict.set(unique[i]!, complaint ?? (lines.find((l) => l.startsWith(f)) ?? 'xmllint gave no verdict'));
    });
    return verdict;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
