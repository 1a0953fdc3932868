/**
 * The procedure table against libvirt 9.0's own sources (Debian 12's source package, fetched by
 * libvirt-source.ts): every row's name and number as remote_protocol.x declares them, the table
 * complete, calls and events as the protocol's payload structs say, each call's driver connection
 * as libvirtd's dispatcher chooses it, and each row's read-only access as the public API
 * function's virCheckReadOnlyGoto says, with the error domain of the file it lives in.
 * (remote_protocol.x's annotations carry ACL permissions, not the read-only rule:
 * virDomainGetLaunchSecurityInfo is `domain:read` there yet refuses read-only connections.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LIBVIRT_PROCEDURES, READ_ONLY_ERROR_DOMAIN, type LibvirtProcedure } from '../../src/rpc/procedures.ts';
import { libvirtSourceOrSkip } from './libvirt-source.ts';

const source = await libvirtSourceOrSkip();

interface XProcedure {
  readonly name: string;
  readonly number: number;
  /** The .x declares a `remote_<name>_msg` struct: a server-to-client event. */
  readonly event: boolean;
}

/**
 * The connection libvirtd's dispatcher takes a call's driver from, by libvirt's own rule
 * (get_conn_method of src/rpc/gendispatch.pl, restated): a secondary driver's when the arguments
 * or return value hold one of its objects, or when the name says the call lists or counts them;
 * the PCI detach, re-attach and reset calls of node devices belong to the hypervisor.
 */
function dispatcherConnection(structs: ReadonlyMap<string, string>, name: string): 'hypervisor' | 'secondary' {
  const lower = name.toLowerCase();
  const types = (structs.get(`remote_${lower}_args`) ?? '') + (structs.get(`remote_${lower}_ret`) ?? '');
  if (/remote_nonnull_(interface|network|node_device|nwfilter|secret|storage)/.test(types)) return 'secondary';
  if (/CONNECT_.*(INTERFACE|NETWORK|NWFILTER|SECRET|STORAGE)|INTERFACE_CHANGE/.test(name)) return 'secondary';
  if (/NODE_.*DEVICE/.test(name) && !/NODE_DEVICE_(RESET|RE_ATTACH|DETTACH|DETACH_FLAGS)$/.test(name)) return 'secondary';
  return 'hypervisor';
}

/** The .x's struct bodies, by struct name. */
function protocolStructs(x: string): Map<string, string> {
  return new Map([...x.matchAll(/^struct (\w+)\s*\{([^}]*)\}/gm)].map((m) => [m[1]!, m[2]!]));
}

