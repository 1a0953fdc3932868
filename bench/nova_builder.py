#!/usr/bin/python3
"""Times nova Zed's own SEV guest config build + to_xml(), for bench/builder.bench.ts.

Needs the Debian python3-nova package (/usr/lib/python3/dist-packages/nova) and must run under
/usr/bin/python3. Builds the same guest shape as the TypeScript builder: q35, OVMF pflash + NVRAM
template, locked memory, virtio disk/NIC/video/rng/balloon with iommu, launchSecurity 0x0033.
Usage: /usr/bin/python3 bench/nova_builder.py [N]   -> prints "<µs> us/op"
"""
import sys
import time

from nova.virt.libvirt import config as vconfig


def build():
    g = vconfig.LibvirtConfigGuest()
    g.virt_type = 'kvm'
    g.name = 'instance-00000001'
    g.uuid = '3f1c2a9e-8b7d-4e6f-9a0b-1c2d3e4f5a6b'
    g.memory = 2048 * 1024
    g.vcpus = 2
    g.os_type = 'hvm'
    g.os_mach_type = 'pc-q35-6.2'
    g.os_loader = '/usr/share/OVMF/OVMF_CODE_4M.fd'
    g.os_loader_type = 'pflash'
    g.os_nvram_template = '/usr/share/OVMF/OVMF_VARS_4M.fd'
    g.features = [vconfig.LibvirtConfigGuestFeatureACPI(), vconfig.LibvirtConfigGuestFeatureAPIC()]
    mb = vconfig.LibvirtConfigGuestMemoryBacking()
    mb.locked = True
    g.membacking = mb

    disk = vconfig.LibvirtConfigGuestDisk()
    disk.source_type = 'file'
    disk.source_path = '/var/lib/nova/instances/x/disk'
    disk.driver_name = 'qemu'
    disk.driver_format = 'qcow2'
    disk.driver_cache = 'none'
    disk.target_dev = 'vda'
    disk.target_bus = 'virtio'
    g.add_device(disk)

    cd = vconfig.LibvirtConfigGuestDisk()
    cd.source_type = 'file'
    cd.source_device = 'cdrom'
    cd.source_path = '/var/lib/nova/instances/x/disk.config'
    cd.driver_name = 'qemu'
    cd.driver_format = 'raw'
    cd.target_dev = 'sda'
    cd.target_bus = 'sata'
    g.add_device(cd)

    nic = vconfig.LibvirtConfigGuestInterface()
    nic.net_type = 'bridge'
    nic.source_dev = 'br0'
    nic.model = 'virtio'
    nic.mac_addr = 'fa:16:3e:00:00:01'
    g.add_device(nic)

    video = vconfig.LibvirtConfigGuestVideo()
    video.type = 'virtio'
    g.add_device(video)

    rng = vconfig.LibvirtConfigGuestRng()
    rng.backend = '/dev/urandom'
    g.add_device(rng)

    balloon = vconfig.LibvirtConfigMemoryBalloon()
    balloon.model = 'virtio'
    balloon.period = 10
    g.add_device(balloon)

    for dev in g.devices:
        if dev.uses_virtio:
            dev.driver_iommu = True

    ls = vconfig.LibvirtConfigGuestSEVLaunchSecurity()
    ls.cbitpos = 47
    ls.reduced_phys_bits = 1
    g.launch_security = ls
    return g.to_xml()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    build()  # warm-up: imports, lxml
    start = time.perf_counter()
    for _ in range(n):
        build()
    elapsed = time.perf_counter() - start
    print('nova Zed build+to_xml: %.1f us/op (%d ops)' % (elapsed / n * 1e6, n))


if __name__ == '__main__':
    main()
