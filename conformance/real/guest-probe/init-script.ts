/**
 * The probe guest's /init (busybox sh): it prints, between markers on the serial console, what the
 * guest kernel itself says about memory encryption — the "Memory Encryption Features active" line
 * of its log (mem_encrypt_init prints it when SME/SEV is active), the cpuinfo flags the kernel sets
 * for an SEV guest, and the encryption mask it reports — then powers the guest off.
 */
export const PROBE_BEGIN = 'SEVPROBE-BEGIN';
export const PROBE_END = 'SEVPROBE-END';

export const INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo ${PROBE_BEGIN}
echo "SEVPROBE-DMESG-LINES: $(/bin/busybox dmesg | /bin/busybox wc -l)"
/bin/busybox dmesg | /bin/busybox grep -i -E 'memory encryption features active|SEV: |sme: ' | /bin/busybox sed 's/^/SEVPROBE-LOG: /'
echo "SEVPROBE-FLAGS: $(/bin/busybox grep -m1 '^flags' /proc/cpuinfo | /bin/busybox tr ' ' '\\n' | /bin/busybox grep -x -E 'sme|sev|sev_es|sev_snp' | /bin/busybox tr '\\n' ' ')"
echo "SEVPROBE-KERNEL: $(/bin/busybox uname -r)"
echo "SEVPROBE-CMDLINE: $(/bin/busybox cat /proc/cmdline)"
echo ${PROBE_END}
/bin/busybox poweroff -f
`;
