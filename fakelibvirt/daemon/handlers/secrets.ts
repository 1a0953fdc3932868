/** The secret procedures, served by the host's secret driver. */
import type { SecretRef } from '../../../src/rpc/remote-types.ts';
import type { Secret } from '../../libvirt/secret-store.ts';
import type { HandlerTable } from '../context.ts';
import { uuidToBytes, uuidToString } from '../wire.ts';

function ref(s: Secret): SecretRef {
  return { uuid: uuidToBytes(s.uuid), usageType: s.usageType, usageID: s.usageID };
}

export const secretHandlers: HandlerTable = {
  CONNECT_NUM_OF_SECRETS: ({ host }) => ({ num: host.secrets.all().length }),
  CONNECT_LIST_SECRETS: ({ host }, { maxuuids }) => ({ uuids: host.secrets.all().map((s) => s.uuid).slice(0, Math.max(0, maxuuids)) }),
  CONNECT_LIST_ALL_SECRETS: ({ host }, { need_results }) => {
    const all = host.secrets.all();
    return { secrets: need_results ? all.map(ref) : [], ret: all.length };
  },
  SECRET_LOOKUP_BY_UUID: ({ host }, { uuid }) => ({ secret: ref(host.secrets.lookupByUUID(uuidToString(uuid))) }),
  SECRET_LOOKUP_BY_USAGE: ({ host }, { usageType, usageID }) => ({ secret: ref(host.secrets.lookupByUsage(usageType, usageID)) }),
  SECRET_DEFINE_XML: ({ host }, { xml }) => ({ secret: ref(host.secrets.define(xml)) }),
  SECRET_GET_XML_DESC: ({ host }, { secret }) => ({ xml: host.secrets.lookupByUUID(uuidToString(secret.uuid)).xml }),
  SECRET_SET_VALUE: ({ host }, { secret, value }) => host.secrets.setValue(uuidToString(secret.uuid), value),
  SECRET_GET_VALUE: ({ host }, { secret }) => ({ value: host.secrets.getValue(uuidToString(secret.uuid)) }),
  SECRET_UNDEFINE: ({ host }, { secret }) => host.secrets.undefine(uuidToString(secret.uuid)),
};
