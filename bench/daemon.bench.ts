/**
 * Daemon throughput: define → start → destroy → undefine cycles through the socket.
 *   1. tinybench, TypeScript client against the fake, over the socket and over the in-memory
 *      connection the daemon gives clients of its own process (connectInProcess);
 *   2. libvirt-python, one process doing N cycles timed inside Python, against the fake and against
 *      a real libvirtd serving the test driver; reported as a ratio (fake / real, lower is faster).
 *
 *   node bin/run-ts.js bench/daemon.bench.ts [cycles]
 */
import { execFile } from 'node:child_process';
import { Bench } from 'tinybench';
import { startRealLibvirtd } from '../containers/real-libvirtd.ts';
import { findExecutable } from '../containers/real-stack.ts';
import { startFake } from '../fakelibvirt/testing/daemon.ts';
import { guestXml } from '../fakelibvirt/testing/guest-xml.ts';
import { connect } from '../src/libvirt/client.ts';

const CYCLES = Number(process.argv[2] ?? 1000);
const XML = guestXml({ name: 'bench', uuid: 'beeeeeee-1111-4222-8333-444444444444' });

const PY = String.raw`
import sys, time, libvirt
uri, xml, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
conn = libvirt.open(uri)
t0 = time.perf_counter()
for _ in range(n):
    d = conn.defineXML(xml)
    d.create()
    d.destroy()
    d.undefine()
print(time.perf_counter() - t0)
conn.close()
`;

function pythonCycles(uri: string, n: number): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/python3', ['-c', PY, uri, XML, String(n)], (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(Number(stdout.trim()));
    });
  });
}

const fake = await startFake('milan-7003-es8');
try {
  const client = await connect(fake.uri);
  const inProcess = await connect(fake.uri, { stream: fake.daemon.connectInProcess() });
  const bench = new Bench({ time: 2000 });
  for (const [how, c] of [['socket', client], ['in-process', inProcess]] as const) {
    bench.add(`TS client → fake (${how}): define/start/destroy/undefine`, async () => {
      const d = await c.defineXML(XML);
      const running = await c.domainCreate(d);
      await c.destroy(running);
      await c.undefine(running);
    });
  }
  await bench.run();
  console.table(bench.table());
  await client.close();
  await inProcess.close();

  if (!findExecutable('/usr/bin/python3')) {
    console.log('python3 missing: skipping the libvirt-python comparison');
  } else {
    const fakeSecs = await pythonCycles(fake.uri, CYCLES);
    console.log(`libvirt-python → fake:              ${CYCLES} cycles in ${fakeSecs.toFixed(3)} s (${((fakeSecs / CYCLES) * 1e6).toFixed(0)} µs/cycle)`);
    if (findExecutable('libvirtd')) {
      const real = await startRealLibvirtd();
      try {
        const realSecs = await pythonCycles(real.testUri, CYCLES);
        console.log(`libvirt-python → real libvirtd/test: ${CYCLES} cycles in ${realSecs.toFixed(3)} s (${((realSecs / CYCLES) * 1e6).toFixed(0)} µs/cycle)`);
        console.log(`ratio fake/real: ${(fakeSecs / realSecs).toFixed(2)} (below 1: the fake is faster)`);
      } finally {
        await real.stop();
      }
    }
  }
} finally {
  await fake.close();
}
