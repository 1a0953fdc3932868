/**
 * SEV-SNP attestation costs: a report from a running genoa-9004 guest (launch digest cached, ECDSA
 * P-384 signature), deriving a VCEK for a TCB not seen before (HKDF + scalar → key objects), and the
 * fake KDS issuing a VCEK certificate for a new TCB (RSA-4096 PSS signature by the ASK), through msw's
 * getResponse as `serve --kds-port` does.
 * Run: node bin/run-ts.js bench/snp-attestation.bench.ts
 */
import 'reflect-metadata';
import { getResponse } from 'msw';
import { Bench } from 'tinybench';
import { snpChipOf, vcekKeyPair } from '../fakelibvirt/firmware/snp/vcek.ts';
import { FakeHost } from '../fakelibvirt/host/fake-host.ts';
import { KDS_ORIGIN, kdsHandlers } from '../fakelibvirt/kds/handlers.ts';
import { loadProfile } from '../fakelibvirt/profile/load.ts';

const host = new FakeHost(loadProfile('genoa-9004'));
host.create(host.defineXML(`<domain type='kvm'><name>snp</name><memory unit='GiB'>2</memory><vcpu>4</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type><loader readonly='yes' type='pflash' stateless='yes'>/usr/share/edk2/ovmf/OVMF.amdsev.fd</loader></os>
  <features><acpi/></features><devices><memballoon model='none'/></devices>
  <launchSecurity type='sev-snp'><policy>0x30000</policy></launchSecurity></domain>`));
const chip = snpChipOf(host.profile)!;
const handlers = kdsHandlers([host]);
const data = Buffer.alloc(64, 1);
// Distinct TCBs, so every derivation and certificate is new (the caches hold 256 keys).
let n = 0;
const nextTcb = () => {
  n++;
  return { bootloader: n % 128, tee: (n >> 7) % 128, snp: (n >> 14) % 128, microcode: 84 };
};

const bench = new Bench({ time: 1500, warmupTime: 200 });
bench
  .add('report: snpGuestReport (signed, 4 vCPUs)', () => {
    host.control.snpGuestReport('snp', data);
  })
  .add('VCEK: derive for a new TCB', () => {
    vcekKeyPair(chip, nextTcb());
  })
  .add('KDS: VCEK certificate for a new TCB (getResponse)', async () => {
    const t = nextTcb();
    const url = `${KDS_ORIGIN}/vcek/v1/Genoa/${chip.hwid}?blSPL=${t.bootloader}&teeSPL=${t.tee}&snpSPL=${t.snp}&ucodeSPL=${t.microcode}`;
    const res = await getResponse(handlers, new Request(url));
    if (res?.status !== 200) throw new Error(`KDS answered ${res?.status}`);
  });
await bench.run();
console.table(bench.table());
const ms = (name: string) => bench.tasks.find((t) => t.name.startsWith(name))!.result!.latency.mean;
console.log(
  `RESULT report ${ms('report').toFixed(3)} ms (target ≤ 2 ms) | VCEK derivation ${ms('VCEK').toFixed(3)} ms (target ≤ 2 ms) | ` +
    `VCEK certificate ${ms('KDS').toFixed(2)} ms (target ≤ 50 ms)`,
);
