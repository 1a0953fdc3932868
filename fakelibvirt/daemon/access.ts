/**
 * Which procedures a connection may call, and in which order libvirtd 9.0 refuses the others.
 *
 * libvirtd looks a procedure up in its own table first (every procedure of remote_protocol.x up
 * to 443, events and retired numbers excepted), then decodes the arguments, then asks for the
 * connection the call needs (`hypervisor connection not open`, or `connection not open` for the
 * secondary drivers: network, storage, node device, secret, nwfilter, interface), and only then
 * enters the public API, whose read-only check (virCheckReadOnlyGoto) names the API function and
 * carries its file's error domain. So a write call the fake does not implement is refused on a
 * read-only connection exactly as libvirtd refuses it, before the fake's own "unknown procedure".
 *
 * The tables are measured, not read from source: every procedure number 1–460 was sent to an
 * unprivileged libvirtd 9.0.0 (Debian 12) on a connection opened with VIR_CONNECT_RO and on one
 * never opened, each with 4096 zero bytes of arguments (they decode as empty strings, null
 * pointers and zero counts), and the answer recorded.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import type { CallName } from '../../src/rpc/procedures.ts';

/** The highest procedure number libvirt 9.0's remote program has (REMOTE_PROC_DOMAIN_FD_ASSOCIATE). */
export const LIBVIRT_LAST_PROCEDURE = 443;

/**
 * API functions whose read-only check refuses them, by procedure number, grouped by error domain
 * (virErrorDomain numbers; libvirt's VIR_FROM_THIS of the file the function lives in).
 * 439 (virDomainSetLaunchSecurityState) checks its arguments before read-only access, so zero
 * arguments did not reach the check; it is refused with real arguments.
 */
