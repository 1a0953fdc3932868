/**
 * Lifecycle scenarios for the oracle: a plain TCG guest (no disk, no SEV: it starts on any machine
 * with QEMU) defined, then a few API calls in order. Each one asks a question whose answer the fake
 * must give exactly as libvirt 9.0 does: wrong states, unknown flags, the setMemory/setVcpus family.
 * Steps are [API name, ...args] as oracle/libvirt_oracle.py's STEPS and the fake's runner name them.
 */
import type { ScenarioStep } from '../oracle-process.ts';

export interface Scenario {
  readonly id: string;
  readonly xml: string;
  readonly steps: readonly ScenarioStep[];
}

/** libvirt-domain.h flag bits used below. */
const LIVE = 1;
const CONFIG = 2;
const MAXIMUM = 4; // VIR_DOMAIN_MEM_MAXIMUM and VIR_DOMAIN_VCPU_MAXIMUM
const VCPU_GUEST = 8;
const XML_INACTIVE = 2;
const START_PAUSED = 1;
const UNKNOWN = 0x100;

/** 128 MiB maximum, 96 MiB current; 2 vCPUs maximum, 1 online. */
export const GUEST_XML = `<domain type='qemu'>
  <name>lifecycle</name>
  <uuid>6a1f3a0e-2b8c-4d53-9b7e-0c2f6d7e8a91</uuid>
  <memory unit='KiB'>131072</memory>
  <currentMemory unit='KiB'>98304</currentMemory>
  <vcpu placement='static' current='1'>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <on_poweroff>destroy</on_poweroff>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>
`;

/** The same guest with every vCPU online (no hot-pluggable entities left to enable). */
const FULL_VCPUS_XML = GUEST_XML.replace(" current='1'", '');

