/**
 * Guest policies as the firmware and KVM read them: the 32-bit SEV / SEV-ES policy given to
 * LAUNCH_START (sev-tool "Chapter 3", virtee PolicyFlags) and the 64-bit SEV-SNP policy given to
 * SNP_LAUNCH_START (virtee GuestPolicy, Linux `SNP_POLICY_MASK_*`).
 */

/** Bit positions of the SEV / SEV-ES policy flags. */
export const SEV_POLICY_BITS = { NODBG: 0, NOKS: 1, ES: 2, NOSEND: 3, DOMAIN: 4, SEV: 5 } as const;
export type SevPolicyFlag = keyof typeof SEV_POLICY_BITS;

/** Bits 15:6 are reserved; the firmware rejects a policy that sets them. */
export const SEV_POLICY_RESERVED_MASK = 0xffc0;

/** Policies seen in the wild (sev-hardware.md §3.1). */
export const NAMED_SEV_POLICIES = {
  /** QEMU's `DEFAULT_GUEST_POLICY`: NODBG only. */
  QEMU_DEFAULT: 0x0001,
  /** libvirt kbase and the DevConf demo: NODBG, NOKS. */
  LIBVIRT_KBASE: 0x0003,
  /** nova Train: NODBG, NOKS, DOMAIN, SEV. */
  NOVA: 0x0033,
  /** nova SEV-ES: nova's policy plus ES. */
  NOVA_ES: 0x0037,
  /** KubeVirt with `encryptedState: true`: NODBG, ES. */
  KUBEVIRT_ES: 0x0005,
  /** sev-tool's SEV_POLICY_NORM. */
  SEV_TOOL_NORM: 0x0037,
} as const;

export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

/** The exact text raised for a policy with reserved bits set. */
export const reservedBitsMessage = (value: number): string =>
  `guest policy 0x${value.toString(16).padStart(4, '0')} sets reserved bits 6-15 (0x${(value & SEV_POLICY_RESERVED_MASK).toString(16)})`;

export const outOfRangeMessage = (value: number | bigint, bits: 32 | 64): string =>
  `guest policy ${String(value)} is not an unsigned ${bits}-bit integer`;

/** A 32-bit SEV / SEV-ES guest policy. */
export class GuestPolicy {
  readonly value: number;

  private constructor(value: number) {
    this.value = value;
  }

  /** Parses a policy word; reserved bits 6–15 are an error, as the firmware would refuse them. */
  static parse(value: number): GuestPolicy {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new PolicyError(outOfRangeMessage(value, 32));
    if ((value & SEV_POLICY_RESERVED_MASK) !== 0) throw new PolicyError(reservedBitsMessage(value));
    return new GuestPolicy(value);
  }

  /** Builds a policy from named flags and an optional minimum firmware API version. */
  static of(flags: readonly SevPolicyFlag[], apiMajor = 0, apiMinor = 0): GuestPolicy {
    let v = 0;
    for (const f of flags) v |= 1 << SEV_POLICY_BITS[f];
    return GuestPolicy.parse((v | ((apiMajor & 0xff) << 16) | ((apiMinor & 0xff) << 24)) >>> 0);
  }

  has(flag: SevPolicyFlag): boolean {
    return ((this.value >>> SEV_POLICY_BITS[flag]) & 1) === 1;
  }

  /** Debugging (DBG_DECRYPT / DBG_ENCRYPT) is forbidden. */
  get nodbg(): boolean { return this.has('NODBG'); }
  /** Key sharing with another guest is forbidden. */
  get noks(): boolean { return this.has('NOKS'); }
  /** The guest must run as SEV-ES. */
  get es(): boolean { return this.has('ES'); }
  /** All SEND (migration) operations are forbidden. */
  get nosend(): boolean { return this.has('NOSEND'); }
  /** SEND only to a machine in the same domain (same OCA). */
  get domain(): boolean { return this.has('DOMAIN'); }
  /** SEND only to an SEV-capable machine. */
  get sev(): boolean { return this.has('SEV'); }
  /** Minimum firmware API major (bits 23:16). */
  get apiMajor(): number { return (this.value >>> 16) & 0xff; }
  /** Minimum firmware API minor (bits 31:24). */
  get apiMinor(): number { return (this.value >>> 24) & 0xff; }

  /** Whether firmware `major.minor` satisfies the policy's API minimum. */
  allowsFirmware(major: number, minor: number): boolean {
    return major > this.apiMajor || (major === this.apiMajor && minor >= this.apiMinor);
  }

  flags(): SevPolicyFlag[] {
    return (Object.keys(SEV_POLICY_BITS) as SevPolicyFlag[]).filter((f) => this.has(f));
  }

  /** `0x%04x`, the way libvirt and nova write policies (`0x0033`). */
  toHex(): string {
    return `0x${this.value.toString(16).padStart(4, '0')}`;
  }

  /** Little-endian u32, as the policy enters the measurement and the session's policy MAC. */
  toLE(): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(this.value);
    return b;
  }
}

