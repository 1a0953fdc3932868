/** Event registration: the callback style (316/317) and the legacy style (167/168). */
import type { HandlerTable } from '../context.ts';
import { uuidToString } from '../wire.ts';

export const eventHandlers: HandlerTable = {
  CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: ({ conn }, { eventID, dom }) => ({
    callbackID: conn.registerCallback(eventID, dom ? uuidToString(dom.uuid) : null),
  }),
  CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY: ({ conn }, { callbackID }) => conn.deregisterCallback(callbackID),
  CONNECT_DOMAIN_EVENT_REGISTER_ANY: ({ conn }, { eventID }) => conn.registerLegacy(eventID),
  CONNECT_DOMAIN_EVENT_DEREGISTER_ANY: ({ conn }, { eventID }) => conn.deregisterLegacy(eventID),
};
