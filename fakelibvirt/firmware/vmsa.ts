/**
 * The SEV-ES VMSA of each vCPU as LAUNCH_UPDATE_VMSA measures it: the 4 KiB save area
 * (Linux `struct sev_es_save_area`) holding the register state a vCPU has after reset, as the
 * architecture defines it (AMD64 APM vol. 2 §14.1.3), as KVM's vCPU init sets it (EFER.SVME,
 * CR4.MCE, the PAT, system segment types) and as QEMU's x86_cpu_reset sets segment attributes. RDX
 * carries the CPU signature; the APs start at OVMF's SEV-ES reset address.
 *
 * This is the state of the legacy KVM_SEV_ES_INIT VM, what libvirt's virt-qemu-sev-validate rebuilds
 * and what every profile's QEMU gives a libvirt-started SEV-ES guest. KVM_SEV_INIT2 VMs (Linux ≥
 * 6.10, which also syncs the FPU/XSAVE reset state into the VMSA and so changes the measurement)
 * are not made by default by any released QEMU: INIT2 for sev-guest arrived in the 9.1 cycle, and
 * before 9.1.0 its `legacy-vm-type` became OnOffAuto defaulting to auto, which keeps
 * KVM_X86_DEFAULT_VM unless an option needs INIT2 (sev_init2_required: none yet). libvirt sets no
 * legacy-vm-type [read in 9.0; later versions not checked]. Only an explicit legacy-vm-type=off would
 * give the INIT2 VMSA: not modelled.
 * SNP VMs are always INIT2 (snp/guest-measurement.ts adds the FPU reset values).
 */

import { markUnchanging } from './measurement.ts';

/** The save area's fields in order with their sizes; offsets follow from the list. */
const SEGMENTS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'gdtr', 'ldtr', 'idtr', 'tr'] as const;
type Segment = (typeof SEGMENTS)[number];

const LAYOUT: readonly (readonly [string, number])[] = [
  ...SEGMENTS.flatMap((s) => [[`${s}_selector`, 2], [`${s}_attrib`, 2], [`${s}_limit`, 4], [`${s}_base`, 8]] as const),
  ['reserved_1', 43], ['cpl', 1], ['reserved_2', 4], ['efer', 8], ['reserved_3', 104],
  ['xss', 8], ['cr4', 8], ['cr3', 8], ['cr0', 8], ['dr7', 8], ['dr6', 8], ['rflags', 8], ['rip', 8],
  ['reserved_4', 88], ['rsp', 8], ['reserved_5', 24],
  ['rax', 8], ['star', 8], ['lstar', 8], ['cstar', 8], ['sfmask', 8], ['kernel_gs_base', 8],
  ['sysenter_cs', 8], ['sysenter_esp', 8], ['sysenter_eip', 8], ['cr2', 8], ['reserved_6', 32],
  ['g_pat', 8], ['dbgctl', 8], ['br_from', 8], ['br_to', 8], ['last_excp_from', 8], ['last_excp_to', 8],
  ['reserved_7', 72], ['spec_ctrl', 4], ['reserved_7b', 4], ['pkru', 4], ['reserved_7a', 20],
  ['reserved_8', 8], ['rcx', 8], ['rdx', 8], ['rbx', 8], ['reserved_9', 8], ['rbp', 8], ['rsi', 8], ['rdi', 8],
  ['r8', 8], ['r9', 8], ['r10', 8], ['r11', 8], ['r12', 8], ['r13', 8], ['r14', 8], ['r15', 8],
  ['reserved_10', 16], ['sw_exit_code', 8], ['sw_exit_info_1', 8], ['sw_exit_info_2', 8], ['sw_scratch', 8],
  ['reserved_11', 56], ['xcr0', 8], ['valid_bitmap', 16], ['x87_state_gpa', 8],
];

const OFFSETS: ReadonlyMap<string, { off: number; size: number }> = (() => {
  const m = new Map<string, { off: number; size: number }>();
  let off = 0;
  for (const [name, size] of LAYOUT) {
    m.set(name, { off, size });
    off += size;
  }
  return m;
})();

export const VMSA_SIZE = 4096;

/** Segment attributes as the VMSA packs them: descriptor bits 8–15 and 20–23 shifted down by 8. */
const ATTR = { P: 1 << 15, S: 1 << 12, CODE: 1 << 11, R_OR_W: 1 << 9, A: 1 << 8 } as const;
const attr = (bits: number) => bits >> 8;

