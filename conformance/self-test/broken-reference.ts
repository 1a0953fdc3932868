/**
 * A broken driver: the reference driver with one behaviour changed where a driver developer would
 * get it wrong — its detection, its XML builder, its lifecycle guard — and everything else left as
 * it is. The contract answers are then whatever the changed driver naturally produces.
 */
import type { BuildXmlParams, DriverDescription, HostReport, ReportHostParams, SevDriver, ValidateParams } from '../contract.ts';
import { contractReportOf, ReferenceDriverAdapter } from '../adapters/reference.ts';
import type { ReferenceSevDriver } from '../../src/driver/index.ts';
import { referenceCore } from './reference-core.ts';

type Ops = Required<Omit<SevDriver, 'describe' | 'close'>>;

export interface Breakage {
  /** Changes one `ReferenceSevDriver` right after the adapter created it for a host (may re-detect). */
  readonly core?: (core: ReferenceSevDriver) => void | Promise<void>;
  /** Replaces contract operations; each override gets the unbroken operation to build on. */
  readonly ops?: (next: Ops) => Partial<Ops>;
}

/** JSON with sorted keys: equal reports compare equal whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export class BrokenReferenceDriver implements SevDriver {
  private readonly inner = new ReferenceDriverAdapter();
  private readonly broken = new WeakSet<ReferenceSevDriver>();
  /** Our report (canonical JSON) → the one the adapter produced, which it recognises when handed back. */
  private readonly adapterReports = new Map<string, HostReport>();
  private readonly ops: Ops;

  constructor(
    private readonly name: string,
    private readonly breakage: Breakage,
  ) {
    const next: Ops = {
      reportHost: (p) => this.report(p),
      validateRequest: (p) => this.inner.validateRequest(this.withAdapterHost(p)),
      buildGuestXml: (p) => this.inner.buildGuestXml(this.withAdapterHost(p)),
      spawn: (p) => this.inner.spawn(p),
      lifecycle: (p) => this.inner.lifecycle(p),
      schedule: (p) => this.inner.schedule(p),
      release: (p) => this.inner.release(p),
    };
    this.ops = { ...next, ...breakage.ops?.(next) };
  }

  describe(): DriverDescription {
    return { ...this.inner.describe(), name: `broken:${this.name}` };
  }

  private async report(p: ReportHostParams): Promise<HostReport> {
    const fromAdapter = await this.inner.reportHost(p);
    const core = referenceCore(this.inner, p.uri);
    if (!this.broken.has(core)) {
      this.broken.add(core);
      await this.breakage.core?.(core);
    }
    // The adapter's own rule for an operator cap of 0 (SEV switched off, still supported), kept as it is.
    const ours = contractReportOf(core.report, p.config.maxEncryptedGuests === 0);
    this.adapterReports.set(canonical(ours), fromAdapter);
    return ours;
  }

  private withAdapterHost<T extends ValidateParams | BuildXmlParams>(p: T): T {
    if (!p.host) return p;
    const host = this.adapterReports.get(canonical(p.host));
    return host ? { ...p, host } : p;
  }

  reportHost: Ops['reportHost'] = (p) => this.ops.reportHost(p);
  validateRequest: Ops['validateRequest'] = (p) => this.ops.validateRequest(p);
  buildGuestXml: Ops['buildGuestXml'] = (p) => this.ops.buildGuestXml(p);
  spawn: Ops['spawn'] = (p) => this.ops.spawn(p);
  lifecycle: Ops['lifecycle'] = (p) => this.ops.lifecycle(p);
  schedule: Ops['schedule'] = (p) => this.ops.schedule(p);
  release: Ops['release'] = (p) => this.ops.release(p);

  async close(): Promise<void> {
    await this.inner.close();
  }
}
