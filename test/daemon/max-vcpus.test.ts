/**
 * virConnectGetMaxVcpus against the fake daemon and a real libvirt 9.0 QEMU driver, measured side
 * by side (qemuConnectGetMaxVcpus: no type and "qemu" in any case answer 16, an unknown type is
 * INVALID_ARG from the QEMU driver). "kvm" needs /dev/kvm, which no real daemon here has: the fake
 * answers its kernel's KVM_MAX_VCPUS, checked on its own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { requireSystemLibvirtd } from '../../conformance/real/system-libvirtd.ts';
import { kvmMaxVcpus } from '../../fakelibvirt/host/node-views.ts';
import { startFake } from '../../fakelibvirt/testing/daemon.ts';
import { connect, type LibvirtClient } from '../../src/libvirt/client.ts';

async function answers(c: LibvirtClient, types: readonly (string | null)[]) {
  const out: unknown[] = [];
  for (const type of types) {
    try {
      out.push((await c.call('CONNECT_GET_MAX_VCPUS', { type })).max_vcpus);
    } catch (e) {
      const { code, domain, message } = e as { code: number; domain: number; message: string };
      out.push({ code, domain, message });
    }
  }
  return out;
}

const system = await requireSystemLibvirtd();

describe('virConnectGetMaxVcpus', () => {
  afterAll(async () => {
    if (system.available) await system.stop();
  });

  it.skipIf(!system.available)('answers as the real QEMU driver for no type, qemu in any case, and an unknown type', async () => {
    if (!system.available) return;
    const types = [null, 'qemu', 'QEMU', 'Qemu', 'xen', 'kvm2', ''];
    const fake = await startFake('milan-7003-es8');
    const real = await connect(system.uri);
    try {
      const f = await connect(fake.uri);
      try {
        expect(await answers(f, types)).toEqual(await answers(real, types));
      } finally {
        await f.close();
      }
    } finally {
      await real.close();
      await fake.close();
    }
  }, 120_000);

  it('kvm answers the running kernel\'s KVM_MAX_VCPUS', async () => {
    expect([kvmMaxVcpus('4.4.0'), kvmMaxVcpus('4.8.0'), kvmMaxVcpus('5.4.0'), kvmMaxVcpus('5.15.0'), kvmMaxVcpus('6.1.0')]).toEqual([255, 288, 288, 1024, 1024]);
    const fake = await startFake('milan-7003-es8');
    try {
      const f = await connect(fake.uri);
      try {
        expect(await answers(f, ['kvm', 'KVM'])).toEqual([kvmMaxVcpus(fake.host.profile.kernel.version), kvmMaxVcpus(fake.host.profile.kernel.version)]);
      } finally {
        await f.close();
      }
    } finally {
      await fake.close();
    }
  });
});
