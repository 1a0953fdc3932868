/** Unmodified libvirt-python 9.0 (the library Nova uses) against the fake daemon. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requireRealStack } from '../../containers/real-stack.ts';
import { guestXml, python, SEV_GUEST, startFake, type FakeDaemon } from './helpers.ts';

const stack = requireRealStack(['virsh', '/usr/bin/python3']);

/** Nova-like session: event loop thread, lifecycle callback, host queries, define/create, launch info. */
const SCRIPT = String.raw`
import json, sys, threading, time
import libvirt
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
uri, xml = sys.argv[1], sys.argv[2]
conn = libvirt.open(uri)
events = []
done = threading.Event()
def on_lifecycle(c, dom, event, detail, opaque):
    events.append([dom.name(), event, detail])
    if event == libvirt.VIR_DOMAIN_EVENT_STARTED:
        done.set()
cb = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_lifecycle, None)
out = {}
out['type'] = conn.getType()
out['version'] = conn.getVersion()
out['libVersion'] = conn.getLibVersion()
out['capsArch'] = '<arch>x86_64</arch>' in conn.getCapabilities()
out['domcapsSev'] = "<sev supported='yes'>" in conn.getDomainCapabilities(None, 'x86_64', 'q35', 'kvm', 0)
out['sev'] = {k: v for k, v in conn.getSEVInfo().items() if k in ('cbitpos', 'max-guests', 'max-es-guests', 'reduced-phys-bits')}
out['cpuMap'] = conn.getCPUMap()[0]
out['cpuStats'] = sorted(conn.getCPUStats(-1).keys())
out['memStats'] = sorted(conn.getMemoryStats(-1).keys())
out['models'] = 'EPYC-Milan' in conn.getCPUModelNames('x86_64')
try:
    conn.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_CEPH, 'nova')
except libvirt.libvirtError as e:
    out['secretErr'] = [e.get_error_code(), str(e)]
dom = conn.defineXML(xml)
dom.create()
done.wait(10)
out['listAll'] = [d.name() for d in conn.listAllDomains(0)]
out['state'] = dom.state()
out['launchSecurity'] = dom.launchSecurityInfo()
out['events'] = events
conn.domainEventDeregisterAny(cb)
conn.close()
print(json.dumps(out))
`;

describe.skipIf(!stack.available)('libvirt-python against the fake libvirtd', () => {
  let fake: FakeDaemon;
  beforeEach(async () => {
    fake = await startFake('milan-7003-es8');
  });
  afterEach(async () => {
    await fake.close();
  });

  it('runs a Nova-like session: host queries, define, create, lifecycle events, launch security', async () => {
    const r = await python(SCRIPT, fake.uri, guestXml(SEV_GUEST));
    // libvirt's default error handler reports the failed secret lookup; its driver name shows the error domain (SECRET).
    expect(r.stderr).toBe("libvirt: Secrets Driver error : Secret not found: no secret with matching usage 'nova'\n");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out.type).toBe('QEMU');
    expect(out.version).toBe(fake.host.hypervisorVersion());
    expect(out.libVersion).toBe(9000000);
    expect(out.capsArch).toBe(true);
    expect(out.domcapsSev).toBe(true);
    expect(out.sev).toEqual({ cbitpos: 51, 'reduced-phys-bits': 1, 'max-guests': 502, 'max-es-guests': 7 });
    expect(out.cpuMap).toBe(32);
    expect(out.cpuStats).toEqual(['idle', 'iowait', 'kernel', 'user']);
    expect(out.memStats).toEqual(['buffers', 'cached', 'free', 'total']);
    expect(out.models).toBe(true);
    expect(out.secretErr).toEqual([66, "Secret not found: no secret with matching usage 'nova'"]);
    expect(out.listAll).toEqual(['sevguest']);
    expect(out.state).toEqual([1, 1]);
    const fw = fake.host.profile.firmware!;
    expect(out.launchSecurity).toMatchObject({ 'sev-api-major': fw.apiMajor, 'sev-api-minor': fw.apiMinor, 'sev-build-id': fw.build, 'sev-policy': 0x33 });
    expect(out.launchSecurity['sev-measurement']).toMatch(/^[A-Za-z0-9+/=]{40,}$/);
    // DEFINED/ADDED then STARTED/BOOTED, through the callback-style event path.
    expect(out.events).toEqual([
      ['sevguest', 0, 0],
      ['sevguest', 2, 0],
    ]);
  });
});
