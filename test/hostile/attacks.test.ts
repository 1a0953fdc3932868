/**
 * The standing hostile-input suite (issue 15): a `sevharness serve --state-dir` process attacked the
 * way a local user could — fuzzed frames, XDR and XML (fast-check, fixed seed) through live sockets,
 * pipelining and clients that stop reading, replies too large to send, connection floods, multi-
 * megabyte documents, kill -9 in the middle of define/undefine loops — while another client calls
 * getLibVersion throughout. The daemon never exits, stays under 300 MiB, answers the bystander
 * (issue 15's bound: within 50 ms during every attack, multi-megabyte documents and 4 MiB
 * arguments included, which leave the main thread for a worker), touches nothing outside its state
 * directory, and loses nothing it acknowledged.
 */
import { createHash, randomUUID } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/libvirt/client.ts';
import { encodeArgs, encodeCall } from '../../src/rpc/codec.ts';
import { MessageStatus, MessageType, REMOTE_PROGRAM } from '../../src/rpc/constants.ts';
import { encodeMessage } from '../../src/rpc/header.ts';
import { Proc, PROCEDURE_ROWS } from '../../src/rpc/procedures.ts';
import { STRING_MAX } from '../../src/xdr/index.ts';
import { guestXml as daemonGuestXml } from '../daemon/helpers.ts';
import { RawClient } from '../daemon/raw-client.ts';
import { Bystander, rawCall, rawClient, serveChild, type ServeChild } from './support.ts';

const PROFILE = 'milan-7003-es8';
const guestXml = (o: { name: string }) => daemonGuestXml({ name: o.name, uuid: randomUUID() });
const SEED = 15;
/**
 * Bystander bounds, the same for every attack: issue 15's figures — half the calls within 20 ms, 95 %
 * within 50 ms, none over 500 ms (the stalls of the findings lasted from 0.7 s to many seconds) —
 * plus what the machine alone added meanwhile, measured in the same seconds: the same frame echoed
 * by a trivial server in another process, timed by the bystander between its calls. On an idle
 * machine that share is a millisecond and the bounds are the issue's; on a 2-core machine shared
 * with other test files it reaches tens to hundreds of milliseconds for any process, and more for
 * the daemon, which needs the CPU an idle echo does not (serving the attacker between the
 * bystander's calls): hence the factors. Figures printed at the end.
 */
const BOUND = { median: 20, p95: 50, max: 500 };
const SHARE = { median: 3, p95: 4, max: 2 };

