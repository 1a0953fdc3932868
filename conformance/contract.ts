/**
 * The driver contract: what an SEV compute driver must offer so the conformance suite can judge it.
 * Every message shape is a zod schema, so the process adapter (PROTOCOL.md) validates what a foreign
 * driver sends; the TypeScript types are inferred from the schemas and used by in-process drivers.
 *
 * A driver answers each operation with its result or with a `Refusal` (a stable code from
 * `refusal-codes.ts` plus a human text). Refusals are outcomes the suite judges, not crashes.
 */
import { z } from 'zod';
import { REFUSAL_CODE_LIST, type RefusalCode } from './refusal-codes.ts';

/** The refusal codes are part of the contract: drivers import them from here (refusal-codes.ts is its table). */
export { REFUSAL_CODES, REFUSAL_CODE_LIST, isRefusalCode, type RefusalCode, type RefusalCodeInfo, type NovaEquivalent } from './refusal-codes.ts';

// ---- vocabulary --------------------------------------------------------------------------------

export const MEM_ENCRYPTION_MODELS = ['amd-sev', 'amd-sev-es', 'amd-sev-snp'] as const;
export const MemEncryptionModelSchema = z.enum(MEM_ENCRYPTION_MODELS);
export type MemEncryptionModel = z.infer<typeof MemEncryptionModelSchema>;

/** Placement resource class of one encrypted-guest slot. */
export const MEM_ENCRYPTION_CONTEXT = 'MEM_ENCRYPTION_CONTEXT';

/** The trait each model's provider carries (os-traits names). */
export const MODEL_TRAITS = {
  'amd-sev': 'HW_CPU_X86_AMD_SEV',
  'amd-sev-es': 'HW_CPU_X86_AMD_SEV_ES',
  'amd-sev-snp': 'HW_CPU_X86_AMD_SEV_SNP',
} as const satisfies Record<MemEncryptionModel, string>;

/**
 * The inventory key of a model's slots: plain SEV keeps nova's root resource class; other models
 * are qualified, as nova's per-model child providers (`<node>_amd_sev_es`) keep them apart.
 */
export function inventoryKey(model: MemEncryptionModel): string {
  return model === 'amd-sev' ? MEM_ENCRYPTION_CONTEXT : `${MEM_ENCRYPTION_CONTEXT}/${model}`;
}

export const RefusalSchema = z.object({
  code: z.enum(REFUSAL_CODE_LIST as [RefusalCode, ...RefusalCode[]]),
  message: z.string(),
});
export type Refusal = z.infer<typeof RefusalSchema>;

/** An operation's answer: its result, or a refusal. */
export type Outcome<T> = T | Refusal;

export function isRefusal<T extends object>(o: Outcome<T>): o is Refusal {
  return 'code' in o && 'message' in o && Object.keys(o).length === 2;
}

// ---- inputs ------------------------------------------------------------------------------------

export const FlavorSchema = z.object({
  name: z.string().min(1),
  vcpus: z.number().int().min(1),
  memoryMiB: z.number().int().min(1),
  diskGiB: z.number().int().min(0).default(1),
  /** Extra specs as nova stores them: strings (`hw:mem_encryption` = "true", `trait:X` = "required"). */
  extraSpecs: z.record(z.string(), z.string()).default({}),
});
export type Flavor = z.infer<typeof FlavorSchema>;

export const ImageSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  /** Image properties (`hw_firmware_type`, `hw_machine_type`, `hw_mem_encryption`, `hw_disk_bus`, …). */
  properties: z.record(z.string(), z.union([z.string(), z.boolean()])).default({}),
  /** The image is a boot volume's metadata (boot from volume). */
  volumeBacked: z.boolean().default(false),
});
export type Image = z.infer<typeof ImageSchema>;

/** Operator configuration of the compute service (nova's `[libvirt]` section, in our words). */
export const DriverConfigSchema = z.object({
  /** `hw_machine_type` per arch, e.g. `{ x86_64: 'q35' }`; absent arch → the driver's default. */
  machineTypes: z.record(z.string(), z.string()).default({}),
  /** Operator cap on encrypted-guest slots (nova's num_memory_encrypted_guests); null = detect. */
  maxEncryptedGuests: z.number().int().min(0).nullable().default(null),
  /** Guest firmware images the driver may choose from; empty → the driver's own discovery. */
  ovmf: z.array(z.object({ code: z.string(), vars: z.string() })).default([]),
});
export type DriverConfig = z.infer<typeof DriverConfigSchema>;

