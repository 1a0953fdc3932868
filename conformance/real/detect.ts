/**
 * Detection of a real host: read its files under the sysroot and ask its libvirtd, then synthesize
 * the hardware profile whose truth the catalogue judges against (synthesize.ts).
 */
import { connect, type LibvirtClient } from '../../src/libvirt/client.ts';
import { readHostFileFacts, sysrootTree, type HostFileFacts, type HostTree } from './host-files.ts';
import { readLibvirtFacts, usableDomainType, type LibvirtFacts } from './libvirt-facts.ts';
import { synthesize, type Synthesis } from './synthesize.ts';

export interface RealHostDetection extends Synthesis {
  readonly files: HostFileFacts;
  readonly libvirt: LibvirtFacts;
  /** The domain type guests must use here: `qemu` (TCG) when KVM cannot run guests. */
  readonly domainType: 'kvm' | 'qemu';
}

export interface DetectOptions {
  readonly uri: string;
  readonly sysroot?: string;
  /** Force the guests' domain type instead of deciding from the loaded KVM module. */
  readonly domainType?: 'kvm' | 'qemu';
  /** Reuse an open connection (the caller closes it). */
  readonly client?: LibvirtClient;
}

export async function detectRealHost(opts: DetectOptions): Promise<RealHostDetection> {
  const tree: HostTree = sysrootTree(opts.sysroot ?? '/');
  const files = readHostFileFacts(tree);
  const client = opts.client ?? (await connect(opts.uri));
  try {
    const kvmModule = files.devKvm && (files.kvmAmdLoaded || files.kvmIntelLoaded);
    let domainType: 'kvm' | 'qemu' = opts.domainType ?? 'qemu';
    const libvirt = await readLibvirtFacts(client, opts.uri, (caps) => (domainType = opts.domainType ?? usableDomainType(caps, kvmModule)));
    return { ...synthesize(files, libvirt, tree), files, libvirt, domainType };
  } finally {
    if (!opts.client) await client.close();
  }
}
