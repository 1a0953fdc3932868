/**
 * `sevharness/client`: a libvirt client in TypeScript that speaks libvirt's RPC protocol over a
 * UNIX socket, to the fake daemon (`sevharness`) and to a real libvirtd alike, with libvirt's own
 * vocabulary: error numbers and domains, flags, typed parameters, URIs.
 *
 *   import { connect, isLibvirtError, VirErrorNumber } from 'sevharness/client';
 *   const conn = await connect('qemu+unix:///system?socket=/run/libvirt/libvirt-sock');
 *   const dom = await conn.defineXML(xml);
 */

/** Opens a connection (`qemu:///system`, `qemu+unix:///system?socket=PATH`, …). */
export {
  connect,
  LibvirtClient,
  uuidString,
  DomainEventId,
  type ConnectOptions,
  type DomainRef,
  type VirDomainInfo,
  type NodeInfo,
  type DomainLifecycleEvent,
  type DomainCapabilitiesQuery,
} from './client.ts';
/** libvirt's virError: code, domain, level and message exactly as libvirtd sends them. */
export {
  LibvirtError,
  isLibvirtError,
  formatVirMessage,
  VirErrorNumber,
  VirErrorDomain,
  VIR_ERR_LEVEL_ERROR,
  type LibvirtErrorFields,
} from './errors.ts';
export { DomainFlags, DeviceModifyFlags } from './flags.ts';
/** virTypedParameter: what nodesevinfo, launch security info and SetLaunchSecurityState carry. */
export { param, paramsToRecord, TypedParamType, VIR_TYPED_PARAM_STRING_OKAY, type TypedParam } from './typed-params.ts';
export { parseUri, UriError, type ParsedUri, type UriOptions } from './uri.ts';
