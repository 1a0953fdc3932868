/** Wire structures shared by many procedures: object references, typed parameters, string lists. */
import type { TypedParam } from '../libvirt/typed-params.ts';
import {
  double,
  hyper,
  int,
  mapped,
  opaqueFixed,
  optional,
  string,
  struct,
  uhyper,
  uint,
  union,
  type Infer,
  type XdrType,
} from '../xdr/index.ts';

/** remote_nonnull_string */
export const Str = string();
/** remote_string: a string that may be absent. */
export const OptStr = optional(Str);
/** remote_uuid: 16 raw bytes. */
export const Uuid = opaqueFixed(16);

/** remote_nonnull_domain; `remote_domain` is OptDomain. id is -1 for inactive domains. */
export const NonnullDomain = struct([['name', Str], ['uuid', Uuid], ['id', int]], 'remote_nonnull_domain');
export type DomainRef = Infer<typeof NonnullDomain>;
export const OptDomain = optional(NonnullDomain);

export const NonnullNetwork = struct([['name', Str], ['uuid', Uuid]], 'remote_nonnull_network');
export type NetworkRef = Infer<typeof NonnullNetwork>;

export const NonnullNodeDevice = struct([['name', Str]], 'remote_nonnull_node_device');
export type NodeDeviceRef = Infer<typeof NonnullNodeDevice>;

export const NonnullSecret = struct([['uuid', Uuid], ['usageType', int], ['usageID', Str]], 'remote_nonnull_secret');
export type SecretRef = Infer<typeof NonnullSecret>;

export const NonnullDomainSnapshot = struct([['name', Str], ['dom', NonnullDomain]], 'remote_nonnull_domain_snapshot');
export type DomainSnapshotRef = Infer<typeof NonnullDomainSnapshot>;

/** remote_typed_param_value: discriminant is the virTypedParameterType. */
const TypedParamValue = union(
  { 1: int, 2: uint, 3: hyper, 4: uhyper, 5: double, 6: int, 7: Str },
  'remote_typed_param_value',
);
const TypedParamWire = struct([['field', Str], ['value', TypedParamValue]], 'remote_typed_param');

/** remote_typed_param, presented as the project's TypedParam (booleans as true/false). */
export const TypedParamType: XdrType<TypedParam> = mapped(
  TypedParamWire,
  'remote_typed_param',
  ({ field, value }): TypedParam => {
    switch (value.type) {
      case 3:
      case 4:
        return { field, type: value.type, value: value.value };
      case 6:
        return { field, type: 6, value: value.value !== 0 };
      case 7:
        return { field, type: 7, value: value.value };
      default:
        return { field, type: value.type, value: value.value };
    }
  },
  (p): Infer<typeof TypedParamWire> => {
    switch (p.type) {
      case 1:
        return { field: p.field, value: { type: 1, value: p.value } };
      case 2:
        return { field: p.field, value: { type: 2, value: p.value } };
      case 3:
        return { field: p.field, value: { type: 3, value: p.value } };
      case 4:
        return { field: p.field, value: { type: 4, value: p.value } };
      case 5:
        return { field: p.field, value: { type: 5, value: p.value } };
      case 6:
        return { field: p.field, value: { type: 6, value: p.value ? 1 : 0 } };
      case 7:
        return { field: p.field, value: { type: 7, value: p.value } };
    }
  },
);

/** Array bounds from remote_protocol.x that several structures share. */
export const Limits = {
  DOMAIN_LIST_MAX: 16384,
  CPUMAP_MAX: 2048,
  CPUMAPS_MAX: 8388608,
  VCPUINFO_MAX: 16384,
  MIGRATE_COOKIE_MAX: 4194304,
  NODE_DEVICE_LIST_MAX: 16384,
  NODE_MAX_CELLS: 1024,
  NODE_CPU_STATS_MAX: 16,
  NODE_MEMORY_STATS_MAX: 16,
  SECRET_LIST_MAX: 16384,
  SECRET_VALUE_MAX: 65536,
  AUTH_TYPE_LIST_MAX: 20,
  SECURITY_MODEL_MAX: 257,
  SECURITY_DOI_MAX: 257,
  SECURITY_LABEL_MAX: 4097,
  CPU_BASELINE_MAX: 256,
  CONNECT_CPU_MODELS_MAX: 8192,
  DOMAIN_MEMORY_STATS_MAX: 1024,
  DOMAIN_JOB_STATS_MAX: 64,
  MIGRATE_PARAM_LIST_MAX: 64,
  NODE_SEV_INFO_MAX: 64,
  LAUNCH_SECURITY_INFO_PARAMS_MAX: 64,
  LAUNCH_SECURITY_STATE_PARAMS_MAX: 64,
  DOMAIN_MESSAGES_MAX: 2048,
  DOMAIN_SNAPSHOT_LIST_MAX: 1024,
  DOMAIN_DISK_ERRORS_MAX: 256,
  DOMAIN_BLOCK_STATS_PARAMETERS_MAX: 16,
  DOMAIN_EVENT_TUNABLE_MAX: 2048,
} as const;
