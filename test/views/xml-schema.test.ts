/** Validates the XML views with libvirt 9.0's own RNG schemas (what virt-xml-validate checks) when they are installed. */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allProfiles } from '../../fakelibvirt/profile/load.ts';
import { capabilitiesXml } from '../../fakelibvirt/views/capabilities.ts';
import { domainCapabilitiesXml } from '../../fakelibvirt/views/domain-capabilities.ts';
import { versionAtLeast } from '../../fakelibvirt/profile/version.ts';
import { views } from './helpers.ts';

const SCHEMAS = '/usr/share/libvirt/schemas';
const XMLLINT = '/usr/bin/xmllint';

/**
 * What `virt-xml-validate FILE SCHEMA` checks (it runs `xmllint --relaxng SCHEMA.rng FILE`), for
 * many documents in one xmllint run so the schema is compiled once; returns the failures' messages.
 */
function invalid(docs: readonly string[], schema: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'xmlv-'));
  try {
    const files = docs.map((xml, i) => {
      const file = join(dir, `${i}.xml`);
      writeFileSync(file, xml);
      return file;
    });
    const r = spawnSync(XMLLINT, ['--noout', '--relaxng', join(SCHEMAS, `${schema}.rng`), ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    const valid = new Set(lines.filter((l) => l.endsWith(' validates')).map((l) => l.slice(0, -' validates'.length)));
    return files.filter((f) => !valid.has(f)).map((f) => `${f}: ${lines.filter((l) => l.startsWith(f)).join(' | ') || 'no verdict'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!existsSync(XMLLINT) || !existsSync(join(SCHEMAS, 'domaincaps.rng')))('libvirt 9.0 schemas', () => {
  it('capabilities of every profile validate', () => {
    const docs = [...allProfiles().keys()].map((name) => {
      const v = views(name);
      return capabilitiesXml(v.profile, v.kernel);
    });
    expect(invalid(docs, 'capability')).toEqual([]);
  });

  // The installed schemas describe libvirt 9.0 output; older releases lack elements 9.0 requires
  // (<maximum> CPU mode) and newer ones add elements (launchSecurity), so only 8.0–9.x profiles apply.
  // libvirt 9.0 prints <cpu0Id> from a fresh probe (a warm cache drops it) but its domaincaps.rng does
  // not list it yet, so it is removed first.
  it('domain capabilities of libvirt 8.0–9.x profiles validate, for every machine and virttype', () => {
    const docs: string[] = [];
    for (const p of allProfiles().values()) {
      if (!versionAtLeast(p.libvirt.version, 8, 0) || versionAtLeast(p.libvirt.version, 9, 6)) continue;
      const v = views(p.name);
      for (const m of p.qemu.machineTypes) {
        for (const virttype of ['kvm', 'qemu']) {
          const xml = domainCapabilitiesXml(v.profile, v.sev, { machine: m.name, virttype });
          docs.push(xml.replace(/ *<cpu0Id>[^<]*<\/cpu0Id>\n/, ''));
        }
      }
    }
    expect(docs.length).toBeGreaterThan(10);
    expect(invalid(docs, 'domaincaps')).toEqual([]);
  });
});
