/**
 * Lifecycle actions, power management, perf events and the clock as libvirt 9.0 reads them
 * (conf/domain_conf.c virDomainDefLifecycleParse, virDomainPerfDefParseXML, virDomainDefClockParse,
 * virDomainTimerDefParseXML), the timer checks of the common post-parse, and the QEMU driver's
 * rules for them (qemu_validate.c). `<on_*>` and `<clock>` are always formatted, with their defaults.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { XmlNode } from '../xml-tree.ts';
import { strToLongLong, strToULongLong } from './c-numbers.ts';
import { inputFirst, node, setTop, textNode, type DomainDraft, type DraftStep } from './draft.ts';
import { isX86 } from './machine.ts';
import { osOf } from './os.ts';
import { propEnum, propTristateBool, propULongLong } from './props.ts';
import { AFTER_7_0, knownValues, type Since } from './since.ts';

/** virDomainLifecycleAction. */
export const LIFECYCLE_ACTIONS = ['destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart'] as const;
/** virDomainLockFailure. */
export const LOCK_FAILURE_ACTIONS = ['default', 'poweroff', 'restart', 'pause', 'ignore'] as const;
/** virPerfEvent. */
export const PERF_EVENTS = [
  'cmt', 'mbmt', 'mbml', 'cpu_cycles', 'instructions', 'cache_references', 'cache_misses', 'branch_instructions',
  'branch_misses', 'bus_cycles', 'stalled_cycles_frontend', 'stalled_cycles_backend', 'ref_cpu_cycles', 'cpu_clock',
  'task_clock', 'page_faults', 'context_switches', 'cpu_migrations', 'page_faults_min', 'page_faults_maj',
  'alignment_faults', 'emulation_faults',
] as const;
export const CLOCK_OFFSETS = ['utc', 'localtime', 'variable', 'timezone', 'absolute'] as const;
export const CLOCK_BASES = ['utc', 'localtime'] as const;
export const TIMER_NAMES = ['platform', 'pit', 'rtc', 'hpet', 'tsc', 'kvmclock', 'hypervclock', 'armvtimer'] as const;
export const TIMER_TRACKS = ['none', 'boot', 'guest', 'wall', 'realtime'] as const;
export const TIMER_TICKPOLICIES = ['none', 'delay', 'catchup', 'merge', 'discard'] as const;
export const TIMER_MODES = ['none', 'auto', 'native', 'emulate', 'paravirt', 'smpsafe'] as const;
/** NEWS 8.4.0 "Introduce absolute clock offset" (7.0 refuses it, measured). */
const CLOCK_OFFSETS_SINCE: Since = { absolute: [8, 4] };
/** 7.0's track table is boot/guest/wall (measured); realtime came after it (release read approximately). */
const TIMER_TRACKS_SINCE: Since = { realtime: AFTER_7_0 };

interface Timer {
  name: string;
  present?: string;
  tickpolicy?: string;
  track?: string;
  frequency?: bigint;
  mode?: string;
  catchup: { threshold?: bigint; slew?: bigint; limit?: bigint };
}

interface LifecycleDef {
  onPoweroff: string;
  onReboot: string;
  onCrash: string;
  onLockfailure: string;
  s3?: string;
  s4?: string;
  offset: string;
  startTime?: bigint;
  timers: Timer[];
}

const STATE = new WeakMap<DomainDraft, LifecycleDef>();
export const stateOf = (d: DomainDraft): LifecycleDef => {
  const s = STATE.get(d);
  if (!s) throw new Error('lifecycle: not parsed yet');
  return s;
};

const unsupported = (t: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.DOMAIN, t);
const qemuUnsupported = (t: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.QEMU, t);

/** virXPathString("string(./NAME[1])"). */
function topString(d: DomainDraft, name: string): string | undefined {
  const n = inputFirst(d, name);
  if (!n) return undefined;
  const v = n.raw ?? n.text;
  return v === '' ? undefined : v;
}

function action(d: DomainDraft, name: string, table: readonly string[], dflt: string): string {
  const v = topString(d, name);
  if (v === undefined) return dflt;
  if (!table.includes(v)) throw unsupported(`unknown ${name} action: ${v}`);
  return v;
}

