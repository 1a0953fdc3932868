/** The process adapter against scripted drivers that misbehave in one way each (fixtures/fake-driver.mjs). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { isRefusal, type BootRequest, type ReportHostParams, type Warning } from '../contract.ts';
import { ProcessDriverError, startProcessDriver, type ProcessDriver, type ProcessDriverOptions } from './process.ts';
import { TailBuffer } from './tail-buffer.ts';

const FAKE = fileURLToPath(new URL('./fixtures/fake-driver.mjs', import.meta.url));
const QUICK: ProcessDriverOptions = { timeouts: { hello: 3000, op: 3000, shutdown: 1000 } };
const dir = mkdtempSync(join(tmpdir(), 'sevharness-process-'));
let stateN = 0;
const stateFile = () => join(dir, `state-${stateN++}`);

const REPORT_PARAMS: ReportHostParams = {
  uri: 'qemu+unix:///system?socket=/nonexistent/sock',
  sysroot: '/nonexistent',
  config: { machineTypes: {}, maxEncryptedGuests: null, ovmf: [] },
};
const request = (machine: string, extraSpecs: Record<string, string> = {}): BootRequest => ({
  flavor: { name: 'm1.small', vcpus: 1, memoryMiB: 512, diskGiB: 1, extraSpecs: { 'hw:mem_encryption': 'true', ...extraSpecs } },
  image: { id: 'img', name: 'img', properties: { hw_firmware_type: 'uefi', hw_machine_type: machine }, volumeBacked: false },
  config: { machineTypes: {}, maxEncryptedGuests: null, ovmf: [] },
});

const open: ProcessDriver[] = [];
async function start(mode: string, extra: readonly string[] = [], opts: ProcessDriverOptions = QUICK): Promise<ProcessDriver> {
  const d = await startProcessDriver([process.execPath, FAKE, mode, ...extra], opts);
  open.push(d);
  return d;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close?.()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The pid the fake driver reported in its warnings (`pid N`). */
function pidOf(warnings: readonly Warning[]): number {
  const w = warnings.find((x): x is string => typeof x === 'string' && x.startsWith('pid '));
  if (!w) throw new Error(`no pid in ${JSON.stringify(warnings)}`);
  return Number(w.slice(4));
}
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
async function rejection(p: Promise<unknown>): Promise<ProcessDriverError> {
  const e = await p.then(
    () => new Error('expected a rejection'),
    (err: unknown) => err,
  );
  if (!(e instanceof ProcessDriverError)) throw e;
  return e;
}

describe('handshake', () => {
  it('describes the driver from hello and leaves out the ops it did not list', async () => {
    const d = await start('ok');
    expect(d.describe()).toMatchObject({ name: 'fake-ok', version: '1.0', ops: ['reportHost', 'validateRequest', 'buildGuestXml'], models: ['amd-sev'] });
    expect(d.validateRequest).toBeTypeOf('function');
    expect(d.buildGuestXml).toBeTypeOf('function');
    expect(d.spawn).toBeUndefined();
    expect(d.lifecycle).toBeUndefined();
    expect(d.schedule).toBeUndefined();
    expect(d.release).toBeUndefined();
  });

  it('times out a driver that never answers hello, and kills it', async () => {
    const state = stateFile();
    // Long enough for node to start and write its pid on a loaded machine (300 ms was not).
    const e = await rejection(startProcessDriver([process.execPath, FAKE, 'slow-hello', state], { timeouts: { hello: QUICK.timeouts!.hello! } }));
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toMatch(/no answer to hello/);
    expect(alive(Number(readFileSync(state, 'utf8')))).toBe(false);
  });

  it('reports a PROTOCOL_MISMATCH answer and a description with another protocol version', async () => {
    const a = await rejection(start('mismatch'));
    expect(a.code).toBe('PROTOCOL_MISMATCH');
    expect(a.message).toMatch(/speaks 2, got 1/);
    const b = await rejection(start('protocol-2'));
    expect(b.code).toBe('PROTOCOL_MISMATCH');
    expect(b.message).toMatch(/protocol 2, the suite speaks 1/);
  });

  it('fails clearly when the command cannot be run', async () => {
    const e = await rejection(startProcessDriver(['/nonexistent/driver-binary'], QUICK));
    expect(e.code).toBe('START_FAILED');
    expect(e.message).toMatch(/ENOENT/);
    await expect(startProcessDriver([], QUICK)).rejects.toThrow(/empty/);
  });
});

