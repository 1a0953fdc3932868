/**
 * The same protocol-level checks through the TypeScript client against a real libvirtd (test
 * driver, `test+unix:///default`) and against the fake. Codes must agree; message texts agree
 * where both come from libvirt's generic code (domain_conf), and legitimately differ where the
 * test driver and the QEMU driver word the same refusal differently.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type LibvirtClient } from '../../src/libvirt/client.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { realLibvirtdAvailable, startRealLibvirtd, type RealLibvirtd } from '../../containers/real-libvirtd.ts';
import { guestXml, startFake, type FakeDaemon } from './helpers.ts';

const stack = realLibvirtdAvailable();

async function failure(p: Promise<unknown>): Promise<LibvirtError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof LibvirtError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe.skipIf(!stack.available)('differential: real libvirtd (test driver) vs the fake', () => {
  let real: RealLibvirtd;
  let fake: FakeDaemon;
  const peers: Array<[string, () => Promise<LibvirtClient>]> = [
    ['real', () => connect(real.testUri)],
    ['fake', () => connect(fake.uri)],
  ];

  beforeAll(async () => {
    real = await startRealLibvirtd();
    fake = await startFake('milan-7003-es8');
  });
  afterAll(async () => {
    await fake?.close();
    await real?.stop();
  });

  it.each(peers)('%s: an unknown domain is NO_DOMAIN (42)', async (name, open) => {
    const c = await open();
    try {
      const e = await failure(c.lookupByName('no-such-domain'));
      expect(e.code).toBe(VirErrorNumber.NO_DOMAIN);
      // The test driver reports no detail; the QEMU driver names what it looked for.
      expect(e.message).toBe(name === 'real' ? 'Domain not found' : "Domain not found: no domain with matching name 'no-such-domain'");
    } finally {
      await c.close();
    }
  });

  it.each(peers)('%s: defining the same name under a new UUID is OPERATION_FAILED (9) with the domain_conf text', async (_name, open) => {
    const c = await open();
    const first = { name: 'dupe', uuid: 'aaaaaaaa-1111-4222-8333-444444444444' };
    try {
      await c.defineXML(guestXml(first));
      const e = await failure(c.defineXML(guestXml({ name: 'dupe', uuid: 'bbbbbbbb-1111-4222-8333-444444444444' })));
      expect(e.code).toBe(VirErrorNumber.OPERATION_FAILED);
      expect(e.message).toBe(`operation failed: domain 'dupe' already exists with uuid ${first.uuid}`);
    } finally {
      await c.undefine(await c.lookupByName('dupe')).catch(() => undefined);
      await c.close();
    }
  });

  it.each(peers)("%s: libvirt 9.0 predates <launchSecurity type='sev-snp'>: the same enum error", async (_name, open) => {
    const c = await open();
    try {
      const xml = guestXml({ name: 'snp', uuid: 'eeeeeeee-1111-4222-8333-444444444444' }).replace(
        '</domain>',
        "  <launchSecurity type='sev-snp' authorKey='no' vcek='yes'><policy>0x00030000</policy></launchSecurity>\n</domain>",
      );
      const e = await failure(c.defineXML(xml));
      expect({ code: e.code, domain: e.domain, message: e.message }).toEqual({
        code: VirErrorNumber.XML_ERROR,
        domain: VirErrorDomain.XML,
        message: "XML error: Invalid value for attribute 'type' in element 'launchSecurity': 'sev-snp'.",
      });
    } finally {
      await c.close();
    }
  });

  it.each(peers)('%s: starting a running domain is refused (codes differ by driver)', async (name, open) => {
    const c = await open();
    const g = { name: 'twice', uuid: 'cccccccc-1111-4222-8333-444444444444' };
    try {
      const dom = await c.defineXML(guestXml(g));
      await c.domainCreate(dom);
      const e = await failure(c.call('DOMAIN_CREATE', { dom }));
      // The drivers disagree here: the test driver raises INTERNAL_ERROR from domain TEST, the
      // QEMU driver (which the fake models) OPERATION_INVALID from domain QEMU.
      const expected = {
        real: { code: VirErrorNumber.INTERNAL_ERROR, domain: VirErrorDomain.TEST, message: "internal error: Domain 'twice' is already running" },
        fake: { code: VirErrorNumber.OPERATION_INVALID, domain: VirErrorDomain.QEMU, message: 'Requested operation is not valid: domain is already running' },
      }[name];
      expect({ code: e.code, domain: e.domain, message: e.message }).toEqual(expected);
      await c.destroy(await c.lookupByName('twice'));
    } finally {
      await c.undefine(await c.lookupByName('twice')).catch(() => undefined);
      await c.close();
    }
  });

  it.each(peers)('%s: a domain lifecycle round trip reports the same states and IDs shape', async (_name, open) => {
    const c = await open();
    const g = { name: 'cycle', uuid: 'dddddddd-1111-4222-8333-444444444444' };
    try {
      const dom = await c.defineXML(guestXml(g));
      expect(dom.id).toBe(-1);
      const started = await c.domainCreate(dom);
      expect(started.id).toBeGreaterThan(0);
      expect(await c.getState(started)).toEqual({ state: 1, reason: 1 });
      await c.suspend(started);
      expect(await c.getState(started)).toEqual({ state: 3, reason: 1 });
      await c.destroy(started);
      expect(await c.getState(started)).toEqual({ state: 5, reason: 2 });
      expect(await c.isPersistent(started)).toBe(true);
      await c.undefine(started);
      expect((await failure(c.lookupByName('cycle'))).code).toBe(VirErrorNumber.NO_DOMAIN);
    } finally {
      await c.close();
    }
  });
});
