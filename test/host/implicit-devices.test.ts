/**
 * The devices libvirt 9.0 adds at define, as measured on the oracle (record.ts --probe): PS/2 input,
 * the default balloon and audio backend, the console/serial pairing, the video graphics imply, and
 * the controller index rules.
 */
import { describe, expect, it } from 'vitest';
import { FakeHost } from '../../fakelibvirt/host/fake-host.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';

const host = () => new FakeHost(loadProfile('milan-7003-es8'));

function define(devices: string, machine = 'q35'): string {
  const h = host();
  const ref = h.defineXML(`<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory>
    <os><type arch='x86_64' machine='${machine}'>hvm</type></os><devices>${devices}</devices></domain>`);
  return h.getXMLDesc(ref, 2);
}

/** The devices' opening lines, without addresses and controllers' details. */
const lines = (xml: string, re: RegExp) => xml.split('\n').map((l) => l.trim()).filter((l) => re.test(l));

describe('implicit devices at define', () => {
  it('adds the PS/2 mouse and keyboard after the written inputs, unless one is there', () => {
    expect(lines(define("<input type='tablet' bus='usb'/><input type='keyboard' bus='ps2'/>"), /^<input/)).toEqual([
      "<input type='tablet' bus='usb'>",
      "<input type='keyboard' bus='ps2'/>",
      "<input type='mouse' bus='ps2'/>",
    ]);
  });

  it('adds a virtio balloon unless one is written', () => {
    expect(lines(define(''), /^<memballoon/)).toEqual(["<memballoon model='virtio'>"]);
    expect(lines(define("<memballoon model='none'/>"), /^<memballoon/)).toEqual(["<memballoon model='none'/>"]);
  });

  it.each([
    ['', ["<audio id='1' type='none'/>"]],
    ["<graphics type='vnc'/>", ["<audio id='1' type='none'/>"]],
    ["<graphics type='spice'/>", ["<audio id='1' type='spice'/>"]],
    ["<graphics type='vnc'/><graphics type='spice'/>", ["<audio id='1' type='spice'/>"]],
    ["<graphics type='spice'/><graphics type='vnc'/>", ["<audio id='1' type='none'/>"]],
    ["<graphics type='sdl'/>", []],
    ["<graphics type='vnc'/><graphics type='sdl'/>", []],
    ["<graphics type='sdl'/><graphics type='vnc'/>", ["<audio id='1' type='none'/>"]],
    ["<graphics type='egl-headless'/>", []],
  ])('default audio backend for %j', (graphics, audio) => {
    expect(lines(define(graphics), /^<audio/)).toEqual(audio);
  });

  it('gives graphics without <video> a primary cirrus video', () => {
    expect(lines(define("<graphics type='vnc'/>"), /^<model type='cirrus'/)).toEqual(["<model type='cirrus' vram='16384' heads='1' primary='yes'/>"]);
  });

  it('pairs the first serial and a serial-type console', () => {
    const fromConsole = define("<console type='pty'/>");
    expect(lines(fromConsole, /^<(serial|console|target type)/)).toEqual([
      "<serial type='pty'>",
      "<target type='isa-serial' port='0'>",
      "<console type='pty'>",
      "<target type='serial' port='0'/>",
    ]);
    expect(lines(define("<serial type='pty'><target type='usb-serial'/></serial>"), /^<console/)).toEqual([]);
  });

  it('assigns controller indexes as libvirt does', () => {
    const usb2 = "<controller type='usb' model='ich9-ehci1'/><controller type='usb' model='ich9-uhci1'/><controller type='usb' model='ich9-ehci1'/><controller type='usb' model='ich9-uhci1'/>";
    expect(lines(define(usb2), /^<controller type='usb'/)).toEqual([
      "<controller type='usb' index='0' model='ich9-ehci1'>",
      "<controller type='usb' index='0' model='ich9-uhci1'>",
      "<controller type='usb' index='1' model='ich9-ehci1'>",
      "<controller type='usb' index='1' model='ich9-uhci1'>",
    ]);
    expect(() => define("<controller type='pci' model='pcie-root-port'/>")).toThrow(
      "XML error: The PCI controller with index='0' must be model='pcie-root' for this machine type, but model='pcie-root-port' was found instead",
    );
    expect(() => define("<controller type='usb' model='ich9-uhci1'/>")).toThrow('No master USB controller specified');
    expect(() => define("<controller type='usb' model='none'/><controller type='usb' model='qemu-xhci'/>")).toThrow(
      "Can't add another USB controller: USB is disabled for this domain",
    );
  });
});
