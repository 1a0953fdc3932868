/**
 * Real mode's hold on a served fake's control socket (`sevharness serve --control PATH`): when the
 * host under judgement is a fake daemon, the host controls a real host lacks (kernel parameters,
 * firmware faults, /dev/sev, the capability cache) and the look inside QEMU come through it, so
 * the cases needing them run as on the fake target. Only the control client's public verbs are
 * used; what `inspect` answers is checked before a judge reads it.
 */
import { z } from 'zod';
import { ControlClient, ControlError } from '../../fakelibvirt/control/client.ts';
import type { Fault } from '../../fakelibvirt/control/fault.ts';
import type { HostSnapshot } from '../../fakelibvirt/host/fake-host.ts';
import { HostFactsError } from './host-files.ts';

/** The part of the control socket's `/inspect` answer the judges read (a HostSnapshot). */
const SnapshotSchema = z.object({
  profile: z.string(),
  kernel: z.object({
    kvmAmdLoaded: z.boolean(),
    sysfs: z.record(z.string(), z.string()),
    sevEnabled: z.boolean(),
    sevEsEnabled: z.boolean(),
    snpEnabled: z.boolean(),
    miscCapacity: z.object({ sev: z.number().optional(), sev_es: z.number().optional() }).nullable(),
  }),
  sevVisibleToLibvirt: z.boolean(),
  asids: z.object({
    inUse: z.array(z.object({ asid: z.number().int(), kind: z.string(), domain: z.string() })),
    flushes: z.number().int(),
  }),
  pinnedKiB: z.number(),
  guests: z.array(
    z.object({
      name: z.string(),
      state: z.string(),
      asid: z.number().int().optional(),
      firmwareState: z.string().optional(),
      policy: z.string().optional(),
      pinnedKiB: z.number(),
      faults: z.array(z.string()),
    }),
  ),
});

export class ControlLink {
  /** A fault was applied since the host was last put back. */
  private bent = false;

  private constructor(
    private readonly client: ControlClient,
    /** The served host this link controls. */
    readonly hostName: string,
    /** The faults the host had when real mode found it (its owner's setup), newest first. */
    private readonly baseline: readonly Fault[],
  ) {}

  /**
   * Connects to the control socket and picks the host: the only one served, or `host` by name.
   * A socket that does not answer, or serves several hosts with none named, is refused.
   */
  static async open(socketPath: string, host?: string): Promise<ControlLink> {
    let hosts: string[];
    try {
      hosts = (await new ControlClient(socketPath).call<{ hosts: string[] }>('GET', '/')).hosts;
    } catch (e) {
      throw new HostFactsError(`control socket ${socketPath} does not answer: ${(e as Error).message}`);
    }
    const name = host ?? (hosts.length === 1 ? hosts[0] : undefined);
    if (name === undefined) throw new HostFactsError(`control socket ${socketPath} serves several hosts (${hosts.join(', ')}); name one with --control-host`);
    if (!hosts.includes(name)) throw new HostFactsError(`control socket ${socketPath} serves no host '${name}' (served: ${hosts.join(', ')})`);
    const client = new ControlClient(socketPath, name);
    // What the owner set up (say, kvm_amd.sev=0 to judge a misconfigured host) is the host judged.
    const baseline = (await client.listHandlers()).filter((h) => !h.used).map((h) => (typeof h.remaining === 'number' ? { ...h.fault, times: h.remaining } : h.fault) as Fault);
    return new ControlLink(client, name, baseline);
  }

  /**
   * Applies a fault; false where the fake target would not apply it either (a firmware fault on a
   * host without SEV firmware, which the control socket answers 409). Other refusals are errors.
   */
  async use(f: Fault): Promise<boolean> {
    try {
      this.bent = true;
      await this.client.use(f);
      return true;
    } catch (e) {
      if (e instanceof ControlError && e.status === 409 && f.kind === 'firmware') return false;
      throw e;
    }
  }

  /** The host back as real mode found it: the faults applied since dropped, its owner's kept (guests stay). */
  async restore(): Promise<void> {
    if (!this.bent) return;
    await this.client.resetHandlers();
    // Newest first, as listed: `use(a, b)` consults a before b, so the order is kept.
    if (this.baseline.length > 0) await this.client.use(...this.baseline);
    this.bent = false;
  }

  async inspect(): Promise<HostSnapshot> {
    const r = SnapshotSchema.safeParse(await this.client.inspect());
    if (!r.success) throw new Error(`the control socket's inspect answer is not a host snapshot: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return r.data;
  }
}