const READ_ONLY_REFUSED: ReadonlyMap<number, { readonly api: string; readonly domain: number }> = new Map(
  ([
  // DOMAIN (20)
  [20, `
    8:virDomainAttachDevice 9:virDomainCreate 10:virDomainCreateXML 11:virDomainDefineXML 12:virDomainDestroy
    13:virDomainDetachDevice 26:virDomainPinVcpu 27:virDomainReboot 28:virDomainResume 29:virDomainSetAutostart
    30:virDomainSetMaxMemory 31:virDomainSetMemory 32:virDomainSetVcpus 33:virDomainShutdown 34:virDomainSuspend
    35:virDomainUndefine 53:virDomainCoreDump 54:virDomainRestore 55:virDomainSave 58:virDomainSetSchedulerParameters
    61:virDomainMigratePrepare 62:virDomainMigratePerform 63:virDomainMigrateFinish 103:virDomainBlockPeek
    104:virDomainMemoryPeek 108:virDomainMigratePrepare2 109:virDomainMigrateFinish2
    135:virConnectDomainXMLFromNative 136:virConnectDomainXMLToNative 148:virDomainMigratePrepareTunnel
    160:virDomainAttachDeviceFlags 161:virDomainDetachDeviceFlags 164:virDomainAbortJob
    166:virDomainMigrateSetMaxDowntime 174:virDomainUpdateDeviceFlags 182:virDomainManagedSave
    184:virDomainManagedSaveRemove 196:virDomainCreateWithFlags 197:virDomainSetMemoryParameters
    199:virDomainSetVcpusFlags 201:virDomainOpenConsole 204:virDomainSetMemoryFlags 205:virDomainSetBlkioParameters
    207:virDomainMigrateSetMaxSpeed 210:virDomainInjectNMI 211:virDomainScreenshot 213:virDomainMigrateBegin3
    214:virDomainMigratePrepare3 215:virDomainMigratePrepareTunnel3 216:virDomainMigratePerform3
    217:virDomainMigrateFinish3 218:virDomainMigrateConfirm3 219:virDomainSetSchedulerParametersFlags
    225:virDomainPinVcpuFlags 226:virDomainSendKey 231:virDomainUndefineFlags 232:virDomainSaveFlags
    233:virDomainRestoreFlags 234:virDomainDestroyFlags 235:virDomainSaveImageGetXMLDesc
    236:virDomainSaveImageDefineXML 237:virDomainBlockJobAbort 239:virDomainBlockJobSetSpeed 240:virDomainBlockPull
    242:virDomainMigrateGetMaxSpeed 245:virDomainReset 250:virNodeSuspendForDuration 251:virDomainBlockResize
    252:virDomainSetBlockIoTune 254:virDomainSetNumaParameters 256:virDomainSetInterfaceParameters
    258:virDomainShutdownFlags 261:virDomainPMSuspendForDuration 264:virDomainSetMetadata 266:virDomainBlockRebase
    267:virDomainPMWakeup 277:virDomainGetHostname 279:virDomainPinEmulator 288:virNodeSetMemoryParameters
    290:virDomainBlockCommit 294:virDomainFSTrim 296:virDomainOpenChannel 300:virDomainMigrateSetCompressionCache
    302:virDomainMigrateBegin3Params 303:virDomainMigratePrepare3Params 304:virDomainMigratePrepareTunnel3Params
    305:virDomainMigratePerform3Params 306:virDomainMigrateFinish3Params 307:virDomainMigrateConfirm3Params
    308:virDomainSetMemoryStatsPeriod 309:virDomainCreateXMLWithFiles 310:virDomainCreateWithFiles
    334:virDomainCoreDumpWithFormat 335:virDomainFSFreeze 336:virDomainFSThaw 337:virDomainGetTime
    338:virDomainSetTime 342:virConnectGetDomainCapabilities 343:virDomainOpenGraphicsFD 345:virDomainBlockCopy
    347:virNodeAllocPages 349:virDomainGetFSInfo 350:virDomainDefineXMLFlags 352:virDomainPinIOThread
    355:virDomainAddIOThread 356:virDomainDelIOThread 357:virDomainSetUserPassword 364:virDomainMigrateStartPostCopy
    366:virDomainSetPerfEvents 371:virDomainGetGuestVcpus 372:virDomainSetGuestVcpus 384:virDomainSetVcpu
    386:virDomainSetBlockThreshold 389:virDomainManagedSaveDefineXML 390:virDomainSetLifecycleAction
    392:virDomainDetachDeviceAlias 393:virConnectCompareHypervisorCPU 395:virNodeGetSEVInfo
    396:virDomainGetLaunchSecurityInfo 402:virDomainSetIOThreadParams 418:virDomainGetGuestInfo
    420:virDomainAgentSetResponseTimeout 421:virDomainBackupBegin 424:virDomainAuthorizedSSHKeysGet
    425:virDomainAuthorizedSSHKeysSet 427:virDomainStartDirtyRateCalc 439:virDomainSetLaunchSecurityState
    440:virDomainSaveParams 441:virDomainRestoreParams 442:virDomainAbortJobFlags`],
  // NETWORK (19)
  [19, `
    39:virNetworkCreate 40:virNetworkCreateXML 41:virNetworkDefineXML 42:virNetworkDestroy 48:virNetworkSetAutostart
    49:virNetworkUndefine 291:virNetworkUpdate 406:virNetworkPortCreateXML 408:virNetworkPortSetParameters
    410:virNetworkPortDelete 432:virNetworkDefineXMLFlags 437:virNetworkCreateXMLFlags`],
  // STORAGE (18)
  [18, `
    75:virConnectFindStoragePoolSources 76:virStoragePoolCreateXML 77:virStoragePoolDefineXML 78:virStoragePoolCreate
    79:virStoragePoolBuild 80:virStoragePoolDestroy 81:virStoragePoolDelete 82:virStoragePoolUndefine
    83:virStoragePoolRefresh 90:virStoragePoolSetAutostart 93:virStorageVolCreateXML 94:virStorageVolDelete
    125:virStorageVolCreateXMLFrom 165:virStorageVolWipe 208:virStorageVolUpload 209:virStorageVolDownload
    259:virStorageVolWipePattern 260:virStorageVolResize`],
  // NODEDEV (22)
  [22, `
    118:virNodeDeviceDettach 119:virNodeDeviceReAttach 120:virNodeDeviceReset 123:virNodeDeviceCreateXML
    124:virNodeDeviceDestroy 301:virNodeDeviceDetachFlags 428:virNodeDeviceDefineXML 429:virNodeDeviceUndefine
    430:virNodeDeviceCreate 433:virNodeDeviceGetAutostart 434:virNodeDeviceSetAutostart`],
  // INTERFACE (26)
  [26, `
    131:virInterfaceDefineXML 132:virInterfaceUndefine 133:virInterfaceCreate 134:virInterfaceDestroy
    220:virInterfaceChangeBegin 221:virInterfaceChangeCommit 222:virInterfaceChangeRollback`],
  // SECRET (30)
  [30, `
    142:virSecretDefineXML 144:virSecretSetValue 145:virSecretGetValue 146:virSecretUndefine`],
  // NWFILTER (33)
  [33, `
    180:virNWFilterDefineXML 181:virNWFilterUndefine 399:virNWFilterBindingCreateXML 400:virNWFilterBindingDelete
    431:virNWFilterDefineXMLFlags`],
  // DOMAIN_SNAPSHOT (35)
  [35, `
    185:virDomainSnapshotCreateXML 192:virDomainRevertToSnapshot 193:virDomainSnapshotDelete`],
  // DOMAIN_CHECKPOINT (69)
  [69, `
    411:virDomainCheckpointCreateXML 417:virDomainCheckpointDelete`],
  ] as const).flatMap(([domain, list]) =>
    list.trim().split(/\s+/).map((entry) => {
      const [n, api] = entry.split(':') as [string, string];
      return [Number(n), { api, domain }] as const;
    }),
  ),
);

