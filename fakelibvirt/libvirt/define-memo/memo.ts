/**
 * The define pipeline at the cost of a lookup. Suites and drivers define the same documents again
 * and again, byte for byte or with only the name and uuid changed (identity.ts); the pipeline is a
 * pure function of the document and the DomainContext but for its random draws. The memo keeps, per
 * document family, the first answer and gives it back once the family is proven:
 *
 * - the same text with no random draw is the same answer (no proof needed);
 * - another name or uuid, or fresh draws, are served only after one more run of the pipeline with
 *   a different value of each agreed exactly with the first answer filled in with that run's
 *   values (template.ts): the family is then parametric in them, and every hit draws its own
 *   random values (never sharing one between two defines);
 * - a refusal is served for another name or uuid only when its texts name neither;
 * - a family that fails its proof is never templated again (its documents are keyed by their text).
 *
 * Bounded: documents up to MEMO_MAX_CHARS, at most MEMO_MAX_ENTRIES and MEMO_MAX_KEY_CHARS of keys
 * per map (families, texts), least recently used first out.
 */
import { LibvirtError } from '../../../src/libvirt/errors.ts';
import { drawValue, type Draw } from '../domain/draft.ts';
import type { XmlNode } from '../xml-tree.ts';
import { exactKey, guardAllows, keyGuard, keyOf, markFree, occursOnlyWhereCopied, type Identity, type KeyGuard, type Keyed } from './identity.ts';
import { deepFreeze, instantiate, sameValue, templateOf, type Template } from './template.ts';

/** A document larger than this is always defined afresh (domains are a few KB; a hostile 4 MB one must not be kept). */
export const MEMO_MAX_CHARS = 64 * 1024;
export const MEMO_MAX_ENTRIES = 256;
/** Per map: with trees ≈ 25× their text (measured on the corpus), ≈ 25 MB a context at most. */
export const MEMO_MAX_KEY_CHARS = 512 * 1024;

/** One run of the define pipeline: the parsed document (when it parsed), its draws, and its answer. */
export interface PipelineRun<T> {
  readonly input: XmlNode | undefined;
  readonly draws: readonly Draw[];
  readonly def?: T;
  readonly error?: unknown;
}

type Pipeline<T> = (text: string) => PipelineRun<T>;

interface Entry<T> {
  /** The first run, its definition frozen (it is shared by every hit). */
  readonly first: PipelineRun<T>;
  /** The text holds no template mark, so its values can be marked in the definition. */
  readonly templatable: boolean;
  readonly identity: Identity;
  /** Masked families only: values the template may not be asked for. */
  readonly guard: KeyGuard | undefined;
  template: Template<T> | null | undefined;
  /** Which variable values a second run has proven the answer parametric in. */
  nameProven: boolean;
  uuidProven: boolean;
  drawsProven: boolean;
}

/** A family (or text) whose answer is not parametric: always defined afresh. */
const OPAQUE = 'opaque';
type Slot<T> = Entry<T> | typeof OPAQUE;

class Lru<V> {
  private readonly map = new Map<string, V>();
  private chars = 0;

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, v: V): void {
    if (this.map.delete(key)) this.chars -= key.length;
    this.map.set(key, v);
    this.chars += key.length;
    while (this.map.size > MEMO_MAX_ENTRIES || this.chars > MEMO_MAX_KEY_CHARS) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
      this.chars -= oldest.length;
    }
  }

  get size(): number {
    return this.map.size;
  }

  get keyChars(): number {
    return this.chars;
  }
}

const ERROR_FIELDS = ['message', 'str1', 'str2', 'str3'] as const;

/** A new error with every field of the memoised one (each define throws its own object). */
function freshError(e: LibvirtError): LibvirtError {
  return new LibvirtError({ code: e.code, domain: e.domain, message: e.message, level: e.level, str1: e.str1, str2: e.str2, str3: e.str3, int1: e.int1, int2: e.int2 });
}

const sameError = (a: LibvirtError, b: LibvirtError) =>
  a.code === b.code && a.domain === b.domain && a.level === b.level && a.int1 === b.int1 && a.int2 === b.int2 && ERROR_FIELDS.every((f) => a[f] === b[f]);

const namesAny = (e: LibvirtError, values: readonly string[]) => ERROR_FIELDS.some((f) => values.some((v) => v !== '' && (e[f] ?? '').includes(v)));

function settle<T>(run: PipelineRun<T>): T {
  if (run.def !== undefined) return run.def;
  throw run.error;
}

