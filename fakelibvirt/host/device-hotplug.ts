/**
 * virDomainAttachDeviceFlags and virDomainDetachDeviceFlags (the unflagged forms are AFFECT_LIVE):
 * the persistent copy changed and checked first, the running guest's afterwards, and QEMU told of
 * a hot-plugged device (which may bring a guest-visible fault of its own).
 */
import { attachToConfig, attachToLive, detachFromConfig, detachFromLive, modificationImpact } from '../libvirt/device-modify.ts';
import { parseDeviceXml } from '../libvirt/domain-def.ts';
import { isQ35 } from '../libvirt/qemu-validate.ts';
import { isActive } from './domain-registry.ts';
import type { HostContext } from './host-context.ts';
import type { DomainHandle } from './libvirt-backend.ts';

export class DeviceHotplug {
  constructor(private readonly ctx: HostContext) {}

  /** With LIVE and CONFIG nothing changes unless both succeed, as in libvirt. */
  attachDevice(ref: DomainHandle, xml: string, flags: number): void {
    const { ctx } = this;
    const o = ctx.obj(ref);
    const impact = modificationImpact(flags, { active: isActive(o), persistent: o.persistent }, 'qemuDomainAttachDeviceLiveAndConfig');
    const dev = parseDeviceXml(xml);
    const config = impact.config ? attachToConfig(ctx.persistentDef(o), dev) : null;
    if (impact.live) {
      const machine = o.runtime?.machine ?? '';
      o.liveDef = attachToLive(ctx.currentDef(o), dev, isQ35(machine));
      if (o.runtime) ctx.qemu.deviceAdded(o.runtime, dev.def);
    }
    if (config) ctx.setPersistentDef(o, config);
  }

  /** Disks by target, NICs by MAC (else the only match). */
  detachDevice(ref: DomainHandle, xml: string, flags: number): void {
    const { ctx } = this;
    const o = ctx.obj(ref);
    const impact = modificationImpact(flags, { active: isActive(o), persistent: o.persistent }, 'qemuDomainDetachDeviceLiveAndConfig');
    const dev = parseDeviceXml(xml);
    const config = impact.config ? detachFromConfig(ctx.persistentDef(o), dev) : null;
    if (impact.live) o.liveDef = detachFromLive(ctx.currentDef(o), dev);
    if (config) ctx.setPersistentDef(o, config);
  }
}
