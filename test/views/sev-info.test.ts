import { describe, expect, it } from 'vitest';
import { formatNodeSevInfo, nodeSevInfo, NO_SEV_DETAIL } from '../../fakelibvirt/views/sev-info.ts';
import { LibvirtError, VirErrorDomain, VirErrorNumber } from '../../src/libvirt/errors.ts';
import { TypedParamType, paramsToRecord } from '../../src/libvirt/typed-params.ts';
import { views } from './helpers.ts';

const info = (name: string) => {
  const v = views(name);
  return nodeSevInfo(v.profile, v.sev);
};

describe('nodeSevInfo', () => {
  it('keys follow the libvirt release', () => {
    expect(info('naples-7001').map((p) => p.field)).toEqual(['pdh', 'cert-chain', 'cbitpos', 'reduced-phys-bits']);
    expect(info('rome-7002').map((p) => p.field)).toEqual(['pdh', 'cert-chain', 'cbitpos', 'reduced-phys-bits', 'max-guests', 'max-es-guests']);
    expect(info('milan-7003-es8').map((p) => p.field)).toEqual([
      'pdh',
      'cert-chain',
      'cpu0-id',
      'cbitpos',
      'reduced-phys-bits',
      'max-guests',
      'max-es-guests',
    ]);
  });

  it('values and types', () => {
    const params = info('genoa-9004');
    const rec = paramsToRecord(params);
    expect(rec).toMatchObject({ cbitpos: 51, 'reduced-phys-bits': 1, 'max-guests': 907, 'max-es-guests': 99 });
    expect(params.find((p) => p.field === 'cbitpos')?.type).toBe(TypedParamType.UINT);
    expect(params.find((p) => p.field === 'pdh')?.type).toBe(TypedParamType.STRING);
  });

  it('hosts without SEV raise the qemu driver error', () => {
    for (const name of ['intel-xeon', 'rome-7002-sev-off', 'rome-7002-stale-cache', 'rome-7002-libvirt51', 'ryzen-desktop']) {
      let err: unknown;
      try {
        info(name);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LibvirtError);
      const e = err as LibvirtError;
      expect([e.code, e.domain, e.message]).toEqual([
        VirErrorNumber.OPERATION_UNSUPPORTED,
        VirErrorDomain.QEMU,
        `Operation not supported: ${NO_SEV_DETAIL}`,
      ]);
    }
  });

  it('virsh format', () => {
    const text = formatNodeSevInfo(info('milan-7003-es8'));
    expect(text).toContain('cbitpos           : 51\n');
    expect(text).toContain('reduced-phys-bits : 1\n');
    expect(text).toContain('max-es-guests     : 7\n');
  });
});
