/** The secret procedures, served from the daemon's in-memory secret store. */
import type { SecretRef } from '../../../src/rpc/remote-types.ts';
import type { Secret } from '../../libvirt/secret-store.ts';
import type { HandlerTable } from '../context.ts';
import { uuidToBytes, uuidToString } from '../wire.ts';

function ref(s: Secret): SecretRef {
  return { uuid: uuidToBytes(s.uuid), usageType: s.usageType, usageID: s.usageID };
}

export const secretHandlers: HandlerTable = {
  CONNECT_NUM_OF_SECRETS: ({ daemon }) => ({ num: daemon.secrets.all().length }),
  CONNECT_LIST_SECRETS: ({ daemon }, { maxuuids }) => ({ uuids: daemon.secrets.all().map((s) => s.uuid).slice(0, Math.max(0, maxuuids)) }),
  CONNECT_LIST_ALL_SECRETS: ({ daemon }, { need_results }) => {
    const all = daemon.secrets.all();
    return { secrets: need_results ? all.map(ref) : [], ret: all.length };
  },
  SECRET_LOOKUP_BY_UUID: ({ daemon }, { uuid }) => ({ secret: ref(daemon.secrets.lookupByUUID(uuidToString(uuid))) }),
  SECRET_LOOKUP_BY_USAGE: ({ daemon }, { usageType, usageID }) => ({ secret: ref(daemon.secrets.lookupByUsage(usageType, usageID)) }),
  SECRET_DEFINE_XML: ({ daemon }, { xml }) => ({ secret: ref(daemon.secrets.define(xml)) }),
  SECRET_GET_XML_DESC: ({ daemon }, { secret }) => ({ xml: daemon.secrets.lookupByUUID(uuidToString(secret.uuid)).xml }),
  SECRET_SET_VALUE: ({ daemon }, { secret, value }) => daemon.secrets.setValue(uuidToString(secret.uuid), value),
  SECRET_GET_VALUE: ({ daemon }, { secret }) => ({ value: daemon.secrets.getValue(uuidToString(secret.uuid)) }),
  SECRET_UNDEFINE: ({ daemon }, { secret }) => daemon.secrets.undefine(uuidToString(secret.uuid)),
};