export const InstanceRefSchema = z.object({ uuid: z.string().uuid(), name: z.string().min(1) });
export type InstanceRef = z.infer<typeof InstanceRefSchema>;

// ---- reportHost ----------------------------------------------------------------------------------

export const ReportHostParamsSchema = z.object({
  /** libvirt URI of the host, e.g. `qemu+unix:///system?socket=/tmp/x/libvirt-sock`. */
  uri: z.string().min(1),
  /** Root under which the driver reads host files (`/sys/module/kvm_amd/parameters/sev`, `/dev/sev`). */
  sysroot: z.string().min(1),
  config: DriverConfigSchema,
});
export type ReportHostParams = z.infer<typeof ReportHostParamsSchema>;

export const InventorySchema = z.object({
  total: z.number().int().min(1),
  min_unit: z.number().int().min(1),
  max_unit: z.number().int().min(1),
  step_size: z.number().int().min(1),
  allocation_ratio: z.number().positive(),
  reserved: z.number().int().min(0),
});
export type Inventory = z.infer<typeof InventorySchema>;

export const ModelReportSchema = z.object({
  supported: z.boolean(),
  /** Slots for this model (0 when unsupported). */
  slots: z.number().int().min(0),
  /** Where the driver found the facts (free text, e.g. "domcaps maxGuests"). */
  source: z.string().optional(),
});
export type ModelReport = z.infer<typeof ModelReportSchema>;

/**
 * Warning codes the suite judges (append-only, like refusal codes): a warning the operator must see
 * is `{ code, message }`; the suite matches the code, never the text. Plain-text warnings are
 * allowed and shown, but never satisfy (or violate) a case.
 */
export const WARNING_CODES = {
  /** The operator's slot cap is above what the hardware offers; the hardware's count is reported. */
  CAP_EXCEEDS_HOST: 'operator cap on encrypted guests exceeds the slots the host has',
  /** A slot cap is configured on a host that cannot run SEV guests. */
  CAP_WITHOUT_SEV: 'operator cap on encrypted guests set on a host without SEV',
  /** Encrypted guests run beyond the slots now offered (cap lowered or SEV disabled under them). */
  GUESTS_EXCEED_SLOTS: 'encrypted guests are running beyond the slots the host now offers',
  /** The slot count cannot be read (no maxGuests, no misc cgroup); how the driver chose its number is in the message. */
  SLOTS_UNKNOWN: 'the host does not tell how many encrypted guests it can run',
  /** SEV-ES is present but not offered because SEV-SNP is enabled (they are exclusive per host). */
  SEV_ES_IGNORED_FOR_SNP: 'SEV-ES ignored because SEV-SNP is enabled',
} as const;
export type WarningCode = keyof typeof WARNING_CODES;
export const WARNING_CODE_LIST = Object.keys(WARNING_CODES) as WarningCode[];

/** A coded warning (`code` one of WARNING_CODES or a driver's own) or a plain text. */
export const WarningSchema = z.union([z.string(), z.object({ code: z.string().min(1), message: z.string() })]);
export type Warning = z.infer<typeof WarningSchema>;

/** The code of a warning; undefined for a plain-text one. */
export const warningCode = (w: Warning): string | undefined => (typeof w === 'string' ? undefined : w.code);
export const warningMessage = (w: Warning): string => (typeof w === 'string' ? w : `${w.code}: ${w.message}`);

export const HostReportSchema = z.object({
  /** Traits of the compute node (root and model providers flattened). */
  traits: z.array(z.string()),
  /** Inventories by key: a resource class, or `inventoryKey(model)` for encrypted-guest slots. */
  inventories: z.record(z.string(), InventorySchema),
  warnings: z.array(WarningSchema),
  models: z.partialRecord(MemEncryptionModelSchema, ModelReportSchema).optional(),
  /** Domain-capability facts the driver will put in guest XML (cbitpos, reducedPhysBits). */
  sev: z.object({ cbitpos: z.number().int(), reducedPhysBits: z.number().int() }).nullable().optional(),
});
export type HostReport = z.infer<typeof HostReportSchema>;

