/**
 * The guest-XML judge: path rules and device rules on the XML the driver builds (or the XML a
 * lifecycle operation left), and the document is queued for libvirt's schema check.
 */
import { isRefusal } from '../../contract.ts';
import { parseXmlDocument, type XmlNode } from '../../../fakelibvirt/libvirt/xml-tree.ts';
import { refusalText, type CaseContext } from '../case-context.ts';
import { fail, MalformedAnswer, PASS, type Verdict } from '../outcomes.ts';
import { checkDeviceRule, checkPathRule } from '../xml-rules.ts';
import type { Judge } from './types.ts';

/** The XML under judgement: what the last lifecycle step left, else a fresh buildGuestXml. */
async function subjectXml(ctx: CaseContext): Promise<string | Verdict> {
  if (ctx.xmlSubject !== null) return ctx.xmlSubject;
  const r = await ctx.buildGuestXml();
  if (isRefusal(r)) return fail(`expected guest XML, buildGuestXml refused ${refusalText(r)}`);
  return r.xml;
}

export function parseGuestXml(xml: string): XmlNode {
  let root: XmlNode;
  try {
    root = parseXmlDocument(xml, 'guest XML');
  } catch (e) {
    throw new MalformedAnswer(`guest XML is not well-formed: ${(e as Error).message.split('\n')[0]}`);
  }
  if (root.name !== 'domain') throw new MalformedAnswer(`guest XML has <${root.name}> as its root, not <domain>`);
  return root;
}

export const judgeXml: Judge<'xml'> = async (exp, ctx) => {
  const xml = await subjectXml(ctx);
  if (typeof xml !== 'string') return xml;
  const root = parseGuestXml(xml);
  ctx.schemaChecks.push(xml);
  const problems = exp.rules.flatMap((r) => checkPathRule(root, r));
  const advisories: string[] = [];
  for (const rule of exp.devices ?? []) {
    const found = checkDeviceRule(root, rule, ctx.truth);
    if (rule.rule === 'iommu-on-every-virtio-device' && !rule.strict) advisories.push(...found.map((f) => `advisory (QEMU sets the IOMMU itself here): ${f}`));
    else problems.push(...found);
  }
  if (problems.length) return fail(problems.join('; '));
  return advisories.length ? { ok: true, note: advisories.join('; ') } : PASS;
};