/** name → mode, size, mtime, content hash of every entry under `dir`, symlinks not followed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = lstatSync(p);
      const hash = st.isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : '';
      out[p] = `${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${hash}`;
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

const figures: string[] = [];

describe('the daemon under attack', () => {
  let world: string;
  let state: string;
  let outside: string;
  let before: Record<string, string>;
  let serve: ServeChild;
  let rssMax = 0;
  let sampler: NodeJS.Timeout;
  let uri: string;
  let roPath: string;
  let rwPath: string;

  beforeAll(async () => {
    world = mkdtempSync(join(tmpdir(), 'sevharness-attack-'));
    state = join(world, 'state');
    outside = join(world, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'victim'), 'must not change\n', { mode: 0o600 });
    mkdirSync(join(outside, 'dir'));
    // What a local user could plant in a state directory it can write to before the daemon starts.
    const own = join(state, PROFILE);
    mkdirSync(join(own, 'sysroot', 'proc'), { recursive: true });
    mkdirSync(join(own, 'domains'));
    symlinkSync(join(outside, 'victim'), join(own, 'sysroot', 'proc', 'cpuinfo'));
    symlinkSync(join(outside, 'victim'), join(own, 'domains', '00000000-0000-4000-8000-000000000001.xml'));
    writeFileSync(join(own, 'domains', '.00000000-0000-4000-8000-000000000002.xml.4242.tmp'), '<dom');
    before = snapshot(outside);
    roPath = join(state, 'ro-sock');
    serve = await serveChild(['--profile', PROFILE, '--state-dir', state, '--read-only-socket', roPath]);
    uri = serve.announced.uri;
    rwPath = serve.announced.socket;
    sampler = setInterval(() => {
      rssMax = Math.max(rssMax, serve.rssMiB());
    }, 50);
  });

  afterAll(async () => {
    clearInterval(sampler);
    expect(serve.child.exitCode).toBeNull();
    await serve.kill('SIGTERM');
    // Nothing outside the state directory was created, changed or chmod'ed.
    expect(snapshot(outside)).toEqual(before);
    expect(readdirSync(world).sort()).toEqual(['outside', 'state']);
    expect(rssMax).toBeLessThan(300);
    figures.push(`daemon RSS max ${rssMax.toFixed(0)} MiB`);
    console.log(`hostile suite figures:\n  ${figures.join('\n  ')}`);
    rmSync(world, { recursive: true, force: true });
  });

  /** Runs an attack with a bystander; checks the daemon survived and kept answering. */
  async function underAttack(name: string, attack: () => Promise<void>): Promise<void> {
    const bystander = await Bystander.start(uri, 5, true);
    const t0 = performance.now();
    await attack();
    await new Promise((r) => setTimeout(r, 20));
    const { daemon: lat, control } = await bystander.stopWithControl();
    const noise = control!;
    const ms = (x: number) => x.toFixed(1);
    figures.push(`${name}: ${(performance.now() - t0).toFixed(0)} ms; bystander ${lat.count} calls, median ${ms(lat.median)}, p95 ${ms(lat.p95)}, p99 ${ms(lat.p99)}, max ${ms(lat.max)} ms; echo control median ${ms(noise.median)}, p95 ${ms(noise.p95)}, max ${ms(noise.max)} ms`);
    expect(serve.child.exitCode).toBeNull();
    expect(lat.count).toBeGreaterThan(0);
    expect(lat.median).toBeLessThan(BOUND.median + SHARE.median * noise.median);
    expect(lat.p95).toBeLessThan(BOUND.p95 + SHARE.p95 * noise.p95);
    expect(lat.max).toBeLessThan(BOUND.max + SHARE.max * noise.max);
  }

  it('started without following the links planted in its state directory', () => {
    expect(serve.stderr()).toContain('00000000-0000-4000-8000-000000000001.xml was not loaded: it is a symbolic link; not following it');
    expect(serve.stderr()).not.toContain('must not change');
    expect(lstatSync(join(state, PROFILE, 'sysroot', 'proc', 'cpuinfo')).isFile()).toBe(true);
    expect(readdirSync(join(state, PROFILE, 'domains'))).toEqual(['00000000-0000-4000-8000-000000000001.xml']);
  });

  it('fuzzed frames and XDR arguments', async () => {
    const calls = PROCEDURE_ROWS.filter((r) => r.kind === 'call').map((r) => r.number);
    const frame = fc.oneof(
      // Random bytes, possibly a plausible length word.
      fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a)),
      // A well-formed header for a real procedure with random argument bytes.
      fc.tuple(fc.constantFrom(...calls), fc.uint8Array({ maxLength: 200 })).map(([proc, a]) =>
        encodeMessage({ prog: REMOTE_PROGRAM, vers: 1, proc, type: MessageType.CALL, serial: 7, status: MessageStatus.OK }, Buffer.from(a)),
      ),
      // A valid call with a few bytes overwritten.
      fc.tuple(fc.constantFrom(encodeCall('DOMAIN_LOOKUP_BY_NAME', 3, { name: 'x' }), encodeCall('CONNECT_OPEN', 1, { name: null, flags: 0 })), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 })).map(([f, edits]) => {
        const b = Buffer.from(f);
        for (const [at, v] of edits) b[at % b.length] = v;
        return b;
      }),
    );
    await underAttack('fuzzed frames and XDR (150 runs)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.boolean(), fc.array(frame, { minLength: 1, maxLength: 5 }), async (readOnly, frames) => {
          const c = await rawClient(readOnly ? roPath : rwPath);
          for (const f of frames) c.send(f);
          c.send(rawCall(Proc.CONNECT_GET_LIB_VERSION, 999));
          // Either answered or closed; a frame announcing more bytes than it carries leaves it waiting.
          await Promise.race([c.reply(999), new Promise((r) => setTimeout(r, 20))]);
          c.destroy();
        }),
        { seed: SEED, numRuns: 150 },
      );
    });
  });

  it('fuzzed XML documents to defineXML, attachDevice and baselineCPU', async () => {
    const base = guestXml({ name: 'fuzz' });
    const mutated = fc.tuple(fc.array(fc.tuple(fc.nat(), fc.nat(8), fc.constantFrom('<', '>', '/', '&', "'", '"', '=', '!--', '<![CDATA[', '&#0;', '\0', ' ', 'é', '\uFFFF')), { maxLength: 6 })).map(([edits]) => {
      let s = base;
      for (const [at, del, ins] of edits) {
        const i = at % (s.length + 1);
        s = s.slice(0, i) + ins + s.slice(i + del);
      }
      return s;
    });
    const dom = { name: 'fuzz', uuid: Buffer.alloc(16), id: -1 };
    await underAttack('fuzzed XML (100 runs)', async () => {
      const c = await rawClient(rwPath);
      const ro = await rawClient(roPath);
      let serial = 10;
      await fc.assert(
        fc.asyncProperty(mutated, async (xml) => {
          const s = serial;
          serial += 3;
          c.send(encodeCall('DOMAIN_DEFINE_XML', s, { xml }));
          c.send(encodeCall('DOMAIN_ATTACH_DEVICE_FLAGS', s + 1, { dom, xml, flags: 2 }));
          ro.send(encodeCall('CONNECT_BASELINE_CPU', s + 2, { xmlCPUs: [xml], flags: 0 }));
          expect(await c.reply(s + 1)).not.toBeNull();
          expect(await ro.reply(s + 2)).not.toBeNull();
        }),
        { seed: SEED, numRuns: 100 },
      );
      // Whatever the fuzz defined is removed again through the same API.
      const client = await connect(uri);
      for (const d of await client.listAllDomains()) if (d.name !== 'keep') await client.undefine(d).catch(() => undefined);
      await client.close();
      c.destroy();
      ro.destroy();
    });
  });

  it('pipelining clients that never read, and an event listener that never reads while domains churn', async () => {
    await underAttack('pipelining + slow readers', async () => {
      const pipes = await Promise.all([1, 2, 3].map(() => rawClient(rwPath)));
      const calls = Buffer.concat(Array.from({ length: 3000 }, (_, i) => rawCall(Proc.CONNECT_GET_HOSTNAME, 100 + i)));
      for (const p of pipes) {
        p.sock.pause();
        p.send(calls);
      }
      const listener = await rawClient(rwPath);
      listener.send(encodeCall('CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY', 5, { eventID: 0, dom: null }));
      await listener.reply(5);
      listener.sock.pause();
      const churn = await connect(uri);
      for (let i = 0; i < 20; i++) {
        const d = await churn.defineXML(guestXml({ name: `churn${i}` }));
        await churn.undefine(d);
      }
      await churn.close();
      for (const c of [...pipes, listener]) c.destroy();
    });
  });

  it('replies too large to send close only their own connections', async () => {
    await underAttack('over-long replies (4 connections)', async () => {
      const long = 'x'.repeat(STRING_MAX - 4);
      for (let i = 0; i < 2; i++) {
        const ro = await RawClient.open(roPath);
        ro.send(encodeCall('CONNECT_OPEN', 1, { name: long, flags: 0 }));
        const rw = await rawClient(rwPath);
        rw.send(encodeCall('DOMAIN_LOOKUP_BY_NAME', 2, { name: long }));
        await Promise.all([ro.closedByServer(), rw.closedByServer()]);
      }
    });
  });

  it('a flood of 400 connections that are opened and held', async () => {
    await underAttack('connection flood (400 held)', async () => {
      const held = await Promise.all(Array.from({ length: 400 }, () => RawClient.open(rwPath)));
      await new Promise((r) => setTimeout(r, 200));
      for (const h of held) h.destroy();
    });
  });

  it('multi-megabyte documents are parsed off the main thread', async () => {
    await underAttack('2 MB malformed documents (3)', async () => {
      const c = await rawClient(rwPath);
      const docs = [`<domain>${'<a/>'.repeat(500_000)}`, `<domain ${'a '.repeat(1_000_000)}>`, `<${'a'.repeat(2_000_000)}`];
      for (const [i, xml] of docs.entries()) {
        c.send(encodeCall('DOMAIN_DEFINE_XML', 10 + i, { xml }));
        await c.reply(10 + i);
      }
      c.destroy();
    });
  });
});

