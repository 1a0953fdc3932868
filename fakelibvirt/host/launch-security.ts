/**
 * A guest's launch security as libvirt exposes it (virDomainGetLaunchSecurityInfo,
 * virDomainSetLaunchSecurityState) and as the guest itself reaches the firmware from inside
 * (SNP_GUEST_REQUEST for an attestation report). The firmware, QEMU's secret injection and the
 * report's signing are the components' own (firmware/, qemu/).
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { param, type TypedParam } from '../../src/libvirt/typed-params.ts';
import { kernelHashesTable } from '../firmware/guid-tables.ts';
import { snpGuestReport, type SnpReportRequest } from '../firmware/snp/guest-request.ts';
import { DomainState } from '../libvirt/states.ts';
import { versionAtLeast } from '../profile/version.ts';
import { directKernelBoot } from '../qemu/guest-boot.ts';
import { firmwareImageOf } from '../qemu/sev-launch.ts';
import { validateLaunchSecretParams, type InjectedSecret } from '../qemu/sev-secret.ts';
import { isActive } from './domain-registry.ts';
import { notRunning, opInvalid, type HostContext } from './host-context.ts';
import type { DomainHandle } from './libvirt-backend.ts';

const unsupported = (detail: string) => LibvirtError.of(VirErrorNumber.OPERATION_UNSUPPORTED, VirErrorDomain.QEMU, detail);

export class LaunchSecurity {
  constructor(private readonly ctx: HostContext) {}

  launchSecurityInfo(ref: DomainHandle): TypedParam[] {
    const { ctx } = this;
    const o = ctx.obj(ref);
    if (!ctx.currentDef(o).launchSecurity) return [];
    const firmware = ctx.firmware;
    if (!isActive(o) || !o.runtime?.sev || !firmware) throw notRunning();
    const sev = o.runtime.sev;
    const st = firmware.platformStatus();
    // QEMU's legacy launch measurement exists for SEV only; an SNP guest is attested from inside
    // (SNP_GUEST_REQUEST), so libvirt reports its policy and the firmware version [inference].
    const measurement = sev.kind === 'sev-snp' ? [] : [param.string('sev-measurement', sev.measurement.toString('base64'))];
    // Before libvirt 8.0 the QEMU driver reported the measurement alone (the API, build and policy
    // parameters are "Since: 8.0.0" in libvirt-domain.h).
    if (!versionAtLeast(ctx.profile.libvirt.version, 8, 0)) return measurement;
    const out: TypedParam[] = [
      ...measurement,
      param.uint('sev-api-major', st.apiMajor),
      param.uint('sev-api-minor', st.apiMinor),
      param.uint('sev-build-id', st.build),
    ];
    out.push(typeof sev.policy === 'bigint' ? param.ullong('sev-snp-policy', sev.policy) : param.uint('sev-policy', sev.policy));
    return out;
  }

  /** virDomainSetLaunchSecurityState: inject a secret while the guest is paused in LAUNCH_SECRET. */
  setLaunchSecurityState(ref: DomainHandle, params: readonly TypedParam[]): void {
    validateLaunchSecretParams(params);
    const { ctx } = this;
    const o = ctx.obj(ref);
    if (ctx.currentDef(o).launchSecurity?.type !== 'sev') throw unsupported('setting a launch secret is only supported in SEV-enabled domains');
    const get = (f: string) => params.find((p) => p.field === f)?.value;
    const header = get('sev-secret-header');
    const secret = get('sev-secret');
    if (typeof header !== 'string' || typeof secret !== 'string') {
      throw LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.QEMU, 'Both secret and the secret header are required');
    }
    const setAddress = get('sev-secret-set-address');
    if (!isActive(o) || !o.runtime) throw notRunning();
    if (o.state !== DomainState.PAUSED) throw opInvalid(VirErrorDomain.QEMU, 'domain must be in a paused state');
    // QEMU_CAPS_SEV_INJECT_LAUNCH_SECRET: sev-inject-launch-secret appeared in QEMU 6.0.
    if (!versionAtLeast(ctx.profile.qemu.version, 6, 0)) throw unsupported('QEMU does not support setting a launch secret');
    ctx.qemu.injectLaunchSecret(o.runtime, Buffer.from(header, 'base64'), Buffer.from(secret, 'base64'), typeof setAddress === 'bigint' ? setAddress : undefined);
  }

  /** What LAUNCH_SECRET wrote into a guest's memory (address, plaintext, OVMF secret entries). */
  launchSecrets(name: string): readonly InjectedSecret[] {
    return this.ctx.domains.findByName(name)?.runtime?.sev?.launchSecrets ?? [];
  }

  /**
   * SNP_GUEST_REQUEST MSG_REPORT_REQ from inside a running SNP guest: its ATTESTATION_REPORT with
   * `reportData` (64 bytes), signed with the chip's VCEK (firmware/snp/). Other guests, stopped or
   * paused ones are refused with an SnpGuestRequestError.
   */
  snpGuestReport(name: string, reportData: Uint8Array, req: SnpReportRequest = {}): Buffer {
    const { ctx } = this;
    const o = ctx.domains.lookupByName(name);
    const def = ctx.currentDef(o);
    const state = !isActive(o) ? 'inactive' : o.state === DomainState.RUNNING ? 'running' : 'paused';
    const firmware = firmwareImageOf(def.os.loader?.path ?? 'bios').bytes;
    const boot = def.launchSecurity?.type === 'sev-snp' && def.launchSecurity.kernelHashes ? directKernelBoot(def) : null;
    const launch = { vcpus: def.vcpus, firmware, cpu: ctx.profile.cpu, ...(boot && { kernelHashes: kernelHashesTable(boot) }) };
    const view = { name: def.name, uuid: def.uuid, launchSecurity: def.launchSecurity, state, launchId: o.runtime?.pid ?? 0, ...launch } as const;
    return snpGuestReport(ctx.profile, view, reportData, req);
  }
}
