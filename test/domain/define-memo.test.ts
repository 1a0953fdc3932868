/**
 * The define memo's rules beyond the corpus proof (test/oracle/define-memo-corpus.test.ts): random
 * draws are never shared, a memoised definition is isolated from later changes of another domain,
 * refusals that name the domain are not reused for another name, a family that is not parametric is
 * never templated, and the memory it keeps is bounded.
 */
import { describe, expect, it } from 'vitest';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { defineDomainXml, defineDomainXmlFresh, type DomainDef } from '../../fakelibvirt/libvirt/domain-def.ts';
import { domainContext } from '../../fakelibvirt/libvirt/domain/context.ts';
import { DefineMemo, MEMO_MAX_CHARS, MEMO_MAX_ENTRIES, MEMO_MAX_KEY_CHARS, type PipelineRun } from '../../fakelibvirt/libvirt/define-memo/memo.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { DeviceModifyFlags, DomainFlags } from '../../src/libvirt/flags.ts';
import { formatDomainXml } from '../../fakelibvirt/libvirt/domain-format.ts';
import { sameAnswer } from '../oracle/define-memo-compare.ts';

const host = new FakeHost(loadProfile('milan-7003-es8'));
const ctx = domainContext(host.profile, host.sectypes());

/** A UEFI guest whose disk path holds its name, with a NIC without MAC (drawn) and, without `uuid`, a drawn uuid. */
function guest(name: string, uuid?: string, extra = ''): string {
  return `<domain type='kvm'><name>${name}</name>${uuid ? `<uuid>${uuid}</uuid>` : ''}<memory unit='KiB'>524288</memory><vcpu>1</vcpu>` +
    `<os><type arch='x86_64' machine='q35'>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader></os>` +
    `<features><acpi/></features>${extra}<devices><disk type='file' device='disk'><source file='/srv/guests/${name}/disk'/>` +
    `<target dev='vda' bus='virtio'/></disk><interface type='network'><source network='default'/><model type='virtio'/></interface></devices></domain>`;
}
const uuidOf = (i: number) => `0c0ffee0-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const macOf = (d: DomainDef) => d.devices.find((x) => x.kind === 'interface')?.mac;

describe('the define memo', () => {
  it('answers a family member as the pipeline does, with its own name in every derived place', () => {
    for (let i = 1; i <= 4; i++) defineDomainXml(guest(`fam-${i}`, uuidOf(i)), ctx);
    const xml = guest('another-one', uuidOf(99));
    const def = defineDomainXml(xml, ctx);
    expect(sameAnswer({ def }, { def: defineDomainXmlFresh(xml, ctx) }, xml)).toBe('');
    expect(def.os.nvram).toBe('/var/lib/libvirt/qemu/nvram/another-one_VARS.fd');
    expect(def.devices.find((d) => d.kind === 'disk')?.source).toBe('/srv/guests/another-one/disk');
  });

  it('never shares a random draw between two defines: MACs and generated uuids', () => {
    const same = guest('draws');
    const defs = [1, 2, 3, 4, 5].map(() => defineDomainXml(same, ctx));
    const family = [1, 2, 3, 4].map((i) => defineDomainXml(guest(`draws-${i}`), ctx));
    const all = [...defs, ...family];
    expect(new Set(all.map(macOf)).size).toBe(all.length);
    expect(new Set(all.map((d) => d.uuid)).size).toBe(all.length);
    // The tree says what the fields say.
    for (const d of all) expect(d.tree.children.find((c) => c.name === 'uuid')?.text).toBe(d.uuid);
  });

  it('keeps a served definition apart from later changes of the domain it was first defined for', () => {
    const h = new FakeHost(loadProfile('milan-7003-es8'));
    const refs = [1, 2, 3].map((i) => h.defineXML(guest(`iso-${i}`, uuidOf(100 + i))));
    const first = h.getXMLDesc(refs[0]!, DomainFlags.XML_INACTIVE);
    h.attachDevice(refs[0]!, "<disk type='file' device='disk'><source file='/srv/extra.qcow2'/><target dev='vdb' bus='virtio'/></disk>", DeviceModifyFlags.AFFECT_CONFIG);
    h.setMemoryFlags(refs[1]!, 262144, DeviceModifyFlags.AFFECT_CONFIG);
    const xml = guest('iso-4', uuidOf(104));
    const later = h.getXMLDesc(h.defineXML(xml), DomainFlags.XML_INACTIVE);
    expect(later).not.toContain('vdb');
    expect(later).toContain("<currentMemory unit='KiB'>524288</currentMemory>");
    expect(h.getXMLDesc(refs[0]!, DomainFlags.XML_INACTIVE)).toContain('/srv/extra.qcow2');
    expect(later.replace(/iso-4/g, 'iso-1').replace(uuidOf(104), uuidOf(101)).replace(/52:54:00(:[0-9a-f]{2}){3}/, ''))
      .toBe(first.replace(/52:54:00(:[0-9a-f]{2}){3}/, ''));
  });

  it('shares only frozen subtrees: an in-place change of a memoised tree throws instead of leaking', () => {
    const xml = guest('frozen', uuidOf(7));
    const def = defineDomainXml(xml, ctx);
    const again = defineDomainXml(xml, ctx);
    expect(again).not.toBe(def);
    // The path to every filled-in value is a copy; the rest is the first answer's, shared and frozen.
    const features = (d: DomainDef) => d.tree.children.find((c) => c.name === 'features')!;
    expect(features(again)).toBe(features(def));
    expect(Object.isFrozen(features(def))).toBe(true);
    expect(() => features(again).children.push(features(again).children[0]!)).toThrow(TypeError);
    expect(features(def).children).toHaveLength(1);
  });

  it('throws a fresh error each time, with every field of the refusal', () => {
    const bad = guest('refused', uuidOf(8)).replace("<vcpu>1</vcpu>", '<vcpu>0</vcpu>');
    const errors = [1, 2, 3].map(() => {
      try {
        defineDomainXml(bad, ctx);
      } catch (e) {
        return e as LibvirtError;
      }
      throw new Error('accepted');
    });
    expect(errors[0]).toBeInstanceOf(LibvirtError);
    expect(errors[1]).not.toBe(errors[0]);
    for (const e of errors.slice(1)) expect([e.code, e.domain, e.message, e.str1, e.str2]).toEqual([errors[0]!.code, errors[0]!.domain, errors[0]!.message, errors[0]!.str1, errors[0]!.str2]);
  });
});

describe('the define memo with a pipeline of its own', () => {
  /** A counting pipeline over `answer`. */
  function counted(answer: (text: string) => PipelineRun<{ readonly text: string }>) {
    const c = { runs: 0, run: (t: string) => (c.runs++, answer(t)) };
    return c;
  }
  const nameIn = (t: string) => /<name>(.*?)<\/name>/.exec(t)![1]!;
  const doc = (name: string) => `<domain><name>${name}</name><devices/></domain>`;

  it('runs the pipeline again for a refusal that names the domain', () => {
    const memo = new DefineMemo<{ readonly text: string }>();
    const p = counted((t) => ({ input: undefined, draws: [], error: LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.DOMAIN, `bad domain ${nameIn(t)}`) }));
    for (const n of ['a1', 'a2', 'a3', 'a4']) expect(() => memo.define(doc(n), p.run)).toThrow(`bad domain ${n}`);
    expect(p.runs).toBe(4);
  });

  it('never templates a family whose answer is not the first one with the name filled in', () => {
    const memo = new DefineMemo<{ readonly text: string }>();
    // The answer hangs on the name's length, which a template cannot vary.
    const p = counted((t) => ({ input: { name: 'domain', attrs: {}, children: [{ name: 'name', attrs: {}, children: [], text: nameIn(t) }], text: '' }, draws: [], def: { text: `len ${nameIn(t).length}` } }));
    expect(memo.define(doc('ab'), p.run).text).toBe('len 2');
    expect(memo.define(doc('abc'), p.run).text).toBe('len 3');
    expect(memo.define(doc('abcd'), p.run).text).toBe('len 4');
    expect(p.runs).toBe(3);
    // The same text again is still served (keyed by its text now).
    memo.define(doc('abcd'), p.run);
    expect(p.runs).toBe(3);
  });

  it('keeps its memory bounded on a stream of distinct documents and keeps no large one', () => {
    const memo = new DefineMemo<{ readonly text: string }>();
    const p = counted((t) => ({ input: undefined, draws: [], def: { text: t } }));
    for (let i = 0; i < MEMO_MAX_ENTRIES * 3; i++) memo.define(`<domain><title>${i}</title>${'x'.repeat(4000)}</domain>`, p.run);
    expect(memo.footprint.entries).toBeLessThanOrEqual(2 * MEMO_MAX_ENTRIES);
    expect(memo.footprint.keyChars).toBeLessThanOrEqual(2 * MEMO_MAX_KEY_CHARS);
    const before = memo.footprint;
    const big = `<domain>${'y'.repeat(MEMO_MAX_CHARS)}</domain>`;
    memo.define(big, p.run);
    memo.define(big, p.run);
    expect(memo.footprint).toEqual(before);
    expect(p.runs).toBe(MEMO_MAX_ENTRIES * 3 + 2);
  });
});

describe('the memoised define on the reference driver pattern', () => {
  it('defines and undefines slot guests (name and uuid changing) exactly as the pipeline formats them', () => {
    const h = new FakeHost(loadProfile('milan-7003-es8'));
    for (let i = 0; i < 6; i++) {
      const xml = guest(`instance-${String(i).padStart(8, '0')}`, uuidOf(200 + i));
      const ref = h.defineXML(xml);
      const noMac = (s: string) => s.replace(/52:54:00(:[0-9a-f]{2}){3}/, '');
      expect(noMac(h.getXMLDesc(ref, DomainFlags.XML_INACTIVE))).toBe(noMac(formatDomainXml(defineDomainXmlFresh(xml, ctx), {})));
      h.undefine(ref, DomainFlags.UNDEFINE_NVRAM);
    }
  });
});