export interface CpuSignature {
  readonly family: number;
  readonly model: number;
  readonly stepping: number;
}

/** CPUID(1).EAX as the reset value of RDX: stepping, model, family with their extended fields. */
export function cpuidSignature({ family, model, stepping }: CpuSignature): number {
  let v = stepping & 0xf;
  const fam = family & 0xfff;
  v |= fam > 0xf ? 0xf00 | ((fam - 0xf) << 20) : fam << 8;
  const mod = model & 0xff;
  return v | ((mod & 0xf) << 4) | ((mod >> 4) << 16);
}

function set(buf: Buffer, field: string, value: number | bigint): void {
  const f = OFFSETS.get(field);
  if (!f) throw new Error(`no VMSA field ${field}`);
  if (f.size === 2) buf.writeUInt16LE(Number(value), f.off);
  else if (f.size === 4) buf.writeUInt32LE(Number(value) >>> 0, f.off);
  else buf.writeBigUInt64LE(BigInt(value), f.off);
}

/** The reset VMSA of one vCPU: the BSP starts at F000:FFF0; APs at OVMF's reset address. */
export function resetVmsa(signature: CpuSignature, apResetAddr: number | null): Buffer {
  const b = Buffer.alloc(VMSA_SIZE);
  // Architectural state after INIT (APM vol. 2 §14.1.3).
  set(b, 'cr0', 0x10);
  set(b, 'rip', 0xfff0);
  set(b, 'cs_selector', 0xf000);
  set(b, 'cs_base', 0xffff0000);
  for (const s of SEGMENTS) set(b, `${s}_limit`, 0xffff);
  set(b, 'dr6', 0xffff0ff0);
  set(b, 'dr7', 0x400);
  set(b, 'rflags', 0x2);
  set(b, 'xcr0', 0x1);
  // KVM: CR4.MCE follows the host, EFER.SVME is forced, the PAT's power-on value.
  set(b, 'cr4', 0x40);
  set(b, 'efer', 0x1000);
  set(b, 'g_pat', 0x0007040600070406n);
  // QEMU's x86_cpu_reset: present LDT and busy 32-bit TSS, accessed code and data segments.
  const data: Segment[] = ['ds', 'es', 'ss', 'fs', 'gs'];
  set(b, 'ldtr_attrib', attr(ATTR.P | (2 << 8)));
  set(b, 'tr_attrib', attr(ATTR.P | (11 << 8)));
  set(b, 'cs_attrib', attr(ATTR.P | ATTR.S | ATTR.CODE | ATTR.R_OR_W | ATTR.A));
  for (const s of data) set(b, `${s}_attrib`, attr(ATTR.P | ATTR.S | ATTR.R_OR_W | ATTR.A));
  set(b, 'rdx', cpuidSignature(signature));
  if (apResetAddr !== null) {
    set(b, 'rip', apResetAddr & 0xffff);
    set(b, 'cs_base', apResetAddr & 0xffff0000);
  }
  return b;
}

/** Every vCPU's VMSA in LAUNCH_UPDATE_VMSA order: the BSP, then the APs. */
export function launchVmsas(vcpus: number, signature: CpuSignature, apResetAddr: number): Buffer[] {
  const bsp = resetVmsa(signature, null);
  const ap = vcpus > 1 ? resetVmsa(signature, apResetAddr) : bsp;
  return Array.from({ length: vcpus }, (_, i) => (i === 0 ? bsp : ap));
}

/** Shared reset VMSAs by CPU signature and AP reset address: a host has one or two of each. */
const SHARED = new Map<string, { readonly bsp: Buffer; readonly ap: Buffer }>();
const MAX_SHARED = 64;

/**
 * launchVmsas with buffers shared by every launch of the same CPU and firmware, declared
 * unchanging so launch digests can share their hashing (measurement.ts). Callers only read them.
 */
export function sharedLaunchVmsas(vcpus: number, signature: CpuSignature, apResetAddr: number): Buffer[] {
  const key = `${signature.family}/${signature.model}/${signature.stepping}/${apResetAddr}`;
  let pair = SHARED.get(key);
  if (!pair) {
    pair = { bsp: markUnchanging(resetVmsa(signature, null)), ap: markUnchanging(resetVmsa(signature, apResetAddr)) };
    if (SHARED.size >= MAX_SHARED) SHARED.delete(SHARED.keys().next().value!);
    SHARED.set(key, pair);
  }
  const { bsp, ap } = pair;
  return Array.from({ length: vcpus }, (_, i) => (i === 0 ? bsp : ap));
}