describe('answers', () => {
  it('returns results, refusals as Refusal objects, and driver error codes as errors', async () => {
    const d = await start('ok');
    const report = await d.reportHost(REPORT_PARAMS);
    expect(report.traits).toEqual(['HW_CPU_X86_AMD_SEV']);
    expect(report.warnings).toContain(`uri ${REPORT_PARAMS.uri}`);

    const ok = await d.validateRequest!(request('q35'));
    expect(isRefusal(ok)).toBe(false);
    expect(ok).toMatchObject({ model: 'amd-sev', machineType: 'q35' });

    const refused = await d.validateRequest!(request('pc'));
    expect(refused).toEqual({ code: 'Q35_REQUIRED', message: 'machine pc' });

    const internal = await rejection(d.validateRequest!(request('boom')));
    expect(internal.code).toBe('INTERNAL');
    expect(internal.message).toMatch(/driver bug/);
    const odd = await rejection(d.validateRequest!(request('odd')));
    expect(odd.code).toBe('UNKNOWN_ERROR_CODE');

    // Protocol errors are answers: the same process keeps serving.
    expect(pidOf((await d.reportHost(REPORT_PARAMS)).warnings)).toBe(pidOf(report.warnings));
  });

  it('serialises concurrent calls (one request at a time, ids matched)', async () => {
    const d = await start('ok');
    const answers = await Promise.all([d.validateRequest!(request('q35')), d.validateRequest!(request('pc')), d.reportHost(REPORT_PARAMS)]);
    expect(answers[0]).toMatchObject({ machineType: 'q35' });
    expect(answers[1]).toMatchObject({ code: 'Q35_REQUIRED' });
    expect(answers[2]).toMatchObject({ traits: ['HW_CPU_X86_AMD_SEV'] });
  });

  it('rejects a reportHost refusal: reportHost never refuses', async () => {
    const d = await start('refuse-report');
    const e = await rejection(d.reportHost(REPORT_PARAMS));
    expect(e.message).toMatch(/reportHost may not refuse.*NO_SEV_HOST/);
  });

  it('rejects a malformed result with the schema message', async () => {
    const d = await start('malformed');
    const e = await rejection(d.reportHost(REPORT_PARAMS));
    expect(e.code).toBe('MALFORMED_RESULT');
    expect(e.message).toMatch(/traits/);
  });

  it('refuses to send params that do not match the contract, without harming the driver', async () => {
    const d = await start('ok');
    const bad = { ...REPORT_PARAMS, uri: '' };
    const e = await rejection(d.reportHost(bad));
    expect(e.code).toBe('INVALID_PARAMS');
    expect(e.message).toMatch(/uri/);
    await expect(d.reportHost(REPORT_PARAMS)).resolves.toMatchObject({ traits: ['HW_CPU_X86_AMD_SEV'] });
  });
});

describe('big and split messages', () => {
  it('reads a result of several megabytes', async () => {
    const d = await start('huge');
    const report = await d.reportHost(REPORT_PARAMS);
    expect(report.warnings).toHaveLength(2000);
    expect(report.warnings[1999]).toBe(`warning 1999 ${'é'.repeat(2000)}`);
  });

  it('joins a line written in pieces, cut inside a UTF-8 character', async () => {
    const d = await start('partial');
    expect((await d.reportHost(REPORT_PARAMS)).warnings).toEqual(['café au lait']);
  });

  it('sends a big request and reads the echo', async () => {
    const d = await start('ok');
    const spec = 'x'.repeat(1 << 20);
    const r = await d.buildGuestXml!({ request: request('q35', { 'custom:big': spec }), host: { traits: [], inventories: {}, warnings: [] }, instance: { uuid: '0f4e8d2a-5b1c-4e3f-9a7d-6c2b1e0f3a4d', name: 'instance-1' } });
    if (isRefusal(r)) throw new Error(r.message);
    expect(r.xml).toContain(spec);
    expect(r.xml).toContain('<name>instance-1</name>');
  });
});

