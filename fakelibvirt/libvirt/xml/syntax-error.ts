/** Where libxml2 stopped: its message (with its trailing newline), line, and cursor. */
export class XmlSyntaxError extends Error {
  constructor(
    readonly libxmlMessage: string,
    readonly line: number,
    readonly pos: number,
    /** Set when the error arose inside an entity's text: libvirt then prints "at line N" with it. */
    readonly input?: Uint8Array,
  ) {
    super(libxmlMessage);
  }
}
