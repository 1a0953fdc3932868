// A client in its own process that calls getLibVersion on a libvirt socket in a loop and, when its
// stdin closes, prints the round-trip times in milliseconds as one JSON line. Being a separate
// process, it measures the daemon, not the event loop of the test that attacks it.
// With CONTROL, it also times the same frame echoed by a trivial server in another process: what
// the machine alone adds to a round trip at that moment (a 2-core machine shared with other work).
// Usage: node bystander.mjs SOCKET [INTERVAL_MS] [CONTROL_SOCKET]
import { connect } from 'node:net';

const [socketPath, intervalArg, controlPath] = process.argv.slice(2);
const interval = Number(intervalArg ?? 5);
const PROGRAM = 0x20008086;
const frame = (proc, serial, payload = Buffer.alloc(0)) => {
  const b = Buffer.alloc(28 + payload.length);
  b.writeUInt32BE(b.length, 0);
  b.writeUInt32BE(PROGRAM, 4);
  b.writeUInt32BE(1, 8);
  b.writeInt32BE(proc, 12);
  b.writeInt32BE(0, 16); // CALL
  b.writeUInt32BE(serial, 20);
  b.writeInt32BE(0, 24);
  payload.copy(b, 28);
  return b;
};
const AUTH_LIST = 66;
const CONNECT_OPEN = 1;
const GET_LIB_VERSION = 157;

/** A framed connection: `call(proc, payload)` resolves with the reply's status. */
function channel(path) {
  const sock = connect(path);
  let buf = Buffer.alloc(0);
  const waiting = new Map();
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= buf.readUInt32BE(0)) {
      const len = buf.readUInt32BE(0);
      const serial = buf.readUInt32BE(20);
      const status = buf.readInt32BE(24);
      buf = buf.subarray(len);
      waiting.get(serial)?.(status);
      waiting.delete(serial);
    }
  });
  sock.on('error', () => undefined);
  let serial = 0;
  const call = (proc, payload) =>
    new Promise((resolve, reject) => {
      const s = serial++;
      waiting.set(s, (status) => (status === 0 ? resolve() : reject(new Error(`status ${status}`))));
      sock.write(frame(proc, s, payload));
    });
  const ready = new Promise((r) => sock.once('connect', r));
  return { sock, call, ready };
}

const daemon = channel(socketPath);
const control = controlPath ? channel(controlPath) : null;
const times = [];
const controlTimes = [];
let running = true;
let failures = 0;
process.stdin.on('end', () => (running = false));
process.stdin.resume();
await daemon.ready;
await control?.ready;
await daemon.call(AUTH_LIST);
await daemon.call(CONNECT_OPEN, Buffer.alloc(8)); // name: null, flags: 0
process.stdout.write('ready\n');
while (running) {
  let t0 = performance.now();
  try {
    await daemon.call(GET_LIB_VERSION);
    times.push(performance.now() - t0);
  } catch {
    failures++;
  }
  if (control) {
    t0 = performance.now();
    await control.call(GET_LIB_VERSION);
    controlTimes.push(performance.now() - t0);
  }
  await new Promise((r) => setTimeout(r, interval));
}
process.stdout.write(`${JSON.stringify({ times, controlTimes, failures })}\n`);
daemon.sock.destroy();
control?.sock.destroy();
