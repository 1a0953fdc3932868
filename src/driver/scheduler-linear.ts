/**
 * The baseline: the same ledger and weigher as `IndexedScheduler`, but every placement scans every
 * host. Used by the benchmark and as the oracle of the differential property test.
 */
import { BaseScheduler, better, fits, type Demand, type HostState } from './scheduler.ts';

export class LinearScheduler extends BaseScheduler {
  protected added(): void {}
  protected changed(): void {}
  protected best(d: Demand, exclude?: HostState): HostState | undefined {
    let winner: HostState | undefined;
    for (const h of this.hosts) {
      if (h !== exclude && fits(h, d) && (winner === undefined || better(h, winner))) winner = h;
    }
    return winner;
  }
}
