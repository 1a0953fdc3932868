/**
 * `<seclabel>` and `<keywrap>` as libvirt 9.0 reads them for an inactive definition
 * (conf/domain_conf.c virSecurityLabelDefsParseXML, virDomainKeyWrapDefParseXML) and formats them.
 * The host's first security model is 'none' (the fake's capabilities advertise only that model), so
 * a lone seclabel without a model takes 'none', and a 'none' model turns the label into type 'none'.
 */
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../../src/libvirt/errors.ts';
import type { XmlNode } from '../xml-tree.ts';
import { inputAll, node, setTop, textNode, type DomainDraft, type DraftStep } from './draft.ts';
import { propEnum, propTristateBool, propTristateSwitch } from './props.ts';

/** virDomainSeclabel. */
export const SECLABEL_TYPES = ['default', 'none', 'dynamic', 'static'] as const;
/** virDomainKeyWrapCipherName. */
export const KEYWRAP_CIPHERS = ['aes', 'dea'] as const;

/** The model libvirt copies into a model-less seclabel: the host's first `<secmodel>`. */
const HOST_DEFAULT_MODEL = 'none';
/** VIR_SECURITY_MODEL_BUFLEN - 1 and VIR_SECURITY_LABEL_BUFLEN - 1. */
const MODEL_MAX = 255;
const LABEL_MAX = 4095;

interface Seclabel {
  type: string;
  model: string | undefined;
  relabel: boolean;
  label?: string;
  baselabel?: string;
}

const unsupported = (t: string) => LibvirtError.of(VirErrorNumber.CONFIG_UNSUPPORTED, VirErrorDomain.DOMAIN, t);
const xmlErr = (t: string) => LibvirtError.of(VirErrorNumber.XML_ERROR, VirErrorDomain.DOMAIN, t);

/** virXPathString("string(./NAME[1])") under the seclabel. */
function childString(n: XmlNode, name: string): string | undefined {
  const c = n.children.find((k) => k.name === name);
  const v = c ? (c.raw ?? c.text) : '';
  return v === '' ? undefined : v;
}

function parseOne(n: XmlNode): Seclabel {
  let model = n.attrs.model;
  if (model !== undefined && model.length > MODEL_MAX) model = undefined;
  const type = propEnum(n, 'type', SECLABEL_TYPES, { nonzero: true }) ?? 'dynamic';
  let relabel = !(type === 'static' || type === 'none');
  const r = propTristateBool(n, 'relabel');
  if (r !== undefined) relabel = r === 'yes';
  if (type === 'dynamic' && !relabel) throw unsupported('dynamic label type must use resource relabeling');
  if (type === 'none' && relabel) throw unsupported("resource relabeling is not compatible with 'none' label type");
  const s: Seclabel = { type, model, relabel };
  // An inactive definition turns an old 'none' model's label into type 'none'.
  if (model === 'none') return { type: 'none', model, relabel: false };
  if (type === 'static') {
    const label = childString(n, 'label');
    if (label === undefined || label.length > LABEL_MAX) throw xmlErr('security label is missing');
    s.label = label;
  }
  if (type === 'dynamic') {
    const base = childString(n, 'baselabel');
    if (base !== undefined && base.length <= LABEL_MAX) s.baselabel = base;
  }
  return s;
}

export const parseSeclabels: DraftStep = (d) => {
  const labels: Seclabel[] = [];
  for (const n of inputAll(d, 'seclabel')) {
    const s = parseOne(n);
    for (const prev of labels) {
      if (prev.model === s.model) {
        throw LibvirtError.of(VirErrorNumber.XML_DETAIL, VirErrorDomain.DOMAIN, `seclabel for model ${s.model ?? '(null)'} is already provided`);
      }
    }
    labels.push(s);
  }
  const only = labels.length === 1 ? labels[0]! : undefined;
  if (only && only.model === undefined) {
    if (only.type === 'none' || (only.type === 'dynamic' && only.baselabel === undefined)) {
      only.model = HOST_DEFAULT_MODEL;
      if (only.model === 'none') {
        only.type = 'none';
        only.relabel = false;
      }
    } else {
      throw xmlErr('missing security model in domain seclabel');
    }
  }
  if (labels.length > 1 && labels.some((l) => l.model === undefined)) throw xmlErr('missing security model when using multiple labels');
  if (labels.length > 0) setTop(d, 'seclabel', ...labels.map(formatSeclabel));
};

function formatSeclabel(s: Seclabel): XmlNode {
  if (s.type === 'none') return node('seclabel', { type: 'none', model: s.model });
  const kids = [
    s.label !== undefined && textNode('label', s.label),
    s.type === 'dynamic' && s.baselabel !== undefined && textNode('baselabel', s.baselabel),
  ];
  return node('seclabel', { type: s.type, model: s.model, relabel: s.relabel ? 'yes' : 'no' }, kids);
}

/** `./keywrap/cipher`: each cipher at most once; the element is kept only when one is set. */
export const parseKeywrap: DraftStep = (d) => {
  const states = new Map<string, string>();
  const ciphers = inputAll(d, 'keywrap').flatMap((k) => k.children.filter((c) => c.name === 'cipher'));
  for (const c of ciphers) {
    const name = propEnum(c, 'name', KEYWRAP_CIPHERS, { required: true }) as string;
    const state = propTristateSwitch(c, 'state', { required: true }) as string;
    if (states.has(name)) {
      throw LibvirtError.of(VirErrorNumber.INTERNAL_ERROR, VirErrorDomain.DOMAIN,
        `A domain definition can have no more than one cipher node with name ${name}`);
    }
    states.set(name, state);
  }
  if (states.size === 0) return;
  setTop(d, 'keywrap', node('keywrap', {}, KEYWRAP_CIPHERS.filter((c) => states.has(c)).map((c) => node('cipher', { name: c, state: states.get(c) }))));
};
