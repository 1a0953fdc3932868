/**
 * No case can pass on a host without SEV when it needs SEV: on this machine's recorded facts (an
 * Intel VM without SEV, libvirt 9.0, QEMU 7.2) every case whose expectation needs SEV on a Milan SEV
 * host is not applicable with "host has no SEV …", and no case that applies here needs SEV.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CASES } from '../catalogue/index.ts';
import type { Given } from '../catalogue/types.ts';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { profileTruth, type ProfileTruth } from '../truth.ts';
import { needsSevToPass, NO_SEV_REASON } from './honesty.ts';
import { readHostFileFacts, recordedTree } from './host-files.ts';
import { parseCapabilitiesFacts, parseDomcapsFacts } from './libvirt-facts.ts';
import { synthesize } from './synthesize.ts';
import { unsupportedReason } from './target.ts';

const dir = join(import.meta.dirname, 'fixtures', 'debian12-tcg');
const read = (f: string) => readFileSync(join(dir, f), 'utf8');

function thisMachine(): ProfileTruth {
  const tree = recordedTree({
    'proc/cpuinfo': read('cpuinfo'),
    'proc/meminfo': read('meminfo'),
    'proc/sys/kernel/osrelease': '6.18.44-fc-v769\n',
    'proc/cmdline': 'console=ttyS0\n',
  });
  const q35 = parseDomcapsFacts(read('domcaps-q35-qemu.xml'));
  const s = synthesize(readHostFileFacts(tree), {
    uri: 'qemu:///system',
    libvirtVersion: '9.0.0',
    qemuVersion: '7.2.22',
    hostname: 'vm',
    capabilities: parseCapabilitiesFacts(read('capabilities.xml')),
    defaultDomcaps: { ...q35, machine: 'pc-i440fx-7.2' },
    q35Domcaps: q35,
  }, tree);
  expect(s.mismatches).toEqual([]);
  return s.truth;
}

const givenOf = (g: Given | ((t: ProfileTruth) => Given) | undefined, t: ProfileTruth): Given => (typeof g === 'function' ? g(t) : (g ?? {}));

describe('real mode on a host without SEV', () => {
  const here = thisMachine();
  const milan = profileTruth(loadProfile('milan-7003-es8'));

  it('cases needing SEV on an SEV host are "not applicable: host has no SEV" here', () => {
    const sevCases = CASES.filter((c) => c.appliesTo(milan) === true && needsSevToPass(c.expect(milan)));
    expect(sevCases.length).toBeGreaterThan(30);
    // A case may instead adapt its expectation to the truth (detect.sev-es expects sev: false here).
    const wrong = sevCases
      .map((c) => [c.id, c.appliesTo(here)] as const)
      .filter(([id, a]) => (a === true ? needsSevToPass(CASES.find((c) => c.id === id)!.expect(here)) : !NO_SEV_REASON.test(a)));
    expect(wrong).toEqual([]);
    expect(sevCases.filter((c) => c.appliesTo(here) !== true).length).toBeGreaterThan(30);
  });

  it('no case that applies here needs SEV to pass', () => {
    const applying = CASES.filter((c) => c.appliesTo(here) === true);
    expect(applying.length).toBeGreaterThan(20);
    expect(applying.filter((c) => needsSevToPass(c.expect(here))).map((c) => c.id)).toEqual([]);
  });

  it('every host control a case asks for is refused by the real target with a reason', () => {
    const controls = CASES.flatMap((c) => givenOf(c.given, milan).host ?? []).filter((a) => !['set-config', 'boot', 'restart-driver'].includes(a.do));
    expect(controls.length).toBeGreaterThan(0);
    for (const a of controls) expect(unsupportedReason(a)).toMatch(/real host|suite/);
  });
});
