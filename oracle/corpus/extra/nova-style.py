"""nova-style guests with one value changed at a time, plus machine/NIC/video combinations and SEV
policies. Written to test the fake on inputs nobody tuned it against.
Run: /usr/bin/python3 oracle/corpus/extra/nova-style.py"""
import json, itertools, os
HERE = os.path.dirname(os.path.abspath(__file__))
BASE_NOVA = """<domain type='qemu'>
  <uuid>6c7c3a2e-8d1f-4b55-9b0a-2f7e1c3d4a5b</uuid>
  <name>instance-0000{n:04x}</name>
  <memory>{mem}</memory>
  <vcpu>{vcpu}</vcpu>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:name>vm{n}</nova:name>
    </nova:instance>
  </metadata>
  <sysinfo type="smbios">
    <system><entry name="manufacturer">OpenStack Foundation</entry><entry name="product">OpenStack Nova</entry></system>
  </sysinfo>
  <os>
    <type machine="{machine}">hvm</type>
    <boot dev="hd"/>
    <smbios mode="sysinfo"/>
  </os>
  <features><acpi/><apic/></features>
  <cputune><shares>{shares}</shares></cputune>
  <clock offset="utc">
    <timer name="pit" tickpolicy="delay"/>
    <timer name="rtc" tickpolicy="catchup"/>
    <timer name="hpet" present="no"/>
  </clock>
  <cpu mode="custom" match="exact"><model>{cpumodel}</model><topology sockets="{vcpu}" cores="1" threads="1"/></cpu>
  <devices>
    <disk type="file" device="disk">
      <driver name="qemu" type="qcow2" cache="{cache}"/>
      <source file="/var/lib/nova/instances/x/disk"/>
      <target bus="{bus}" dev="{dev}"/>
    </disk>
    <interface type="bridge">
      <mac address="{mac}"/>
      <model type="{nic}"/>
      <source bridge="br-int"/>
      <mtu size="1450"/>
      <target dev="tap0"/>
    </interface>
    <serial type="pty"><log file="/var/lib/nova/instances/x/console.log" append="off"/></serial>
    <graphics type="{gfx}" autoport="yes" listen="127.0.0.1"/>
    <video><model type="{video}"/></video>
    <memballoon model="virtio"><stats period="10"/></memballoon>
    <rng model="virtio"><backend model="random">/dev/urandom</backend></rng>
  </devices>
</domain>
"""
D = dict(mem='1048576', vcpu='1', machine='q35', shares='1024', cpumodel='qemu64', cache='none', bus='virtio', dev='vda', mac='fa:16:3e:12:34:56', nic='virtio', gfx='vnc', video='virtio')
VARIANTS = {
 'mem': ['1048576','0','-1','1.5','1e6','0x100000','abc','',' 1048576','18446744073709551615','9007199254740993'],
 'vcpu': ['1','2','0','-2','255','256','288','289','1000','two','',' 4','4 '],
 'machine': ['q35','pc','pc-q35-7.2','pc-i440fx-7.2','pc-q35-2.12','pc-i440fx-2.0','q35-7.2','pc-q35-9.9','microvm','isapc','none','Q35',''],
 'shares': ['1024','0','1','262144','262145','-1','abc'],
 'cpumodel': ['qemu64','Nehalem','EPYC','EPYC-Milan','Bogus-CPU','host','',],
 'cache': ['none','writeback','writethrough','directsync','unsafe','default','writeback2',''],
 'bus': ['virtio','sata','scsi','usb','ide','fdc','sd','virtio2',''],
 'dev': ['vda','sda','hda','fda','xvda','vd','a','',' vda'],
 'mac': ['fa:16:3e:12:34:56','FA:16:3E:12:34:56','01:16:3e:12:34:56','00:00:00:00:00:00','fa:16:3e:12:34','fa-16-3e-12-34-56','fa:16:3e:12:34:zz','fa:16:3e:12:34:56:78','ff:ff:ff:ff:ff:ff',''],
 'nic': ['virtio','e1000','e1000e','rtl8139','ne2k_pci','pcnet','vmxnet3','virtio-transitional','virtio-non-transitional','e1000x','',],
 'gfx': ['vnc','spice','sdl','rdp','egl-headless','dbus','vnx',''],
 'video': ['virtio','vga','cirrus','qxl','bochs','ramfb','none','vmvga','virtio-gpu',''],
}
out=[]
n=0
for k, vals in VARIANTS.items():
    for v in vals:
        d=dict(D); d[k]=v; n+=1
        out.append({'id': f'nova/{k}/{v!r}', 'group': 'nova', 'xml': BASE_NOVA.format(n=n, **d)})
# machine x nic x video combos
for m,nic,vid in itertools.product(['q35','pc'],['virtio','e1000','rtl8139'],['virtio','vga','qxl','cirrus']):
    d=dict(D, machine=m, nic=nic, video=vid); n+=1
    out.append({'id': f'nova/combo/{m}-{nic}-{vid}', 'group':'nova', 'xml': BASE_NOVA.format(n=n, **d)})
# nova SEV guests
SEV = BASE_NOVA.replace("<devices>","<devices>").replace("</devices>\n</domain>","</devices>\n  <launchSecurity type='sev'>\n    <cbitpos>{cbit}</cbitpos>\n    <reducedPhysBits>1</reducedPhysBits>\n    <policy>{policy}</policy>\n  </launchSecurity>\n</domain>").replace('<os>','<os firmware="efi">').replace('<memory>','<memoryBacking><locked/></memoryBacking>\n  <memory>')
for cbit in ['47','51','']:
    for pol in ['0x0033','0x0037','0x0003','0x33','0x3','33','0x','zz','0x100000000','0xFFFFFFFF']:
        d=dict(D, cbit=cbit, policy=pol); n+=1
        out.append({'id': f'sev/{cbit}/{pol}', 'group':'sev', 'xml': SEV.format(n=n, **d)})
open(os.path.join(HERE, 'nova-style.jsonl'), 'w').write(''.join(json.dumps(o)+'\n' for o in out))
print(len(out))
