/**
 * virDomainDefMaybeAddSmartcardController (part of virDomainDefAddImplicitControllers, before any
 * address is assigned): a smartcard without an address gets the next slot on CCID controller 0, and
 * each smartcard's CCID controller is added when missing (it then takes a USB port).
 */
import type { DomainDraft } from '../draft.ts';
import { controllerModelOf, type ControllerModel } from '../devices/controller.ts';
import { insertController } from '../implicit-devices.ts';
import { addressOf, devicesOf, setAddress } from './device-address.ts';

export function addSmartcardControllers(d: DomainDraft): void {
  const cards = devicesOf(d, 'smartcard');
  for (const card of cards) {
    const a = addressOf(card);
    let idx = 0;
    if (a?.type === 'ccid') idx = Number(a.controller ?? 0);
    else if (a === undefined) {
      let max = -1;
      for (const other of cards) {
        const o = addressOf(other);
        if (o?.type === 'ccid' && Number(o.controller ?? 0) === 0) max = Math.max(max, Number(o.slot ?? 0));
      }
      setAddress(card, { type: 'ccid', controller: '0', slot: String(max + 1) });
    }
    const exists = d.devices.some((n) => {
      const m = controllerModelOf(n);
      return m?.type === 'ccid' && m.idx === idx;
    });
    if (!exists) insertController(d, { type: 'ccid', idx, driver: {}, pci: {}, info: [] } satisfies ControllerModel);
  }
}
