// launchsec/*: <launchSecurity> forms on an otherwise SEV-ready guest — a KVM q35 UEFI guest
// with virtio devices — varying the policy, cbitpos/reducedPhysBits, kernelHashes with and
// without direct kernel boot, dhCert/session blobs, the type (sev-snp is unknown to libvirt 9.0),
// unknown children and attributes, the element's position, and the guest around it (machine,
// firmware, locked memory, virtio iommu='on').

import type { Corpus } from '../corpus.ts';
import { slugPart } from '../corpus.ts';
import { Rng, shortHash } from '../prng.ts';
import { h, t, render, type Child, type El } from '../xml.ts';
import { domainNode, IMAGES, type Domain } from '../domain.ts';

type Firmware = 'efi' | 'loader' | 'bios';
type Iommu = 'all' | 'none' | 'disk-only';

export interface Guest {
  machine: 'q35' | 'pc-q35-7.2' | 'pc';
  firmware: Firmware;
  locked: boolean;
  iommu: Iommu;
  kernel: boolean;
}

export const SEV_READY: Guest = { machine: 'q35', firmware: 'efi', locked: true, iommu: 'all', kernel: false };

function guestSlug(g: Guest): string {
  return [g.machine, g.firmware, g.locked ? 'locked' : 'unlocked', `iommu-${g.iommu}`, ...(g.kernel ? ['kernel'] : [])].join('.');
}

/** The SEV guest without its <launchSecurity> (placed by `sevDoc`). */
function guest(g: Guest): Domain {
  const osKids: Child[] = [t('type', 'hvm', { arch: 'x86_64', machine: g.machine })];
  if (g.firmware === 'loader') {
    osKids.push(t('loader', '/usr/share/OVMF/OVMF_CODE_4M.fd', { readonly: 'yes', type: 'pflash' }));
    osKids.push(t('nvram', '/var/lib/libvirt/qemu/nvram/sev-guest_VARS.fd', { template: '/usr/share/OVMF/OVMF_VARS_4M.fd' }));
  }
  if (g.kernel) {
    osKids.push(t('kernel', '/var/lib/libvirt/boot/vmlinuz-sev'), t('initrd', '/var/lib/libvirt/boot/initrd-sev.img'), t('cmdline', 'console=ttyS0 root=/dev/vda1'));
  } else {
    osKids.push(h('boot', { dev: 'hd' }));
  }
  const io = (on: boolean): El | null => (on ? h('driver', { iommu: 'on' }) : null);
  const all = g.iommu === 'all';
  return {
    attrs: { type: 'qemu' },
    parts: {
      name: [t('name', 'sev-guest')],
      memory: [t('memory', 4, { unit: 'GiB' })],
      ...(g.locked ? { memoryBacking: [h('memoryBacking', {}, h('locked'))] } : {}),
      vcpu: [t('vcpu', 4)],
      os: [h('os', g.firmware === 'efi' ? { firmware: 'efi' } : {}, ...osKids)],
      features: [h('features', {}, h('acpi'), h('apic'))],
      cpu: [h('cpu', { mode: 'host-passthrough' })],
      clock: [h('clock', { offset: 'utc' })],
    },
    devices: [
      t('emulator', '/usr/bin/qemu-system-x86_64'),
      h('disk', { type: 'file', device: 'disk' },
        h('driver', { name: 'qemu', type: 'qcow2', iommu: g.iommu !== 'none' ? 'on' : undefined }),
        h('source', { file: `${IMAGES}/sev-guest.qcow2` }), h('target', { dev: 'vda', bus: 'virtio' })),
      h('interface', { type: 'network' }, h('source', { network: 'default' }), h('model', { type: 'virtio' }), io(all)),
      h('serial', { type: 'pty' }),
      h('console', { type: 'pty' }, h('target', { type: 'serial', port: '0' })),
      h('rng', { model: 'virtio' }, h('backend', { model: 'random' }, '/dev/urandom'), io(all)),
      h('memballoon', { model: 'virtio' }, io(all)),
    ],
  };
}

type Where = 'last' | 'first' | 'after-name' | 'between-os-devices' | 'inside-devices' | 'inside-os' | 'inside-features' | 'twice';