/** virDomainDefLifecycleParse: the four actions (reboot first), then PM's S3 and S4. */
export const parseLifecycle: DraftStep = (d) => {
  const onReboot = action(d, 'on_reboot', LIFECYCLE_ACTIONS, 'restart');
  const onPoweroff = action(d, 'on_poweroff', LIFECYCLE_ACTIONS, 'destroy');
  const onCrash = action(d, 'on_crash', LIFECYCLE_ACTIONS, 'destroy');
  const onLockfailure = action(d, 'on_lockfailure', LOCK_FAILURE_ACTIONS, 'default');
  // virXPathNode("./pm/suspend-to-mem"): the first such element under any <pm>.
  const pmChild = (name: string) => d.input.children.filter((c) => c.name === 'pm').flatMap((p) => p.children).find((c) => c.name === name);
  const s3n = pmChild('suspend-to-mem');
  const s3 = s3n && propTristateBool(s3n, 'enabled');
  const s4n = pmChild('suspend-to-disk');
  const s4 = s4n && propTristateBool(s4n, 'enabled');
  STATE.set(d, { onPoweroff, onReboot, onCrash, onLockfailure, s3, s4, offset: 'utc', timers: [] });
  setTop(d, 'on_poweroff', textNode('on_poweroff', onPoweroff));
  setTop(d, 'on_reboot', textNode('on_reboot', onReboot));
  setTop(d, 'on_crash', textNode('on_crash', onCrash));
  if (onLockfailure !== 'default') setTop(d, 'on_lockfailure', textNode('on_lockfailure', onLockfailure));
  if (s3 || s4) {
    setTop(d, 'pm', node('pm', {}, [
      s3 !== undefined && node('suspend-to-mem', { enabled: s3 }),
      s4 !== undefined && node('suspend-to-disk', { enabled: s4 }),
    ]));
  }
};

/** PM is read with the lifecycle actions (above). */
export const parsePm: DraftStep = () => {};

/** `./perf/event`: each event once, formatted in the table's order. */
export const parsePerf: DraftStep = (d) => {
  const events = new Map<string, string>();
  const perf = d.input.children.filter((c) => c.name === 'perf').flatMap((p) => p.children.filter((c) => c.name === 'event'));
  for (const e of perf) {
    const name = propEnum(e, 'name', PERF_EVENTS, { required: true }) as string;
    const enabled = propTristateBool(e, 'enabled', { required: true }) as string;
    if (events.has(name)) throw LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.DOMAIN, `perf event '${name}' was already specified`);
    events.set(name, enabled);
  }
  if (events.size === 0) return;
  setTop(d, 'perf', node('perf', {}, PERF_EVENTS.filter((n) => events.has(n)).map((n) => node('event', { name: n, enabled: events.get(n) }))));
};

/** virDomainDefClockParse: the offset and its data, then every timer. */
export const parseClock: DraftStep = (d) => {
  const st = stateOf(d);
  const clock = inputFirst(d, 'clock');
  const attr = (name: string) => (clock?.attrs[name] === '' ? undefined : clock?.attrs[name]);
  const offsetText = attr('offset');
  let offset = 'utc';
  if (offsetText !== undefined) {
    if (!(knownValues(CLOCK_OFFSETS, CLOCK_OFFSETS_SINCE, d.ctx) as readonly string[]).includes(offsetText)) throw unsupported(`unknown clock offset '${offsetText}'`);
    offset = offsetText;
  }
  const attrs: Record<string, string | undefined> = {};
  switch (offset) {
    case 'utc':
    case 'localtime': {
      const adj = attr('adjustment');
      if (adj === 'reset') {
        attrs.adjustment = 'reset';
      } else if (adj !== undefined) {
        const n = strToLongLong(adj, 10);
        if (n === null) throw LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.DOMAIN, `unknown clock adjustment '${adj}'`);
        attrs.adjustment = String(n);
        attrs.basis = offset;
        offset = 'variable';
      }
      break;
    }
    case 'variable': {
      // virXPathLongLong: an unreadable adjustment is 0.
      const adj = attr('adjustment');
      attrs.adjustment = String((adj !== undefined && strToLongLong(adj, 10)) || 0n);
      const basis = attr('basis');
      if (basis !== undefined && !(CLOCK_BASES as readonly string[]).includes(basis)) throw unsupported(`unknown clock basis '${basis}'`);
      attrs.basis = basis ?? 'utc';
      break;
    }
    case 'timezone': {
      const tz = attr('timezone');
      if (tz === undefined) {
        throw LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.DOMAIN, "missing 'timezone' attribute for clock with offset='timezone'");
      }
      attrs.timezone = tz;
      break;
    }
    case 'absolute': {
      const start = attr('start');
      const n = start === undefined ? null : strToULongLong(start, 10);
      if (n === null) {
        throw LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.DOMAIN, "missing 'start' attribute for clock with offset='absolute'");
      }
      st.startTime = n;
      attrs.start = String(n);
      break;
    }
  }
  st.offset = offset;
  const timerNodes = d.input.children.filter((c) => c.name === 'clock').flatMap((c) => c.children.filter((t) => t.name === 'timer'));
  st.timers = timerNodes.map((t) => parseTimer(t, d));
  setTop(d, 'clock', node('clock', { offset, ...attrs }, st.timers.map(formatTimer)));
};

