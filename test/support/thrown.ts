/**
 * The error a call throws, checked to be of the expected class: `thrown(LibvirtError, () => host.create(dom))`.
 * Any other error propagates unchanged (the test shows it), and no error at all fails the test.
 */
export function thrown<E extends Error>(kind: abstract new (...args: never[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (e) {
    if (e instanceof kind) return e;
    throw e;
  }
  throw new Error(`expected a ${kind.name}`);
}
