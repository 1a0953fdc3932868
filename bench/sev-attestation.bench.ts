/**
 * The SEV launch with a guest owner's session, in-process: start (paused) + destroy of an SEV and an
 * SEV-ES (4 vCPUs) guest whose `<session>` the firmware unwraps, measuring the 3.6 MiB OVMF image
 * (hashed once per image, then resumed from the cached hash state), the VMSAs and LAUNCH_MEASURE;
 * the same start without a session; and the owner's side (createSession, verifyCertChain).
 *   node bin/run-ts.js bench/sev-attestation.bench.ts
 */
import { Bench } from 'tinybench';
import { fakeAmdRoot } from '../fakelibvirt/firmware/amd-root.ts';
import { splitCertChain, verifyCertChain } from '../fakelibvirt/firmware/cert-chain.ts';
import { createSession } from '../fakelibvirt/firmware/session.ts';
import { FakeHost } from '../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../fakelibvirt/profile/load.ts';
import { exportedPdh, sevGuestXml } from '../fakelibvirt/testing/guest-xml.ts';

const LOADER = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const host = new FakeHost(loadProfile('milan-7003-es8'));
const pdh = exportedPdh(host);
const chain = splitCertChain(Buffer.from(String(host.nodeSevInfo().find((p) => p.field === 'cert-chain')!.value), 'base64'));
const root = fakeAmdRoot('milan');

let n = 0;
function cycle(policy: number, vcpus: number, withSession: boolean): void {
  const name = `g${n++}`;
  const session = withSession ? createSession(pdh, policy) : null;
  const ref = host.defineXML(sevGuestXml(host, { name, policy, vcpus, loader: LOADER, session }));
  host.create(ref, 1);
  host.destroy(ref);
  host.undefine(ref, 4); // VIR_DOMAIN_UNDEFINE_NVRAM: the pflash loader gave the guest an NVRAM file
}

const bench = new Bench({ time: 2000 });
bench
  .add('SEV start+destroy, owner session', () => cycle(0x33, 1, true))
  .add('SEV-ES 4 vCPUs start+destroy, owner session', () => cycle(0x37, 4, true))
  .add('SEV start+destroy, firmware-chosen keys', () => cycle(0x33, 1, false))
  .add('owner: createSession', () => void createSession(pdh, 0x33))
  .add('owner: verifyCertChain with the AMD root', () => void verifyCertChain({ pdh, ...chain, ask: root.askCert, ark: root.arkCert }));
await bench.run();
for (const t of bench.tasks) console.log(`${t.name.padEnd(46)} ${((t.result?.latency?.p50 ?? Number.NaN)).toFixed(3)} ms median  ${(t.result?.throughput?.mean ?? 0).toFixed(0)} ops/s${t.result?.error ? ` ERROR ${String(t.result.error)}` : ''}`);
