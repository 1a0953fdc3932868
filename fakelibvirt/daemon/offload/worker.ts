/**
 * An offload worker: joins a large call's payload, decodes and admits it (call-steps.ts) and runs
 * its pure half (stages.ts), encoding the reply here whenever the answer is already known.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { procedureByName } from '../../../src/rpc/procedures.ts';
import { domainContext } from '../../libvirt/domain/context.ts';
import type { HardwareProfile } from '../../profile/schema.ts';
import { admit, asLibvirtError, errorReply, replyOf } from '../call-steps.ts';
import type { OffloadJob, OffloadOutcome } from './protocol.ts';
import { STAGES, type PureEnv } from './stages.ts';

const profiles = new Map<number, HardwareProfile>();

function run(job: OffloadJob): OffloadOutcome {
  if (job.profile) profiles.set(job.profileId, job.profile);
  const payload = Buffer.concat(job.parts);
  const row = procedureByName(job.name);
  const a = admit(job.conn, job.name, row.args, job.proc, job.serial, payload);
  if (a.reply !== undefined) return { id: job.id, kind: 'reply', packet: a.reply };
  const stage = STAGES[job.name];
  if (!stage) return { id: job.id, kind: 'args', args: a.args };
  const env: PureEnv = { domain: domainContext(profiles.get(job.profileId)!, job.sectypes), conn: job.conn, longestName: job.longestName };
  if (!stage.finish) return { id: job.id, kind: 'reply', packet: replyOf(job.name, job.proc, job.serial, () => stage.pure(a.args as never, env)) };
  try {
    return { id: job.id, kind: 'finish', value: stage.pure(a.args as never, env) };
  } catch (e) {
    // A pure half that fails is the call's answer: its error reply is encoded here, big as it may be.
    return { id: job.id, kind: 'reply', packet: errorReply(job.proc, job.serial, asLibvirtError(e)) };
  }
}

parentPort!.on('message', (job: OffloadJob) => {
  let out: OffloadOutcome;
  try {
    out = run(job);
  } catch {
    out = { id: job.id, kind: 'reply', packet: null };
  }
  // A reply moves to the main thread in a buffer of its own (a writer's buffer is larger than what it holds).
  if (out.kind === 'reply' && out.packet && !whole(out.packet)) out = { ...out, packet: out.packet.slice() };
  const transfer = out.kind === 'reply' && out.packet ? [out.packet.buffer as ArrayBuffer] : [];
  parentPort!.postMessage(out, transfer);
  shrink();
});

/**
 * This thread's memory is the daemon's: a multi-megabyte document leaves a heap of garbage that V8
 * would keep until its next collection, so past a modest size it is collected at once.
 */
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
const KEEP_BYTES = 48 << 20;
function shrink(): void {
  if (getHeapStatistics().used_heap_size > KEEP_BYTES) collect();
}

function whole(b: Uint8Array): boolean {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength;
}
