/**
 * Which procedures a connection may call, as data. libvirt enforces read-only access in its public
 * API entry points (virCheckReadOnlyGoto), which the daemon calls on a connection it opened with
 * VIR_CONNECT_RO; the error names the API function and carries that file's error domain.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import type { CallName } from '../../src/rpc/procedures.ts';

/** Procedures that modify state, with the public API function whose read-only check refuses them. */
export const WRITE_APIS: Partial<Record<CallName, string>> = {
  DOMAIN_DEFINE_XML: 'virDomainDefineXML',
  DOMAIN_DEFINE_XML_FLAGS: 'virDomainDefineXMLFlags',
  DOMAIN_UNDEFINE: 'virDomainUndefine',
  DOMAIN_UNDEFINE_FLAGS: 'virDomainUndefineFlags',
  DOMAIN_CREATE: 'virDomainCreate',
  DOMAIN_CREATE_WITH_FLAGS: 'virDomainCreateWithFlags',
  DOMAIN_CREATE_XML: 'virDomainCreateXML',
  DOMAIN_DESTROY: 'virDomainDestroy',
  DOMAIN_DESTROY_FLAGS: 'virDomainDestroyFlags',
  DOMAIN_SHUTDOWN: 'virDomainShutdown',
  DOMAIN_SHUTDOWN_FLAGS: 'virDomainShutdownFlags',
  DOMAIN_REBOOT: 'virDomainReboot',
  DOMAIN_SUSPEND: 'virDomainSuspend',
  DOMAIN_RESUME: 'virDomainResume',
  DOMAIN_MANAGED_SAVE: 'virDomainManagedSave',
  DOMAIN_MANAGED_SAVE_REMOVE: 'virDomainManagedSaveRemove',
  DOMAIN_SAVE: 'virDomainSave',
  DOMAIN_SAVE_FLAGS: 'virDomainSaveFlags',
  DOMAIN_RESTORE: 'virDomainRestore',
  DOMAIN_RESTORE_FLAGS: 'virDomainRestoreFlags',
  DOMAIN_SET_AUTOSTART: 'virDomainSetAutostart',
  DOMAIN_ATTACH_DEVICE: 'virDomainAttachDevice',
  DOMAIN_ATTACH_DEVICE_FLAGS: 'virDomainAttachDeviceFlags',
  DOMAIN_DETACH_DEVICE: 'virDomainDetachDevice',
  DOMAIN_DETACH_DEVICE_FLAGS: 'virDomainDetachDeviceFlags',
  DOMAIN_GET_LAUNCH_SECURITY_INFO: 'virDomainGetLaunchSecurityInfo',
  DOMAIN_SET_LAUNCH_SECURITY_STATE: 'virDomainSetLaunchSecurityState',
  DOMAIN_GET_JOB_INFO: 'virDomainGetJobInfo',
  DOMAIN_GET_JOB_STATS: 'virDomainGetJobStats',
  DOMAIN_MIGRATE_BEGIN3_PARAMS: 'virDomainMigrateBegin3Params',
  DOMAIN_MIGRATE_PREPARE3_PARAMS: 'virDomainMigratePrepare3Params',
  DOMAIN_MIGRATE_PERFORM3_PARAMS: 'virDomainMigratePerform3Params',
  DOMAIN_MIGRATE_FINISH3_PARAMS: 'virDomainMigrateFinish3Params',
  DOMAIN_MIGRATE_CONFIRM3_PARAMS: 'virDomainMigrateConfirm3Params',
  NODE_GET_SEV_INFO: 'virNodeGetSEVInfo',
  SECRET_DEFINE_XML: 'virSecretDefineXML',
  SECRET_SET_VALUE: 'virSecretSetValue',
  SECRET_GET_VALUE: 'virSecretGetValue',
  SECRET_UNDEFINE: 'virSecretUndefine',
};

/** Procedures a client may call before CONNECT_OPEN (remote_daemon_dispatch.c needs no hypervisor connection for them). */
export const BEFORE_OPEN: ReadonlySet<CallName> = new Set<CallName>(['AUTH_LIST', 'AUTH_POLKIT', 'CONNECT_OPEN', 'CONNECT_CLOSE', 'CONNECT_SUPPORTS_FEATURE']);

/** The error domain of the libvirt source file the API function lives in (its VIR_FROM_THIS). */
function apiErrorDomain(api: string): VirErrorDomain {
  if (api.startsWith('virDomain')) return VirErrorDomain.DOMAIN;
  if (api.startsWith('virSecret')) return VirErrorDomain.SECRET;
  return VirErrorDomain.NONE;
}

/** The read-only refusal for a procedure, or null when read-only connections may call it. */
export function readOnlyDenial(name: CallName): LibvirtError | null {
  const api = WRITE_APIS[name];
  if (api === undefined) return null;
  return LibvirtError.of(VirErrorNumber.OPERATION_DENIED, apiErrorDomain(api), `read only access prevents ${api}`);
}

/** remoteGetHypervisorConn's answer to a call made before CONNECT_OPEN. */
export function notOpenError(): LibvirtError {
  return LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, 'hypervisor connection not open');
}