function parseTimer(n: XmlNode, d: DomainDraft): Timer {
  // 7.0 turned each with its TypeFromString and its own text (measured); 9.0 with virXMLPropEnum.
  const own = (what: string) => ({ ctx: d.ctx, until: AFTER_7_0, error: (v: string) => unsupported(`unknown timer ${what} '${v}'`) });
  const t: Timer = { name: propEnum(n, 'name', TIMER_NAMES, { required: true, ownText: own('name') }) as string, catchup: {} };
  t.present = propTristateBool(n, 'present');
  t.tickpolicy = propEnum(n, 'tickpolicy', TIMER_TICKPOLICIES, { nonzero: true, ownText: own('tickpolicy') });
  t.track = propEnum(n, 'track', knownValues(TIMER_TRACKS, TIMER_TRACKS_SINCE, d.ctx), { nonzero: true, ownText: own('track') });
  t.frequency = propULongLong(n, 'frequency', 10);
  t.mode = propEnum(n, 'mode', TIMER_MODES, { nonzero: true, ownText: own('mode') });
  const catchup = n.children.find((c) => c.name === 'catchup');
  if (catchup) {
    t.catchup.threshold = propULongLong(catchup, 'threshold', 10);
    t.catchup.slew = propULongLong(catchup, 'slew', 10);
    t.catchup.limit = propULongLong(catchup, 'limit', 10);
  }
  return t;
}

function formatTimer(t: Timer): XmlNode {
  const pos = (v: bigint | undefined) => (v !== undefined && v > 0n ? String(v) : undefined);
  const c = t.catchup;
  const catchup = [c.threshold, c.slew, c.limit].some((v) => v !== undefined && v > 0n) &&
    node('catchup', { threshold: pos(c.threshold), slew: pos(c.slew), limit: pos(c.limit) });
  return node('timer', {
    name: t.name,
    present: t.present,
    tickpolicy: t.tickpolicy,
    track: t.track,
    frequency: t.name === 'tsc' ? pos(t.frequency) : undefined,
    mode: t.name === 'tsc' ? t.mode : undefined,
  }, [catchup]);
}

/** virDomainDefPostParseTimer: each timer's attributes must suit its kind. */
export const postParse: DraftStep = (d) => {
  for (const t of stateOf(d).timers) {
    if ((t.name === 'kvmclock' || t.name === 'hypervclock') && t.tickpolicy) {
      throw unsupported(`timer ${t.name} doesn't support setting of timer tickpolicy`);
    }
    const c = t.catchup;
    if (t.tickpolicy !== 'catchup' && [c.threshold, c.limit, c.slew].some((v) => v !== undefined && v !== 0n)) {
      throw LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.DOMAIN,
        "setting of timer catchup policies is only supported with tickpolicy='catchup'");
    }
    if (t.name !== 'tsc') {
      if (t.frequency !== undefined && t.frequency !== 0n) throw unsupported(`timer ${t.name} doesn't support setting of timer frequency`);
      if (t.mode) throw unsupported(`timer ${t.name} doesn't support setting of timer mode`);
    }
    if (t.name !== 'platform' && t.name !== 'rtc' && t.track) {
      throw unsupported(`timer ${t.name} doesn't support setting of timer track`);
    }
  }
};

