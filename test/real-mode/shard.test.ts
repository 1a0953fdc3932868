/**
 * `--shard i/n` splits the catalogue as vitest splits files: the n shards of a selection partition
 * it (each case in exactly one shard, in catalogue order), so n runners together judge the whole
 * case × profile matrix once.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CASES } from '../../conformance/catalogue/index.ts';
import { parseShard, selectCases, shardOf } from '../../conformance/runner/select.ts';
import { main } from '../../src/cli/main.ts';

describe('shards', () => {
  it('partition any list for any count', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 200 }), fc.integer({ min: 1, max: 40 }), (items, count) => {
        const parts = Array.from({ length: count }, (_, i) => shardOf(items, { index: i + 1, count }));
        expect(parts.flat()).toEqual(items);
        for (const p of parts) expect(p.length).toBeLessThanOrEqual(Math.ceil(items.length / count));
      }),
    );
  });

  it('partition the catalogue and an area selection', () => {
    for (const filters of [undefined, ['detect', 'boot']]) {
      const all = selectCases(filters).map((c) => c.id);
      for (const n of [1, 2, 3, 7]) {
        const parts = Array.from({ length: n }, (_, i) => shardOf(all, parseShard(`${i + 1}/${n}`)));
        expect(parts.flat()).toEqual(all);
        expect(new Set(parts.flat()).size).toBe(all.length);
      }
    }
    expect(CASES.length).toBeGreaterThan(50);
  });

  it('refuse malformed or out-of-range shards', () => {
    for (const bad of ['0/3', '4/3', '1/0', '1', 'a/b', '-1/2', '1/2/3']) expect(() => parseShard(bad), bad).toThrow(/--shard/);
    expect(parseShard(' 2/5 ')).toEqual({ index: 2, count: 5 });
  });
});

describe('sevharness conformance --shard', () => {
  it('three runners judge every case of the matrix exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shard-test-'));
    try {
      const seen: string[] = [];
      for (let i = 1; i <= 3; i++) {
        const file = join(dir, `s${i}.json`);
        const code = await main(['conformance', '--profiles', 'intel-xeon,rome-7002-sev-off', '--cases', 'detect,request,xml', '--jobs', '1', '--shard', `${i}/3`, '--report', `json=${file}`], { out: () => {}, err: () => {} });
        expect(code).toBe(0);
        const report = JSON.parse(readFileSync(file, 'utf8')) as { results: Array<{ caseId: string; profile: string }> };
        seen.push(...report.results.map((r) => `${r.caseId}@${r.profile}`));
      }
      const want = selectCases(['detect', 'request', 'xml']).flatMap((c) => ['intel-xeon', 'rome-7002-sev-off'].map((p) => `${c.id}@${p}`));
      expect([...seen].sort()).toEqual([...want].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('is a usage error when malformed or when it selects nothing', async () => {
    const run = (shard: string) => main(['conformance', '--profiles', 'intel-xeon', '--cases', 'detect.sev-es', '--shard', shard], { out: () => {}, err: () => {} });
    expect(await run('3/2')).toBe(2);
    expect(await run('2/2')).toBe(2);
  });
});