/** The guest with one <launchSecurity> (or a list for 'twice') placed at `where`. */
export function sevDoc(g: Guest, ls: El | El[], where: Where = 'last'): string {
  const d = guest(g);
  const list = Array.isArray(ls) ? ls : [ls];
  switch (where) {
    case 'last': d.parts.launchSecurity = list; break;
    case 'twice': d.parts.launchSecurity = [...list, ...list]; break;
    case 'first': d.first = list; break;
    case 'after-name': d.parts.name = [...(d.parts.name ?? []), ...list]; break;
    case 'between-os-devices': d.parts.on_poweroff = list; break;
    case 'inside-devices': d.devices = [...(d.devices ?? []), ...list]; break;
    case 'inside-os': d.parts.os = [{ ...(d.parts.os?.[0] as El), children: [...((d.parts.os?.[0] as El).children), ...list] }]; break;
    case 'inside-features': d.parts.features = [h('features', {}, h('acpi'), h('apic'), ...list)]; break;
  }
  return render(domainNode(d));
}

interface Sev {
  type?: string | null;
  attrs?: Record<string, string | undefined>;
  cbitpos?: string | null;
  reducedPhysBits?: string | null;
  policy?: string | null;
  extra?: Child[];
}

/**
 * A <launchSecurity> element; null fields are left out. Defaults: cbitpos 51 and reducedPhysBits 1
 * (a Milan host, like the oracle's SEV profile), policy 0x0033.
 */
export function sev(s: Sev = {}): El {
  const cb = s.cbitpos === undefined ? '51' : s.cbitpos;
  const rp = s.reducedPhysBits === undefined ? '1' : s.reducedPhysBits;
  const pol = s.policy === undefined ? '0x0033' : s.policy;
  return h('launchSecurity', { type: s.type === undefined ? 'sev' : s.type ?? undefined, ...(s.attrs ?? {}) },
    cb !== null ? t('cbitpos', cb) : null,
    rp !== null ? t('reducedPhysBits', rp) : null,
    pol !== null ? t('policy', pol) : null,
    ...(s.extra ?? []));
}

function b64(r: Rng, bytes: number): string {
  const buf = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) buf[i] = r.int(0, 255);
  return buf.toString('base64');
}

export const POLICIES = ['0x0001', '0x0003', '0x0007', '0x0033', '0x0037', '0x0004', '0x0005', '0x0000', '0x0002', '0x0021',
  '0x00000033', '0xffffffff', '0x100000000', '0x1ffffffff', '51', '0X33', 'x33', '33', '0x', '', ' 0x0033 ', '0x0033\n', '0xzz', 'sev',
  '-1', '-0x33', '+0x33', '0x 33', '0x0033 0x0001', '0b110011', '0o63', '1e3'];

const CONTEXTS: Guest[] = [
  SEV_READY,
  { ...SEV_READY, firmware: 'loader' },
  { ...SEV_READY, locked: false },
  { ...SEV_READY, machine: 'pc', firmware: 'bios' },
];

