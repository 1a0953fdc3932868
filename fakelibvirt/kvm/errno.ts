/**
 * Linux errno values (asm-generic/errno-base.h, errno.h) with the `strerror` texts glibc prints,
 * and the error the kernel models throw. QEMU prints `ret=%d` with the negative value and
 * `strerror(errno)` in its region-registration failure, so both forms live here.
 */

export const ERRNOS = {
  EPERM: { errno: 1, text: 'Operation not permitted' },
  ENOENT: { errno: 2, text: 'No such file or directory' },
  EIO: { errno: 5, text: 'Input/output error' },
  EBADF: { errno: 9, text: 'Bad file descriptor' },
  ENOMEM: { errno: 12, text: 'Cannot allocate memory' },
  EACCES: { errno: 13, text: 'Permission denied' },
  EFAULT: { errno: 14, text: 'Bad address' },
  EBUSY: { errno: 16, text: 'Device or resource busy' },
  EEXIST: { errno: 17, text: 'File exists' },
  ENODEV: { errno: 19, text: 'No such device' },
  EINVAL: { errno: 22, text: 'Invalid argument' },
  ENOTTY: { errno: 25, text: 'Inappropriate ioctl for device' },
  ENOSPC: { errno: 28, text: 'No space left on device' },
  ENOSYS: { errno: 38, text: 'Function not implemented' },
  EOPNOTSUPP: { errno: 95, text: 'Operation not supported' },
} as const;
export type ErrnoCode = keyof typeof ERRNOS;

const BY_NUMBER = new Map<number, ErrnoCode>(
  (Object.keys(ERRNOS) as ErrnoCode[]).map((code) => [ERRNOS[code].errno, code]),
);

/** glibc's `strerror`; unknown numbers print as glibc does ("Unknown error N"). */
export function strerror(errno: number): string {
  const code = BY_NUMBER.get(Math.abs(errno));
  return code ? ERRNOS[code].text : `Unknown error ${Math.abs(errno)}`;
}

export function errnoCode(errno: number): ErrnoCode | undefined {
  return BY_NUMBER.get(Math.abs(errno));
}

/** A kernel call failed: `ret` is what the syscall returns (-errno), `errno` what userspace sees. */
export class KvmError extends Error {
  readonly code: ErrnoCode;
  readonly errno: number;
  readonly ret: number;
  /** Lines the kernel logged while failing (pr_err), in order; empty when it logged nothing. */
  readonly kernelLog: readonly string[];

  constructor(code: ErrnoCode, detail?: string, kernelLog: readonly string[] = []) {
    const { errno, text } = ERRNOS[code];
    super(detail ? `${detail}: ${text}` : text);
    this.name = 'KvmError';
    this.code = code;
    this.errno = errno;
    this.ret = -errno;
    this.kernelLog = kernelLog;
  }
}
