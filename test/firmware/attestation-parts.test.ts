/**
 * The pieces of a measured launch, each against an independent reference: the SEV-ES VMSA against
 * the one libvirt's validator builds (its own Python, loaded as a module), OVMF's table against
 * Debian's real image, the session's unwrap against its wrap, and the hashes table's layout.
 */
import { execFile } from 'node:child_process';
import { createHash, createHmac, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT_GENERATIONS, decodeAmdCert, fakeAmdRoot } from '../../fakelibvirt/firmware/amd-root.ts';
import { productRoots } from '../../fakelibvirt/kds/certificates.ts';
import { kernelHashesTable, parseSecretTable, secretTable } from '../../fakelibvirt/firmware/guid-tables.ts';
import { deriveKeyPair } from '../../fakelibvirt/firmware/ecc-p384.ts';
import { parseOvmfTable, synthesizeOvmf } from '../../fakelibvirt/firmware/ovmf.ts';
import { SESSION_LEN, createSession, openSession, sevKdf } from '../../fakelibvirt/firmware/session.ts';
import { CURVE_P384, CertAlgo, CertUsage, encodeSevCert, NO_SIGNATURE } from '../../fakelibvirt/firmware/sev-cert.ts';
import { SevStatus } from '../../fakelibvirt/firmware/status.ts';
import { cpuidSignature, launchVmsas } from '../../fakelibvirt/firmware/vmsa.ts';
import { VALIDATOR, requireValidator } from '../attestation/support.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function python(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/python3', ['-c', script], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(String(stdout))));
  });
}

const validator = await requireValidator();

describe('SEV-ES VMSA', () => {
  it('RDX carries CPUID(1).EAX: Milan 19h/01h/1 is 0x00a00f11, Genoa 19h/11h/1 0x00a10f11, Naples 17h/01h/2 0x00800f12', () => {
    expect(cpuidSignature({ family: 25, model: 1, stepping: 1 }).toString(16)).toBe('a00f11');
    expect(cpuidSignature({ family: 25, model: 17, stepping: 1 }).toString(16)).toBe('a10f11');
    expect(cpuidSignature({ family: 23, model: 1, stepping: 2 }).toString(16)).toBe('800f12');
  });

  it.skipIf(!validator)('equals the VMSAs virt-qemu-sev-validate builds, BSP and AP, for several CPU signatures', async () => {
    const sigs = [[25, 1, 1], [25, 17, 1], [23, 49, 0], [26, 2, 1]] as const;
    const resetAddr = 0x80b004;
    const script = `
import importlib.machinery, importlib.util, hashlib
loader = importlib.machinery.SourceFileLoader('v', '${VALIDATOR}')
spec = importlib.util.spec_from_loader('v', loader); v = importlib.util.module_from_spec(spec); loader.exec_module(v)
for f, m, s in ${JSON.stringify(sigs)}:
    x = v.VMSA(); x.amd64_cpu_init(); x.kvm_cpu_init(); x.qemu_cpu_init(); x.cpu_sku(f, m, s)
    a = x.pack(); x.reset_addr(${resetAddr}); b = x.pack()
    print(hashlib.sha256(a).hexdigest(), hashlib.sha256(b).hexdigest())
`;
    const want = (await python(script)).trim().split('\n');
    const got = sigs.map(([family, model, stepping]) => launchVmsas(2, { family, model, stepping }, resetAddr).map(sha).join(' '));
    expect(got).toEqual(want);
  });
});

describe('OVMF images', () => {
  it.skipIf(!existsSync('/usr/share/OVMF/OVMF_CODE_4M.fd'))("reads Debian's OVMF_CODE_4M.fd table: SEV-ES reset block, zero secret and hashes areas", () => {
    const t = parseOvmfTable(readFileSync('/usr/share/OVMF/OVMF_CODE_4M.fd'))!;
    expect([t.sevEsResetAddr, t.secretArea, t.hashTableArea]).toEqual([0x808004, { base: 0, size: 0 }, { base: 0, size: 0 }]);
  });

  it('synthesizes a stable image of the real size whose table the same parser reads; AmdSev builds reserve secret and hashes pages', () => {
    const plain = synthesizeOvmf('/usr/share/edk2/ovmf/OVMF_CODE.fd');
    expect(plain.length).toBe(1966080);
    expect(sha(plain)).toBe(sha(synthesizeOvmf('/usr/share/edk2/ovmf/OVMF_CODE.fd')));
    expect(parseOvmfTable(plain)?.sevEsResetAddr).toBe(0x80b004);
    const amdsev = parseOvmfTable(synthesizeOvmf('/usr/share/edk2/ovmf/OVMF.amdsev.fd'))!;
    expect(amdsev.secretArea!.size).toBeGreaterThan(0);
    expect(amdsev.hashTableArea!.size).toBeGreaterThanOrEqual(kernelHashesTable({ kernel: Buffer.alloc(1) }).length);
    expect(parseOvmfTable(Buffer.alloc(4096))).toBeNull();
  });
});

