import { describe, expect, it } from 'vitest';
import { fault } from '../../fakelibvirt/control/fault.ts';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { DomainFlags } from '../../src/libvirt/flags.ts';
import { DomainState, ShutoffReason } from '../../fakelibvirt/libvirt/states.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { guestXml, sevLaunch } from './sev-guests.ts';

const host = (name: string) => new FakeHost(loadProfile(name));

function startError(h: FakeHost, xml: string): LibvirtError {
  const ref = h.defineXML(xml);
  try {
    h.create(ref);
  } catch (e) {
    expect(e).toBeInstanceOf(LibvirtError);
    return e as LibvirtError;
  }
  throw new Error('start unexpectedly succeeded');
}

/** Naples runs libvirt 6.0, which needs cbitpos and reducedPhysBits in the XML. */
const naplesLaunch = (policy = '0x0033') => sevLaunch(policy, '<cbitpos>47</cbitpos><reducedPhysBits>1</reducedPhysBits>');

describe('ASID key slots', () => {
  it('runs 15 plain-SEV guests on Naples and fails the 16th with KVM/QEMU EBUSY', () => {
    const h = host('naples-7001');
    for (let i = 0; i < 15; i++) h.create(h.defineXML(guestXml({ name: `g${i}`, launchSecurity: naplesLaunch() })));
    expect(h.control.inspect().asids.inUse.map((a) => a.asid)).toEqual([...Array(15).keys()].map((i) => i + 1));
    const err = startError(h, guestXml({ name: 'g15', launchSecurity: naplesLaunch() }));
    expect(err.code).toBe(VirErrorNumber.INTERNAL_ERROR);
    expect(err.domain).toBe(VirErrorDomain.QEMU);
    expect(err.message).toMatch(/^internal error: process exited while connecting to monitor: \S+Z qemu-system-x86_64: sev_guest_init: failed to initialize ret=-16 fw_error=0 ''\n\S+Z qemu-system-x86_64: failed to initialize kvm: Operation not permitted$/);
    expect(h.getState(h.lookupByName('g15'))).toEqual({ state: DomainState.SHUTOFF, reason: 0 });
    expect(h.control.inspect().asids.inUse).toHaveLength(15);
  });

  it('does not reuse a freed ASID until the pool runs out, then flushes and reuses it', () => {
    const h = host('naples-7001');
    const refs = [...Array(15).keys()].map((i) => h.defineXML(guestXml({ name: `g${i}`, launchSecurity: naplesLaunch() })));
    for (const r of refs.slice(0, 3)) h.create(r);
    h.destroy(refs[0]!);
    h.create(refs[3]!);
    expect(h.control.guest('g3')?.sev?.asid).toBe(4); // ascending, ASID 1 waits in the reclaim bitmap
    for (const r of refs.slice(4)) h.create(r);
    expect(h.control.inspect().asids.flushes).toBe(0);
    h.create(refs[0]!); // the pool is exhausted: DF_FLUSH, then ASID 1 is free again
    expect(h.control.guest('g0')?.sev?.asid).toBe(1);
    expect(h.control.inspect().asids.flushes).toBe(1);
    const asids = h.control.inspect().asids.inUse.map((a) => a.asid);
    expect(new Set(asids).size).toBe(asids.length);
  });

  it('gives SEV-ES guests ASIDs below min_sev_asid and plain ones from it (Milan ES limit 8)', () => {
    const h = host('milan-7003-es8');
    h.create(h.defineXML(guestXml({ name: 'plain' })));
    h.create(h.defineXML(guestXml({ name: 'es', launchSecurity: sevLaunch('0x0037') })));
    expect(h.control.guest('plain')?.sev).toMatchObject({ asid: 8, kind: 'sev' });
    expect(h.control.guest('es')?.sev).toMatchObject({ asid: 1, kind: 'sev-es' });
    for (let i = 2; i <= 7; i++) h.create(h.defineXML(guestXml({ name: `es${i}`, launchSecurity: sevLaunch('0x0037') })));
    const err = startError(h, guestXml({ name: 'es8', launchSecurity: sevLaunch('0x0037') }));
    expect(err.message).toContain("sev_kvm_init: failed to initialize ret=-16 fw_error=0 ''");
  });

  it('refuses an SEV-ES policy (0x37) on Rome with the default BIOS (no ES ASIDs)', () => {
    const err = startError(host('rome-7002'), guestXml({ name: 'es', launchSecurity: sevLaunch('0x0037') }));
    expect(err.message).toContain('sev_kvm_init: guest policy requires SEV-ES, but host SEV-ES support unavailable');
  });

  it('refuses plain SEV when every ASID belongs to SEV-ES/SNP (EDX > ECX)', () => {
    const err = startError(host('milan-7003-all-es'), guestXml({ name: 'plain' }));
    expect(err.message).toContain("failed to initialize ret=-25 fw_error=0 ''");
  });
});