const QUERIES: readonly ScenarioStep[] = [['getState'], ['getInfo'], ['getMaxMemory'], ['getVcpusFlags', 0], ['getVcpusFlags', CONFIG | MAXIMUM]];

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'inactive/state-changes',
    xml: GUEST_XML,
    steps: [...QUERIES, ['isActive'], ['isPersistent'], ['resume'], ['suspend'], ['shutdown'], ['reboot'], ['reset'], ['destroy'], ['getMaxVcpus']],
  },
  {
    id: 'inactive/unknown-flags',
    xml: GUEST_XML,
    steps: [
      ['getXMLDesc', UNKNOWN],
      ['getXMLDesc', 16],
      ['getState', 1],
      ['create', UNKNOWN],
      ['destroy', UNKNOWN],
      ['shutdown', 4],
      ['reboot', 4],
      ['getVcpusFlags', 16],
      ['setMemoryFlags', 65536, 8],
      ['setVcpusFlags', 1, 32],
      ['undefineFlags', UNKNOWN],
      ['getState'],
    ],
  },
  {
    id: 'running/state-changes',
    xml: GUEST_XML,
    steps: [
      ['create'],
      ['getState'],
      ['getInfo'],
      ['isActive'],
      ['resume'],
      ['create'],
      ['suspend'],
      ['getState'],
      ['suspend'],
      ['getState'],
      ['resume'],
      ['getState'],
      ['destroy', UNKNOWN],
      ['destroy'],
      ['getState'],
      ['destroy'],
    ],
  },
  {
    id: 'paused-start/resume',
    xml: GUEST_XML,
    steps: [['create', START_PAUSED], ['getState'], ['shutdown'], ['reboot'], ['resume'], ['getState'], ['destroy', 1], ['getState']],
  },
  {
    id: 'inactive/set-memory',
    xml: GUEST_XML,
    steps: [
      ['setMemory', 65536],
      ['setMemoryFlags', 65536, LIVE],
      ['setMemoryFlags', 65536, LIVE | CONFIG],
      ['setMemoryFlags', 65536, 0],
      ['getInfo'],
      ['setMemoryFlags', 131073, CONFIG],
      ['setMemoryFlags', 131072, CONFIG],
      ['getInfo'],
      ['setMemoryFlags', 0, CONFIG],
      ['setMemory', 0],
      ['getXMLDesc', XML_INACTIVE],
    ],
  },
  {
    id: 'inactive/set-max-memory',
    xml: GUEST_XML,
    steps: [
      ['setMaxMemory', 262144],
      ['getInfo'],
      ['getMaxMemory'],
      ['setMaxMemory', 65536],
      ['getInfo'],
      ['setMaxMemory', 0],
      ['setMemoryFlags', 200000, MAXIMUM | LIVE],
      ['setMemoryFlags', 200001, MAXIMUM | CONFIG],
      ['getInfo'],
      ['setMemoryFlags', 100000, MAXIMUM],
      ['getInfo'],
      ['setMaxMemory', 1],
      ['getInfo'],
      ['getXMLDesc', XML_INACTIVE],
    ],
  },
  {
    id: 'running/set-memory',
    xml: GUEST_XML,
    steps: [
      ['create'],
      ['setMemory', 65536],
      ['getInfo'],
      ['setMemoryFlags', 131073, LIVE],
      ['setMemoryFlags', 131072, LIVE],
      ['setMemoryFlags', 81920, CONFIG],
      ['getInfo'],
      ['setMemoryFlags', 70000, LIVE | CONFIG],
      ['setMaxMemory', 262144],
      ['setMemoryFlags', 262144, MAXIMUM | CONFIG],
      ['setMemoryFlags', 262144, MAXIMUM],
      ['getMaxMemory'],
      ['destroy'],
      ['getInfo'],
      ['getXMLDesc', XML_INACTIVE],
    ],
  },
  {
    id: 'inactive/set-vcpus',
    xml: GUEST_XML,
    steps: [
      ['setVcpus', 2],
      ['setVcpusFlags', 2, LIVE],
      ['setVcpusFlags', 2, 0],
      ['getInfo'],
      ['getVcpusFlags', CONFIG],
      ['setVcpusFlags', 3, CONFIG],
      ['setVcpusFlags', 0, CONFIG],
      ['setVcpusFlags', 4, MAXIMUM],
      ['setVcpusFlags', 4, MAXIMUM | CONFIG],
      ['getVcpusFlags', CONFIG | MAXIMUM],
      ['getVcpusFlags', CONFIG],
      ['setVcpusFlags', 1, MAXIMUM | CONFIG],
      ['getVcpusFlags', CONFIG],
      ['getInfo'],
      ['setVcpusFlags', 1, VCPU_GUEST | CONFIG],
      ['setVcpusFlags', 1, VCPU_GUEST],
      ['getVcpusFlags', VCPU_GUEST],
      ['getVcpusFlags', LIVE],
      ['getVcpusFlags', LIVE | CONFIG],
      ['getXMLDesc', XML_INACTIVE],
    ],
  },
  {
    id: 'running/set-vcpus',
    xml: FULL_VCPUS_XML,
    steps: [
      ['create'],
      ['getVcpusFlags', 0],
      ['getMaxVcpus'],
      ['setVcpusFlags', 3, LIVE],
      ['setVcpusFlags', 3, CONFIG],
      ['setVcpusFlags', 2, MAXIMUM | CONFIG],
      ['setVcpusFlags', 4, MAXIMUM | CONFIG],
      ['getVcpusFlags', CONFIG | MAXIMUM],
      ['getVcpusFlags', LIVE | MAXIMUM],
      ['setVcpusFlags', 1, CONFIG],
      ['getVcpusFlags', CONFIG],
      ['setVcpusFlags', 1, VCPU_GUEST],
      ['getVcpusFlags', VCPU_GUEST],
      ['destroy'],
      ['getVcpusFlags', 0],
      ['getVcpusFlags', MAXIMUM],
    ],
  },
  {
    id: 'guest-agent-and-nvram-flags',
    xml: GUEST_XML,
    steps: [
      ['undefineFlags', 4 | 8],
      ['create'],
      ['shutdown', 2],
      ['reboot', 2],
      ['getVcpusFlags', VCPU_GUEST],
      ['suspend'],
      ['shutdown', 2],
      ['reboot', 3],
      ['getXMLDesc', 4],
      ['getState'],
    ],
  },
  {
    id: 'running/set-vcpus-hotplug',
    xml: GUEST_XML,
    steps: [['create'], ['setVcpus', 2], ['getVcpusFlags', 0], ['getInfo'], ['setVcpusFlags', 1, LIVE]],
  },
];
