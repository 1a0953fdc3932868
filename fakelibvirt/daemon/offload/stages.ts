/**
 * Calls whose heavy part reads only their arguments and the host's profile: XML documents parsed,
 * post-parsed and validated (virDomainDefineXML, virDomainCreateXML), CPU baselines. For a large
 * call that part runs on a worker thread (`pure`); what touches the host's state runs after it on
 * the main thread, in the connection's order (`finish`), so a define's effect and its events are
 * exactly those of the in-thread path (FakeHost.defineXML is defineParsed of the same parse).
 */
import type { ArgsOf, CallName, RetOf } from '../../../src/rpc/procedures.ts';
import { baselineCpu } from '../../libvirt/cpu-baseline.ts';
import { defineDomainXml, type DomainDef } from '../../libvirt/domain-def.ts';
import type { DomainContext } from '../../libvirt/domain/context.ts';
import { DomainRegistry } from '../../host/domain-registry.ts';
import type { AccessView } from '../call-steps.ts';
import type { CallContext } from '../context.ts';
import { checkOpen, connectHandlers } from '../handlers/connect.ts';
import { domainHandlers } from '../handlers/domain.ts';
import { toWire } from '../wire.ts';

/** What a pure half may read besides the arguments: libvirt's view of the host and of the connection at the call. */
export interface PureEnv {
  readonly domain: DomainContext;
  readonly conn: AccessView;
  /** The longest name of a domain the host holds: a longer one cannot be found. */
  readonly longestName: number;
}

export interface Stage<N extends CallName, P> {
  /** Runs anywhere, reads only its arguments and `env`; throws LibvirtError as the handler would. */
  pure(args: ArgsOf<N>, env: PureEnv): P;
  /** On the main thread, in order; absent when `pure` returns the whole reply value. */
  finish?(ctx: CallContext, pre: P): RetOf<N>;
}

const defineStage: Stage<'DOMAIN_DEFINE_XML' | 'DOMAIN_DEFINE_XML_FLAGS', DomainDef> = {
  pure: ({ xml }, env) => defineDomainXml(xml, env.domain),
  finish: ({ host }, def) => ({ dom: toWire(host.defineParsed(def)) }),
};

export const STAGES: { readonly [N in CallName]?: Stage<N, unknown> } = {
  DOMAIN_DEFINE_XML: defineStage as Stage<'DOMAIN_DEFINE_XML', unknown>,
  DOMAIN_DEFINE_XML_FLAGS: defineStage as Stage<'DOMAIN_DEFINE_XML_FLAGS', unknown>,
  DOMAIN_CREATE_XML: {
    pure: ({ xml_desc, flags }, env) => ({ def: defineDomainXml(xml_desc, env.domain), flags }),
    finish: ({ host }, pre) => {
      const { def, flags } = pre as { def: DomainDef; flags: number };
      return { dom: toWire(host.createParsed(def, flags)) };
    },
  },
  CONNECT_BASELINE_CPU: { pure: ({ xmlCPUs, flags }) => ({ cpu: baselineCpu(xmlCPUs, flags) }) },
  // A 4 MiB URI is refused (and its error found too long to send) without reaching the main thread.
  CONNECT_OPEN: {
    pure: (args, env) => {
      checkOpen(env.conn.opened, args.name);
      return args;
    },
    finish: (ctx, args) => connectHandlers.CONNECT_OPEN!(ctx, args as ArgsOf<'CONNECT_OPEN'>),
  },
  // A name longer than any the host holds is not found: the registry's own answer, from an empty one.
  DOMAIN_LOOKUP_BY_NAME: {
    pure: (args, env) => {
      if (args.name.length > env.longestName) new DomainRegistry<never>().lookupByName(args.name);
      return args;
    },
    finish: (ctx, args) => domainHandlers.DOMAIN_LOOKUP_BY_NAME!(ctx, args as ArgsOf<'DOMAIN_LOOKUP_BY_NAME'>),
  },
};
