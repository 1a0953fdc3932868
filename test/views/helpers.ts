import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { loadProfile } from '../../fakelibvirt/profile/load.ts';
import { hostViews, type HostViews } from '../../fakelibvirt/views/index.ts';

export const views = (name: string): HostViews => hostViews(loadProfile(name));

/** Parses XML (attributes kept), failing loudly when it is not well-formed. */
export function parseXml(xml: string): Record<string, unknown> {
  const ok = XMLValidator.validate(xml);
  if (ok !== true) throw new Error(`not well-formed: ${JSON.stringify(ok)}`);
  return new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(xml) as Record<string, unknown>;
}

/** The text between `<name>` and `</name>` of the first matching block (test convenience). */
export function block(xml: string, start: string, end: string): string {
  const i = xml.indexOf(start);
  if (i < 0) return '';
  const j = xml.indexOf(end, i);
  return xml.slice(i, j < 0 ? undefined : j + end.length);
}
