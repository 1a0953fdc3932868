/** Test helper: runs `fn` and returns the errno name of the KvmError it throws, or null. */
import { KvmError, type ErrnoCode } from '../../fakelibvirt/kvm/errno.ts';

export function errnoOf(fn: () => unknown): ErrnoCode | null {
  try {
    fn();
  } catch (e) {
    if (e instanceof KvmError) return e.code;
    throw e;
  }
  return null;
}
