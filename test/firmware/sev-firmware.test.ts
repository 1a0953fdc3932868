import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GUEST_ALLOWED, PLATFORM_ALLOWED } from '../../fakelibvirt/firmware/commands.ts';
import { PLATFORM_FLAG_CONFIG_ES } from '../../fakelibvirt/firmware/command-buffers.ts';
import { seededTransportKeys } from '../../fakelibvirt/firmware/guest-context.ts';
import { launchDigest, secretMac, verifyMeasurement } from '../../fakelibvirt/firmware/measurement.ts';
import { GuestPolicy, NAMED_SEV_POLICIES } from '../../fakelibvirt/firmware/policy.ts';
import { SECRET_MAC_FAILURE_STATUS, SevFirmware, type SevFirmwareOptions } from '../../fakelibvirt/firmware/sev-firmware.ts';
import { SevFirmwareError, SevStatus } from '../../fakelibvirt/firmware/status.ts';

const seed = Buffer.from('sevharness-test-seed');
/** Counter bytes, so mnonces are predictable. */
const counter = () => {
  let n = 0;
  return (len: number) => Buffer.alloc(len, ++n);
};
const milan = (over: Partial<SevFirmwareOptions> = {}) =>
  new SevFirmware({ apiMajor: 1, apiMinor: 52, build: 4, esInitialised: true, snpInitialised: false, tikSeed: seed, random: counter(), ...over });

function statusOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof SevFirmwareError) return e.status;
    throw e;
  }
  return SevStatus.SUCCESS;
}

describe('platform state machine', () => {
  it('starts INIT and becomes WORKING with a guest, INIT again without', () => {
    const fw = milan();
    expect(fw.state).toBe('INIT');
    const h = fw.launchStart(0x1);
    expect(fw.state).toBe('WORKING');
    expect(fw.platformStatus()).toMatchObject({ state: 'WORKING', stateCode: 2, guestCount: 1, apiMajor: 1, apiMinor: 52, build: 4 });
    fw.decommission(h);
    expect(fw.state).toBe('INIT');
  });

  it('reports CONFIG_ES (flags bit 8) only when initialised with SEV-ES', () => {
    expect(milan().platformStatus().flags).toBe(PLATFORM_FLAG_CONFIG_ES);
    expect(PLATFORM_FLAG_CONFIG_ES).toBe(0x100);
    expect(milan({ esInitialised: false }).platformStatus().flags).toBe(0);
    expect(milan({ initialState: 'UNINIT' }).platformStatus()).toMatchObject({ state: 'UNINIT', stateCode: 0, flags: 0 });
  });

  it('refuses PEK_GEN, PEK_CSR and PEK_CERT_IMPORT in WORKING but allows PDH_GEN', () => {
    const fw = milan();
    fw.platformCommand('PEK_GEN');
    fw.launchStart(0x1);
    for (const cmd of ['PEK_GEN', 'PEK_CSR', 'PEK_CERT_IMPORT'] as const) {
      expect(statusOf(() => fw.platformCommand(cmd))).toBe(SevStatus.INVALID_PLATFORM_STATE);
    }
    fw.platformCommand('PDH_GEN');
    expect(fw.pekGeneration).toBe(1);
    expect(fw.pdhGeneration).toBe(2);
  });

  it('follows the allowed-commands table in every state', () => {
    expect(PLATFORM_ALLOWED.WORKING).not.toContain('PEK_GEN');
    const fw = milan({ initialState: 'UNINIT' });
    expect(statusOf(() => fw.platformCommand('PDH_GEN'))).toBe(SevStatus.INVALID_PLATFORM_STATE);
    expect(statusOf(() => fw.dfFlush())).toBe(SevStatus.INVALID_PLATFORM_STATE);
    expect(statusOf(() => fw.shutdown())).toBe(SevStatus.INVALID_PLATFORM_STATE);
    fw.platformCommand('PLATFORM_RESET');
    fw.init();
    expect(statusOf(() => fw.init())).toBe(SevStatus.INVALID_PLATFORM_STATE);
    expect(statusOf(() => fw.platformCommand('PLATFORM_RESET'))).toBe(SevStatus.INVALID_PLATFORM_STATE);
  });

  it('LAUNCH_START INITs an UNINIT platform first, as the kernel does', () => {
    const fw = milan({ initialState: 'UNINIT' });
    fw.launchStart(0x1);
    expect(fw.state).toBe('WORKING');
    expect(fw.commandLog().map((e) => e.command)).toEqual(['INIT', 'LAUNCH_START']);
  });

  it('SHUTDOWN is allowed in WORKING and drops every guest context', () => {
    const fw = milan();
    const a = fw.launchStart(0x1);
    const b = fw.launchStart(0x3);
    expect(fw.shutdown()).toEqual([a, b]);
    expect(fw.state).toBe('UNINIT');
    expect(fw.guestCount).toBe(0);
    expect(statusOf(() => fw.guestStatus(a))).toBe(SevStatus.INVALID_PLATFORM_STATE);
  });

  it('guest commands on an UNINIT platform are INVALID_PLATFORM_STATE', () => {
    const fw = milan({ initialState: 'UNINIT' });
    expect(statusOf(() => fw.activate(1, 1, false))).toBe(SevStatus.INVALID_PLATFORM_STATE);
  });
});

