/**
 * The fake KDS over HTTP (`sevharness serve --kds-port`) for clients that are not msw: node's plain
 * http.get with OpenSSL's X.509 verification, and Python's urllib with python3-cryptography. The
 * report comes from an in-process host of the same profile: the chip, its VCEK and the fake roots'
 * keys are the same in every process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeReport, SIGNED_LENGTH } from '../../fakelibvirt/firmware/snp/attestation-report.ts';
import { decodeTcb, tcbQuery } from '../../fakelibvirt/firmware/snp/product.ts';
import { genoaWithSnpGuest, p1363Of } from './support.ts';

const CLI = resolve(import.meta.dirname, '../../bin/sevharness.js');
const PY_VERIFIER = resolve(import.meta.dirname, 'verify_snp.py');

function httpGet(url: string): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((done, fail) => {
    get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
    }).on('error', fail);
  });
}

/** python3-cryptography for the second client: skipped with a notice outside CI, required in CI. */
function pythonCryptography(): boolean {
  const ok = spawnSync('/usr/bin/python3', ['-c', 'import cryptography'], { stdio: 'ignore' }).status === 0;
  if (!ok) {
    const msg = 'python3-cryptography (/usr/bin/python3 -c "import cryptography") is missing';
    if (process.env.CI === 'true') throw new Error(`${msg} (required because CI=true)`);
    process.stderr.write(`NOTICE: skipping the Python KDS client, ${msg}\n`);
  }
  return ok;
}

describe('sevharness serve --kds-port: the fake KDS on loopback', () => {
  let child: ChildProcess;
  let kds = '';
  const host = genoaWithSnpGuest('snp', { vcpus: 2 });
  const reportData = Buffer.from('sevharness serve --kds-port test'.padEnd(64, '.'));
  const report = host.control.snpGuestReport('snp', reportData);
  const r = decodeReport(report);
  const vcekPath = `/vcek/v1/Genoa/${r.chipId.toString('hex')}?${tcbQuery('zen3-4', decodeTcb('zen3-4', r.reportedTcb))}`;
  const dir = mkdtempSync(join(tmpdir(), 'snp-kds-'));

  beforeAll(async () => {
    child = spawn(process.execPath, [CLI, 'serve', '--json', '--profile', 'genoa-9004', '--kds-port', '0', '--state-dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const rl = createInterface({ input: child.stdout! });
    kds = await new Promise<string>((done, fail) => {
      rl.on('line', (l) => {
        const j = JSON.parse(l) as { kds?: string };
        if (j.kds) done(j.kds);
      });
      child.once('exit', (code) => fail(new Error(`serve exited with ${code}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only and serves VCEK and chain that verify with OpenSSL (node:crypto)', async () => {
    expect(kds).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const vcekRes = await httpGet(`${kds}${vcekPath}`);
    expect([vcekRes.status, vcekRes.type]).toEqual([200, 'application/octet-stream']);
    const chainRes = await httpGet(`${kds}/vcek/v1/Genoa/cert_chain`);
    expect(chainRes.status).toBe(200);
    const [askPem, arkPem] = chainRes.body.toString().match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
    const vcek = new X509Certificate(vcekRes.body);
    const ask = new X509Certificate(askPem!);
    const ark = new X509Certificate(arkPem!);
    expect([ark.verify(ark.publicKey), ask.verify(ark.publicKey), vcek.verify(ask.publicKey), vcek.verify(ark.publicKey)]).toEqual([true, true, true, false]);
    expect(vcek.checkIssued(ask)).toBe(true);
    const sigOk = (rep: Buffer) => verify('sha384', rep.subarray(0, SIGNED_LENGTH), { key: vcek.publicKey, dsaEncoding: 'ieee-p1363' }, p1363Of(rep));
    expect(sigOk(report)).toBe(true);
    const tampered = Buffer.from(report);
    tampered[0x90]! ^= 0x80;
    expect(sigOk(tampered)).toBe(false);
  });

  it('answers errors and unknown paths over HTTP as in-process', async () => {
    expect((await httpGet(`${kds}/vcek/v1/Genoa/${'ab'.repeat(64)}?blSPL=1&teeSPL=0&snpSPL=1&ucodeSPL=1`)).status).toBe(404);
    expect((await httpGet(`${kds}/vcek/v1/Genoa/xyz?blSPL=1`)).status).toBe(400);
    expect((await httpGet(`${kds}/nothing/here`)).status).toBe(404);
  });

  it('refuses a --kds-port that is not a port, before serving anything', () => {
    const r = spawnSync(process.execPath, [CLI, 'serve', '--profile', 'genoa-9004', '--kds-port', '70000'], { encoding: 'utf8', timeout: 60_000 });
    expect([r.status, r.stderr.split('\n')[0]]).toEqual([2, "sevharness serve: --kds-port must be a TCP port (0-65535; 0 picks a free one), not '70000'"]);
  }, 60_000);

  it.skipIf(!pythonCryptography())('a Python verifier (urllib + python3-cryptography) accepts the report, and rejects a tampered one', () => {
    const good = join(dir, 'report.bin');
    writeFileSync(good, report);
    const run = (file: string) => spawnSync('/usr/bin/python3', [PY_VERIFIER, kds, 'Genoa', file], { encoding: 'utf8', timeout: 60_000 });
    const ok = run(good);
    expect(ok.stderr).toBe('');
    const out = JSON.parse(ok.stdout) as { ok: boolean; policy: number; report_data: string; measurement: string; ask_subject: string };
    expect(out).toMatchObject({ ok: true, policy: 0x30000, report_data: reportData.toString('hex'), measurement: r.measurement.toString('hex') });
    expect(out.ask_subject).toContain('CN=SEV-Genoa FAKE');
    const bad = Buffer.from(report);
    bad[0x50]! ^= 0x01;
    writeFileSync(join(dir, 'bad.bin'), bad);
    const refused = run(join(dir, 'bad.bin'));
    expect([refused.status, JSON.parse(refused.stdout)]).toEqual([1, { ok: false, failed: 'report signature' }]);
  }, 60_000);
});