describe("QEMU's sev-guest checks", () => {
  it('fails cbitpos 47 on Milan naming both values', () => {
    const err = startError(host('milan-7003-es8'), guestXml({ name: 'c', launchSecurity: sevLaunch('0x0033', '<cbitpos>47</cbitpos>') }));
    expect(err.message).toContain("qemu-system-x86_64: -accel kvm: sev_kvm_init: cbitpos check failed, host '51' requested '47'");
  });

  it('fails reducedPhysBits 0 with the QEMU 7.x text', () => {
    const err = startError(host('milan-7003-es8'), guestXml({ name: 'r', launchSecurity: sevLaunch('0x0033', '<reducedPhysBits>0</reducedPhysBits>') }));
    expect(err.message).toContain("sev_kvm_init: reduced_phys_bits check failed, it should be >=1, requested '0'");
  });

  it('fills cbitpos and reducedPhysBits into the live XML only', () => {
    const h = host('milan-7003-es8');
    const ref = h.create(h.defineXML(guestXml({ name: 'g' })));
    expect(h.getXMLDesc(ref)).toContain('<cbitpos>51</cbitpos>');
    expect(h.getXMLDesc(ref)).toContain('<reducedPhysBits>1</reducedPhysBits>');
    expect(h.getXMLDesc(ref)).toMatch(/<domain type='kvm' id='\d+'>/);
    expect(h.getXMLDesc(ref, 2)).not.toContain('<cbitpos>');
  });

  it('surfaces a firmware LAUNCH_START failure with its status text and leaves no ASID behind', () => {
    const h = host('milan-7003-es8');
    h.control.use(fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT'));
    const err = startError(h, guestXml({ name: 'f' }));
    expect(err.message).toContain("sev_launch_start: LAUNCH_START ret=-5 fw_error=23 'Required firmware resource depleted'");
    expect(err.message).toContain('sev_kvm_init: failed to create encryption context');
    expect(h.control.inspect().asids.inUse).toEqual([]);
    h.create(h.lookupByName('f')); // the override was one-shot
  });
});

describe('memory pinning', () => {
  const fourGiB = 4194304;
  it('kills a 4 GiB guest whose hard_limit is 4 GiB (shut off, crashed)', () => {
    const h = host('milan-7003-es8');
    const events: number[] = [];
    h.onLifecycle((e) => events.push(e.event));
    const ref = h.create(h.defineXML(guestXml({ name: 'tight', memoryKiB: fourGiB, memory: `<memtune><hard_limit unit='KiB'>${fourGiB}</hard_limit></memtune>` })));
    expect(h.getState(ref)).toEqual({ state: DomainState.SHUTOFF, reason: ShutoffReason.CRASHED });
    expect(events.slice(-2)).toEqual([2, 5]); // STARTED, then STOPPED
    expect(h.control.events().some((e) => e.source === 'kernel' && e.message.startsWith('Memory cgroup out of memory: Killed process'))).toBe(true);
    expect(h.control.inspect().asids.inUse).toEqual([]);
  });

  it("runs a 4 GiB guest whose hard_limit covers RAM + video + regions + padding (nova spec's 4718592 KiB)", () => {
    const h = host('milan-7003-es8');
    const ref = h.create(h.defineXML(guestXml({ name: 'ok', memoryKiB: fourGiB, memory: "<memtune><hard_limit unit='KiB'>4718592</hard_limit></memtune>", devices: "<video><model type='vga' vram='16384'/></video>" })));
    expect(h.getState(ref).state).toBe(DomainState.RUNNING);
    expect(h.control.inspect().pinnedKiB).toBe(fourGiB + 16384 + 10832);
  });

  it('fails without <locked/> or a hard limit: the kernel memlock text and QEMU register-region error', () => {
    const h = host('milan-7003-es8');
    const err = startError(h, guestXml({ name: 'nolock', memory: '' }));
    expect(err.message).toMatch(/sev_ram_block_added: failed to register region \(0x[0-9a-f]+\+0x20000000\) error 'Cannot allocate memory'/);
    expect(h.control.events().map((e) => e.message)).toContain('SEV: 131072 locked pages exceed the lock limit of 2048.');
  });

  it('lets the OOM killer end the largest pinned guest when pinned memory exceeds host RAM', () => {
    const h = host('milan-7003-es8'); // 125.5 GiB, 4 GiB reserved
    const big = h.create(h.defineXML(guestXml({ name: 'big', memoryKiB: 80 * 1024 * 1024 })));
    const small = h.create(h.defineXML(guestXml({ name: 'small', memoryKiB: 50 * 1024 * 1024 })));
    expect(h.getState(big)).toEqual({ state: DomainState.SHUTOFF, reason: ShutoffReason.CRASHED });
    expect(h.getState(small).state).toBe(DomainState.RUNNING);
    expect(h.control.events().some((e) => e.domain === 'big' && /^Out of memory: Killed process \d+ \(qemu-system-x86\)/.test(e.message))).toBe(true);
  });
});

describe("libvirt's launchSecurity rules and lifecycle", () => {
  it("refuses SEV on a host without it with libvirt's text", () => {
    for (const p of ['intel-xeon', 'rome-7002-sev-off', 'rome-7002-stale-cache', 'rome-7002-libvirt51', 'ryzen-desktop']) {
      const h = host(p);
      const launch = p.startsWith('rome-7002-') ? naplesLaunch() : sevLaunch();
      try {
        h.defineXML(guestXml({ name: 'x', launchSecurity: launch }));
        throw new Error(`${p}: define succeeded`);
      } catch (e) {
        // libvirt 7.0 raised it as an internal error (measured in the bullseye container); 9.0 as unsupported configuration.
        const [major = 0, minor = 0] = loadProfile(p).libvirt.version.split('.').map(Number);
        const old = major < 7 || (major === 7 && minor < 1);
        expect((e as LibvirtError).code, p).toBe(old ? VirErrorNumber.INTERNAL_ERROR : VirErrorNumber.CONFIG_UNSUPPORTED);
        expect((e as LibvirtError).message, p).toBe(`${old ? 'internal error' : 'unsupported configuration'}: SEV launch security is not supported with this QEMU binary`);
      }
    }
  });

  it('requires a policy and knows only libvirt-known types', () => {
    const h = host('milan-7003-es8');
    expect(() => h.defineXML(guestXml({ name: 'x', launchSecurity: "<launchSecurity type='sev'><cbitpos>51</cbitpos></launchSecurity>" }))).toThrow(
      'XML error: failed to get launch security policy',
    );
    expect(() => h.defineXML(guestXml({ name: 'x', launchSecurity: "<launchSecurity type='sev-bogus'><policy>0x33</policy></launchSecurity>" }))).toThrow(
      "XML error: Invalid value for attribute 'type' in element 'launchSecurity': 'sev-bogus'.",
    );
    // libvirt 9.0 predates sev-snp; Genoa's libvirt 10.6 knows it.
    expect(() => h.defineXML(guestXml({ name: 'x', launchSecurity: "<launchSecurity type='sev-snp'><policy>0x30000</policy></launchSecurity>" }))).toThrow(/Invalid value for attribute 'type'/);
    const genoa = host('genoa-9004');
    const snp = genoa.create(genoa.defineXML(guestXml({ name: 'snp', launchSecurity: "<launchSecurity type='sev-snp'><policy>0x30000</policy></launchSecurity>" })));
    expect(genoa.control.guest('snp')?.sev).toMatchObject({ kind: 'sev-snp', asid: 1 });
    expect(genoa.getState(snp).state).toBe(DomainState.RUNNING);
  });

  it('refuses managedsave, save and migration of an SEV guest but not of a plain one', () => {
    const h = host('milan-7003-es8');
    const sev = h.create(h.defineXML(guestXml({ name: 'sev' })));
    const text = 'Requested operation is not valid: cannot migrate domain: SEV: Migration is not implemented';
    expect(() => h.managedSave(sev)).toThrow(text);
    expect(() => h.save(sev, '/tmp/x.save')).toThrow(text);
    expect(() => h.migrateBegin(sev)).toThrow(text);
    const plain = h.create(h.defineXML(guestXml({ name: 'plain', launchSecurity: null, memory: '' })));
    h.managedSave(plain);
    expect(h.getState(plain)).toEqual({ state: DomainState.SHUTOFF, reason: ShutoffReason.SAVED });
    expect(h.hasManagedSaveImage(plain)).toBe(true);
    h.create(plain);
    expect(h.getState(plain)).toEqual({ state: DomainState.RUNNING, reason: 3 });
  });

  it('measures at launch, injects a secret only while paused, finishes the launch on resume', () => {
    const h = host('milan-7003-es8');
    const ref = h.create(h.defineXML(guestXml({ name: 'att' })), 1);
    expect(h.getState(ref).state).toBe(DomainState.PAUSED);
    expect(h.control.inspect().guests[0]?.firmwareState).toBe('LSECRET');
    const info = Object.fromEntries(h.launchSecurityInfo(ref).map((p) => [p.field, p.value]));
    expect(info).toMatchObject({ 'sev-api-major': 1, 'sev-api-minor': 52, 'sev-build-id': 4, 'sev-policy': 0x33 });
    expect(Buffer.from(info['sev-measurement'] as string, 'base64')).toHaveLength(48);
    h.resume(ref);
    expect(h.control.inspect().guests[0]?.firmwareState).toBe('RUNNING');
    expect(() => h.setLaunchSecurityState(ref, [{ field: 'sev-secret-header', type: 7, value: 'AA==' }, { field: 'sev-secret', type: 7, value: 'AA==' }])).toThrow(
      'Requested operation is not valid: domain must be in a paused state',
    );
  });

  it("answers libvirt's errors for wrong-state operations", () => {
    const h = host('milan-7003-es8');
    const ref = h.defineXML(guestXml({ name: 'g' }));
    expect(() => h.destroy(ref)).toThrow('Requested operation is not valid: domain is not running');
    h.create(ref);
    expect(() => h.create(ref)).toThrow('Requested operation is not valid: domain is already running');
    expect(() => h.defineXML(guestXml({ name: 'g' }))).toThrow(/^operation failed: domain 'g' already exists with uuid [0-9a-f-]{36}$/);
    expect(() => h.lookupByName('nope')).toThrow("Domain not found: no domain with matching name 'nope'");
    // running: becomes transient, disappears on stop; libvirt gave the pflash loader an NVRAM file, kept here
    h.undefine(ref, DomainFlags.UNDEFINE_KEEP_NVRAM);
    expect(h.isPersistent(ref)).toBe(false);
    h.destroy(ref);
    expect(h.listAllDomains()).toEqual([]);
  });
});

describe('bad input leaves the host unchanged', () => {
  const cases: Array<[string, string, number, RegExp]> = [
    ['malformed XML', "<domain type='kvm'>\n  <name>x</nam>\n</domain>", VirErrorNumber.XML_DETAIL, /^\(domain_definition\):2: Opening and ending tag mismatch: name line 2 and nam\n {2}<name>x<\/nam>\n-+\^$/],
    // What libvirt 9.0 + libxml2 print for the same documents (checked against virsh -c test:///default).
    ['document ending inside nested elements', "<domain type='kvm'>\n  <devices>\n    <disk>\n", VirErrorNumber.XML_DETAIL, /^\(domain_definition\):4: Premature end of data in tag disk line 3\n\(null\)\n\^$/],
    ['document ending inside its root on one line', "<domain type='kvm'><name>x</name>", VirErrorNumber.XML_DETAIL, /^\(domain_definition\):1: Premature end of data in tag domain line 1\n<domain type='kvm'><name>x<\/name>\n-{33}\^$/],
    ['document ending inside a start tag', "<domain type='kvm'>\n  <devices>\n    <disk", VirErrorNumber.XML_DETAIL, /^\(domain_definition\):3: Couldn't find end of Start Tag disk line 3\n {4}<disk\n-{9}\^$/],
    ['unknown launchSecurity type', guestXml({ name: 'u', launchSecurity: "<launchSecurity type='tdx'><policy>1</policy></launchSecurity>" }), VirErrorNumber.XML_ERROR, /Invalid value for attribute 'type'/],
    ['oversized XML', guestXml({ name: 'big', metadata: `<description>${'x'.repeat(4 * 1024 * 1024)}</description>` }), VirErrorNumber.INVALID_ARG, /larger than/],
    ['deep nesting', `<domain type='kvm'><name>d</name>${'<a>'.repeat(300)}${'</a>'.repeat(300)}</domain>`, VirErrorNumber.XML_DETAIL, /Excessive depth in document: 256 use XML_PARSE_HUGE option/],
    // Two lines: the error names line 2 and puts the caret after the 257th opening tag of that line.
    ['deep nesting on line 2', `<domain type='kvm'><name>d</name>\n${'<a>'.repeat(300)}${'</a>'.repeat(300)}</domain>`, VirErrorNumber.XML_DETAIL, new RegExp(`^\\(domain_definition\\):2: Excessive depth in document: 256 use XML_PARSE_HUGE option\\n(<a>){300}.*\\n-{${255 * 3 + 3}}\\^$`)],
    ['trailing content', "<domain type='kvm'><name>t</name></domain> junk", VirErrorNumber.XML_DETAIL, /Extra content at the end of the document/],
    // libvirt expands internal entities; a billion-laughs document trips libxml2's density check
    // inside the first entity whose references outgrow its text (measured on libvirt 9.0).
    ['entity expansion bomb', `<!DOCTYPE d [<!ENTITY l0 'lol'>${Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join('')}]><domain type='kvm'><name>&l9;</name><memory>1024</memory><os><type>hvm</type></os></domain>`, VirErrorNumber.XML_DETAIL, /^at line 1: Detected an entity reference loop\n(&l1;){10}\n-{4}\^$/],
    ['undefined entity', "<domain type='kvm'><name>&x;</name><memory>1024</memory><os><type>hvm</type></os></domain>", VirErrorNumber.XML_DETAIL, /^\(domain_definition\):1: Entity 'x' not defined\n<domain.*\n-{28}\^$/],
    ['no memory', "<domain type='kvm'><name>m</name><os><type>hvm</type></os></domain>", VirErrorNumber.XML_ERROR, /Memory size must be specified/],
  ];
  it.each(cases)('%s', (_label, xml, code, text) => {
    const h = host('milan-7003-es8');
    h.create(h.defineXML(guestXml({ name: 'keep' })));
    const before = JSON.stringify({ s: h.control.inspect(), d: h.listAllDomains() });
    let err: unknown;
    try {
      h.defineXML(xml);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LibvirtError);
    if (code >= 0) expect((err as LibvirtError).code).toBe(code);
    expect((err as LibvirtError).message).toMatch(text);
    expect(JSON.stringify({ s: h.control.inspect(), d: h.listAllDomains() })).toBe(before);
  });
});

describe('runtime control', () => {
  it('libvirt >= 6.5 re-probes when the kernel parameter changes; the stale-cache profile does not', () => {
    const h = host('milan-7003-es8');
    h.control.use(fault.kernelParam('sev', false));
    expect(h.kernel.sysfs.sev).toBe('N\n');
    expect(h.domainCapabilities()).toContain("<sev supported='no'/>");
    const stale = host('rome-7002-stale-cache');
    expect(stale.kernel.sysfs.sev).toBe('1\n');
    expect(stale.domainCapabilities()).toContain("<sev supported='no'/>");
    stale.control.use(fault.cacheRefresh());
    expect(stale.domainCapabilities()).toContain("<sev supported='yes'>");
  });

  it('records the faults of QEMU < 6.0 (virtio without iommu), i440fx with transitional virtio, and BIOS firmware', () => {
    const h = host('naples-7001'); // QEMU 4.2.1
    const disk = "<disk type='file' device='disk'><source file='/img/sda.img'/><target dev='sda' bus='sata'/></disk>";
    h.create(h.defineXML(guestXml({ name: 'noiommu', launchSecurity: naplesLaunch(), devices: `${disk}<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>` })));
    h.create(h.defineXML(guestXml({ name: 'iommu', launchSecurity: naplesLaunch(), devices: `${disk}<rng model='virtio'><backend model='random'>/dev/urandom</backend><driver iommu='on'/></rng>` })));
    h.create(h.defineXML(guestXml({ name: 'pc', machine: 'pc', launchSecurity: naplesLaunch(), devices: `${disk}<memballoon model='virtio'><driver iommu='on'/></memballoon>` })));
    h.create(h.defineXML(guestXml({ name: 'pc-nt', machine: 'pc', launchSecurity: naplesLaunch(), devices: `${disk}<memballoon model='virtio-non-transitional'><driver iommu='on'/></memballoon>` })));
    h.create(h.defineXML(guestXml({ name: 'bios', loader: null, launchSecurity: naplesLaunch() })));
    const faults = Object.fromEntries(h.control.inspect().guests.map((g) => [g.name, g.faults]));
    expect(faults).toEqual({
      noiommu: ['virtio-without-iommu'],
      iommu: [],
      pc: ['transitional-virtio-on-pc'],
      'pc-nt': [],
      bios: ['firmware-not-uefi'],
    });
  });

  it('QEMU < 6.0: a virtio channel needs iommu on its virtio-serial controller, not on itself (implicit controller included)', () => {
    const h = host('naples-7001');
    const disk = "<disk type='file' device='disk'><source file='/img/sda.img'/><target dev='sda' bus='sata'/></disk>";
    const agent = "<channel type='unix'><source mode='bind'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>";
    h.create(h.defineXML(guestXml({ name: 'ctl-iommu', launchSecurity: naplesLaunch(), devices: `${disk}<controller type='virtio-serial' index='0'><driver iommu='on'/></controller>${agent}` })));
    h.create(h.defineXML(guestXml({ name: 'ctl-bare', launchSecurity: naplesLaunch(), devices: `${disk}<controller type='virtio-serial' index='0'/>${agent}` })));
    h.create(h.defineXML(guestXml({ name: 'implicit', launchSecurity: naplesLaunch(), devices: `${disk}${agent}` })));
    const faults = Object.fromEntries(h.control.inspect().guests.map((g) => [g.name, g.faults]));
    expect(faults).toEqual({ 'ctl-iommu': [], 'ctl-bare': ['virtio-without-iommu'], implicit: ['virtio-without-iommu'] });
    expect(h.control.guest('implicit')!.faults[0]!.message).toMatch(/^virtio controller \(virtio-serial\) lacks iommu='on'/);
  });

  it('refuses IDE on q35 at define time', () => {
    expect(() => host('milan-7003-es8').defineXML(guestXml({ name: 'ide', devices: "<disk type='file' device='cdrom'><target dev='hda' bus='ide'/></disk>" }))).toThrow(
      'unsupported configuration: IDE controllers are unsupported for this QEMU binary or machine type',
    );
  });

  it('records guest-visible faults of encrypted guests', () => {
    const h = host('milan-7003-es8');
    const old = "<metadata><sh:guest-os xmlns:sh='urn:sevharness:guest-os:1' name='rhel7' virtio-blk-boot='no'/></metadata>";
    h.create(h.defineXML(guestXml({
      name: 'f',
      metadata: old,
      features: '<vmcoreinfo/>',
      devices: "<disk type='file' device='disk'><source file='/img/vda.img'/><target dev='vda' bus='virtio'/><driver iommu='on'/></disk><interface type='network'><source network='default'/><model type='virtio'/><driver iommu='on'/></interface>",
    })));
    expect(h.control.inspect().guests[0]?.faults).toEqual(['virtio-blk-boot-disk', 'ipxe-rom-not-sev-aware', 'vmcoreinfo-needs-dma']);
  });
});