describe('kill -9 during define/undefine loops', () => {
  it('loses no acknowledged definition, resurrects no acknowledged removal, leaves no temporary file', async () => {
    const state = mkdtempSync(join(tmpdir(), 'sevharness-kill-'));
    const present = new Set<string>();
    const absent = new Set<string>();
    try {
      for (let round = 0; round < 2; round++) {
        const s = await serveChild(['--profile', PROFILE, '--state-dir', state]);
        expect(s.stderr()).not.toContain('was not loaded');
        const client = await connect(s.announced.uri);
        const names = new Set((await client.listAllDomains()).map((d) => d.name));
        for (const n of present) expect(names.has(n), `${n} was acknowledged as defined`).toBe(true);
        for (const n of absent) expect(names.has(n), `${n} was acknowledged as undefined`).toBe(false);
        expect(readdirSync(join(state, PROFILE, 'domains')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
        let stop = false;
        const loops = [0, 1].map(async (w) => {
          for (let i = 0; !stop; i++) {
            const name = `r${round}w${w}i${i}`;
            const d = await client.defineXML(guestXml({ name })).catch(() => null);
            if (d === null) return;
            present.add(name);
            if (i % 2 === 0) continue;
            // Until the undefine is acknowledged the domain may or may not survive a kill.
            present.delete(name);
            const ok = await client.undefine(d).then(() => true, () => false);
            if (!ok) return;
            absent.add(name);
          }
        });
        await new Promise((r) => setTimeout(r, 300 + round * 200));
        await s.kill('SIGKILL');
        stop = true;
        await Promise.all(loops);
        await client.close().catch(() => undefined);
      }
      figures.push(`kill -9: 2 rounds, ${present.size} definitions kept, ${absent.size} removals kept, 0 lost`);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  }, 60_000);
});