// ---- validateRequest -----------------------------------------------------------------------------

export const BootRequestSchema = z.object({
  flavor: FlavorSchema,
  image: ImageSchema,
  config: DriverConfigSchema,
});
export type BootRequest = z.infer<typeof BootRequestSchema>;

/**
 * The host a request is judged or built for, as the runner hands it back to the driver: the
 * driver's own report of it, plus where it is (`uri`, `sysroot`, as given to reportHost), so a
 * driver finds its host by URI instead of recognising its report. Added in suite 0.2; the runner
 * always sends both, older drivers ignore them.
 */
export const HostContextSchema = HostReportSchema.extend({
  uri: z.string().min(1).optional(),
  sysroot: z.string().min(1).optional(),
});
export type HostContext = z.infer<typeof HostContextSchema>;

export const ValidateParamsSchema = BootRequestSchema.extend({ host: HostContextSchema.optional() });
export type ValidateParams = z.infer<typeof ValidateParamsSchema>;

export const ValidatedRequestSchema = z.object({
  /** Placement resources the instance consumes, e.g. `{ MEM_ENCRYPTION_CONTEXT: 1 }` (plus VCPU etc.). */
  resources: z.record(z.string(), z.number().int().min(0)),
  requiredTraits: z.array(z.string()),
  /** The encryption model, or null for a plain guest. */
  model: MemEncryptionModelSchema.nullable(),
  machineType: z.string().optional(),
});
export type ValidatedRequest = z.infer<typeof ValidatedRequestSchema>;

// ---- buildGuestXml / spawn -------------------------------------------------------------------------

export const BuildXmlParamsSchema = z.object({
  request: BootRequestSchema,
  host: HostContextSchema,
  instance: InstanceRefSchema,
});
export type BuildXmlParams = z.infer<typeof BuildXmlParamsSchema>;
export const GuestXmlSchema = z.object({ xml: z.string().min(1) });
export type GuestXml = z.infer<typeof GuestXmlSchema>;

export const SpawnParamsSchema = z.union([
  z.object({ uri: z.string().min(1), xml: z.string().min(1) }),
  z.object({ uri: z.string().min(1), request: BootRequestSchema, instance: InstanceRefSchema }),
]);
export type SpawnParams = z.infer<typeof SpawnParamsSchema>;
export const SpawnedSchema = z.object({ domainName: z.string().min(1), uuid: z.string().uuid() });
export type Spawned = z.infer<typeof SpawnedSchema>;

// ---- lifecycle -------------------------------------------------------------------------------------

export const LIFECYCLE_OPERATIONS = [
  'pause', 'resume', 'hard-reboot', 'suspend', 'live-migrate', 'cold-migrate',
  'shelve', 'unshelve', 'snapshot', 'rebuild', 'resize', 'attach-volume', 'attach-interface', 'delete',
] as const;
export const LifecycleOperationSchema = z.enum(LIFECYCLE_OPERATIONS);
export type LifecycleOperation = z.infer<typeof LifecycleOperationSchema>;

export const LifecycleParamsSchema = z.object({
  operation: LifecycleOperationSchema,
  uri: z.string().min(1),
  instance: InstanceRefSchema,
  /** The request the instance was booted with (flavor, image, config). */
  request: BootRequestSchema,
  /** Migrations, unshelve: the destination host's URI. */
  targetUri: z.string().optional(),
  /** rebuild: the new image; resize: the new flavor. */
  image: ImageSchema.optional(),
  flavor: FlavorSchema.optional(),
});
export type LifecycleParams = z.infer<typeof LifecycleParamsSchema>;
export const LifecycleResultSchema = z.object({
  ok: z.literal(true),
  /** The domain XML after the operation, when the domain still exists. */
  xml: z.string().optional(),
});
export type LifecycleResult = z.infer<typeof LifecycleResultSchema>;

// ---- schedule / release ----------------------------------------------------------------------------

