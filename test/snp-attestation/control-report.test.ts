/**
 * The SNP report through the host's control surface: a test in any language asks the control
 * socket (`serve --control`) for a running SNP guest's attestation report, then verifies it the
 * way a guest owner does, against the fake KDS's VCEK and ASK/ARK chain.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as x509 from '@peculiar/x509';
import { ControlClient, ControlError } from '../../fakelibvirt/control/client.ts';
import { ControlServer } from '../../fakelibvirt/control/server.ts';
import { decodeReport } from '../../fakelibvirt/firmware/snp/attestation-report.ts';
import { decodeTcb, tcbQuery } from '../../fakelibvirt/firmware/snp/product.ts';
import { KDS_ORIGIN, kdsHandlers } from '../../fakelibvirt/kds/handlers.ts';
import { genoaWithSnpGuest, reportVerifies, signedBy, splitPemChain } from './support.ts';

const host = genoaWithSnpGuest('snp', { vcpus: 2 });
const kds = setupServer(...kdsHandlers([host]));
const dir = mkdtempSync(join(tmpdir(), 'sevharness-snp-ctl-'));
const control = new ControlServer([{ name: 'genoa', host }], { socketPath: join(dir, 'control.sock') });
const ctl = new ControlClient(control.socketPath);

beforeAll(async () => {
  kds.listen({ onUnhandledRequest: 'error' });
  await control.listen();
});
afterAll(async () => {
  kds.close();
  await control.close();
  rmSync(dir, { recursive: true, force: true });
});

const statusOf = async (p: Promise<unknown>): Promise<number> => p.then(() => 200, (e: unknown) => (e instanceof ControlError ? e.status : -1));

describe('SNP attestation report fetched through the control socket', () => {
  it('verifies against the fake KDS chain and echoes REPORT_DATA', async () => {
    const reportData = randomBytes(64);
    const report = await ctl.snpReport('snp', reportData);
    const r = decodeReport(report);
    expect(r.reportData.equals(reportData)).toBe(true);
    const vcekRes = await fetch(`${KDS_ORIGIN}/vcek/v1/Genoa/${r.chipId.toString('hex')}?${tcbQuery('zen3-4', decodeTcb('zen3-4', r.reportedTcb))}`);
    const vcek = new x509.X509Certificate(await vcekRes.arrayBuffer());
    const [ask, ark] = splitPemChain(await (await fetch(`${KDS_ORIGIN}/vcek/v1/Genoa/cert_chain`)).text());
    expect([await signedBy(ask!, ark!), await signedBy(vcek, ask!)]).toEqual([true, true]);
    expect(await reportVerifies(report, vcek)).toBe(true);
    const tampered = Buffer.from(report);
    tampered[0x50]! ^= 1;
    expect(await reportVerifies(tampered, vcek)).toBe(false);
  });

  it('refuses what the guest could not ask: unknown guest 404, stopped guest 409, bad REPORT_DATA 400', async () => {
    expect(await statusOf(ctl.snpReport('nosuch', randomBytes(64)))).toBe(404);
    expect(await statusOf(ctl.snpReport('snp', randomBytes(32)))).toBe(400);
    host.destroy(host.lookupByName('snp'));
    expect(await statusOf(ctl.snpReport('snp', randomBytes(64)))).toBe(409);
  });
});
