/**
 * A conformance worker thread (lanes.ts): resolves the driver spec itself (a factory cannot cross
 * threads), then runs one piece (cases of a profile) per request from the parent and posts its
 * results back. One fake target serves all the worker's pieces, so firmware images and sysroot
 * trees are written once per thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { resolveDriverSpec } from './driver-spec.ts';
import { FakeTarget } from './fake-target.ts';
import { pieceRunner, type WorkerReply, type WorkerRequest, type WorkerSetup } from './lanes.ts';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const post = (m: WorkerReply) => port.postMessage(m);

try {
  const driver = await resolveDriverSpec(setup.driverSpec, setup.cwd);
  const target = new FakeTarget();
  const pieces = pieceRunner(driver, target, (p) => post({ kind: 'progress', profile: p.profile, caseId: p.caseId }));
  port.on('message', (m: WorkerRequest) => {
    if (m.kind === 'stop') {
      void pieces
        .close()
        .then(() => target.close())
        .finally(() => port.close());
      return;
    }
    pieces.run(m).then(
      (report) => post({ kind: 'done', report }),
      (e: unknown) => post({ kind: 'failed', profile: m.profile, message: e instanceof Error ? e.message : String(e) }),
    );
  });
  post({ kind: 'ready' });
} catch (e) {
  post({ kind: 'failed', profile: null, message: e instanceof Error ? e.message : String(e) });
}
