/**
 * QEMU's `sev-inject-launch-secret` (qmp_sev_inject_launch_secret and sev_inject_launch_secret in
 * target/i386/sev.c, QEMU 6.0+): without an address the secret goes to the area OVMF's table names
 * (its base, even when a plain build reserves no page there); only in the launch-secret state; the
 * firmware's LAUNCH_SECRET checks the packet and writes the plaintext to guest memory, where the
 * fake keeps it for tests to read.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { parseSecretTable, type SecretEntry } from '../firmware/guid-tables.ts';
import type { SevFirmware } from '../firmware/sev-firmware.ts';
import { GUEST_STATES } from '../firmware/commands.ts';
import { SevFirmwareError, SevStatus, qemuFwErrorString } from '../firmware/status.ts';
import { qemuSevText } from './messages.ts';
import type { InjectedSecret, SevGuestRuntime } from './sev-launch.ts';

export type { InjectedSecret } from './sev-launch.ts';

/** The LAUNCH_SECRET packet header: flags u32 ‖ IV(16) ‖ MAC(32). */
const SECRET_HEADER_LEN = 52;


const qmpError = (msg: string) =>
  LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.QEMU, `unable to execute QEMU command 'sev-inject-launch-secret': ${msg}`);

/** QEMU's SevState numbering, which its "Not in correct state" message prints in hex. */
const QEMU_STATE_NUMBER: Readonly<Record<string, number>> = { UNINIT: 0, LUPDATE: 1, LSECRET: 2, RUNNING: 3, SUPDATE: 4, RUPDATE: 5 };

export function injectLaunchSecret(fw: SevFirmware, sev: SevGuestRuntime, header: Buffer, secret: Buffer, setAddress?: bigint): InjectedSecret {
  let gpa: number;
  if (setAddress !== undefined) gpa = Number(setAddress);
  else if (sev.secretArea) gpa = sev.secretArea.base;
  else throw qmpError(qemuSevText.noSecretArea);
  const state = fw.guestStatus(sev.handle).state;
  if (state !== 'LSECRET') throw qmpError(qemuSevText.notInLaunchSecret(QEMU_STATE_NUMBER[state] ?? GUEST_STATES.indexOf(state)));
  // g_base64_decode of an empty string gives nothing: QEMU refuses before calling the firmware.
  if (header.length === 0) throw qmpError('SEV: Failed to decode sequence header');
  if (secret.length === 0) throw qmpError('SEV: Failed to decode data');
  const fwError = (status: number) => qmpError(`SEV: failed to inject secret ret=-5 fw_error=${status} '${qemuFwErrorString(status)}'`);
  // A header of the wrong size is not a LAUNCH_SECRET packet header [inference: INVALID_LEN].
  if (header.length !== SECRET_HEADER_LEN) throw fwError(SevStatus.INVALID_LEN);
  const before = fw.injectedSecrets(sev.handle).length;
  try {
    fw.launchSecret(sev.handle, { flags: header.readUInt32LE(0), iv: header.subarray(4, 20), mac: header.subarray(20, 52) }, secret);
  } catch (e) {
    if (!(e instanceof SevFirmwareError)) throw e;
    throw fwError(e.status);
  }
  const plaintext = fw.injectedSecrets(sev.handle)[before] ?? Buffer.alloc(0);
  const injected = { gpa, plaintext, entries: parseSecretTable(plaintext) };
  sev.launchSecrets.push(injected);
  return injected;
}

/** virTypedParameterTypeToString, by VIR_TYPED_PARAM_* number. */
const TYPE_NAMES = ['', 'int', 'uint', 'llong', 'ullong', 'double', 'boolean', 'string'] as const;

/** What qemuDomainSetLaunchSecurityState accepts, by name (virTypedParamsValidate's key list). */
const LAUNCH_SECRET_PARAMS: ReadonlyMap<string, number> = new Map([
  ['sev-secret', 7],
  ['sev-secret-header', 7],
  ['sev-secret-set-address', 4],
]);

/**
 * virTypedParamsValidate over the launch-secret parameters, in its order: both lists sorted by name,
 * a repeated or mistyped known parameter is INVALID_ARG, and an unknown one past the last known key
 * is ARGUMENT_UNSUPPORTED (errors from VIR_FROM_NONE, as util/virtypedparam.c reports them).
 */
export function validateLaunchSecretParams(params: readonly { readonly field: string; readonly type: number }[]): void {
  const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  const sorted = [...params].sort((a, b) => cmp(a.field, b.field));
  const keys = [...LAUNCH_SECRET_PARAMS.keys()].sort(cmp);
  let i = 0;
  let j = 0;
  let last: string | null = null;
  while (i < sorted.length && j < keys.length) {
    const p = sorted[i]!;
    if (p.field !== keys[j]) {
      j++;
      continue;
    }
    if (last === p.field) throw LibvirtError.of(VirErrorNumber.INVALID_ARG, VirErrorDomain.NONE, `parameter '${p.field}' occurs multiple times`);
    const want = LAUNCH_SECRET_PARAMS.get(p.field)!;
    if (p.type !== want) {
      throw LibvirtError.of(VirErrorNumber.INVALID_ARG, VirErrorDomain.NONE, `invalid type '${TYPE_NAMES[p.type] ?? 'int'}' for parameter '${p.field}', expected '${TYPE_NAMES[want]}'`);
    }
    last = p.field;
    i++;
  }
  if (j === keys.length && i !== sorted.length) {
    throw LibvirtError.of(VirErrorNumber.ARGUMENT_UNSUPPORTED, VirErrorDomain.NONE, `parameter '${sorted[i]!.field}' not supported`);
  }
}
