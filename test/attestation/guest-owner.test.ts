/**
 * The guest owner's side in TypeScript, without libvirt's validator: verify the platform's
 * certificate chain, make a session for its PDH, have the host launch with it, recompute the
 * measurement from what the owner knows (firmware image, VMSAs, TIK), inject a secret, and see the
 * firmware refuse what it must.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeAmdRoot } from '../../fakelibvirt/firmware/amd-root.ts';
import { splitCertChain, verifyCertChain } from '../../fakelibvirt/firmware/cert-chain.ts';
import { secretTable } from '../../fakelibvirt/firmware/guid-tables.ts';
import { secretMac, verifyMeasurement } from '../../fakelibvirt/firmware/measurement.ts';
import { ovmfImage } from '../../fakelibvirt/firmware/ovmf.ts';
import { createSession, godhCertificate, type OwnerSession } from '../../fakelibvirt/firmware/session.ts';
import { CertUsage, decodeSevCert, encodeSevCert } from '../../fakelibvirt/firmware/sev-cert.ts';
import { deriveKeyPair } from '../../fakelibvirt/firmware/ecc-p384.ts';
import { launchVmsas } from '../../fakelibvirt/firmware/vmsa.ts';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import type { TypedParam } from '../../src/libvirt/typed-params.ts';
import { main } from '../../src/cli/main.ts';
import { exportedPdh, sevGuestXml } from './support.ts';

const SEV_PROFILES = ['naples-7001', 'rome-7002', 'milan-7003-es8', 'milan-7003-253', 'milan-7003-all-es', 'genoa-9004', 'turin-9005'];
const LOADER = '/usr/share/OVMF/OVMF_CODE_4M.fd';

function nodeSev(host: FakeHost): Record<string, string | number | bigint | boolean> {
  return Object.fromEntries(host.nodeSevInfo().map((p) => [p.field, p.value]));
}

function launchInfo(host: FakeHost, name: string): Record<string, unknown> {
  return Object.fromEntries(host.launchSecurityInfo(host.lookupByName(name)).map((p) => [p.field, p.value]));
}

/** The packet `virt-qemu-sev-validate --inject-secret` sends: a secret table under TEK, MAC'd under TIK. */
function secretPacket(keys: { tek: Buffer; tik: Buffer }, measure: Buffer, data: Buffer): TypedParam[] {
  const table = secretTable([{ guid: '736869e5-84f0-4973-92ec-06879ce3da0b', data }]);
  const iv = randomBytes(16);
  const c = createCipheriv('aes-128-ctr', keys.tek, iv);
  const ciphertext = Buffer.concat([c.update(table), c.final()]);
  const mac = secretMac({ tik: keys.tik, flags: 0, iv, ciphertext, measure });
  return [
    { field: 'sev-secret-header', type: 7, value: Buffer.concat([Buffer.alloc(4), iv, mac]).toString('base64') },
    { field: 'sev-secret', type: 7, value: ciphertext.toString('base64') },
  ];
}

describe('the platform certificate chain', () => {
  it.each(SEV_PROFILES)('%s: PDH by PEK, PEK by OCA and CEK, CEK by the ASK, ASK by the ARK', (name) => {
    const p = loadProfile(name);
    const host = new FakeHost(p);
    const info = nodeSev(host);
    const chain = splitCertChain(Buffer.from(String(info['cert-chain']), 'base64'));
    const root = fakeAmdRoot(p.generation);
    const links = verifyCertChain({ pdh: exportedPdh(host), ...chain, ask: root.askCert, ark: root.arkCert });
    expect(links.filter((l) => !l.ok)).toEqual([]);
    expect(links.map((l) => l.link)).toEqual(['PDH usage', 'OCA -> OCA', 'OCA -> PEK', 'CEK -> PEK', 'PEK -> PDH', 'ARK -> ARK', 'ARK -> ASK', 'ASK -> CEK']);
  });

  it('breaks where a certificate was altered, and under another generation\'s root', () => {
    const host = new FakeHost(loadProfile('milan-7003-es8'));
    const chain = splitCertChain(Buffer.from(String(nodeSev(host)['cert-chain']), 'base64'));
    const pdh = Buffer.from(exportedPdh(host));
    pdh[40] = pdh[40]! ^ 1;
    const failed = (c: Parameters<typeof verifyCertChain>[0]) => verifyCertChain(c).filter((l) => !l.ok).map((l) => l.link);
    expect(failed({ pdh, ...chain })).toEqual(['PEK -> PDH']);
    const rome = fakeAmdRoot('rome');
    expect(failed({ pdh: exportedPdh(host), ...chain, ask: rome.askCert, ark: rome.arkCert })).toEqual(['ASK -> CEK']);
  });
});