describe('failures kill the process and the next call starts a fresh one', () => {
  it('a crash mid-operation rejects with the exit and the stderr tail', async () => {
    const d = await start('crash-once', [stateFile()]);
    const e = await rejection(d.reportHost(REPORT_PARAMS));
    expect(e.code).toBe('EXITED');
    expect(e.message).toMatch(/exited with code 3 during reportHost/);
    expect(e.message).toMatch(/about to crash in reportHost/);
    expect(d.stderrTail()).toMatch(/about to crash/);
    const report = await d.reportHost(REPORT_PARAMS);
    expect(alive(pidOf(report.warnings))).toBe(true);
  });

  it('a timed-out operation is killed; the restarted process answers', async () => {
    const state = stateFile();
    const d = await start('hang-once', [state], { timeouts: { hello: 3000, op: 300, shutdown: 1000 } });
    const firstPid = Number(readFileSync(state, 'utf8'));
    const e = await rejection(d.reportHost(REPORT_PARAMS));
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toMatch(/no answer to reportHost \(id 1\) within 300 ms/);
    expect(e.message).toMatch(/hanging in reportHost/);
    const report = await d.reportHost(REPORT_PARAMS);
    expect(pidOf(report.warnings)).not.toBe(firstPid);
    expect(alive(firstPid)).toBe(false);
  });

  it.each([
    ['garbage', /not JSON: "this is not json"/],
    ['stray', /not a response/],
    ['wrong-id', /response id 2 does not match the pending request's id 1/],
  ])('%s on stdout is a protocol violation', async (mode, text) => {
    const d = await start(mode);
    const e = await rejection(d.reportHost(REPORT_PARAMS));
    expect(e.code).toBe('PROTOCOL_VIOLATION');
    expect(e.message).toMatch(text);
    // The next call restarts the process (new hello, id 1 again) and gets the same violation.
    const again = await rejection(d.reportHost(REPORT_PARAMS));
    expect(again.message).toMatch(text);
  });

  it('a stray line between calls kills the process; the reason lands in the stderr tail', async () => {
    const d = await start('chatty-once', [stateFile()]);
    const first = pidOf((await d.reportHost(REPORT_PARAMS)).warnings);
    await vi.waitFor(() => expect(d.stderrTail()).toMatch(/stdout line is not JSON: "debug: report sent"; the driver was killed/));
    const second = pidOf((await d.reportHost(REPORT_PARAMS)).warnings);
    expect(second).not.toBe(first);
    expect(alive(first)).toBe(false);
  });
});

describe('close', () => {
  it('is idempotent and later calls are refused', async () => {
    const d = await start('ok');
    const pid = pidOf((await d.reportHost(REPORT_PARAMS)).warnings);
    await Promise.all([d.close!(), d.close!()]);
    await d.close!();
    expect(alive(pid)).toBe(false);
    expect((await rejection(d.reportHost(REPORT_PARAMS))).code).toBe('CLOSED');
  });

  it('escalates to SIGTERM and SIGKILL when the driver ignores shutdown', async () => {
    const d = await start('ignore-shutdown', [], { timeouts: { hello: 3000, op: 3000, shutdown: 200 } });
    const pid = pidOf((await d.reportHost(REPORT_PARAMS)).warnings);
    await d.close!();
    expect(alive(pid)).toBe(false);
    expect(d.stderrTail()).toMatch(/ignoring SIGTERM/);
    expect(d.stderrTail()).toMatch(/sending SIGKILL/);
  });
});

describe('TailBuffer', () => {
  it('keeps the last bytes only', () => {
    const t = new TailBuffer(10);
    t.push('hello ');
    t.push('world, ');
    t.push(Buffer.from('again'));
    expect(t.text()).toBe('rld, again');
    t.push('0123456789abc');
    expect(t.text()).toBe('3456789abc');
  });
});