/** Numbers up to 443 libvirtd 9.0 answers with `unknown procedure`: server-to-client events and retired calls. */
const NO_DISPATCHER: ReadonlySet<number> = new Set([
  107, 169, 170, 171, 172, 173, 195, 224, 241, 248, 268, 269, 270, 276, 292, 311, 315, 318, 319, 320, 321, 322, 323,
  324, 325, 326, 327, 328, 329, 330, 331, 332, 333, 339, 346, 348, 354, 359, 362, 363, 367, 370, 373, 376, 377, 379,
  382, 383, 385, 423, 438,
]);

/** Procedures served by a secondary driver connection: before CONNECT_OPEN they answer `connection not open`. */
const SECONDARY_CONNECTION: ReadonlySet<number> = new Set([
  36, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 52, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84,
  85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 111, 112, 113, 114, 115, 116, 117, 123, 124, 125,
  126, 127, 128, 129, 130, 131, 132, 133, 134, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 152, 153, 154,
  155, 156, 165, 175, 176, 177, 178, 179, 180, 181, 208, 209, 220, 221, 222, 259, 260, 281, 282, 283, 284, 285, 286,
  287, 291, 297, 313, 314, 341, 368, 369, 374, 375, 378, 380, 381, 391, 397, 398, 399, 400, 401, 403, 404, 405, 406,
  407, 408, 409, 410, 428, 429, 430, 431, 432, 433, 434, 435, 436, 437,
]);

/** Procedures a client may call before CONNECT_OPEN (remote_daemon_dispatch.c needs no hypervisor connection for them). */
export const BEFORE_OPEN: ReadonlySet<CallName> = new Set<CallName>(['AUTH_LIST', 'AUTH_POLKIT', 'CONNECT_OPEN', 'CONNECT_CLOSE', 'CONNECT_SUPPORTS_FEATURE']);

/** libvirtd 9.0 has a dispatcher for this procedure number (it is not an event, retired, or newer). */
export function libvirtdKnows(proc: number): boolean {
  return proc >= 1 && proc <= LIBVIRT_LAST_PROCEDURE && !NO_DISPATCHER.has(proc);
}

/** The read-only refusal for a procedure, or null when read-only connections may call it. */
export function readOnlyDenial(proc: number): LibvirtError | null {
  const w = READ_ONLY_REFUSED.get(proc);
  if (w === undefined) return null;
  return LibvirtError.of(VirErrorNumber.OPERATION_DENIED, w.domain as VirErrorDomain, `read only access prevents ${w.api}`);
}

/** remoteGetHypervisorConn's (or a secondary driver's) answer to a call made before CONNECT_OPEN. */
export function notOpenError(proc = 0): LibvirtError {
  const text = SECONDARY_CONNECTION.has(proc) ? 'connection not open' : 'hypervisor connection not open';
  return LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.RPC, text);
}
