/** The Python driver's stdlib libvirt RPC client (libvirt_rpc.py): wire bytes, URIs, and a live fake daemon. */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRealStack } from '../../../containers/real-stack.ts';
import { python, startFake, type FakeDaemon } from '../../../test/daemon/helpers.ts';

const stack = requireRealStack(['/usr/bin/python3']);
const HERE = fileURLToPath(new URL('.', import.meta.url));

/** Runs Python with libvirt_rpc importable; the script prints one JSON value. */
async function py(script: string, ...args: string[]): Promise<unknown> {
  const r = await python(`import sys, json; sys.path.insert(0, ${JSON.stringify(HERE)})\nimport libvirt_rpc as L\n${script}`, ...args);
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe.skipIf(!stack.available)('libvirt_rpc.py', () => {
  it('encodes CONNECT_OPEN and GET_DOMAIN_CAPABILITIES args byte for byte as libvirt-python 9.0 does', async () => {
    // Payloads from libvirt-traces/trace-test.jsonl (serials 2 and 16), libvirt-python against libvirtd 9.0.
    const out = await py(`print(json.dumps([
      (L.pack_opt_string('test:///default') + L.pack_uint(0)).hex(),
      b''.join(L.pack_opt_string(s) for s in (None, 'x86_64', 'q35', 'kvm')).hex() + L.pack_uint(0).hex()]))`);
    expect(out).toEqual([
      '000000010000000f746573743a2f2f2f64656661756c740000000000',
      '0000000000000001000000067838365f3634000000000001000000037133350000000001000000036b766d0000000000',
    ]);
  });

  it('decodes the captured error reply of an unsupported domcaps call', async () => {
    const payload =
      '00000003000000140000000100000058746869732066756e6374696f6e206973206e6f7420737570706f727465642062792074686520636f6e6e656374696f6e206472697665723a20766972436f6e6e656374476574446f6d61696e4361706162696c6974696573';
    const out = await py(`r = L.XdrReader(bytes.fromhex(sys.argv[1])); print(json.dumps([r.int(), r.int(), r.opt_string()]))`, payload);
    expect(out).toEqual([3, 20, 'this function is not supported by the connection driver: virConnectGetDomainCapabilities']);
  });

  it('parses libvirt URIs into a socket and the name sent in CONNECT_OPEN', async () => {
    const out = await py(`print(json.dumps([L.parse_uri(u) for u in sys.argv[1:]]))`,
      'qemu+unix:///system?socket=/tmp/x/libvirt-sock', 'qemu:///system', 'test+unix:///default?socket=/s&mode=legacy&foo=1');
    expect(out).toEqual([
      ['/tmp/x/libvirt-sock', 'qemu:///system'],
      ['/var/run/libvirt/libvirt-sock', 'qemu:///system'],
      ['/s', 'test:///default?foo=1'],
    ]);
    await expect(py(`L.parse_uri(sys.argv[1])`, 'qemu+tcp://host/system')).rejects.toThrow(/transport 'tcp' is not supported/);
    await expect(py(`L.parse_uri(sys.argv[1])`, 'qemu:///session')).rejects.toThrow(/no default socket/);
  });

  describe('against the fake daemon', () => {
    let fake: FakeDaemon;
    beforeAll(async () => {
      fake = await startFake('genoa-9004');
    });
    afterAll(async () => {
      await fake?.close();
    });

    it('fetches the same domain capabilities the fake host describes', async () => {
      const out = await py(`
with L.LibvirtConnection(sys.argv[1]) as c:
    print(json.dumps([c.domain_capabilities('x86_64', 'q35', 'kvm'), c.domain_capabilities('x86_64', None, 'kvm')]))`, fake.uri);
      expect(out).toEqual([
        fake.host.domainCapabilities({ arch: 'x86_64', machine: 'q35', virttype: 'kvm' }),
        fake.host.domainCapabilities({ arch: 'x86_64', virttype: 'kvm' }),
      ]);
    });

    it('fetches the same capabilities (guest arches, machine types) the fake host describes', async () => {
      const out = await py(`
with L.LibvirtConnection(sys.argv[1]) as c:
    print(json.dumps(c.capabilities()))`, fake.uri);
      expect(out).toBe(fake.host.capabilities());
      expect(out).toMatch(/<machine canonical='pc-q35-[\d.]+'[^>]*>q35<\/machine>/);
    });

    it("raises libvirt's error (code, domain, message) and keeps the connection usable", async () => {
      const out = await py(`
with L.LibvirtConnection(sys.argv[1]) as c:
    try:
        c.domain_capabilities('x86_64', 'no-such-machine', 'kvm')
    except L.LibvirtError as e:
        err = [e.code, e.domain, str(e)]
    print(json.dumps([err, len(c.domain_capabilities('x86_64', 'q35', 'kvm')) > 0]))`, fake.uri);
      expect(out).toEqual([[8, 10, expect.stringMatching(/no-such-machine/)], true]);
    });
  });
});
