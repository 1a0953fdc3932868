/**
 * virConnectBaselineCPU (procedure 162): the fake's answer for each profile's host CPU, judged
 * against real libvirt 9.0 (its test driver runs the same CPU code as the QEMU driver), over the
 * socket with real virsh and libvirt-python, and its errors for bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { baselineCpu, BaselineCpuFlag } from '../../fakelibvirt/libvirt/cpu-baseline.ts';
import { X86_MODELS } from '../../fakelibvirt/libvirt/x86-cpu-map.ts';
import { allProfiles } from '../../fakelibvirt/profile/load.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { requireRealStack } from '../../containers/real-stack.ts';
import { python, startFake, virsh, type FakeDaemon } from './helpers.ts';
import { thrown } from '../support/thrown.ts';

const PROFILES = [...allProfiles()];
const IN_LIBVIRT_90 = new Set(X86_MODELS.map((m) => m.name).filter((n) => n !== 'EPYC-Genoa'));

/** The `<cpu>` of `<host>` in a capabilities document, as nova hands it to baselineCPU. */
function hostCpuXml(capabilities: string): string {
  const m = /<host>[\s\S]*?(<cpu>[\s\S]*?<\/cpu>)/.exec(capabilities);
  if (!m?.[1]) throw new Error('capabilities without a host <cpu>');
  return m[1];
}

function features(xml: string): Array<[string, string]> {
  return [...xml.matchAll(/<feature policy='(\w+)' name='([^']+)'\/>/g)].map((m) => [m[1]!, m[2]!]);
}

const errorOf = (fn: () => unknown): LibvirtError => thrown(LibvirtError, fn);

describe('baseline of each profile host CPU', () => {
  for (const [name, profile] of PROFILES.filter(([, p]) => p.arch !== 'x86_64')) {
    it(`${name}: libvirt's ARM driver names the host model and nothing else, expanded or not`, () => {
      const cpu = hostCpuXml(new FakeHost(profile).capabilities());
      const want = `<cpu mode='custom' match='exact'>\n  <model fallback='allow'>${profile.cpu.libvirtModel}</model>\n</cpu>\n`;
      expect(baselineCpu([cpu], 0)).toBe(want);
      expect(baselineCpu([cpu], BaselineCpuFlag.EXPAND_FEATURES)).toBe(want);
    });
  }
  for (const [name, profile] of PROFILES.filter(([, p]) => p.arch === 'x86_64')) {
    it(`${name}: names the host model and expands to its features plus the host's, no sev`, () => {
      const cpu = hostCpuXml(new FakeHost(profile).capabilities());
      const expanded = baselineCpu([cpu], BaselineCpuFlag.EXPAND_FEATURES);
      expect(expanded).toContain(`<model fallback='forbid'>${profile.cpu.libvirtModel}</model>`);
      const listed = features(expanded);
      const names = listed.map(([, n]) => n);
      expect(names).toEqual([...names].sort());
      const model = X86_MODELS.find((m) => m.name === profile.cpu.libvirtModel)!;
      const required = new Set(listed.filter(([p]) => p === 'require').map(([, n]) => n));
      for (const f of model.features) expect(required).toContain(f);
      for (const m of cpu.matchAll(/<feature name='([^']+)'\/>/g)) expect(required).toContain(m[1]);
      expect(names.filter((n) => /sev/.test(n))).toEqual([]);
      // Without expansion only what the model lacks is listed.
      const plain = features(baselineCpu([cpu], 0)).map(([, n]) => n);
      expect(plain.length).toBeLessThan(listed.length);
      for (const f of plain) expect(model.features).not.toContain(f);
    });
  }
});

