/**
 * What changed between libvirt releases, as data: enum values libvirt learned after the others
 * (`Since` tables, beside each enum), and whole rules that one release added or dropped
 * (`VERSIONED_RULES`, below). A profile at another libvirt gets that release's behaviour. Versions
 * are read from libvirt's NEWS.rst and docs/formatdomain.rst (":since:" notes) and its sources of
 * 7.0.0, 9.0.0 and 11.3.0, and measured where a container runs that release (7.0.0, 9.0.0, 11.3.0;
 * containers/README.md says which).
 */
import type { DomainContext } from './context.ts';

export type Release = readonly [number, number, number?];
export type Since = Readonly<Record<string, Release>>;
type Versioned = Pick<DomainContext, 'libvirtAtLeast'>;

/**
 * Answers already given, by version gate (one per profile's context), table and since-table: the
 * same few tables are asked about for every element of every define.
 */
const knownMemo = new WeakMap<Versioned['libvirtAtLeast'], WeakMap<readonly string[], WeakMap<Since, readonly string[]>>>();

/** The values of `table` the profile's libvirt knows (values without an entry are older than any profile). */
export function knownValues<T extends string>(table: readonly T[], since: Since, ctx: Versioned): readonly T[] {
  let byTable = knownMemo.get(ctx.libvirtAtLeast);
  if (!byTable) knownMemo.set(ctx.libvirtAtLeast, (byTable = new WeakMap()));
  let bySince = byTable.get(table);
  if (!bySince) byTable.set(table, (bySince = new WeakMap()));
  let known = bySince.get(since) as readonly T[] | undefined;
  if (!known) {
    known = Object.freeze(
      table.filter((v) => {
        const s = since[v];
        return s === undefined || ctx.libvirtAtLeast(s[0], s[1], s[2]);
      }),
    );
    bySince.set(since, known);
  }
  return known;
}

/**
 * The first release after 7.0 (the oldest measured): a change seen between the 7.0 and 9.0 records
 * whose exact release is not named in NEWS.rst is placed here — read approximately, and said so.
 */
export const AFTER_7_0: Release = [7, 1];

/** A rule libvirt checks from `since` (inclusive) until `until` (the first release without it). */
interface RuleSpan {
  readonly since?: Release;
  readonly until?: Release;
}

/**
 * Rules that exist in some releases only. "measured" = both sides of the change were recorded
 * (7.0 / 9.0 / 11.3 containers); the boundary release itself is read from NEWS.rst where named,
 * otherwise it is the first recorded release that differs and says "boundary read approximately".
 */
export const VERSIONED_RULES = {
  /** qemuFirmwareFillDomain at define (NEWS 9.2.0 "Make firmware selection persistent"); measured 9.0 / 11.3. */
  firmwareSelectedAtDefine: { since: [9, 2] },
  /** qemu_validate: ib700 is an ISA device, i440fx only (NEWS 9.3.0); measured 9.0 / 11.3. */
  ib700OnI440fxOnly: { since: [9, 3] },
  /** numa_conf: a restrictive memnode needs a restrictive `<memory>` (NEWS 9.4.0); measured 9.0 / 11.3. */
  restrictiveMemnodeNeedsRestrictiveMemory: { since: [9, 4] },
  /** domain_validate: sheepdog disks refused (storage backend removed in 8.8.0; the domain check is newer than 9.0, boundary read approximately at 9.1). */
  sheepdogRefused: { since: [9, 1] },
  /** qemu_validate: vhost-user interfaces need shared memory (NEWS 11.2.0, a warning before); measured 9.0 / 11.3. */
  vhostuserInterfaceNeedsSharedMemory: { since: [11, 2] },
  /** The `<crypto>` device (NEWS 9.1.0): before it libvirt ignores the element. */
  cryptoDevice: { since: [9, 1] },
  /** 7.0 qemu_validate: kvm hint-dedicated=on needs a host-passthrough CPU; gone in 9.0 (boundary read approximately). */
  hintDedicatedNeedsHostPassthrough: { until: [7, 1] },
  /** 7.0 virDomainAudioDefParseXML: OSS audio needs `<input>` and `<output>`; gone with the 7.2.0 audio backends. */
  ossAudioNeedsInputOutput: { until: [7, 2] },
  /** 7.0 virDomainMemballoonDefParseXML reads the period as an unsigned int (a sign is refused); 9.0 as an int (measured). */
  memballoonPeriodUnsigned: { until: [7, 1] },
  /**
   * 7.0 turns enum attributes with their own TypeFromString, so '' is an unknown value for
   * interface link state, video model, serial target model and filesystem accessmode; 9.0 reads
   * them with virXMLPropEnum, which treats '' as absent there (measured). Boundary read approximately.
   */
  emptyEnumIsUnknown: { until: [7, 1] },
  /** 11.3 reads video model type with virXMLPropEnum(NONZERO): '' is an invalid value (measured; 9.0 took it as absent). */
  emptyVideoModelInvalid: { since: [9, 1] },
  /**
   * virXMLParseHelper no longer names the string document: libxml2 errors read "at line N: …"
   * instead of "(domain_definition):N: …" (measured 9.0 / 11.3; boundary read approximately).
   */
  xmlErrorsWithoutDocumentName: { since: [9, 1] },
  /** virDomainSEVCommonDefParseXML (with SNP, 10.5): cbitpos and reducedPhysBits before the policy (measured 9.0 / 11.3). */
  sevCommonPartsFirst: { since: [10, 5] },
  /**
   * Watchdog, RNG and video `<model>` attributes read with virXMLPropEnum / virXMLPropUInt (the
   * generic texts; '' is a value, not an absence): measured 9.0 / 11.3, boundary read approximately.
   */
  devicePropReaders: { since: [9, 1] },
} as const satisfies Record<string, RuleSpan>;

export type VersionedRule = keyof typeof VERSIONED_RULES;

/** Whether the profile's libvirt checks `rule`. */
export function ruleApplies(rule: VersionedRule, ctx: Versioned): boolean {
  const span: RuleSpan = VERSIONED_RULES[rule];
  if (span.since && !ctx.libvirtAtLeast(span.since[0], span.since[1], span.since[2])) return false;
  if (span.until && ctx.libvirtAtLeast(span.until[0], span.until[1], span.until[2])) return false;
  return true;
}
