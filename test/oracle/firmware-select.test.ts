/**
 * Firmware autoselection at define on libvirt 11.3 (9.2+), held to real answers: hand-written
 * documents outside the corpus (S3/S4 power management, Secure Boot on i440fx or without SMM,
 * enrolled keys, a stateless loader, SEV and SEV-ES policies) were defined by libvirt 11.3 in the
 * trixie container (`oracle/record.ts --probe FILES --container trixie`) and recorded with their
 * documents in oracle/records/libvirt-11.3.0-firmware-probes.jsonl; the fake on the matching
 * profile must answer each one byte for byte, on the SEV host and with SEV off.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RECORDS_DIR, readJsonLines, type DefineRecord } from '../../oracle/corpus.ts';
import { defineOnFake, fakeHostFor } from '../../oracle/judge.ts';
import { RECORDED_VERSIONS } from '../../oracle/versions.ts';

type Probe = DefineRecord & { readonly xml: string };

const probes = readJsonLines<Probe>(join(RECORDS_DIR, 'libvirt-11.3.0-firmware-probes.jsonl'));

describe.each(['sev', 'plain'] as const)('firmware autoselection at define, libvirt 11.3 (%s)', (side) => {
  const host = fakeHostFor(side, RECORDED_VERSIONS['11.3.0'].profile);

  it('has refusals and acceptances to hold the fake to', () => {
    expect(probes.filter((p) => p[side].outcome === 'ok').length).toBeGreaterThan(0);
    expect(probes.filter((p) => p[side].outcome === 'error').length).toBeGreaterThan(4);
  });

  it.each(probes.map((p) => [p.id, p] as const))('%s', (_id, probe) => {
    const real = probe[side];
    const fake = defineOnFake(host, probe.xml);
    if (real.outcome === 'ok') expect(fake.outcome).toBe('ok');
    else expect(fake).toEqual(real);
  });
});