describe('baseline of several CPUs and its refusals', () => {
  const cpu = (model: string, extra = '') => `<cpu><arch>x86_64</arch><model>${model}</model>${extra}</cpu>`;

  it('intersects CPUs: Rome and Milan baseline to EPYC-Rome, which no longer forbids fallback', () => {
    const out = baselineCpu([cpu('EPYC-Rome', '<vendor>AMD</vendor>'), cpu('EPYC-Milan', "<vendor>AMD</vendor><feature name='vgif'/>")], 0);
    expect(out).toBe("<cpu mode='custom' match='exact'>\n  <model fallback='allow'>EPYC-Rome</model>\n  <vendor>AMD</vendor>\n</cpu>\n");
  });

  it('on ARM names the first CPU\'s model (escaped), whatever the others are', () => {
    const arm = (model: string) => `<cpu><arch>aarch64</arch><model>${model}</model><vendor>ARM</vendor></cpu>`;
    expect(baselineCpu([arm('a&amp;b'), arm('cortex-a57')], 0)).toBe("<cpu mode='custom' match='exact'>\n  <model fallback='allow'>a&amp;b</model>\n</cpu>\n");
  });

  it('disables the features QEMU removed from a model unless the host has them', () => {
    expect(baselineCpu([cpu('EPYC')], 0)).toContain("<feature policy='disable' name='monitor'/>");
    expect(baselineCpu([cpu('EPYC', "<feature name='monitor'/>")], 0)).toContain("<feature policy='require' name='monitor'/>");
  });

  it('drops non-migratable features with the MIGRATABLE flag', () => {
    const host = cpu('EPYC-Rome', "<feature name='invtsc'/>");
    expect(baselineCpu([host], BaselineCpuFlag.EXPAND_FEATURES)).toContain("name='invtsc'");
    expect(baselineCpu([host], BaselineCpuFlag.EXPAND_FEATURES | BaselineCpuFlag.MIGRATABLE)).not.toContain("name='invtsc'");
  });

  const refusals: Array<[string, readonly string[], number, number, string]> = [
    ['no CPUs', [], 0, VirErrorNumber.INVALID_ARG, 'invalid argument: no CPUs given'],
    ['a domain, not a CPU', ['<domain/>'], 0, VirErrorNumber.XML_ERROR, "XML error: XML does not contain expected 'cpu' element"],
    ['no arch', ['<cpu><model>EPYC</model></cpu>'], 0, VirErrorNumber.XML_ERROR, 'XML error: Missing CPU architecture'],
    ['no model', ['<cpu><arch>x86_64</arch></cpu>'], 0, VirErrorNumber.XML_ERROR, 'XML error: Missing CPU model name'],
    ['unknown model', [cpu('Nope')], 0, VirErrorNumber.INTERNAL_ERROR, 'internal error: Unknown CPU model Nope'],
    ['unknown feature', [cpu('EPYC', "<feature name='bogus'/>")], 0, VirErrorNumber.INTERNAL_ERROR, 'internal error: Unknown CPU feature bogus'],
    ['unknown vendor', [cpu('EPYC', '<vendor>Foo</vendor>')], 0, VirErrorNumber.OPERATION_FAILED, 'operation failed: Unknown CPU vendor Foo'],
    ['mixed vendors', [cpu('EPYC-Rome', '<vendor>AMD</vendor>'), cpu('Icelake-Server', '<vendor>Intel</vendor>')], 0, VirErrorNumber.OPERATION_FAILED, 'operation failed: CPU vendors do not match'],
    ['s390x', ['<cpu><arch>s390x</arch><model>z14</model></cpu>'], 0, VirErrorNumber.NO_SUPPORT, 'this function is not supported by the connection driver: cannot compute baseline CPU of s390x architecture'],
    ['an ARM CPU after an x86 one', [cpu('EPYC'), '<cpu><arch>aarch64</arch><model>cortex-a57</model></cpu>'], 0, VirErrorNumber.INTERNAL_ERROR, 'internal error: Unknown CPU model cortex-a57'],
  ];
  for (const [what, xmls, flags, code, message] of refusals) {
    it(`refuses ${what}`, () => {
      const e = errorOf(() => baselineCpu(xmls, flags));
      expect([e.code, e.domain, e.message]).toEqual([code, VirErrorDomain.CPU, message]);
    });
  }

  it('refuses unknown flags in the QEMU driver, and malformed XML with libxml2 detail', () => {
    const flags = errorOf(() => baselineCpu([cpu('EPYC')], 4));
    expect([flags.code, flags.domain, flags.message]).toEqual([VirErrorNumber.INVALID_ARG, VirErrorDomain.QEMU, 'unsupported flags (0x4) in function qemuConnectBaselineCPU']);
    const bad = errorOf(() => baselineCpu(['<cpu'], 0));
    expect([bad.code, bad.domain]).toEqual([VirErrorNumber.XML_DETAIL, VirErrorDomain.CPU]);
    expect(bad.message).toMatch(/^\(CPU_definition\):1: /);
  });
});

const stack = requireRealStack(['virsh', '/usr/bin/python3']);

describe.skipIf(!stack.available)('against real libvirt 9.0 and its clients', () => {
  let fake: FakeDaemon;
  beforeAll(async () => {
    fake = await startFake('milan-7003-es8');
  });
  afterAll(async () => fake?.close());

  // libvirt 9.0 lacks EPYC-Genoa; its ARM driver does not look models up.
  for (const [name, profile] of PROFILES.filter(([, p]) => p.arch !== 'x86_64' || IN_LIBVIRT_90.has(p.cpu.libvirtModel))) {
    it(`${name}: virsh cpu-baseline over the fake socket prints what libvirt 9.0 computes`, async () => {
      const file = fake.file(`${name}-cpu.xml`, hostCpuXml(new FakeHost(profile).capabilities()));
      for (const args of [['cpu-baseline', file], ['cpu-baseline', '--features', file]]) {
        const real = await virsh('test:///default', ...args);
        const ours = await virsh(fake.uri, ...args);
        expect(real.status, real.stderr).toBe(0);
        expect(ours.stderr).toBe('');
        expect(ours.stdout).toBe(real.stdout);
      }
    });
  }

  it("libvirt-python's baselineCPU gets nova's call answered, and errors as libvirtError", async () => {
    const script = String.raw`
import json, sys, libvirt
conn = libvirt.open(sys.argv[1])
caps = conn.getCapabilities()
cpu = caps[caps.index('<cpu>'):caps.index('</cpu>') + 6]
out = {'expanded': conn.baselineCPU([cpu], libvirt.VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES)}
try:
    conn.baselineCPU(['<cpu><arch>x86_64</arch><model>EPYC</model><feature name="bogus"/></cpu>'], 0)
except libvirt.libvirtError as e:
    out['error'] = [e.get_error_code(), e.get_error_domain(), str(e)]
print(json.dumps(out))
`;
    const r = await python(script, fake.uri);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { expanded: string; error: [number, number, string] };
    expect(out.expanded).toBe(baselineCpu([hostCpuXml(fake.host.capabilities())], BaselineCpuFlag.EXPAND_FEATURES));
    expect(out.expanded).toContain("<feature policy='require' name='svm'/>");
    expect(out.error).toEqual([VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.CPU, 'internal error: Unknown CPU feature bogus']);
  });
});