describe('LAUNCH_START policy checks', () => {
  it('ES policy 0x37 on a firmware without SEV-ES is POLICY_FAILURE', () => {
    const fw = milan({ esInitialised: false });
    expect(statusOf(() => fw.launchStart(NAMED_SEV_POLICIES.NOVA_ES))).toBe(SevStatus.POLICY_FAILURE);
    expect(fw.guestCount).toBe(0);
    expect(fw.launchStart(NAMED_SEV_POLICIES.NOVA)).toBe(1);
  });

  it('a policy API minimum above the firmware is POLICY_FAILURE', () => {
    const fw = milan();
    expect(statusOf(() => fw.launchStart(GuestPolicy.of(['NODBG'], 1, 53)))).toBe(SevStatus.POLICY_FAILURE);
    expect(statusOf(() => fw.launchStart(GuestPolicy.of(['NODBG'], 1, 52)))).toBe(SevStatus.SUCCESS);
  });

  it('reserved policy bits are INVALID_PARAM', () => {
    expect(statusOf(() => milan().launchStart(0x41))).toBe(SevStatus.INVALID_PARAM);
  });

  it('key sharing: NOKS on either side is POLICY_FAILURE; an unknown handle is INVALID_GUEST', () => {
    const fw = milan();
    const noks = fw.launchStart(0x3);
    const open = fw.launchStart(0x1);
    expect(statusOf(() => fw.launchStart(0x1, { shareWith: noks }))).toBe(SevStatus.POLICY_FAILURE);
    expect(statusOf(() => fw.launchStart(0x3, { shareWith: open }))).toBe(SevStatus.POLICY_FAILURE);
    expect(statusOf(() => fw.launchStart(0x1, { shareWith: 99 }))).toBe(SevStatus.INVALID_GUEST);
    const sharer = fw.launchStart(0x1, { shareWith: open });
    fw.activate(open, 20, false);
    fw.activate(sharer, 20, false);
    expect(fw.inspect().guests.find((g) => g.handle === sharer)?.keyOwner).toBe(open);
  });
});

describe('ACTIVATE, DEACTIVATE, DECOMMISSION and DF_FLUSH', () => {
  it('ES guests need an ES-range ASID, plain SEV guests a plain-range one', () => {
    const fw = milan();
    const es = fw.launchStart(0x37);
    const sev = fw.launchStart(0x33);
    expect(statusOf(() => fw.activate(es, 20, false))).toBe(SevStatus.INVALID_ASID);
    expect(statusOf(() => fw.activate(sev, 3, true))).toBe(SevStatus.INVALID_ASID);
    expect(statusOf(() => fw.activate(sev, 0, false))).toBe(SevStatus.INVALID_ASID);
    fw.activate(es, 3, true);
    fw.activate(sev, 20, false);
    expect(fw.guestStatus(es)).toEqual({ handle: es, policy: 0x37, asid: 3, state: 'LUPDATE' });
  });

  it('an ASID held by another guest is ASID_OWNED', () => {
    const fw = milan();
    const a = fw.launchStart(0x1);
    const b = fw.launchStart(0x1);
    fw.activate(a, 10, false);
    expect(statusOf(() => fw.activate(b, 10, false))).toBe(SevStatus.ASID_OWNED);
    expect(statusOf(() => fw.activate(a, 11, false))).toBe(SevStatus.ACTIVE);
    fw.activate(a, 10, false); // re-activating the same ASID is harmless
  });

  it('a deactivated ASID needs DF_FLUSH before it can be activated again', () => {
    const fw = milan();
    const a = fw.launchStart(0x1);
    fw.activate(a, 10, false);
    fw.deactivate(a);
    fw.deactivate(a); // no-op when already inactive
    expect(fw.inspect().asidsAwaitingFlush).toEqual([10]);
    const b = fw.launchStart(0x1);
    expect(statusOf(() => fw.activate(b, 10, false))).toBe(SevStatus.DFFLUSH_REQUIRED);
    expect(fw.dfFlush()).toEqual([10]);
    fw.activate(b, 10, false);
    expect(fw.dfFlushCount).toBe(1);
  });

  it('DECOMMISSION of an active guest is ACTIVE; unknown handles are INVALID_GUEST', () => {
    const fw = milan();
    const a = fw.launchStart(0x1);
    fw.activate(a, 10, false);
    expect(statusOf(() => fw.decommission(a))).toBe(SevStatus.ACTIVE);
    fw.deactivate(a);
    fw.decommission(a);
    expect(statusOf(() => fw.guestStatus(a))).toBe(SevStatus.INVALID_GUEST);
    expect(statusOf(() => fw.launchUpdateData(42, Buffer.alloc(1)))).toBe(SevStatus.INVALID_GUEST);
  });
});