export function addLaunchsec(c: Corpus): void {
  const add = (slug: string, text: string): void => c.add('launchsec', slug, text);

  // 1. Policies × four guests.
  for (const g of CONTEXTS) {
    for (const p of POLICIES) add(`policy.${guestSlug(g)}/${slugPart(p)}`, sevDoc(g, sev({ policy: p })));
  }
  add(`policy.${guestSlug(SEV_READY)}/missing`, sevDoc(SEV_READY, sev({ policy: null })));
  add(`policy.${guestSlug(SEV_READY)}/selfclosed`, sevDoc(SEV_READY, h('launchSecurity', { type: 'sev' }, t('cbitpos', 51), t('reducedPhysBits', 1), h('policy'))));

  // 2. cbitpos × reducedPhysBits (null: element absent).
  const CBIT: (string | null)[] = [null, '47', '51', '0', '1', '63', '64', '-1', 'abc', '', '4294967295', '4294967296', '0x2f', ' 47 '];
  const RPB: (string | null)[] = [null, '1', '0', '5', '63', '64', '-1', 'abc', '', '4294967296', '0x1'];
  for (const cb of CBIT) {
    for (const rp of RPB) {
      // The full cross product where one side is ordinary; the odd × odd corner only diagonally.
      const ordinary = cb === null || cb === '47' || cb === '51' || rp === null || rp === '1';
      if (!ordinary && CBIT.indexOf(cb) % RPB.length !== RPB.indexOf(rp)) continue;
      const name = (v: string | null): string => (v === null ? 'absent' : slugPart(v));
      add(`cbitpos-reducedPhysBits/${name(cb)}.${name(rp)}`, sevDoc(SEV_READY, sev({ cbitpos: cb, reducedPhysBits: rp })));
    }
  }

  // 3. kernelHashes × direct kernel boot × firmware.
  for (const kh of [null, 'yes', 'no', 'bogus', '', 'YES', ' yes ', '1']) {
    for (const kernel of [true, false]) {
      for (const firmware of ['efi', 'loader'] as const) {
        const g: Guest = { ...SEV_READY, kernel, firmware };
        add(`kernelHashes.${guestSlug(g)}/${kh === null ? 'absent' : slugPart(kh)}`, sevDoc(g, sev({ attrs: { kernelHashes: kh ?? undefined } })));
      }
    }
  }

  // 4. dhCert and session blobs.
  const r = Rng.for('launchsec/blobs');
  const blobs: [string, string | null][] = [
    ['absent', null], ['valid', b64(r, 128)], ['valid-large', b64(r, 1500)], ['empty', ''], ['non-base64', 'not base64 at all!'],
    ['bad-padding', `${b64(r, 31).replace(/=+$/, '')}=`], ['with-newlines', b64(r, 96).replace(/(.{40})/g, '$1\n')], ['whitespace', '   '],
  ];
  for (const [dn, dv] of blobs) {
    for (const [sn, sv] of blobs) {
      if (dn !== 'absent' && sn !== 'absent' && dn !== sn && dn !== 'valid' && sn !== 'valid') continue;
      add(`dhCert-session/${dn}.${sn}`, sevDoc(SEV_READY, sev({ extra: [dv !== null ? t('dhCert', dv) : null, sv !== null ? t('session', sv) : null] })));
    }
  }

  // 5. Types, with SEV children and without.
  for (const ty of ['sev', 'sev-snp', 's390-pv', 'SEV', 'Sev', 'sev ', ' sev', 'sev-es', 'tdx', 'bogus', '']) {
    add(`type/${slugPart(ty)}`, sevDoc(SEV_READY, sev({ type: ty })));
    add(`type.bare/${slugPart(ty)}`, sevDoc(SEV_READY, h('launchSecurity', { type: ty })));
  }
  add('type/missing', sevDoc(SEV_READY, sev({ type: null })));
  add('type.bare/missing', sevDoc(SEV_READY, h('launchSecurity')));
  add('type/sev-snp-with-snp-fields', sevDoc(SEV_READY, h('launchSecurity', { type: 'sev-snp', authorKey: 'yes', vcek: 'yes', kernelHashes: 'no' },
    t('cbitpos', 51), t('reducedPhysBits', 1), t('policy', '0x00030000'), t('guestVisibleWorkarounds', '0x0000000000000000'),
    t('idBlock', 'AAAA'), t('idAuth', 'AAAA'), t('hostData', 'AAAA'))));
  add('type/sev-snp-plain', sevDoc(SEV_READY, h('launchSecurity', { type: 'sev-snp' }, t('policy', '0x00030000'))));
  add('type/s390-pv-with-policy', sevDoc(SEV_READY, h('launchSecurity', { type: 's390-pv' }, t('policy', '0x0033'))));

  // 6. Unknown children and attributes, handle.
  add('extra/unknown-child', sevDoc(SEV_READY, sev({ extra: [t('frobnicate', 'yes')] })));
  add('extra/unknown-child-empty', sevDoc(SEV_READY, sev({ extra: [h('maxGuests')] })));
  add('extra/es-child', sevDoc(SEV_READY, sev({ extra: [t('es', 'yes')] })));
  add('extra/unknown-attribute', sevDoc(SEV_READY, sev({ attrs: { frobnicate: 'yes' } })));
  add('extra/namespaced-attribute', sevDoc(SEV_READY, sev({ attrs: { 'xmlns:x': 'urn:example:x', 'x:tag': 'a' } })));
  add('extra/policy-attribute', sevDoc(SEV_READY, sev({ attrs: { policy: '0x0001' } })));
  add('extra/text-content', sevDoc(SEV_READY, sev({ extra: ['stray text'] })));
  add('extra/policy-twice', sevDoc(SEV_READY, sev({ extra: [t('policy', '0x0001')] })));
  add('extra/cbitpos-twice', sevDoc(SEV_READY, sev({ extra: [t('cbitpos', '47')] })));
  add('extra/policy-first', sevDoc(SEV_READY, h('launchSecurity', { type: 'sev' }, t('policy', '0x0033'), t('reducedPhysBits', 1), t('cbitpos', 51))));
  add('extra/policy-unit-attr', sevDoc(SEV_READY, sev({ policy: null, extra: [t('policy', '0x0033', { unit: 'hex' })] })));
  for (const handle of ['0', '1', '4294967295', '4294967296', '-1', 'abc']) {
    add(`extra/handle/${slugPart(handle)}`, sevDoc(SEV_READY, sev({ extra: [t('handle', handle)] })));
  }

  // 7. Position in the document.
  for (const where of ['last', 'first', 'after-name', 'between-os-devices', 'inside-devices', 'inside-os', 'inside-features', 'twice'] as Where[]) {
    add(`position/${where}`, sevDoc(SEV_READY, sev(), where));
  }
  add('position/twice-different', sevDoc(SEV_READY, [sev(), sev({ policy: '0x0001', cbitpos: '47' })], 'last'));
  add('position/sev-and-s390-pv', sevDoc(SEV_READY, [sev(), h('launchSecurity', { type: 's390-pv' })], 'last'));

  // 8. The guest around a normal SEV element: machine × firmware × locked × iommu, two policies.
  for (const machine of ['q35', 'pc-q35-7.2', 'pc'] as const) {
    for (const firmware of ['efi', 'loader', 'bios'] as const) {
      for (const locked of [true, false]) {
        for (const iommu of ['all', 'none', 'disk-only'] as const) {
          const g: Guest = { machine, firmware, locked, iommu, kernel: false };
          for (const p of ['0x0033', '0x0003']) add(`guest.${p}/${guestSlug(g)}`, sevDoc(g, sev({ policy: p })));
        }
      }
    }
  }

  // 9. Seeded mixtures of everything above.
  const m = Rng.for('launchsec/mix');
  const seen = new Set<string>();
  let made = 0;
  while (made < 40) {
    const g: Guest = {
      machine: m.pick(['q35', 'pc-q35-7.2', 'pc'] as const), firmware: m.pick(['efi', 'loader', 'bios'] as const),
      locked: m.chance(0.6), iommu: m.pick(['all', 'none', 'disk-only'] as const), kernel: m.chance(0.3),
    };
    const s: Sev = {
      policy: m.pick(POLICIES), cbitpos: m.pick(CBIT), reducedPhysBits: m.pick(RPB),
      attrs: { kernelHashes: m.pick([undefined, 'yes', 'no']) },
      extra: m.chance(0.3) ? [t('dhCert', b64(m, 64)), t('session', b64(m, 48))] : [],
    };
    const where = m.pick(['last', 'last', 'last', 'first', 'between-os-devices'] as Where[]);
    const text = sevDoc(g, sev(s), where);
    if (seen.has(text)) continue;
    seen.add(text);
    made++;
    const desc = [guestSlug(g), `p${slugPart(s.policy ?? 'none')}`, `cb${s.cbitpos === null ? 'absent' : slugPart(s.cbitpos ?? '')}`,
      `rp${s.reducedPhysBits === null ? 'absent' : slugPart(s.reducedPhysBits ?? '')}`, `kh-${s.attrs?.kernelHashes ?? 'absent'}`,
      ...(s.extra && s.extra.length > 0 ? ['blobs'] : []), where].join('.');
    add(`mix/${desc}-${shortHash(text)}`, text);
  }
}
