/** The parsers of the device kinds other than disk/controller/filesystem/hostdev, by element name. */
import type { XmlNode } from '../../xml-tree.ts';
import type { DomainDraft } from '../draft.ts';
import { parseInterface } from './interface.ts';

export const DEVICE_B_PARSERS: Record<string, (input: XmlNode, draft: DomainDraft) => XmlNode> = {
  interface: parseInterface,
};
