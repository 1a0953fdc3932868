/** The guest's architecture and machine type as QEMU's validation names them (no other module needed). */
export const isX86 = (arch: string) => arch === 'x86_64' || arch === 'i686';
/** qemuDomainIsQ35 / qemuDomainIsI440FX: by the machine's name, on x86 only. */
export const isQ35Machine = (machine: string | undefined, arch: string) =>
  isX86(arch) && machine !== undefined && (machine === 'q35' || machine.startsWith('pc-q35-'));
export const isI440fxMachine = (machine: string | undefined, arch: string) =>
  isX86(arch) && machine !== undefined &&
  (machine === 'pc' || /^(pc-0\.|pc-1\.|pc-i440fx-|rhel)/.test(machine));