/** Bit positions of the SEV-SNP policy fields (bits 7:0 ABI minor and 15:8 ABI major aside). */
export const SNP_POLICY_BITS = {
  SMT: 16,
  RESERVED_MBO: 17,
  MIGRATE_MA: 18,
  DEBUG: 19,
  SINGLE_SOCKET: 20,
  CXL_ALLOW: 21,
  MEM_AES_256_XTS: 22,
  RAPL_DIS: 23,
  CIPHERTEXT_HIDING: 24,
  PAGE_SWAP_DISABLE: 25,
} as const;
export type SnpPolicyFlag = keyof typeof SNP_POLICY_BITS;

const bit = (n: number): bigint => 1n << BigInt(n);

/** Bits 63:26 must be zero in every ABI revision the facts cover. */
export const SNP_POLICY_MBZ_MASK = ~((1n << 26n) - 1n) & 0xffff_ffff_ffff_ffffn;

/**
 * KVM's `SNP_POLICY_MASK_VALID`: ABI minor/major, SMT, the must-be-one bit, DEBUG and
 * SINGLE_SOCKET. KVM's `snp_launch_start` refuses anything else with -EINVAL, MIGRATE_MA included.
 */
export const KVM_SNP_POLICY_MASK_VALID =
  0xffffn | bit(SNP_POLICY_BITS.SMT) | bit(SNP_POLICY_BITS.RESERVED_MBO) | bit(SNP_POLICY_BITS.DEBUG) | bit(SNP_POLICY_BITS.SINGLE_SOCKET);

export const NAMED_SNP_POLICIES = {
  /** QEMU's `DEFAULT_SEV_SNP_POLICY` (also KubeVirt's and nova's): SMT plus the reserved bit. */
  QEMU_DEFAULT: 0x30000n,
} as const;

/** Reasons `SnpGuestPolicy` gives for a policy KVM or the firmware would refuse. */
export const SNP_POLICY_REASONS = {
  reservedBitClear: 'SNP policy bit 17 (reserved, must be one) is clear',
  mbzSet: (bits: bigint) => `SNP policy sets must-be-zero bits 63:26 (0x${bits.toString(16)})`,
  kvmUnsupported: (bits: bigint) => `SNP policy sets bits KVM does not accept (0x${bits.toString(16)}); KVM allows only 0x${KVM_SNP_POLICY_MASK_VALID.toString(16)}`,
} as const;

/** A 64-bit SEV-SNP guest policy. */
export class SnpGuestPolicy {
  readonly value: bigint;

  private constructor(value: bigint) {
    this.value = value;
  }

  /**
   * Accepts any u64 so that invalid policies can reach the component that refuses them;
   * `validity()` and `kvmValidity()` say who refuses and why.
   */
  static parse(value: bigint | number): SnpGuestPolicy {
    const v = typeof value === 'number' ? BigInt(value) : value;
    if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new PolicyError(outOfRangeMessage(value, 64));
    return new SnpGuestPolicy(v);
  }

  static of(flags: readonly SnpPolicyFlag[], abiMajor = 0, abiMinor = 0): SnpGuestPolicy {
    let v = (BigInt(abiMajor & 0xff) << 8n) | BigInt(abiMinor & 0xff);
    for (const f of flags) v |= bit(SNP_POLICY_BITS[f]);
    return SnpGuestPolicy.parse(v);
  }

  has(flag: SnpPolicyFlag): boolean {
    return (this.value & bit(SNP_POLICY_BITS[flag])) !== 0n;
  }

  get abiMinor(): number { return Number(this.value & 0xffn); }
  get abiMajor(): number { return Number((this.value >> 8n) & 0xffn); }
  get smt(): boolean { return this.has('SMT'); }
  get reservedMbo(): boolean { return this.has('RESERVED_MBO'); }
  get migrateMa(): boolean { return this.has('MIGRATE_MA'); }
  get debug(): boolean { return this.has('DEBUG'); }
  get singleSocket(): boolean { return this.has('SINGLE_SOCKET'); }
  get cxlAllow(): boolean { return this.has('CXL_ALLOW'); }
  get memAes256Xts(): boolean { return this.has('MEM_AES_256_XTS'); }
  get raplDis(): boolean { return this.has('RAPL_DIS'); }
  get ciphertextHiding(): boolean { return this.has('CIPHERTEXT_HIDING'); }
  get pageSwapDisable(): boolean { return this.has('PAGE_SWAP_DISABLE'); }

  /** Structural validity per the ABI: bit 17 set, bits 63:26 clear. Null when valid. */
  validity(): string | null {
    if (!this.reservedMbo) return SNP_POLICY_REASONS.reservedBitClear;
    const mbz = this.value & SNP_POLICY_MBZ_MASK;
    if (mbz !== 0n) return SNP_POLICY_REASONS.mbzSet(mbz);
    return null;
  }

  /**
   * Why KVM's `snp_launch_start` would return -EINVAL for this policy, or null if it accepts it.
   * KVM checks the must-be-one bit first, then the valid mask.
   */
  kvmValidity(): string | null {
    if (!this.reservedMbo) return SNP_POLICY_REASONS.reservedBitClear;
    const extra = this.value & ~KVM_SNP_POLICY_MASK_VALID & 0xffff_ffff_ffff_ffffn;
    if (extra !== 0n) return SNP_POLICY_REASONS.kvmUnsupported(extra);
    return null;
  }

  /** `0x%08x` for the low word, wider when needed (nova writes `0x00030000`). */
  toHex(): string {
    return `0x${this.value.toString(16).padStart(8, '0')}`;
  }
}
