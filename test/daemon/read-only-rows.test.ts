/**
 * Read-only connections against the procedure table's access column, the fake beside a real
 * libvirtd 9.0 (test driver): flag-dependent refusals of read procedures (virDomainGetXMLDesc with
 * SECURE or MIGRATABLE, virDomainGetVcpusFlags with GUEST), and a write procedure whose
 * arguments are checked before read-only access, so only a call with real arguments reaches the
 * refusal (virConnectBaselineHypervisorCPU).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realLibvirtdAvailable, startRealLibvirtd, type RealLibvirtd } from '../../containers/real-libvirtd.ts';
import { connect, type LibvirtClient } from '../../src/libvirt/client.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import type { DomainRef } from '../../src/rpc/remote-types.ts';
import { PLAIN_GUEST, guestXml, startFake, type FakeDaemon } from './helpers.ts';

const stack = realLibvirtdAvailable();

const CPU = `<cpu mode='custom' match='exact'><model fallback='forbid'>EPYC</model></cpu>`;

type Answer = string | { readonly code: number; readonly domain: number; readonly message: string };

async function answer(p: Promise<unknown>): Promise<Answer> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (!(e instanceof LibvirtError)) throw e;
    return { code: e.code, domain: e.domain, message: e.message };
  }
}

/** What a read-only connection answers, for each case, on one server. */
async function readOnlyAnswers(uri: string, dom: DomainRef): Promise<Record<string, Answer>> {
  const ro = await connect(uri, { readonly: true });
  try {
    return {
      'getXMLDesc 0': await answer(ro.call('DOMAIN_GET_XML_DESC', { dom, flags: 0 })),
      'getXMLDesc SECURE': await answer(ro.call('DOMAIN_GET_XML_DESC', { dom, flags: 1 })),
      'getXMLDesc MIGRATABLE': await answer(ro.call('DOMAIN_GET_XML_DESC', { dom, flags: 8 })),
      'getVcpusFlags GUEST': await answer(ro.call('DOMAIN_GET_VCPUS_FLAGS', { dom, flags: 8 })),
      baselineHypervisorCPU: await answer(
        ro.call('CONNECT_BASELINE_HYPERVISOR_CPU', {
          emulator: null,
          arch: null,
          machine: null,
          virttype: null,
          xmlCPUs: [CPU],
          flags: 0,
        }),
      ),
    };
  } finally {
    await ro.close();
  }
}

describe('read-only refusals from the procedure rows', () => {
  let fake: FakeDaemon;
  let fakeAnswers: Record<string, Answer>;

  beforeAll(async () => {
    fake = await startFake();
    const rw: LibvirtClient = await connect(fake.uri);
    const dom = await rw.defineXML(guestXml(PLAIN_GUEST));
    await rw.close();
    fakeAnswers = await readOnlyAnswers(fake.uri, dom);
  });

  afterAll(async () => {
    await fake?.close();
  });

  it('the fake refuses by flags and by the write row', () => {
    expect(fakeAnswers['getXMLDesc 0']).toBe('ok');
    expect(fakeAnswers['getXMLDesc SECURE']).toEqual({
      code: VirErrorNumber.OPERATION_DENIED,
      domain: VirErrorDomain.DOMAIN,
      message: 'operation forbidden: virDomainGetXMLDesc with secure flag',
    });
    expect(fakeAnswers['getXMLDesc MIGRATABLE']).toEqual(fakeAnswers['getXMLDesc SECURE']);
    expect(fakeAnswers['getVcpusFlags GUEST']).toMatchObject({
      message: 'operation forbidden: read only access prevents virDomainGetVcpusFlags',
    });
    expect(fakeAnswers.baselineHypervisorCPU).toMatchObject({
      message: 'operation forbidden: read only access prevents virConnectBaselineHypervisorCPU',
    });
  });

  describe.skipIf(!stack.available)('as a real libvirtd 9.0 answers', () => {
    let real: RealLibvirtd;

    beforeAll(async () => {
      real = await startRealLibvirtd();
    });

    afterAll(async () => {
      await real?.stop();
    });

    it('the same answers, case by case', async () => {
      const rw = await connect(real.testUri);
      const dom = await rw.lookupByName('test');
      await rw.close();
      expect(fakeAnswers).toEqual(await readOnlyAnswers(real.testUri, dom));
    });
  });
});