/** virDomainDefLifecycleActionValidate: coredump actions are for on_crash only. */
export function validateLifecycleActions(d: DomainDraft): void {
  const st = stateOf(d);
  for (const [event, act] of [['poweroff', st.onPoweroff], ['reboot', st.onReboot]] as const) {
    if (act === 'coredump-destroy' || act === 'coredump-restart') throw unsupported(`Lifecycle event '${event}' doesn't support '${act}' action`);
  }
}

/** qemuValidateLifecycleAction. */
export function qemuValidateLifecycle(d: DomainDraft): void {
  const { onPoweroff, onReboot, onCrash } = stateOf(d);
  if ([onPoweroff, onReboot, onCrash].includes('rename-restart')) {
    throw qemuUnsupported("qemu driver doesn't support the 'rename-restart' action for 'on_reboot'/'on_poweroff'/'on_crash'");
  }
  if (onPoweroff === 'preserve' || onReboot === 'preserve') {
    throw qemuUnsupported("qemu driver doesn't support the 'preserve' action for 'on_reboot'/'on_poweroff'");
  }
  if (onPoweroff === 'restart' && onReboot === 'destroy') {
    throw qemuUnsupported("qemu driver doesn't support 'onReboot' set to 'destroy and 'onPoweroff' set to 'reboot'");
  }
}

/** qemuValidateDomainDefClockTimers, for QEMU 7.2 on x86 (kvm-pit tick policy and -no-hpet exist). */
export function qemuValidateClockTimers(d: DomainDraft): void {
  const os = osOf(d);
  const where = `virtType=${os.virtType} arch=${os.arch} machine=${os.machine}`;
  for (const t of stateOf(d).timers) {
    switch (t.name) {
      case 'platform':
        throw qemuUnsupported(`unsupported timer type (name) '${t.name}'`);
      case 'tsc':
      case 'kvmclock':
      case 'hypervclock':
        if (!isX86(os.arch) && t.present === 'yes') throw qemuUnsupported(`Configuring the '${t.name}' timer is not supported for ${where} guests`);
        break;
      case 'rtc':
        if (t.track === 'boot') throw qemuUnsupported(`unsupported rtc timer track '${t.track}'`);
        if (t.tickpolicy === 'merge' || t.tickpolicy === 'discard') throw qemuUnsupported(`unsupported rtc timer tickpolicy '${t.tickpolicy}'`);
        break;
      case 'pit':
        if (t.tickpolicy === 'merge') throw qemuUnsupported(`unsupported pit tickpolicy '${t.tickpolicy}'`);
        break;
      case 'hpet':
        break;
      case 'armvtimer': {
        const armVirt = /^(aarch64|armv7l|armv6l)$/.test(os.arch) && /^virt(-|$)/.test(os.machine ?? '');
        if (os.virtType !== 'kvm' || !armVirt) throw qemuUnsupported(`Configuring the '${t.name}' timer is not supported for ${where} guests`);
        if (t.present === 'no') throw qemuUnsupported(`The '${t.name}' timer can't be disabled`);
        if (t.tickpolicy === 'catchup' || t.tickpolicy === 'merge') {
          throw qemuUnsupported(`The '${t.name}' timer does not support tickpolicy '${t.tickpolicy}'`);
        }
        break;
      }
    }
  }
  const st = stateOf(d);
  if (st.offset === 'absolute' && (st.startTime ?? 0n) > 253402300799n) {
    throw qemuUnsupported("The maximum 'start' value for <clock offset='absolute'> is 253402300799");
  }
}

/**
 * qemuValidateDomainDefPM: S3/S4 settings need QEMU's PIIX or ICH9 disable_s3/s4 properties, which
 * every QEMU the profiles describe (x86 ≥ 2.x) has; nothing to refuse there.
 */
export const qemuValidatePm: (d: DomainDraft) => void = () => {};