/** REMOTE_PROC_* of `enum remote_procedure`, by name. */
function protocolProcedures(x: string): Map<string, XProcedure> {
  const start = x.indexOf('enum remote_procedure');
  const enumBody = x.slice(start, x.indexOf('};', start));
  const msgStructs = new Set([...x.matchAll(/^struct remote_(\w+)_msg\s*\{/gm)].map((m) => m[1]!.toUpperCase()));
  const out = new Map<string, XProcedure>();
  for (const m of enumBody.matchAll(/REMOTE_PROC_(\w+)\s*=\s*(\d+)/g)) {
    const name = m[1]!;
    out.set(name, { name, number: Number(m[2]), event: msgStructs.has(name) });
  }
  return out;
}

interface ApiFunction {
  readonly name: string;
  /** virErrorDomain of its file (VIR_FROM_THIS). */
  readonly errorDomain: number;
  /** Calls virCheckReadOnlyGoto at the top level of its body (not under a flag test). */
  readonly refusesReadOnly: boolean;
  /** Refuses read-only connections only under a test of its arguments (flags). */
  readonly refusesReadOnlyIf: boolean;
  readonly body: string;
}

/** Public API functions of src/libvirt*.c (the remote program's; libvirt-qemu.c and -lxc.c have their own). */
function apiFunctions(root: string): Map<string, ApiFunction> {
  const header = readFileSync(join(root, 'include/libvirt/virterror.h'), 'utf8');
  const domains = new Map([...header.matchAll(/^\s*(VIR_FROM_\w+)\s*=\s*(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
  const out = new Map<string, ApiFunction>();
  const dir = join(root, 'src');
  for (const file of readdirSync(dir).filter((f) => /^libvirt(-[a-z-]+)?\.c$/.test(f) && !/-(qemu|lxc)\.c$/.test(f))) {
    const text = readFileSync(join(dir, file), 'utf8');
    const from = /#define VIR_FROM_THIS (VIR_FROM_\w+)/.exec(text)?.[1];
    const errorDomain = from === undefined ? -1 : (domains.get(from) ?? -1);
    // libvirt's style: the name starts a line (a few put the return type before it), the body's
    // braces sit in column 0.
    for (const m of text.matchAll(/^(?:[a-z][\w ]*[ *])?(vir[A-Za-z0-9]+)\([^;{]*?\)\s*\n\{\n([\s\S]*?)\n\}\n/gm)) {
      const body = m[2]!;
      out.set(m[1]!, {
        name: m[1]!,
        errorDomain,
        body,
        refusesReadOnly: /^ {4}virCheckReadOnlyGoto\(/m.test(body),
        refusesReadOnlyIf: /^ {8,}virCheckReadOnlyGoto\(|flags & VIR_CONNECT_RO\) &&/m.test(body),
      });
    }
  }
  return out;
}

/** virDomainGetXMLDesc → DOMAIN_GET_XML_DESC: the procedure a function would serve, by libvirt's naming. */
function procedureNameOf(fn: string): string {
  return fn
    .slice(3)
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toUpperCase();
}

// A skipped describe still collects its body: without the sources, it reads nothing.
describe.skipIf(source === null)("the procedure table against libvirt 9.0's sources (Debian 12)", () => {
  const x = protocolProcedures(source?.remoteProtocol ?? '');
  const rows = LIBVIRT_PROCEDURES;

  it('every row has the name and number remote_protocol.x gives it', () => {
    const wrong = rows
      .filter((r) => x.get(r.name)?.number !== r.number)
      .map((r) => `${r.name}=${r.number} (remote_protocol.x: ${x.get(r.name)?.number ?? 'no such procedure'})`);
    expect(wrong).toEqual([]);
  });

  it('every procedure of remote_protocol.x has a row', () => {
    const named = new Set(rows.map((r) => r.name as string));
    expect([...x.values()].filter((p) => !named.has(p.name)).map((p) => `${p.name}=${p.number}`)).toEqual([]);
    expect(rows.length).toBe(x.size);
  });

  it('events are the procedures with a message struct, calls the others', () => {
    const wrong = rows.filter((r) => (r.kind === 'event') !== x.get(r.name)?.event).map((r) => `${r.name} (${r.kind})`);
    expect(wrong).toEqual([]);
  });

  it("each call's connection is the one libvirtd's dispatcher takes", () => {
    const structs = protocolStructs(source?.remoteProtocol ?? '');
    const wrong = rows
      .filter((r) => r.kind === 'call' && r.connection !== dispatcherConnection(structs, r.name))
      .map((r) => `${r.name}: ${r.connection}`);
    expect(wrong).toEqual([]);
  });

  describe('read-only access', () => {
    const api = source === null ? new Map<string, ApiFunction>() : apiFunctions(source.root);
    const byProcedure = new Map([...api.values()].map((f) => [procedureNameOf(f.name), f]));
    const calls = rows.filter((r) => r.kind === 'call');

    it('found the API functions', () => {
      expect(api.size).toBeGreaterThan(400);
      expect(api.get('virDomainCreate')).toMatchObject({ errorDomain: 20, refusesReadOnly: true });
    });

    it("each write row names an API function that refuses read-only connections, in its group's error domain", () => {
      const wrong: string[] = [];
      for (const r of calls) {
        if (r.access.kind !== 'write') continue;
        const f = api.get(r.access.api);
        if (f === undefined) wrong.push(`${r.name}: no function ${r.access.api}`);
        else if (!f.refusesReadOnly) wrong.push(`${r.name}: ${f.name} has no read-only check`);
        else if (r.group === 'event' || f.errorDomain !== READ_ONLY_ERROR_DOMAIN[r.group]) {
          wrong.push(`${r.name}: ${f.name} reports in domain ${f.errorDomain}, group ${r.group}`);
        }
        const named = byProcedure.get(r.name);
        if (named !== undefined && named.name !== r.access.api) {
          wrong.push(`${r.name}: API ${r.access.api}, libvirt's ${named.name}`);
        }
      }
      expect(wrong).toEqual([]);
    });

    it('no read row belongs to an API function that refuses read-only connections', () => {
      const checked: LibvirtProcedure[] = [];
      const wrong: string[] = [];
      for (const r of calls) {
        const f = byProcedure.get(r.name);
        if (f === undefined) continue;
        checked.push(r);
        if (f.refusesReadOnly && r.access.kind === 'read') {
          wrong.push(`${r.name}: ${f.name} refuses read-only connections`);
        }
      }
      expect(wrong).toEqual([]);
      // Most procedures' API names follow from their names; the rest are covered by the rows' own `api`.
      expect(checked.length).toBeGreaterThan(calls.length * 0.85);
    });

    it('a spoken read row whose API refuses read-only connections for some arguments says which, in its words', () => {
      const wrong: string[] = [];
      for (const r of calls) {
        const f = byProcedure.get(r.name);
        if (f === undefined || r.access.kind !== 'read') continue;
        const byFlags = r.access.refusedWithFlags;
        if (byFlags === undefined) {
          if (f.refusesReadOnlyIf && r.args !== undefined) {
            wrong.push(`${r.name}: ${f.name} refuses read-only connections for some flags`);
          }
          continue;
        }
        if (!f.refusesReadOnlyIf) wrong.push(`${r.name}: ${f.name} has no flag-dependent read-only check`);
        const said =
          byFlags.detail === `read only access prevents ${f.name}` || f.body.includes(`_("${byFlags.detail}")`);
        if (!said) wrong.push(`${r.name}: ${f.name} does not say "${byFlags.detail}"`);
      }
      expect(wrong).toEqual([]);
    });
  });
});
