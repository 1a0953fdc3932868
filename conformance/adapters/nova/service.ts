/**
 * nova-compute's start-up order, kept by the runner's side: a compute service detects and reports
 * its host (init_host, update_provider_tree) before it builds or moves any guest. The runner may
 * spawn on a host it never asked the driver to report, and the protocol's spawn carries no sysroot,
 * so this wrapper reports a host (with its live sysroot) the first time a guest operation names it.
 */
import { DriverConfigSchema, type DriverConfig, type SevDriver } from '../../contract.ts';
import type { DriverFactory } from '../../runner/driver-spec.ts';
import type { Target, TargetHost } from '../../runner/target.ts';
import { startProcessDriver } from '../process.ts';
import { NOVA_DRIVER_COMMAND } from './command.ts';

/** A target that remembers every host it opened, by URI. */
export function recordingTarget(inner: Target): Target & { hostOf(uri: string): TargetHost | undefined } {
  const hosts = new Map<string, TargetHost>();
  return {
    get description() {
      return inner.description;
    },
    profileNames: () => inner.profileNames(),
    truth: (p) => inner.truth(p),
    async open(profile) {
      const h = await inner.open(profile);
      hosts.set(h.uri, h);
      return h;
    },
    close: () => inner.close(),
    hostOf: (uri) => hosts.get(uri),
  };
}

/** The nova adapter as a driver factory whose services report a host before touching guests on it. */
export function novaComputeFactory(hostOf: (uri: string) => TargetHost | undefined): DriverFactory {
  return async () => {
    const d = await startProcessDriver(NOVA_DRIVER_COMMAND);
    const reported = new Set<string>();
    const startService = async (uri: string | undefined, config: DriverConfig): Promise<void> => {
      const host = uri === undefined ? undefined : hostOf(uri);
      if (uri === undefined || host === undefined || reported.has(uri)) return;
      reported.add(uri);
      await d.reportHost({ uri, sysroot: host.sysroot, config });
    };
    const driver: SevDriver = {
      ...d,
      describe: () => d.describe(),
      reportHost: async (p) => {
        reported.add(p.uri);
        return d.reportHost(p);
      },
    };
    if (d.spawn) {
      const spawn = d.spawn.bind(d);
      driver.spawn = async (p) => {
        await startService(p.uri, 'request' in p ? p.request.config : DriverConfigSchema.parse({}));
        return spawn(p);
      };
    }
    if (d.lifecycle) {
      const lifecycle = d.lifecycle.bind(d);
      driver.lifecycle = async (p) => {
        await startService(p.uri, p.request.config);
        await startService(p.targetUri, p.request.config);
        return lifecycle(p);
      };
    }
    return driver;
  };
}
