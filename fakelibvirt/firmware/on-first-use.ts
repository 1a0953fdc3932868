/**
 * A value given now, or made when first read and kept from then on: how the firmware holds what it
 * may make late because nobody can tell when it was made (transport keys and nonces drawn from the
 * CSPRNG or derived from a seed). Functions are never values here: a function given is the maker.
 */
export class OnFirstUse<T extends object> {
  private value: T | null;
  private make: (() => T) | null;

  constructor(valueOrMaker: T | (() => T)) {
    if (typeof valueOrMaker === 'function') {
      this.value = null;
      this.make = valueOrMaker as () => T;
    } else {
      this.value = valueOrMaker;
      this.make = null;
    }
  }

  get(): T {
    if (this.value === null) {
      this.value = this.make!();
      this.make = null;
    }
    return this.value;
  }
}
