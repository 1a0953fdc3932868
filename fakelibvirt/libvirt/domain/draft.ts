/**
 * A domain definition while libvirt's QEMU driver works on it: the document as written, and the
 * canonical parts built from it — each one already in the form libvirt formats back. Parse steps
 * read `input` and fill the parts; post-parse steps add defaults and devices; validation reads the
 * parts; the formatter only assembles them in libvirt's order.
 */
import { randomUUID } from 'node:crypto';
import { child, children, element, type XmlNode } from '../xml-tree.ts';
import type { DomainContext } from './context.ts';

export interface DomainDraft {
  /** The `<domain>` element as written. */
  readonly input: XmlNode;
  readonly ctx: DomainContext;
  /** Attributes of the formatted root element (type, and xmlns declarations libvirt keeps). */
  readonly rootAttrs: Record<string, string>;
  /** Canonical top-level elements by element name (several for e.g. `seclabel`). */
  readonly top: Map<string, XmlNode[]>;
  /** `<devices><emulator>`: filled from the input or the capabilities in post-parse. */
  emulator: string | undefined;
  /** Canonical devices, in the order libvirt keeps them (per kind, document order within a kind). */
  readonly devices: XmlNode[];
  /**
   * Every random value the define drew (generated UUIDs, MACs, port-profile ids), in order: a
   * memoised definition must draw its own again (define-memo/), never share these.
   */
  readonly draws: Draw[];
}

/** A random value the define pipeline drew, and of which kind (a kind draws its form again). */
export interface Draw {
  readonly kind: DrawKind;
  readonly value: string;
}

export type DrawKind = 'uuid' | 'mac';

export type DraftStep = (draft: DomainDraft) => void;

/** `draws`: where the draft records its random draws (the caller keeps it, so they are known even when the define fails). */
export function newDraft(input: XmlNode, ctx: DomainContext, draws: Draw[] = []): DomainDraft {
  return { input, ctx, rootAttrs: {}, top: new Map(), emulator: undefined, devices: [], draws };
}

/** A random value of that kind, recorded in the draft. */
export function draw(d: DomainDraft, kind: DrawKind): string {
  const value = drawValue(kind);
  d.draws.push({ kind, value });
  return value;
}

/** virUUIDGenerate; virDomainNetGenerateMAC with the QEMU prefix 52:54:00. */
export function drawValue(kind: DrawKind): string {
  if (kind === 'uuid') return randomUUID();
  let mac = '52:54:00';
  for (let i = 0; i < 3; i++) mac += ':' + Math.floor(Math.random() * 256).toString(16).padStart(2, '0');
  return mac;
}

/** The first element of that name under `<domain>` as written (libvirt's `./name[1]`). */
export function inputFirst(d: DomainDraft, name: string): XmlNode | undefined {
  return child(d.input, name);
}

/** Every element of that name under `<domain>` as written. */
export function inputAll(d: DomainDraft, name: string): XmlNode[] {
  return children(d.input, name);
}

/** `./devices/KIND` across every `<devices>` element, as libvirt's XPath selects them. */
export function inputDevices(d: DomainDraft, kind: string): XmlNode[] {
  const out: XmlNode[] = [];
  for (const devs of inputAll(d, 'devices')) for (const c of devs.children) if (c.name === kind && c.ns === undefined) out.push(c);
  return out;
}

/** Sets the canonical top-level element(s) of that name. */
export function setTop(d: DomainDraft, name: string, ...nodes: XmlNode[]): void {
  if (nodes.length === 0) d.top.delete(name);
  else d.top.set(name, nodes);
}

export function getTop(d: DomainDraft, name: string): XmlNode | undefined {
  return d.top.get(name)?.[0];
}

/** A canonical node: attributes in the order given (undefined ones dropped), children, text. */
export function node(name: string, attrs: Record<string, string | number | undefined> = {}, kids: (XmlNode | undefined | null | false)[] = [], text = ''): XmlNode {
  // Plain loops: every canonical element of every define comes through here.
  const a: Record<string, string> = {};
  for (const k in attrs) {
    const v = attrs[k];
    if (v !== undefined) a[k] = typeof v === 'string' ? v : String(v);
  }
  const nodes: XmlNode[] = [];
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i];
    if (k) nodes.push(k);
  }
  return element(name, a, nodes, text);
}

export const textNode = (name: string, text: string | number, attrs: Record<string, string | number | undefined> = {}): XmlNode =>
  node(name, attrs, [], String(text));