describe('GUID tables', () => {
  it('kernel hashes: table GUID, length 168, cmdline/initrd/kernel entries of 50 bytes, padded to 176', () => {
    const t = kernelHashesTable({ kernel: Buffer.from('k'), initrd: Buffer.from('i'), cmdline: 'c' });
    expect(t.length).toBe(176);
    expect(t.readUInt16LE(16)).toBe(168);
    expect(t.subarray(0, 4).toString('hex')).toBe('06d63894');
    expect(t.subarray(18 + 50 + 50 + 18, 18 + 50 + 50 + 50).toString('hex')).toBe(createHash('sha256').update('k').digest('hex'));
    expect(t.subarray(18 + 18, 18 + 50).toString('hex')).toBe(createHash('sha256').update('c\0').digest('hex'));
  });

  it('secret table round trip; anything else is not a table', () => {
    const e = [{ guid: '736869e5-84f0-4973-92ec-06879ce3da0b', data: Buffer.from('k1') }, { guid: '11111111-2222-3333-4444-555555555555', data: Buffer.from('second') }];
    expect(parseSecretTable(secretTable(e))).toEqual(e);
    expect(parseSecretTable(Buffer.alloc(64, 1))).toBeNull();
  });
});

describe('LAUNCH_START session', () => {
  const pdh = deriveKeyPair('test-host', 'PDH');
  const pdhCert = encodeSevCert({ version: 1, apiMajor: 1, apiMinor: 52, usage: CertUsage.PDH, algo: CertAlgo.ECDH_SHA256, curve: CURVE_P384, qx: pdh.x, qy: pdh.y, sigs: [NO_SIGNATURE, NO_SIGNATURE] });

  it('KDF blocks are HMAC-SHA256(key, i ‖ label ‖ 0 ‖ context ‖ L) from i = 1, truncated', () => {
    const key = Buffer.alloc(48, 3);
    const counter = Buffer.from([1, 0, 0, 0]);
    const bits = Buffer.from([128, 0, 0, 0]);
    const out = sevKdf(key, 'sev-kek', Buffer.alloc(0), 16);
    expect(out.length).toBe(16);
    expect(out.equals(createHmac('sha256', key).update(Buffer.concat([counter, Buffer.from('sev-kek'), Buffer.from([0]), bits])).digest().subarray(0, 16))).toBe(true);
    expect(sevKdf(key, 'sev-kek', Buffer.alloc(0), 40).length).toBe(40);
  });

  it('the firmware unwraps exactly the owner\'s TEK/TIK; the policy and each MAC are checked', () => {
    const s = createSession(pdhCert, 0x37);
    expect(s.session.length).toBe(SESSION_LEN);
    const r = openSession(pdh, s.godh, s.session, 0x37);
    expect(r.ok && r.keys.tek.equals(s.tek) && r.keys.tik.equals(s.tik)).toBe(true);
    expect(openSession(pdh, s.godh, s.session, 0x33)).toMatchObject({ ok: false, status: SevStatus.BAD_MEASUREMENT });
    for (const at of [0, 20, 50, 70, 100]) {
      const bad = Buffer.from(s.session);
      bad[at] = bad[at]! ^ 1;
      expect(openSession(pdh, s.godh, bad, 0x37)).toMatchObject({ ok: false, status: SevStatus.BAD_MEASUREMENT });
    }
    expect(openSession(pdh, s.godh, s.session.subarray(0, 100), 0x37)).toMatchObject({ ok: false, status: SevStatus.INVALID_LEN });
    expect(openSession(deriveKeyPair('other', 'PDH'), s.godh, s.session, 0x37)).toMatchObject({ ok: false, status: SevStatus.BAD_MEASUREMENT });
  });
});

describe('the fake AMD root', () => {
  it.each(ROOT_GENERATIONS)("%s: ARK and ASK are RSA-4096 from Rome on, RSA-2048 on Naples, as AMD's", (gen) => {
    const bits = gen === 'naples' ? 2048 : 4096;
    const root = fakeAmdRoot(gen);
    for (const cert of [root.arkCert, root.askCert]) {
      const c = decodeAmdCert(cert);
      expect([c.modulus.toString(2).length, cert.readUInt32LE(60), cert.length]).toEqual([bits, bits, 64 + (3 * bits) / 8]);
    }
  });

  it.each([['milan', 'Milan'], ['genoa', 'Genoa'], ['turin', 'Turin']] as const)(
    '%s: the SEV-format ARK and ASK carry the keys of the KDS cert_chain (one root per generation)',
    async (gen, product) => {
      const kds = await productRoots(product);
      const x509Modulus = (c: typeof kds.ark) =>
        BigInt(`0x${Buffer.from(createPublicKey({ key: Buffer.from(c.publicKey.rawData), format: 'der', type: 'spki' }).export({ format: 'jwk' }).n!, 'base64url').toString('hex')}`);
      const root = fakeAmdRoot(gen);
      expect(decodeAmdCert(root.arkCert).modulus).toBe(x509Modulus(kds.ark));
      expect(decodeAmdCert(root.askCert).modulus).toBe(x509Modulus(kds.ask));
      expect(decodeAmdCert(fakeAmdRoot('rome').arkCert).modulus).not.toBe(x509Modulus(kds.ark));
    },
  );
});