describe('a launch with the guest owner\'s session', () => {
  const p = loadProfile('milan-7003-es8');
  const fw = p.firmware!;

  it.each([
    ['SEV', 0x33, 1],
    ['SEV-ES', 0x37, 3],
  ] as const)('%s (policy %d, %d vCPUs): the measurement is HMAC(TIK) over the image and VMSAs the owner expects', (_kind, policy, vcpus) => {
    const host = new FakeHost(p);
    const s = createSession(exportedPdh(host), policy);
    host.create(host.defineXML(sevGuestXml(host, { name: 'g', policy, vcpus, loader: LOADER, session: s })), 1);
    const img = ovmfImage(LOADER);
    const measured = [img.bytes, ...(policy & 4 ? launchVmsas(vcpus, p.cpu, img.table!.sevEsResetAddr!) : [])];
    const digest = createHash('sha256').update(Buffer.concat(measured)).digest();
    const blob = Buffer.from(String(launchInfo(host, 'g')['sev-measurement']), 'base64');
    const expected = { apiMajor: fw.apiMajor, apiMinor: fw.apiMinor, build: fw.build, policy, digest, tik: s.tik };
    expect(verifyMeasurement(expected, blob)).toBe(true);
    expect(verifyMeasurement({ ...expected, tik: randomBytes(16) }, blob)).toBe(false);
    expect(verifyMeasurement({ ...expected, digest: createHash('sha256').update('other firmware').digest() }, blob)).toBe(false);
  });

  it('LAUNCH_SECRET: the secret lands in OVMF\'s area while paused; a wrong TIK is refused; after resume libvirt refuses', () => {
    const host = new FakeHost(p);
    const s = createSession(exportedPdh(host), 0x33);
    const ref = host.defineXML(sevGuestXml(host, { name: 'g', policy: 0x33, loader: LOADER, session: s }));
    host.create(ref, 1);
    const measure = Buffer.from(String(launchInfo(host, 'g')['sev-measurement']), 'base64').subarray(0, 32);
    expect(() => host.setLaunchSecurityState(ref, secretPacket({ tek: s.tek, tik: randomBytes(16) }, measure, Buffer.from('x')))).toThrow(
      "internal error: unable to execute QEMU command 'sev-inject-launch-secret': SEV: failed to inject secret ret=-5 fw_error=11 'Bad measurement'",
    );
    host.setLaunchSecurityState(ref, secretPacket(s, measure, Buffer.from('disk key')));
    const landed = host.control.launchSecrets('g');
    expect(landed.map((x) => [x.gpa, x.entries])).toEqual([[ovmfImage(LOADER).table!.secretArea!.base, [{ guid: '736869e5-84f0-4973-92ec-06879ce3da0b', data: Buffer.from('disk key') }]]]);
    host.resume(ref);
    expect(() => host.setLaunchSecurityState(ref, secretPacket(s, measure, Buffer.from('late')))).toThrow('Requested operation is not valid: domain must be in a paused state');
  });

  it('virDomainSetLaunchSecurityState parameters: validated as libvirt does; sev-secret-set-address picks the address', () => {
    const host = new FakeHost(p);
    const s = createSession(exportedPdh(host), 0x33);
    const ref = host.defineXML(sevGuestXml(host, { name: 'g', policy: 0x33, loader: LOADER, session: s }));
    host.create(ref, 1);
    const measure = Buffer.from(String(launchInfo(host, 'g')['sev-measurement']), 'base64').subarray(0, 32);
    const packet = secretPacket(s, measure, Buffer.from('k'));
    expect(() => host.setLaunchSecurityState(ref, [...packet, { field: 'sev-secret-flags', type: 2, value: 0 }])).toThrow("argument unsupported: parameter 'sev-secret-flags' not supported");
    expect(() => host.setLaunchSecurityState(ref, [...packet, { field: 'sev-secret-set-address', type: 7, value: '4096' }])).toThrow(
      "invalid argument: invalid type 'string' for parameter 'sev-secret-set-address', expected 'ullong'",
    );
    expect(() => host.setLaunchSecurityState(ref, [packet[1]!])).toThrow('internal error: Both secret and the secret header are required');
    host.setLaunchSecurityState(ref, [...packet, { field: 'sev-secret-set-address', type: 4, value: 0x100000n }]);
    expect(host.control.launchSecrets('g').map((x) => x.gpa)).toEqual([0x100000]);
  });

  const refused = (session: OwnerSession | ((s: OwnerSession) => OwnerSession), policy = 0x33) => {
    const host = new FakeHost(p);
    const made = createSession(exportedPdh(host), 0x33);
    const s = typeof session === 'function' ? session(made) : session;
    const ref = host.defineXML(sevGuestXml(host, { name: 'g', policy, loader: LOADER, session: s }));
    let message = '';
    try {
      host.create(ref, 1);
    } catch (e) {
      message = (e as Error).message;
    }
    return { message, log: host.control.firmware.commandLog().filter((c) => c.command === 'LAUNCH_START').map((c) => c.statusName) };
  };

  it('a session made for another policy fails LAUNCH_START with BAD_MEASUREMENT (POLICY_MAC)', () => {
    const r = refused((s) => s, 0x37);
    expect(r.message).toContain("sev_launch_start: LAUNCH_START ret=-5 fw_error=11 'Bad measurement'");
    expect(r.log).toEqual(['BAD_MEASUREMENT']);
  });

  it('a tampered wrap fails with BAD_MEASUREMENT (WRAP_MAC); a session for another platform\'s PDH too', () => {
    const tampered = refused((s) => {
      const session = Buffer.from(s.session);
      session[20] = session[20]! ^ 0x80;
      return { ...s, session };
    });
    expect(tampered.log).toEqual(['BAD_MEASUREMENT']);
    const other = createSession(exportedPdh(new FakeHost(loadProfile('genoa-9004'))), 0x33);
    expect(refused(other).log).toEqual(['BAD_MEASUREMENT']);
  });

  it('a DH certificate that is not a P-384 ECDH key of usage PDH fails with INVALID_CERTIFICATE', () => {
    const r = refused((s) => {
      const c = decodeSevCert(s.godh);
      return { ...s, godh: encodeSevCert({ ...c, usage: CertUsage.PEK }) };
    });
    expect(r.message).toContain("fw_error=6 'Certificate is invalid'");
    const short = refused((s) => ({ ...s, godh: godhCertificate(deriveKeyPair('x', 'y')).subarray(0, 100) }));
    expect(short.log).toEqual(['INVALID_CERTIFICATE']);
  });

  it('without <session> the firmware picks TEK/TIK itself: no owner key verifies the measurement', () => {
    const host = new FakeHost(p);
    host.create(host.defineXML(sevGuestXml(host, { name: 'g', policy: 0x33, loader: LOADER })), 1);
    const digest = createHash('sha256').update(ovmfImage(LOADER).bytes).digest();
    const blob = Buffer.from(String(launchInfo(host, 'g')['sev-measurement']), 'base64');
    expect(verifyMeasurement({ apiMajor: fw.apiMajor, apiMinor: fw.apiMinor, build: fw.build, policy: 0x33, digest, tik: Buffer.alloc(16) }, blob)).toBe(false);
    expect(host.control.inspect().guests[0]?.firmwareState).toBe('LSECRET');
  });
});

