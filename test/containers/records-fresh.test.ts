/**
 * The committed records of every recorded libvirt version are still what that release's real
 * libvirt answers: a spread sample of the corpus is defined again by the oracle running inside the
 * release's container (oracle/in-container.ts) and must get the recorded answers, byte for byte.
 * Bookworm's answers are 9.0's, the same records this machine's libvirt made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Distro } from '../../containers/images.ts';
import { recordedSampleFreshness } from '../../oracle/freshness.ts';
import { containerTarget, type RunningTarget } from '../../oracle/in-container.ts';
import { OraclePair, defineRecordsOf } from '../../oracle/record.ts';
import { RECORDED_VERSIONS, versionOfDistro } from '../../oracle/versions.ts';
import { requireContainers } from '../../containers/gate.ts';

const DISTROS = [...new Set(Object.values(RECORDED_VERSIONS).map((v) => v.distro))] as Distro[];
const skip = requireContainers(DISTROS) !== null;

/** Every STRIDE-th document libvirt neither crashed nor hung on: ~40 per release, across all groups. */
const STRIDE = 109;

describe.skipIf(skip).each(DISTROS)('the recorded answers are what libvirt in the %s container says', (distro) => {
  const version = versionOfDistro(distro);
  let running: RunningTarget;
  let pair: OraclePair;
  beforeAll(async () => {
    running = await containerTarget(distro);
    pair = OraclePair.open(running.target.sevProfile, running.target.container);
  }, 900_000);
  afterAll(async () => {
    await pair?.close();
    await running?.stop();
  });

  it(`reports libvirt ${version}`, () => {
    expect(running.libvirt.libvirt).toBe(version);
  });

  it('a spread sample of the corpus gets the recorded answer again', async () => {
    const { sampled, differing } = await recordedSampleFreshness(pair, defineRecordsOf(version), STRIDE);
    expect(sampled).toBeGreaterThan(35);
    expect(differing).toEqual([]);
  }, 300_000);
});
