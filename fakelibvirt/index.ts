/**
 * `sevharness`: a fake AMD SEV host (firmware, KVM, QEMU and libvirt semantics) built from a
 * hardware profile, in-process or served as a fake libvirtd on a UNIX socket.
 *
 *   import { FakeHost, loadProfile, serveProfile, fault } from 'sevharness';
 *   const host = new FakeHost(loadProfile('milan-7003-es8'));
 *   host.create(host.defineXML(xml));
 *   host.control.use(fault.firmware('LAUNCH_START', 'RESOURCE_LIMIT', { times: 1 }));
 *
 * The libvirt client is `sevharness/client`, the reference driver `sevharness/driver`, the
 * conformance suite `sevharness/conformance` (and `sevharness/vitest`), the fake AMD KDS
 * `sevharness/kds`.
 */

// The host model.
/** One hardware profile brought to life: libvirt's API over the modelled firmware, KVM and QEMU. */
export { FakeHost, type DomainHandle, type DomainInfo, type DomainRef, type HostOptions, type HostSnapshot, type LifecycleEventRecord, type LifecycleListener } from './host/fake-host.ts';
/** The libvirt API the daemon serves (FakeHost implements it), as mongo-java-server's MongoBackend. */
export type { LibvirtBackend } from './host/libvirt-backend.ts';
/** Many hosts in one process from a profile mix, sharing what is immutable per profile. */
export { FakeFleet, type FleetMember } from './fleet/fake-fleet.ts';
export { parseFleetSpec, FleetSpecError, type FleetSpec } from './fleet/fleet-spec.ts';

// Hardware profiles: the bundled ones by name, your own as files or objects, generated ones.
export { loadProfile, loadProfileFile, parseProfile, allProfiles, PROFILE_DIR, ProfileError } from './profile/load.ts';
export { HardwareProfileSchema, GENERATIONS, type HardwareProfile, type HardwareProfileInput, type Generation } from './profile/schema.ts';
export { generatedProfile, expandGeneratedSpec, isGeneratedName, GeneratedSpecError } from './profile/generate.ts';

// What the host shows: libvirt's XML documents, nodesevinfo and the host's files.
export { capabilitiesXml, domainCapabilitiesXml, nodeSevInfo, materializeSysroot, type DomainCapsQuery } from './views/index.ts';

// Served over libvirt's wire protocol.
/** `sevharness serve --profile P` from a program: host, sysroot, socket, optional control socket. */
export { serveProfile, type ServeProfileOptions, type ServedProfile } from './serve-profile.ts';
/** The fake libvirtd over one FakeHost: read-write (and optional read-only) UNIX sockets. */
export { FakeLibvirtd, startFakeLibvirtd, SocketPathError, type FakeLibvirtdOptions } from './daemon/server.ts';

// Test control: faults as data, in-process (`host.control`) and over the control socket.
export { fault, parseFault, describeFault, FaultError, FAULT_KINDS, type Fault, type FaultKind } from './control/fault.ts';
export type { HostControl, HandlerInfo, ControlSnapshot, FirmwareProbe } from './control/host-control.ts';
/** Client of the control socket (`serve --control PATH`, `serveProfile(p, { control: true })`). */
export { ControlClient, ControlError } from './control/client.ts';

// Attestation as a guest owner checks it (the fake AMD KDS is `sevharness/kds`: it loads msw and
// @peculiar/x509, whose reflect-metadata changes the global Reflect, so only when asked for).
export { decodeReport, reportSignatureP1363, SIGNED_LENGTH, REPORT_SIZE, type AttestationReport } from './firmware/snp/attestation-report.ts';
export { decodeTcb, tcbQuery, type TcbVersion, type TcbLayout, type KdsProduct } from './firmware/snp/product.ts';
export { createSession, type OwnerSession, type CreateSessionOptions } from './firmware/session.ts';
