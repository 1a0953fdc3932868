import { beforeAll, describe, expect, it } from 'vitest';
import type { HostReport } from '../../src/driver/detect.ts';
import { DriverRefusal, REFUSALS, type RefusalCode } from '../../src/driver/refusals.ts';
import { planGuest, requestText, translateRequest, type Flavor, type Image } from '../../src/driver/request.ts';
import { plainFlavor, setup, sevFlavor, uefiImage } from './helpers.ts';
import { thrown } from '../support/thrown.ts';

const refusal = (fn: () => unknown): DriverRefusal => thrown(DriverRefusal, fn);
const expectRefusal = (fn: () => unknown, code: RefusalCode, text?: string) => {
  const r = refusal(fn);
  expect(r.code).toBe(code);
  expect(REFUSALS[r.code].meaning).toBeTruthy();
  if (text !== undefined) expect(r.message).toBe(text);
};

describe('translateRequest (API/scheduler level)', () => {
  it('no flag anywhere → nothing requested', () => {
    expect(translateRequest(plainFlavor, uefiImage())).toMatchObject({ encrypted: false, resources: {} });
  });
  it.each(['0', 'false', 'False'])('flag %s → not requested, no checks (even on a bios image)', (v) => {
    expect(translateRequest(sevFlavor({ 'hw:mem_encryption': v }), { id: 'i', name: 'n', properties: { hw_mem_encryption: v } }).encrypted).toBe(false);
  });
  it.each(['1', 'true', 'True'])('flavor %s + uefi → MEM_ENCRYPTION_CONTEXT:1 and the SEV trait', (v) => {
    expect(translateRequest(sevFlavor({ 'hw:mem_encryption': v }), uefiImage())).toEqual({
      encrypted: true, model: 'amd-sev', resources: { MEM_ENCRYPTION_CONTEXT: 1 }, requiredTraits: ['HW_CPU_X86_AMD_SEV'],
      requesters: 'hw:mem_encryption extra spec in m1.sev flavor',
    });
  });
  it('image property alone, and both (requesters lists both)', () => {
    expect(translateRequest(plainFlavor, uefiImage({ hw_mem_encryption: true })).encrypted).toBe(true);
    expect(translateRequest(sevFlavor(), uefiImage({ hw_mem_encryption: 'yes' })).requesters).toBe(
      'hw:mem_encryption extra spec in m1.sev flavor and hw_mem_encryption property of image 150d530b-1c57-4367-b754-1f1b5237923d',
    );
  });
  it('flavor false × image true → FlavorImageConflict with nova text', () => {
    expectRefusal(() => translateRequest(sevFlavor({ 'hw:mem_encryption': 'False' }), uefiImage({ hw_mem_encryption: true })), 'FLAVOR_IMAGE_CONFLICT',
      'Flavor m1.sev has hw:mem_encryption extra spec explicitly set to False, conflicting with image fake_image which has hw_mem_encryption property explicitly set to True');
  });
  it('flavor true × image false → FlavorImageConflict', () => {
    expectRefusal(() => translateRequest(sevFlavor({ 'hw:mem_encryption': 'true' }), uefiImage({ hw_mem_encryption: 'false' })), 'FLAVOR_IMAGE_CONFLICT',
      requestText.conflict('m1.sev', 'true', 'fake_image', false));
  });
  it.each([[{}], [{ hw_firmware_type: 'bios' }], [{ hw_machine_type: 'q35' }]])('no uefi (%j) → UEFI_REQUIRED with nova text', (props) => {
    expectRefusal(() => translateRequest(sevFlavor(), { id: 'x', name: 'fake_image', properties: props }), 'UEFI_REQUIRED',
      "Memory encryption requested by hw:mem_encryption extra spec in m1.sev flavor but image fake_image doesn't have 'hw_firmware_type' property set to 'uefi'");
  });
  it('image machine type pc → Q35_REQUIRED with nova text', () => {
    expectRefusal(() => translateRequest(sevFlavor(), uefiImage({ hw_machine_type: 'pc' })), 'Q35_REQUIRED',
      "Machine type 'pc' is not compatible with image fake_image (150d530b-1c57-4367-b754-1f1b5237923d): q35 type is required for SEV to work");
  });
  it.each(['q35', 'pc-q35-2.1', 'fake-q35-2.11'])('machine type %s passes the substring rule', (mt) => {
    expect(translateRequest(sevFlavor(), uefiImage({ hw_machine_type: mt })).encrypted).toBe(true);
  });
  it("'tru' → INVALID_BOOLEAN with nova's validator text", () => {
    expectRefusal(() => translateRequest(sevFlavor({ 'hw:mem_encryption': 'tru' }), uefiImage()), 'INVALID_BOOLEAN', "Validation failed; 'tru' is not a valid boolean-like value.");
    expectRefusal(() => translateRequest(plainFlavor, uefiImage({ hw_mem_encryption: 'maybe' })), 'INVALID_BOOLEAN');
  });
  it('models: ES trait, conflicts, unknown, SNP needs stateless firmware', () => {
    expect(translateRequest(sevFlavor({ 'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'amd-sev-es' }), uefiImage()).requiredTraits).toEqual(['HW_CPU_X86_AMD_SEV_ES']);
    expectRefusal(() => translateRequest(sevFlavor({ 'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'amd-sev' }), uefiImage({ hw_mem_encryption_model: 'amd-sev-es' })), 'FLAVOR_IMAGE_CONFLICT',
      requestText.modelConflict('m1.sev', 'amd-sev', 'fake_image', 'amd-sev-es'));
    expectRefusal(() => translateRequest(sevFlavor(), uefiImage({ hw_mem_encryption_model: 'amd-tdx' })), 'INVALID_MODEL', "Invalid memory encryption model 'amd-tdx'. Allowed values: amd-sev, amd-sev-es, amd-sev-snp");
    expectRefusal(() => translateRequest(sevFlavor(), uefiImage({ hw_mem_encryption_model: 'amd-sev-snp' })), 'STATELESS_FIRMWARE_REQUIRED', requestText.statelessRequired);
    expectRefusal(() => translateRequest(sevFlavor(), uefiImage({ hw_mem_encryption_model: 'amd-sev-snp', hw_firmware_stateless: 'false' })), 'STATELESS_FIRMWARE_REQUIRED');
    const snp = translateRequest(sevFlavor(), uefiImage({ hw_mem_encryption_model: 'amd-sev-snp', hw_firmware_stateless: true }));
    expect([snp.model, snp.requiredTraits]).toEqual(['amd-sev-snp', ['HW_CPU_X86_AMD_SEV_SNP']]);
  });
  it('only the trait (no flag) → not encrypted, nothing consumed', () => {
    expect(translateRequest(sevFlavor({ 'trait:HW_CPU_X86_AMD_SEV': 'required' }), uefiImage()).encrypted).toBe(false);
  });
  it('malformed input → INVALID_REQUEST', () => {
    expectRefusal(() => translateRequest({ name: 'x', vcpus: 0, memory_mb: 1, extra_specs: {} } as Flavor, uefiImage()), 'INVALID_REQUEST');
  });
});

describe('planGuest (compute level)', () => {
  let rome: HostReport;
  let romePcDefault: HostReport;
  beforeAll(async () => {
    rome = (await setup('rome-7002')).report;
    romePcDefault = (await setup('rome-7002', {})).report;
  });
  const plan = (flavor: Flavor, image: Image, host = rome) => planGuest({ name: 'g', flavor, image }, host);

  it('resolves the canonical q35 machine and defaults (virtio disk, sata CD-ROM, virtio video)', () => {
    expect(plan(sevFlavor(), uefiImage())).toMatchObject({ machine: 'pc-q35-6.2', diskBus: 'virtio', cdromBus: 'sata', videoModel: 'virtio', encrypted: true, uefi: true });
  });
  it('host default pc with no image machine type → Q35_REQUIRED at plan time (nova reschedules instead)', () => {
    expectRefusal(() => plan(sevFlavor(), uefiImage(), romePcDefault), 'Q35_REQUIRED',
      "Machine type 'pc' is not compatible with image fake_image (150d530b-1c57-4367-b754-1f1b5237923d): q35 type is required for SEV to work");
    expect(plan(sevFlavor(), uefiImage({ hw_machine_type: 'q35' }), romePcDefault).machine).toBe('pc-q35-6.2');
  });
  it('an unoffered machine type → UNKNOWN_MACHINE_TYPE listing the offered ones', () => {
    const r = refusal(() => plan(sevFlavor(), uefiImage({ hw_machine_type: 'pc-q35-5.0' })));
    expect(r.code).toBe('UNKNOWN_MACHINE_TYPE');
    expect(r.message).toMatch(/^Machine type 'pc-q35-5.0' is not valid\/supported machine type, Supported machine types are: .*pc-q35-6.2/);
  });
  it.each([['hw_disk_bus', 'Disk'], ['hw_cdrom_bus', 'CD-ROM']])('%s=ide → IDE_NOT_SUPPORTED', (prop) => {
    expectRefusal(() => plan(sevFlavor(), uefiImage({ [prop]: 'ide' })), 'IDE_NOT_SUPPORTED');
  });
  it('unknown device values → UNSUPPORTED_DEVICE_MODEL', () => {
    expectRefusal(() => plan(sevFlavor(), uefiImage({ hw_video_model: 'voodoo' })), 'UNSUPPORTED_DEVICE_MODEL');
    expectRefusal(() => plan(sevFlavor(), uefiImage({ hw_scsi_model: 'lsilogic' })), 'UNSUPPORTED_DEVICE_MODEL');
  });
  it('non-SEV host → NO_SEV_HOST (nova Zed would boot unencrypted silently)', async () => {
    const { report } = await setup('rome-7002-sev-off');
    expectRefusal(() => plan(sevFlavor(), uefiImage(), report), 'NO_SEV_HOST');
    expect(plan(plainFlavor, uefiImage(), report).encrypted).toBe(false);
  });
  it('SEV-ES on a host without ES → SEV_ES_UNAVAILABLE; on an all-ES host plain SEV → NO_SLOTS', async () => {
    const es = sevFlavor({ 'hw:mem_encryption': 'true', 'hw:mem_encryption_model': 'amd-sev-es' });
    expectRefusal(() => plan(es, uefiImage()), 'SEV_ES_UNAVAILABLE');
    const { report } = await setup('milan-7003-all-es');
    expect(plan(es, uefiImage(), report).model).toBe('amd-sev-es');
    expectRefusal(() => plan(sevFlavor(), uefiImage(), report), 'NO_SLOTS');
  });
  it('non-canonical q35 version without SEV domcaps → NO_SEV_DOMAIN_CAPS', () => {
    const h: HostReport = { ...rome, facts: { ...rome.facts, sevMachines: new Map([['q35', 'pc-q35-6.2']]) } };
    expectRefusal(() => plan(sevFlavor(), uefiImage({ hw_machine_type: 'pc-q35-4.2' }), h), 'NO_SEV_DOMAIN_CAPS',
      'Guest config could not be built without domain capabilities including <sev> feature.');
  });
  it('guest OS facts: not SEV-aware refused; virtio-blk boot moved to virtio-scsi', () => {
    const facts = (sev: boolean, sevEs: boolean, blk: boolean) => ({ guest_os: { name: 'old-linux', sev, sev_es: sevEs, virtio_blk_boot: blk } });
    expectRefusal(() => plan(sevFlavor(), uefiImage({}, facts(false, false, true))), 'GUEST_OS_NOT_SEV_CAPABLE');
    const p = plan(sevFlavor(), uefiImage({}, facts(true, false, false)));
    expect(p.diskBus).toBe('scsi');
    expect(p.notes[0]).toMatch(/virtio-scsi/);
  });
  it('plain guests on pc may use IDE', () => {
    expect(plan(plainFlavor, { id: 'i', name: 'n', properties: { hw_machine_type: 'pc', hw_disk_bus: 'ide' } }).diskBus).toBe('ide');
  });
});
