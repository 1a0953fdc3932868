/**
 * qemuDomainAssignSpaprVIOAddresses: spapr-vlan interfaces, ibmvscsi controllers and spapr-vio
 * serials sit on the spapr-vio bus whatever the machine; each gets QEMU's default reg for its kind,
 * moved up by 0x1000 while another device holds it (a reg the user gave must be free).
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../../src/libvirt/errors.ts';
import { child, type XmlNode } from '../../xml-tree.ts';
import type { DomainDraft } from '../draft.ts';
import { controllerModelOf } from '../devices/controller.ts';
import { addressOf, devicesInInfoOrder, devicesOf, setAddress } from './device-address.ts';

/** QEMU's default regs (spapr_llan.c, spapr_vscsi.c, spapr_vty.c). */
const VIO_ADDR_NET = 0x1000n;
const VIO_ADDR_SCSI = 0x2000n;
const VIO_ADDR_SERIAL = 0x30000000n;
const VIO_ADDR_NVRAM = 0x3000n;
const VIO_ADDR_TPM = 0x4000n;

const regOf = (dev: XmlNode): bigint | undefined => {
  const a = addressOf(dev);
  return a?.type === 'spapr-vio' && a.reg !== undefined ? BigInt(a.reg) : undefined;
};
const fmt = (reg: bigint) => `0x${reg.toString(16).padStart(8, '0')}`;

function assign(d: DomainDraft, dev: XmlNode, forced: boolean, defaultReg: bigint): void {
  const a = addressOf(dev);
  if (!forced && a?.type !== 'spapr-vio') return;
  const userReg = regOf(dev);
  let reg = userReg ?? defaultReg;
  const taken = (r: bigint) => devicesInInfoOrder(d).some((o) => o !== dev && regOf(o) === r);
  while (taken(reg)) {
    if (userReg !== undefined) throw LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.QEMU, `spapr-vio address ${'0x' + reg.toString(16)} already in use`);
    reg += 0x1000n;
  }
  setAddress(dev, { type: 'spapr-vio', reg: fmt(reg) });
}

export function assignSpaprVioAddresses(d: DomainDraft): void {
  for (const dev of devicesOf(d, 'interface')) assign(d, dev, child(dev, 'model')?.attrs.type === 'spapr-vlan', VIO_ADDR_NET);
  for (const dev of devicesOf(d, 'controller')) {
    const m = controllerModelOf(dev);
    assign(d, dev, m?.type === 'scsi' && m.model === 'ibmvscsi', VIO_ADDR_SCSI);
  }
  for (const dev of devicesOf(d, 'serial')) assign(d, dev, child(dev, 'target')?.attrs.type === 'spapr-vio-serial', VIO_ADDR_SERIAL);
  // Only pSeries puts these two on spapr-vio; elsewhere only a user's spapr-vio address is completed.
  for (const dev of devicesOf(d, 'nvram')) assign(d, dev, false, VIO_ADDR_NVRAM);
  for (const dev of devicesOf(d, 'tpm')) assign(d, dev, false, VIO_ADDR_TPM);
}
