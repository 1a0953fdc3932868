import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seededTransportKeys } from '../../fakelibvirt/firmware/guest-context.ts';
import { secretMac, verifyMeasurement } from '../../fakelibvirt/firmware/measurement.ts';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { firmwareImageOf } from '../../fakelibvirt/qemu/sev-launch.ts';
import { guestXml } from './sev-guests.ts';

/** The guest owner's side of an SEV launch, done offline from the fake's outputs. */
describe('launch attestation as a guest owner does it', () => {
  const seed = Buffer.from('owner-session-seed');
  const loader = '/usr/share/OVMF/OVMF_CODE_4M.fd';

  it('verifies the measurement with the HMAC formula and injects a secret the firmware accepts', () => {
    const host = new FakeHost(loadProfile('milan-7003-es8'), { transportKeySeed: seed });
    const ref = host.create(host.defineXML(guestXml({ name: 'att' })), 1);
    const info = Object.fromEntries(host.launchSecurityInfo(ref).map((p) => [p.field, p.value]));
    const blob = Buffer.from(info['sev-measurement'] as string, 'base64');
    const handle = host.control.guest('att')!.sev!.handle;
    const { tik, tek } = seededTransportKeys(seed, handle);
    // The owner knows the firmware image it expects; the launch digest is SHA-256 over it.
    const digest = createHash('sha256').update(firmwareImageOf(loader).bytes).digest();
    const expected = { apiMajor: 1, apiMinor: 52, build: 4, policy: 0x33, digest, tik };
    expect(verifyMeasurement(expected, blob)).toBe(true);
    expect(verifyMeasurement({ ...expected, policy: 0x37 }, blob)).toBe(false);

    const iv = randomBytes(16);
    const c = createCipheriv('aes-128-ctr', tek, iv);
    const ciphertext = Buffer.concat([c.update(Buffer.from('disk passphrase')), c.final()]);
    const mac = secretMac({ tik, flags: 0, iv, ciphertext, measure: blob.subarray(0, 32) });
    const header = Buffer.concat([Buffer.alloc(4), iv, mac]);
    const params = (h: Buffer) => [
      { field: 'sev-secret-header', type: 7 as const, value: h.toString('base64') },
      { field: 'sev-secret', type: 7 as const, value: ciphertext.toString('base64') },
    ];
    const forged = Buffer.concat([Buffer.alloc(4), iv, Buffer.alloc(32)]);
    expect(() => host.setLaunchSecurityState(ref, params(forged))).toThrow(
      "internal error: unable to execute QEMU command 'sev-inject-launch-secret': SEV: failed to inject secret ret=-5 fw_error=11 'Bad measurement'",
    );
    host.setLaunchSecurityState(ref, params(header));
    expect(host.control.firmware.injectedSecrets(handle)).toHaveLength(1);
    host.resume(ref);
    expect(host.control.inspect().guests[0]?.firmwareState).toBe('RUNNING');
  });
});
