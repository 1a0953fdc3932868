import type { OracleContainer } from './oracle-process.ts';

/** Where a recording runs: this machine, or a real-libvirt container of a Debian release. */
export interface RecordTarget {
  readonly sevProfile: string;
  readonly container?: OracleContainer;
  /** The libvirt version whose records these are (their file names). */
  readonly libvirt: string;
  /** `dpkg-query`'s version of a Debian package where libvirt runs. */
  packageVersion(name: string): string;
}