describe('sevharness session and verify', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sevharness-owner-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) } };
  };

  it('writes NAME_godh.b64, NAME_session.b64, NAME_tek.bin, NAME_tik.bin with fresh keys each time; a launch with them verifies', async () => {
    const host = new FakeHost(loadProfile('rome-7002'));
    const pdhFile = join(dir, 'pdh.bin');
    writeFileSync(pdhFile, exportedPdh(host));
    expect(await main(['session', pdhFile, '0x33', '--name', 'vm1', '--dir', dir], io().io)).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['pdh.bin', 'vm1_godh.b64', 'vm1_session.b64', 'vm1_tek.bin', 'vm1_tik.bin']);
    const read = (f: string) => readFileSync(join(dir, f));
    expect([Buffer.from(read('vm1_godh.b64').toString(), 'base64').length, Buffer.from(read('vm1_session.b64').toString(), 'base64').length, read('vm1_tek.bin').length, read('vm1_tik.bin').length]).toEqual([2084, 128, 16, 16]);
    const first = read('vm1_tik.bin');
    const session: OwnerSession = { godh: Buffer.from(read('vm1_godh.b64').toString(), 'base64'), session: Buffer.from(read('vm1_session.b64').toString(), 'base64'), tek: read('vm1_tek.bin'), tik: first };
    host.create(host.defineXML(sevGuestXml(host, { name: 'g', policy: 0x33, loader: LOADER, session })), 1);
    const digest = createHash('sha256').update(ovmfImage(LOADER).bytes).digest();
    const fw = host.profile.firmware!;
    expect(verifyMeasurement({ apiMajor: fw.apiMajor, apiMinor: fw.apiMinor, build: fw.build, policy: 0x33, digest, tik: first }, Buffer.from(String(launchInfo(host, 'g')['sev-measurement']), 'base64'))).toBe(true);
    expect(await main(['session', pdhFile, '51', '--name', 'vm1', '--dir', dir], io().io)).toBe(0);
    expect(read('vm1_tik.bin').equals(first)).toBe(false);
    const bad = io();
    expect(await main(['session', pdhFile, 'lots', '--dir', dir], bad.io)).toBe(2);
    expect(bad.err.join('')).toContain("invalid policy 'lots'");
  });

  it('verify: exit 0 for the exported chain under the built-in fake root, 1 with the failing link named', async () => {
    const host = new FakeHost(loadProfile('genoa-9004'));
    const info = nodeSev(host);
    const pdh = join(dir, 'genoa-pdh.b64');
    const chain = join(dir, 'genoa-chain.b64');
    writeFileSync(pdh, String(info.pdh));
    writeFileSync(chain, `${String(info['cert-chain'])}\n`);
    const ok = io();
    expect(await main(['verify', '--pdh', pdh, '--cert-chain', chain, '--generation', 'genoa'], ok.io)).toBe(0);
    expect(ok.out.join('')).toContain('ok   ASK -> CEK');
    const wrong = io();
    expect(await main(['verify', '--pdh', pdh, '--cert-chain', chain, '--generation', 'milan'], wrong.io)).toBe(1);
    expect(wrong.out.join('')).toContain('FAIL ASK -> CEK');
  });
});
