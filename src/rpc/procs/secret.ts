/** Secret procedures (libvirt-secret.c), served by the secret driver's connection. */
import { array, int, opaque, struct, uint } from '../../xdr/index.ts';
import { Limits, NonnullSecret, Str, Uuid } from '../remote-types.ts';
import { call, inGroup, untyped, VOID, write } from './define.ts';

const SecretArg = struct([['secret', NonnullSecret]]);
const SecretRet = struct([['secret', NonnullSecret]]);

export const SecretProcs = inGroup('secret', {
  CONNECT_NUM_OF_SECRETS: call(139, VOID, struct([['num', int]])),
  CONNECT_LIST_SECRETS: call(140, struct([['maxuuids', int]]), struct([['uuids', array(Str, Limits.SECRET_LIST_MAX)]])),
  SECRET_LOOKUP_BY_UUID: call(141, struct([['uuid', Uuid]]), SecretRet),
  SECRET_DEFINE_XML: call(142, struct([['xml', Str], ['flags', uint]]), SecretRet, write('virSecretDefineXML')),
  SECRET_GET_XML_DESC: call(143, struct([['secret', NonnullSecret], ['flags', uint]]), struct([['xml', Str]])),
  SECRET_SET_VALUE: call(
    144,
    struct([['secret', NonnullSecret], ['value', opaque(Limits.SECRET_VALUE_MAX)], ['flags', uint]]),
    VOID,
    write('virSecretSetValue'),
  ),
  SECRET_GET_VALUE: call(
    145,
    struct([['secret', NonnullSecret], ['flags', uint]]),
    struct([['value', opaque(Limits.SECRET_VALUE_MAX)]]),
    write('virSecretGetValue'),
  ),
  SECRET_UNDEFINE: call(146, SecretArg, VOID, write('virSecretUndefine')),
  SECRET_LOOKUP_BY_USAGE: call(147, struct([['usageType', int], ['usageID', Str]]), SecretRet),
  CONNECT_LIST_ALL_SECRETS: call(
    287,
    struct([['need_results', int], ['flags', uint]]),
    struct([['secrets', array(NonnullSecret, Limits.SECRET_LIST_MAX)], ['ret', uint]]),
  ),
  CONNECT_SECRET_EVENT_REGISTER_ANY: untyped(380),
  CONNECT_SECRET_EVENT_DEREGISTER_ANY: untyped(381),
});