export const CandidateHostSchema = z.object({
  name: z.string().min(1),
  report: HostReportSchema,
  freeRamMiB: z.number().int().min(0),
  /** Resources already allocated on the host, by resource class. */
  allocations: z.record(z.string(), z.number().int().min(0)),
});
export type CandidateHost = z.infer<typeof CandidateHostSchema>;

export const ScheduleParamsSchema = z.object({
  hosts: z.array(CandidateHostSchema),
  request: BootRequestSchema,
  instance: InstanceRefSchema,
});
export type ScheduleParams = z.infer<typeof ScheduleParamsSchema>;
export const ScheduledSchema = z.object({
  host: z.string().min(1),
  /** What was claimed on that host, by resource class. */
  allocation: z.record(z.string(), z.number().int().min(0)),
});
export type Scheduled = z.infer<typeof ScheduledSchema>;

export const ReleaseParamsSchema = z.object({ host: z.string().min(1), instance: InstanceRefSchema });
export type ReleaseParams = z.infer<typeof ReleaseParamsSchema>;
export const ReleasedSchema = z.object({ ok: z.literal(true), freed: z.record(z.string(), z.number().int()) });
export type Released = z.infer<typeof ReleasedSchema>;

// ---- the driver --------------------------------------------------------------------------------

/** The operations and their parameter/result schemas: one row per operation. */
export const OPERATIONS = {
  reportHost: { params: ReportHostParamsSchema, result: HostReportSchema },
  validateRequest: { params: ValidateParamsSchema, result: ValidatedRequestSchema },
  buildGuestXml: { params: BuildXmlParamsSchema, result: GuestXmlSchema },
  spawn: { params: SpawnParamsSchema, result: SpawnedSchema },
  lifecycle: { params: LifecycleParamsSchema, result: LifecycleResultSchema },
  schedule: { params: ScheduleParamsSchema, result: ScheduledSchema },
  release: { params: ReleaseParamsSchema, result: ReleasedSchema },
} as const;
export type OperationName = keyof typeof OPERATIONS;
export const OPERATION_NAMES = Object.keys(OPERATIONS) as readonly OperationName[];

export type OpParams<K extends OperationName> = z.infer<(typeof OPERATIONS)[K]['params']>;
export type OpResult<K extends OperationName> = z.infer<(typeof OPERATIONS)[K]['result']>;

/**
 * An SEV compute driver. `reportHost` never refuses (a host without SEV is reported, not refused);
 * every other operation may refuse. A driver that lacks an operation leaves it out and does not
 * list it in `describe().ops`; cases that need it are reported as "not implemented", not failed.
 */
export interface SevDriver {
  describe(): DriverDescription;
  reportHost(p: ReportHostParams): Promise<HostReport>;
  validateRequest?(p: ValidateParams): Promise<Outcome<ValidatedRequest>>;
  buildGuestXml?(p: BuildXmlParams): Promise<Outcome<GuestXml>>;
  spawn?(p: SpawnParams): Promise<Outcome<Spawned>>;
  lifecycle?(p: LifecycleParams): Promise<Outcome<LifecycleResult>>;
  schedule?(p: ScheduleParams): Promise<Outcome<Scheduled>>;
  release?(p: ReleaseParams): Promise<Outcome<Released>>;
  close?(): Promise<void>;
}

export const PROTOCOL_VERSION = 1;

/** PROTOCOL.md §6: how long a driver may take, in milliseconds; spawn and lifecycle get `slowOp`. */
export const PROTOCOL_LIMITS_MS = { hello: 10_000, op: 30_000, slowOp: 60_000, shutdown: 5_000 } as const;
export const SLOW_OPERATIONS: ReadonlySet<OperationName> = new Set<OperationName>(['spawn', 'lifecycle']);

export const DriverDescriptionSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  ops: z.array(z.enum(OPERATION_NAMES as [OperationName, ...OperationName[]])),
  /** Encryption models the driver can build guests for. */
  models: z.array(MemEncryptionModelSchema).default(['amd-sev']),
  /** Which nova release's behaviour the driver follows where nova changed ('zed', 'master', …); informational. */
  behaviour: z.string().optional(),
});
export type DriverDescription = z.infer<typeof DriverDescriptionSchema>;
