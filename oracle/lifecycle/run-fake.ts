/**
 * The fake's side of a lifecycle scenario: the same steps on a FakeHost, answered in the oracle's
 * form (oracle/libvirt_oracle.py's STEPS: the Python binding's return values).
 */
import { LibvirtError } from '../../src/libvirt/errors.ts';
import type { DomainHandle, FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import type { ScenarioStep, StepAnswer } from '../oracle-process.ts';
import type { Scenario } from './scenarios.ts';

type Step = (h: FakeHost, d: DomainHandle, ...args: number[]) => unknown;

const ok = (f: (h: FakeHost, d: DomainHandle, ...a: number[]) => void): Step => (h, d, ...a) => (f(h, d, ...a), 0);

const STEPS: Record<string, Step> = {
  create: ok((h, d, flags = 0) => h.create(d, flags)),
  resume: ok((h, d) => h.resume(d)),
  suspend: ok((h, d) => h.suspend(d)),
  shutdown: ok((h, d, flags = 0) => h.shutdown(d, flags)),
  reboot: ok((h, d, flags = 0) => h.reboot(d, flags)),
  reset: ok((h, d, flags = 0) => h.reset(d, flags)),
  destroy: ok((h, d, flags = 0) => h.destroy(d, flags)),
  undefineFlags: ok((h, d, flags = 0) => h.undefine(d, flags)),
  getXMLDesc: (h, d, flags = 0) => h.getXMLDesc(d, flags),
  setMemory: ok((h, d, kib) => h.setMemory(d, kib as number)),
  setMemoryFlags: ok((h, d, kib, flags) => h.setMemoryFlags(d, kib as number, flags as number)),
  setMaxMemory: ok((h, d, kib) => h.setMaxMemory(d, kib as number)),
  setVcpus: ok((h, d, n) => h.setVcpus(d, n as number)),
  setVcpusFlags: ok((h, d, n, flags) => h.setVcpusFlags(d, n as number, flags as number)),
  getVcpusFlags: (h, d, flags = 0) => h.getVcpusFlags(d, flags),
  getMaxVcpus: (h, d) => h.getMaxVcpus(d),
  getMaxMemory: (h, d) => Number(h.getMaxMemory(d)),
  getInfo: (h, d) => {
    const i = h.getInfo(d);
    return [i.state, Number(i.maxMemKiB), Number(i.memoryKiB), i.nrVirtCpu];
  },
  getState: (h, d, flags = 0) => {
    const s = h.getState(d, flags);
    return [s.state, s.reason];
  },
  isActive: (h, d) => (h.isActive(d) ? 1 : 0),
  isPersistent: (h, d) => (h.isPersistent(d) ? 1 : 0),
};

function runStep(host: FakeHost, dom: DomainHandle, step: ScenarioStep): StepAnswer {
  const [name, ...args] = step;
  const f = STEPS[name];
  if (!f) throw new Error(`lifecycle: no fake step '${name}'`);
  try {
    return { outcome: 'ok', ret: f(host, dom, ...(args as number[])) };
  } catch (e) {
    if (!(e instanceof LibvirtError)) throw e;
    return { outcome: 'error', code: e.code, domain: e.domain, message: e.message };
  }
}

/** Defines the scenario's domain on `host` and answers each step. */
export function runScenarioOnFake(host: FakeHost, s: Scenario): StepAnswer[] {
  const dom = host.defineXML(s.xml);
  try {
    return s.steps.map((step) => runStep(host, dom, step));
  } finally {
    try {
      if (host.isActive(dom)) host.destroy(dom);
      host.undefine(dom, 0);
    } catch {
      // already gone (the scenario undefined it)
    }
  }
}
