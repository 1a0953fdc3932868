/**
 * Prints the x86_64 machine types a release's real QEMU offers, as a hardware profile's
 * `qemu.machineTypes` (libvirt's `<capabilities>` order: the default first), with the QEMU version
 * libvirt reports — the facts the Debian-stack profiles (hardware-profiles/*-bullseye.json, …) copy.
 *
 *   node bin/run-ts.js containers/machine-types.ts --distro trixie
 */
import { parseArgs } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import { isDistro } from './images.ts';
import { startRealLibvirt } from './real-libvirt.ts';

interface MachineXml {
  '#text': string;
  '@_canonical'?: string;
  '@_maxCpus': string;
}

const { values } = parseArgs({ options: { distro: { type: 'string' } } });
if (values.distro === undefined || !isDistro(values.distro)) throw new Error('usage: machine-types.ts --distro bullseye|bookworm|trixie');
const real = await startRealLibvirt(values.distro);
try {
  const caps = await real.exec(['virsh', '-c', 'qemu+unix:///system?socket=/run/libvirt-socket/libvirt-sock', 'capabilities']);
  const parser = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'guest' || name === 'machine' });
  const doc = parser.parse(caps.output) as { capabilities: { guest: { arch: { '@_name': string; machine: MachineXml[] } }[] } };
  const x86 = doc.capabilities.guest.find((g) => g.arch['@_name'] === 'x86_64');
  if (!x86) throw new Error('no x86_64 guest in the capabilities');
  const aliases = new Map<string, string>();
  for (const m of x86.arch.machine) if (m['@_canonical']) aliases.set(m['@_canonical'], m['#text']);
  const list = x86.arch.machine
    .filter((m) => !m['@_canonical'])
    .map((m, i) => ({ name: m['#text'], ...(aliases.has(m['#text']) && { alias: aliases.get(m['#text']) }), maxCpus: Number(m['@_maxCpus']), ...(i === 0 && { default: true }) }));
  console.log(JSON.stringify({ libvirt: real.libvirt, qemu: real.qemu, machineTypes: list }));
} finally {
  await real.stop();
}