describe('the launch flow', () => {
  const ovmf = Buffer.alloc(4096, 0x90);
  const vmsa = Buffer.alloc(4096, 0x01);

  it('SEV-ES: UPDATE_DATA, UPDATE_VMSA, MEASURE, SECRET, FINISH gives a verifiable measurement', () => {
    const fw = milan();
    const h = fw.launchStart(0x37);
    fw.activate(h, 1, true);
    fw.launchUpdateData(h, ovmf);
    fw.launchUpdateVmsa(h, vmsa);
    fw.launchUpdateVmsa(h, vmsa);
    const m = fw.launchMeasure(h);
    expect(m.measurement.length).toBe(48);
    expect(m.mnonce).toEqual(Buffer.alloc(16, 1));
    expect(fw.guestStatus(h).state).toBe('LSECRET');
    const { tik, tek } = seededTransportKeys(seed, h);
    const owner = { apiMajor: 1, apiMinor: 52, build: 4, policy: 0x37, digest: launchDigest([ovmf, vmsa, vmsa]), tik };
    expect(verifyMeasurement(owner, m.measurement)).toBe(true);

    const iv = Buffer.alloc(16, 9);
    const c = createCipheriv('aes-128-ctr', tek, iv);
    const ciphertext = Buffer.concat([c.update('luks-passphrase'), c.final()]);
    const mac = secretMac({ tik, flags: 0, iv, ciphertext, measure: m.measure });
    fw.launchSecret(h, { flags: 0, iv, mac }, ciphertext);
    expect(fw.injectedSecrets(h).map((b) => b.toString())).toEqual(['luks-passphrase']);
    fw.launchFinish(h);
    expect(fw.guestStatus(h).state).toBe('RUNNING');
    expect(fw.inspect().guests[0]).toMatchObject({ dataBytes: 4096, vmsaCount: 2, secrets: 1, policy: '0x0037' });
  });

  it('the measurement made on first read is the one LAUNCH_MEASURE fixed, whenever it is read', () => {
    // The host's firmware: keys and nonce from the CSPRNG (drawn when first needed), or seeded keys.
    for (const fw of [milan({ random: undefined, tikSeed: undefined }), milan({ random: undefined })]) {
      const h = fw.launchStart(0x1);
      fw.activate(h, 10, false);
      fw.launchUpdateData(h, ovmf);
      const m = fw.launchMeasure(h);
      // Later commands and other guests' launches change nothing in it.
      const other = fw.launchStart(0x1);
      fw.activate(other, 11, false);
      fw.launchUpdateData(other, vmsa);
      const late = fw.launchMeasure(other);
      fw.launchFinish(h);
      fw.deactivate(h);
      fw.decommission(h);
      const blob = Buffer.from(m.measurement);
      expect(blob.length).toBe(48);
      expect(m.measurement).toEqual(blob);
      expect(m.measure).toEqual(blob.subarray(0, 32));
      expect(m.mnonce).toEqual(blob.subarray(32));
      expect(late.mnonce).not.toEqual(m.mnonce);
    }
    const seeded = milan({ random: undefined });
    const h = seeded.launchStart(0x1);
    seeded.activate(h, 10, false);
    seeded.launchUpdateData(h, ovmf);
    const m = seeded.launchMeasure(h);
    const { tik } = seededTransportKeys(seed, h);
    expect(verifyMeasurement({ apiMajor: 1, apiMinor: 52, build: 4, policy: 1, digest: launchDigest([ovmf]), tik }, m.measurement)).toBe(true);
  });

  it("a caller's own random source is drawn in command order: TEK, TIK at LAUNCH_START, the nonce at LAUNCH_MEASURE", () => {
    const fw = milan({ tikSeed: undefined });
    const h = fw.launchStart(0x1, {});
    fw.activate(h, 10, false);
    fw.launchUpdateData(h, ovmf);
    const m = fw.launchMeasure(h);
    const second = fw.launchStart(0x1);
    fw.activate(second, 11, false);
    fw.launchUpdateData(second, ovmf);
    // counter(): TEK = 1s, TIK = 2s, mnonce = 3s; the second guest's nonce is the sixth draw.
    expect(fw.launchMeasure(second).mnonce).toEqual(Buffer.alloc(16, 6));
    expect(m.mnonce).toEqual(Buffer.alloc(16, 3));
    expect(verifyMeasurement({ apiMajor: 1, apiMinor: 52, build: 4, policy: 1, digest: launchDigest([ovmf]), tik: Buffer.alloc(16, 2) }, m.measurement)).toBe(true);
  });

  it('a wrong secret MAC is BAD_MEASUREMENT and injects nothing', () => {
    const fw = milan();
    const h = fw.launchStart(0x1);
    fw.activate(h, 10, false);
    fw.launchUpdateData(h, ovmf);
    fw.launchMeasure(h);
    const header = { flags: 0, iv: Buffer.alloc(16), mac: Buffer.alloc(32) };
    expect(SECRET_MAC_FAILURE_STATUS).toBe(SevStatus.BAD_MEASUREMENT);
    expect(statusOf(() => fw.launchSecret(h, header, Buffer.alloc(16)))).toBe(SevStatus.BAD_MEASUREMENT);
    expect(fw.injectedSecrets(h)).toEqual([]);
  });

  it('a session can supply the transport keys', () => {
    const fw = milan();
    const tik = Buffer.alloc(16, 0x11);
    const h = fw.launchStart(0x1, { session: { tek: Buffer.alloc(16, 0x22), tik } });
    fw.activate(h, 10, false);
    fw.launchUpdateData(h, ovmf);
    const m = fw.launchMeasure(h);
    expect(verifyMeasurement({ apiMajor: 1, apiMinor: 52, build: 4, policy: 1, digest: launchDigest([ovmf]), tik }, m.measurement)).toBe(true);
  });

  it('refuses commands out of order with INVALID_GUEST_STATE', () => {
    const fw = milan();
    const h = fw.launchStart(0x1);
    fw.activate(h, 10, false);
    const header = { flags: 0, iv: Buffer.alloc(16), mac: Buffer.alloc(32) };
    expect(statusOf(() => fw.launchSecret(h, header, Buffer.alloc(16)))).toBe(SevStatus.INVALID_GUEST_STATE);
    expect(statusOf(() => fw.launchFinish(h))).toBe(SevStatus.INVALID_GUEST_STATE);
    expect(statusOf(() => fw.sendStart(h))).toBe(SevStatus.INVALID_GUEST_STATE);
    fw.launchMeasure(h);
    expect(statusOf(() => fw.launchUpdateData(h, ovmf))).toBe(SevStatus.INVALID_GUEST_STATE);
    expect(statusOf(() => fw.launchMeasure(h))).toBe(SevStatus.INVALID_GUEST_STATE);
    fw.launchFinish(h);
    expect(statusOf(() => fw.launchFinish(h))).toBe(SevStatus.INVALID_GUEST_STATE);
    expect(GUEST_ALLOWED.RUNNING).not.toContain('LAUNCH_UPDATE_DATA');
  });

  it('memory-touching commands need an activated guest (INACTIVE)', () => {
    const fw = milan();
    const h = fw.launchStart(0x0);
    expect(statusOf(() => fw.launchUpdateData(h, ovmf))).toBe(SevStatus.INACTIVE);
    expect(statusOf(() => fw.dbgDecrypt(h))).toBe(SevStatus.INACTIVE);
  });

  it('LAUNCH_UPDATE_VMSA is only for SEV-ES guests', () => {
    const fw = milan();
    const h = fw.launchStart(0x1);
    fw.activate(h, 10, false);
    expect(statusOf(() => fw.launchUpdateVmsa(h, vmsa))).toBe(SevStatus.POLICY_FAILURE);
  });
});

