/**
 * A real host's evidence that a driver's guest runs encrypted. Real mode cannot see ASIDs or the
 * firmware's guest state, and libvirt's say-so is not evidence: what counts is what a guest kernel
 * reports about its own memory. So real mode boots its probe guest (guest-probe/) with the launch
 * settings of the driver's guest — the same model, firmware, C-bit — and reads the probe's console
 * report. One probe per distinct launch setting per run (booting takes seconds to minutes).
 */
import { XMLParser } from 'fast-xml-parser';
import type { LibvirtClient } from '../../src/libvirt/client.ts';
import { NotApplicable } from '../runner/outcomes.ts';
import type { GuestEvidence } from '../runner/target.ts';
import { probeGuest, type ProbeOptions, type ProbeReport } from './guest-probe/probe.ts';

/** Boots the probe guest on a host and returns its report (tests pass a recorded console instead). */
export type GuestProber = (client: LibvirtClient, o: ProbeOptions) => Promise<Pick<ProbeReport, 'encryption' | 'kernelLines'>>;

export const bootProbe: GuestProber = probeGuest;

/** virDomainState: VIR_DOMAIN_RUNNING. */
const STATE_RUNNING = 1;

/** The launch settings of a running guest, as its live XML states them. */
export interface LaunchSettings {
  readonly kind: 'sev' | 'sev-es';
  readonly policy: number;
  readonly loader: string;
  readonly cbitpos: number;
  readonly reducedPhysBits: number;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });

/** The launch settings in a domain's XML; null without an SEV <launchSecurity> or a firmware loader to reuse. */
export function launchSettings(xml: string): LaunchSettings | null {
  const dom = (parser.parse(xml) as { domain?: Record<string, unknown> }).domain;
  const ls = dom?.launchSecurity as Record<string, unknown> | undefined;
  if (!ls || ls['@type'] !== 'sev') return null;
  const num = (v: unknown) => Number(typeof v === 'object' && v !== null ? (v as Record<string, unknown>)['#text'] : v);
  const policy = num(ls.policy);
  const loaderNode = (dom?.os as Record<string, unknown> | undefined)?.loader;
  const loader = typeof loaderNode === 'string' ? loaderNode : (loaderNode as Record<string, unknown> | undefined)?.['#text'];
  if (!Number.isFinite(policy) || typeof loader !== 'string' || loader === '') return null;
  return { kind: policy & 0x4 ? 'sev-es' : 'sev', policy, loader: loader.trim(), cbitpos: num(ls.cbitpos), reducedPhysBits: num(ls.reducedPhysBits) };
}

/** Gathers evidence for the guests of one host, booting the probe once per launch setting. */
export class EvidenceCollector {
  private readonly probes = new Map<string, Promise<Pick<ProbeReport, 'encryption' | 'kernelLines'>>>();

  constructor(
    private readonly client: LibvirtClient,
    private readonly domainType: 'kvm' | 'qemu',
    private readonly prober: GuestProber,
  ) {}

  /** Null when libvirt knows no such guest. A guest without SEV launch settings is evidence too: of no encryption. */
  async of(domainName: string): Promise<GuestEvidence | null> {
    let xml: string;
    let running: boolean;
    try {
      const dom = await this.client.lookupByName(domainName);
      running = (await this.client.getState(dom)).state === STATE_RUNNING;
      xml = await this.client.getXMLDesc(dom);
    } catch {
      return null;
    }
    const launch = launchSettings(xml);
    if (!launch) return { running, policy: null, guestKernel: 'none', kernelLines: [] };
    const key = JSON.stringify([launch.kind, launch.loader, launch.cbitpos, launch.reducedPhysBits]);
    let probe = this.probes.get(key);
    if (!probe) {
      const sev = { kind: launch.kind, loader: launch.loader, cbitpos: launch.cbitpos, reducedPhysBits: launch.reducedPhysBits };
      probe = this.prober(this.client, { domainType: this.domainType, sev });
      this.probes.set(key, probe);
    }
    let report: Pick<ProbeReport, 'encryption' | 'kernelLines'>;
    try {
      report = await probe;
    } catch (e) {
      // Without the guest's own word the case cannot pass; the host, not the driver, is at fault.
      throw new NotApplicable(`no evidence from inside the guest: the probe guest launched like ${domainName} did not report (${(e as Error).message})`);
    }
    return { running, policy: launch.policy, guestKernel: report.encryption, kernelLines: report.kernelLines };
  }
}
