/** The TypeScript client against a real libvirtd 9.0 serving the test driver (test+unix:///default). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, DomainEventId, uuidString, type DomainLifecycleEvent, type LibvirtClient } from '../../src/libvirt/client.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { realLibvirtdAvailable, startRealLibvirtd, type RealLibvirtd } from '../../containers/real-libvirtd.ts';

const stack = realLibvirtdAvailable();

const DOMAIN_XML = `<domain type='test'>
  <name>tsclient</name>
  <uuid>3c1d3f1e-5e2b-4c3a-9f00-00000000abcd</uuid>
  <memory unit='KiB'>65536</memory>
  <vcpu>1</vcpu>
  <os><type arch='i686'>hvm</type></os>
</domain>`;

/** Resolves with the first lifecycle event matching the predicate. */
function nextLifecycle(client: LibvirtClient, match: (e: DomainLifecycleEvent) => boolean): Promise<DomainLifecycleEvent> {
  return new Promise((resolve) => {
    const on = (e: DomainLifecycleEvent) => {
      if (!match(e)) return;
      client.off('lifecycle', on);
      resolve(e);
    };
    client.on('lifecycle', on);
  });
}

describe.skipIf(!stack.available)('client against real libvirtd (test driver)', () => {
  let daemon: RealLibvirtd;
  let client: LibvirtClient;

  beforeAll(async () => {
    daemon = await startRealLibvirtd();
    client = await connect(daemon.testUri);
  });

  afterAll(async () => {
    await client?.close();
    await daemon?.stop();
  });

  it('identifies the test driver', async () => {
    expect(client.uri).toBe('test:///default');
    expect(await client.getType()).toBe('TEST');
    expect(await client.getLibVersion()).toBe(9000000);
    expect(await client.getVersion()).toBe(2);
    expect(await client.getHostname()).toBeTypeOf('string');
    expect(await client.getCapabilities()).toContain('<capabilities>');
    const node = await client.nodeGetInfo();
    expect(node).toMatchObject({ model: 'i686', cpus: 16, mhz: 1400 });
  });

  it('lists the built-in running domain', async () => {
    const doms = await client.listAllDomains();
    const test = doms.find((d) => d.name === 'test');
    expect(test).toBeDefined();
    expect(uuidString(test!.uuid)).toBe('6695eb01-f6a4-8304-79aa-97f2502e193f');
    expect((await client.getState(test!)).state).toBe(1);
    const info = await client.getInfo(test!);
    expect(info).toMatchObject({ state: 1, maxMem: 8388608, memory: 2097152, nrVirtCpu: 2 });
  });

  it('defines, starts, destroys and undefines a domain with lifecycle events', async () => {
    const callbackID = await client.domainEventRegister(DomainEventId.LIFECYCLE);
    expect(callbackID).toBeGreaterThanOrEqual(0);

    const defined = nextLifecycle(client, (e) => e.dom.name === 'tsclient' && e.event === 0);
    const dom = await client.defineXML(DOMAIN_XML);
    expect(dom.name).toBe('tsclient');
    expect(dom.id).toBe(-1);
    expect((await defined).callbackID).toBe(callbackID);
    expect(await client.isActive(dom)).toBe(false);
    expect(await client.isPersistent(dom)).toBe(true);
    expect(await client.getXMLDesc(dom)).toContain('<name>tsclient</name>');

    const started = nextLifecycle(client, (e) => e.dom.name === 'tsclient' && e.event === 2);
    const running = await client.domainCreate(dom);
    expect(running.id).toBeGreaterThan(0);
    expect((await started).detail).toBe(0);
    expect(await client.isActive(running)).toBe(true);
    expect((await client.lookupByID(running.id)).name).toBe('tsclient');
    expect((await client.lookupByUUID('3c1d3f1e-5e2b-4c3a-9f00-00000000abcd')).id).toBe(running.id);

    await client.suspend(running);
    expect((await client.getState(running)).state).toBe(3);
    await client.resume(running);
    expect((await client.getState(running)).state).toBe(1);

    const stopped = nextLifecycle(client, (e) => e.dom.name === 'tsclient' && e.event === 5);
    await client.destroy(running);
    expect((await stopped).detail).toBe(1);
    expect(await client.hasManagedSaveImage(dom)).toBe(false);

    const undefined_ = nextLifecycle(client, (e) => e.dom.name === 'tsclient' && e.event === 1);
    await client.undefineFlags(dom, 0);
    await undefined_;
    await client.domainEventDeregister(callbackID);
  });

  // The test driver reports a bare VIR_ERR_NO_DOMAIN for names (testDomainLookupByName).
  it('reports NO_DOMAIN with libvirt message for an unknown name', async () => {
    const err = await client.lookupByName('no-such-domain').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect((err as LibvirtError).code).toBe(VirErrorNumber.NO_DOMAIN);
    expect((err as LibvirtError).domain).toBe(VirErrorDomain.TEST);
    expect((err as LibvirtError).message).toBe('Domain not found');
    expect((err as LibvirtError).str1).toBe('Domain not found');
  });

  it('gets NO_SUPPORT for domain capabilities and SEV info from the test driver', async () => {
    const caps = await client.getDomainCapabilities({ arch: 'x86_64', virttype: 'kvm' }).catch((e: unknown) => e);
    expect(caps).toBeInstanceOf(LibvirtError);
    expect((caps as LibvirtError).code).toBe(VirErrorNumber.NO_SUPPORT);
    expect((caps as LibvirtError).message).toBe(
      'this function is not supported by the connection driver: virConnectGetDomainCapabilities',
    );
    const sev = await client.nodeGetSevInfo().catch((e: unknown) => e);
    expect((sev as LibvirtError).code).toBe(VirErrorNumber.NO_SUPPORT);
    expect((sev as LibvirtError).message).toContain('virNodeGetSEVInfo');
  });

  it('passes the STRING_OKAY flag the test driver rejects for launch security info', async () => {
    const test = await client.lookupByName('test');
    const err = await client.getLaunchSecurityInfo(test).catch((e: unknown) => e);
    expect((err as LibvirtError).code).toBe(VirErrorNumber.INVALID_ARG);
    expect((err as LibvirtError).message).toBe('unsupported flags (0x4) in function testDomainGetLaunchSecurityInfo');
  });

  it('runs concurrent calls matched by serial', async () => {
    const results = await Promise.all([
      client.getType(),
      client.getLibVersion(),
      client.lookupByName('test'),
      client.getHostname(),
      client.lookupByName('missing').catch((e: unknown) => (e as LibvirtError).code),
    ]);
    expect(results[0]).toBe('TEST');
    expect(results[1]).toBe(9000000);
    expect((results[2] as { name: string }).name).toBe('test');
    expect(results[4]).toBe(VirErrorNumber.NO_DOMAIN);
  });

  it('opens read-only connections', async () => {
    const ro = await connect(daemon.testUri, { readonly: true });
    expect(await ro.getType()).toBe('TEST');
    const err = await ro.defineXML(DOMAIN_XML).catch((e: unknown) => e);
    expect((err as LibvirtError).code).toBe(VirErrorNumber.OPERATION_DENIED);
    await ro.close();
  });
});