describe('policy enforcement after launch', () => {
  function running(fw: SevFirmware, policy: number): number {
    const h = fw.launchStart(policy);
    fw.activate(h, 10 + h, false);
    fw.launchMeasure(h);
    fw.launchFinish(h);
    return h;
  }

  it('NOSEND refuses SEND_START with POLICY_FAILURE', () => {
    const fw = milan();
    expect(statusOf(() => fw.sendStart(running(fw, 0x08)))).toBe(SevStatus.POLICY_FAILURE);
    const ok = running(fw, 0x00);
    fw.sendStart(ok);
    expect(fw.guestStatus(ok).state).toBe('SUPDATE');
    fw.sendFinish(ok);
    expect(fw.guestStatus(ok).state).toBe('SENT');
  });

  it('NODBG refuses DBG_DECRYPT and DBG_ENCRYPT with POLICY_FAILURE', () => {
    const fw = milan();
    const h = running(fw, NAMED_SEV_POLICIES.QEMU_DEFAULT);
    expect(statusOf(() => fw.dbgDecrypt(h))).toBe(SevStatus.POLICY_FAILURE);
    expect(statusOf(() => fw.dbgEncrypt(h))).toBe(SevStatus.POLICY_FAILURE);
    fw.dbgDecrypt(running(fw, 0x0));
  });
});