/** The values a template marks: name, uuid, then each draw. */
const valuesOf = (id: Identity, draws: readonly Draw[]): string[] => [id.name ?? '', id.uuid ?? '', ...draws.map((d) => d.value)];

export class DefineMemo<T extends object> {
  private readonly masked = new Lru<Slot<T>>();
  private readonly exact = new Lru<Slot<T>>();

  /** The pipeline's answer for `text`: from the memo when proven, else from `run` (and remembered). */
  define(text: string, run: Pipeline<T>): T {
    if (text.length > MEMO_MAX_CHARS) return settle(run(text));
    let keyed = keyOf(text);
    let map = keyed.identity.name === undefined && keyed.identity.uuid === undefined ? this.exact : this.masked;
    let slot = map.get(keyed.key);
    if (slot === OPAQUE && map === this.masked) {
      keyed = exactKey(text);
      map = this.exact;
      slot = map.get(text);
    }
    if (slot === OPAQUE) return settle(run(text));
    if (slot === undefined) return this.firstSight(text, keyed, map, run);
    return this.again(slot, keyed, map, run, text);
  }

  /** Entries kept (both maps) and the characters of their keys: the bound tests read. */
  get footprint(): { entries: number; keyChars: number } {
    return { entries: this.masked.size + this.exact.size, keyChars: this.masked.keyChars + this.exact.keyChars };
  }

  private firstSight(text: string, keyed: Keyed, map: Lru<Slot<T>>, run: Pipeline<T>): T {
    const first = run(text);
    if (first.def === undefined && !(first.error instanceof LibvirtError)) return settle(first);
    if (map === this.masked && (first.input === undefined || !occursOnlyWhereCopied(text, first.input, keyed.identity))) {
      // Not a family: the name or uuid also stands where the define may read it as more than a copied value.
      this.masked.set(keyed.key, OPAQUE);
      keyed = exactKey(text);
      map = this.exact;
    }
    deepFreeze(first.def);
    map.set(keyed.key, {
      first: { input: undefined, draws: first.draws, def: first.def, error: first.error },
      templatable: markFree(text),
      identity: keyed.identity,
      guard: map === this.masked ? keyGuard(keyed.key) : undefined,
      template: undefined,
      nameProven: false,
      uuidProven: false,
      drawsProven: false,
    });
    return settle(first);
  }

  private again(e: Entry<T>, keyed: Keyed, map: Lru<Slot<T>>, run: Pipeline<T>, text: string): T {
    const id = keyed.identity;
    const newName = id.name !== e.identity.name;
    const newUuid = id.uuid !== e.identity.uuid;
    if ((newName || newUuid) && e.guard && !guardAllows(e.guard, id)) return settle(run(text));
    const drawn = e.first.draws.length > 0;
    const proven = (!newName || e.nameProven) && (!newUuid || e.uuidProven) && (!drawn || e.drawsProven);
    if (proven) {
      const err = e.first.error;
      if (err instanceof LibvirtError) throw freshError(err);
      if (!newName && !newUuid && !drawn) return { ...e.first.def! };
      if (e.template) return instantiate(e.template, valuesOf(id, e.first.draws.map((d) => ({ kind: d.kind, value: drawValue(d.kind) }))));
    }
    const next = run(text);
    if (this.proves(e, next, id)) {
      e.nameProven ||= newName;
      e.uuidProven ||= newUuid;
      e.drawsProven ||= drawn;
    } else {
      map.set(keyed.key, OPAQUE);
    }
    return settle(next);
  }

  /** Whether `next` (a run with other values) is the first run's answer with its values filled in. */
  private proves(e: Entry<T>, next: PipelineRun<T>, id: Identity): boolean {
    const drawn = e.first.draws;
    // Every draw of the second run differs from the first run's, so an answer alike is not one of their values.
    const drawsDiffer = next.draws.length === drawn.length && next.draws.every((d, i) => d.kind === drawn[i]!.kind && d.value !== drawn[i]!.value);
    if (drawn.length > 0 && !drawsDiffer) return false;
    const a = e.first.error;
    const b = next.error;
    if (a !== undefined || b !== undefined) {
      if (!(a instanceof LibvirtError) || !(b instanceof LibvirtError)) return false;
      return sameError(a, b) && !namesAny(a, [...valuesOf(e.identity, drawn), ...valuesOf(id, next.draws)]);
    }
    if (next.def === undefined || !drawsDiffer) return false;
    if (e.template === undefined) e.template = e.templatable ? templateOf(e.first.def!, valuesOf(e.identity, e.first.draws)) : null;
    return e.template !== null && sameValue(instantiate(e.template, valuesOf(id, next.draws)), next.def);
  }
}
