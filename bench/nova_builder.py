#!/usr/bin/python3
"""Times nova Zed building and serialising an SEV guest with its own config objects.

For bench/builder.bench.ts. Needs the Debian python3-nova package and must run under
/usr/bin/python3 (the interpreter Debian's modules are installed for). The guest has the same
shape as the TypeScript builder's benchmark guest: q35, OVMF pflash + NVRAM template, locked
memory, host-model CPU, UTC clock, virtio disk, SATA config-drive CD-ROM, USB controller and
tablet, virtio NIC, virtio video, serial + console, VNC, virtio RNG and balloon (iommu on every
virtio device), launchSecurity with policy 0x0033, plus the instance metadata nova always writes.
Each iteration builds the objects afresh and calls to_xml(), as nova does once per spawn.

Usage: /usr/bin/python3 bench/nova_builder.py [N]     -> "nova Zed build+to_xml: <µs> us/op (N ops)"
       /usr/bin/python3 bench/nova_builder.py --xml   -> one document, for comparing the shape
       Exits 3 with a notice when nova is not installed.
"""
import sys
import time

try:
    from nova.virt.libvirt import config as vconfig
except ImportError as exc:  # the bench treats this as "skip"
    print('nova not importable: %s' % exc)
    sys.exit(3)

INSTANCE_DIR = '/var/lib/nova/instances/3f1c2a9e-8b7d-4e6f-9a0b-1c2d3e4f5a6b'


def metadata():
    meta = vconfig.LibvirtConfigGuestMetaNovaInstance()
    meta.package = '26.2.2'
    meta.name = 'vm1'
    meta.creationTime = 1700000000.0
    flavor = vconfig.LibvirtConfigGuestMetaNovaFlavor()
    flavor.name = 'm1.sev'
    flavor.memory = 2048
    flavor.vcpus = 2
    flavor.disk = 10
    flavor.ephemeral = 0
    flavor.swap = 0
    meta.flavor = flavor
    owner = vconfig.LibvirtConfigGuestMetaNovaOwner()
    owner.userid = 'u1'
    owner.username = 'demo'
    owner.projectid = 'p1'
    owner.projectname = 'demo'
    meta.owner = owner
    meta.roottype = 'image'
    meta.rootid = '150d530b-1c57-4367-b754-1f1b5237923d'
    return meta


def disk(path, dev, bus, fmt, device='disk'):
    d = vconfig.LibvirtConfigGuestDisk()
    d.source_type = 'file'
    d.source_device = device
    d.source_path = path
    d.driver_name = 'qemu'
    d.driver_format = fmt
    if device == 'disk':
        d.driver_cache = 'none'
    d.target_dev = dev
    d.target_bus = bus
    return d


def build():
    g = vconfig.LibvirtConfigGuest()
    g.virt_type = 'kvm'
    g.name = 'instance-00000001'
    g.uuid = '3f1c2a9e-8b7d-4e6f-9a0b-1c2d3e4f5a6b'
    g.metadata.append(metadata())
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
    cpu = vconfig.LibvirtConfigGuestCPU()
    cpu.mode = 'host-model'
    cpu.match = 'exact'
    g.cpu = cpu
    clock = vconfig.LibvirtConfigGuestClock()
    clock.offset = 'utc'
    g.clock = clock

    g.add_device(disk(INSTANCE_DIR + '/disk', 'vda', 'virtio', 'qcow2'))
    g.add_device(disk(INSTANCE_DIR + '/disk.config', 'sda', 'sata', 'raw', device='cdrom'))

    usb = vconfig.LibvirtConfigGuestController()
    usb.type = 'usb'
    usb.index = 0
    usb.model = 'qemu-xhci'
    g.add_device(usb)

    nic = vconfig.LibvirtConfigGuestInterface()
    nic.net_type = 'bridge'  # nova's linux-bridge VIF; a libvirt network renders the same shape
    nic.source_dev = 'br0'
    nic.model = 'virtio'
    nic.mac_addr = 'fa:16:3e:00:00:01'
    g.add_device(nic)

    video = vconfig.LibvirtConfigGuestVideo()
    video.type = 'virtio'
    g.add_device(video)

    serial = vconfig.LibvirtConfigGuestSerial()
    serial.type = 'pty'
    g.add_device(serial)
    console = vconfig.LibvirtConfigGuestConsole()
    console.type = 'pty'
    console.target_type = 'serial'
    g.add_device(console)

    tablet = vconfig.LibvirtConfigGuestInput()
    tablet.type = 'tablet'
    tablet.bus = 'usb'
    g.add_device(tablet)

    vnc = vconfig.LibvirtConfigGuestGraphics()
    vnc.type = 'vnc'
    vnc.autoport = True
    vnc.listen = '127.0.0.1'
    g.add_device(vnc)

    rng = vconfig.LibvirtConfigGuestRng()
    rng.backend = '/dev/urandom'
    g.add_device(rng)

    balloon = vconfig.LibvirtConfigMemoryBalloon()
    balloon.model = 'virtio'
    balloon.period = 10
    g.add_device(balloon)

    # What Zed's _sev_enabled path does: iommu on every virtio device.
    for dev in g.devices:
        if getattr(dev, 'uses_virtio', False):
            dev.driver_iommu = True

    ls = vconfig.LibvirtConfigGuestSEVLaunchSecurity()
    ls.cbitpos = 47
    ls.reduced_phys_bits = 1
    g.launch_security = ls
    return g.to_xml()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--xml':
        print(build())
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    build()  # warm-up: imports, lxml
    start = time.perf_counter()
    for _ in range(n):
        build()
    elapsed = time.perf_counter() - start
    print('nova Zed build+to_xml: %.1f us/op (%d ops)' % (elapsed / n * 1e6, n))


if __name__ == '__main__':
    main()