describe('fault injection', () => {
  it('a one-shot override fails the next matching command only', () => {
    const fw = milan();
    fw.use({ command: 'LAUNCH_START', status: SevStatus.RESOURCE_LIMIT });
    expect(statusOf(() => fw.launchStart(0x1))).toBe(0x17);
    expect(fw.guestCount).toBe(0);
    expect(fw.launchStart(0x1)).toBe(1);
    expect(fw.inspect().pendingOverrides).toBe(0);
  });

  it('overrides are prepended, honour times and handle, and reset', () => {
    const fw = milan();
    fw.use({ command: 'PLATFORM_STATUS', status: 0x13, times: 2 });
    fw.use({ command: 'PLATFORM_STATUS', status: 0x14 });
    expect(statusOf(() => fw.platformStatus())).toBe(0x14);
    expect(statusOf(() => fw.platformStatus())).toBe(0x13);
    expect(statusOf(() => fw.platformStatus())).toBe(0x13);
    expect(statusOf(() => fw.platformStatus())).toBe(0);
    const a = fw.launchStart(0x1);
    const b = fw.launchStart(0x1);
    fw.use({ command: 'ACTIVATE', status: SevStatus.HWERROR_UNSAFE, handle: b, times: Infinity });
    fw.activate(a, 10, false);
    expect(statusOf(() => fw.activate(b, 11, false))).toBe(SevStatus.HWERROR_UNSAFE);
    expect(statusOf(() => fw.activate(b, 11, false))).toBe(SevStatus.HWERROR_UNSAFE);
    fw.resetOverrides();
    fw.activate(b, 11, false);
  });

  it('the implicit INIT can be made to fail (SEV: failed to INIT error 0x13)', () => {
    const fw = milan({ initialState: 'UNINIT' });
    fw.use({ command: 'INIT', status: SevStatus.HWERROR_PLATFORM });
    expect(statusOf(() => fw.launchStart(0x1))).toBe(0x13);
    expect(fw.state).toBe('UNINIT');
  });

  it('rejects a zero status', () => {
    expect(() => milan().use({ command: 'INIT', status: 0 })).toThrow(RangeError);
  });

  it('logs every command with its id and status, marking injected ones', () => {
    const fw = milan();
    fw.use({ command: 'LAUNCH_START', status: 0x17 });
    statusOf(() => fw.launchStart(0x1));
    const h = fw.launchStart(0x1);
    statusOf(() => fw.activate(h, 1, true));
    expect(fw.commandLog()).toEqual([
      { seq: 1, command: 'LAUNCH_START', id: 0x30, handle: null, status: 0x17, statusName: 'RESOURCE_LIMIT', injected: true },
      { seq: 2, command: 'LAUNCH_START', id: 0x30, handle: null, status: 0, statusName: 'SUCCESS', injected: false },
      { seq: 3, command: 'ACTIVATE', id: 0x21, handle: h, status: 0x0d, statusName: 'INVALID_ASID', injected: false },
    ]);
    fw.clearLog();
    expect(fw.commandLog()).toEqual([]);
  });
});
