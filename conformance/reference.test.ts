/**
 * The reference driver (src/driver through conformance/adapters/reference.ts) judged by the whole
 * catalogue on every hardware profile's fake host and the default run's generated hosts. Every
 * applicable case must pass; a failure here names the case, the profile and what the driver did.
 */
import { DEFAULT_GENERATED_COUNT, expandGeneratedSpec } from '../fakelibvirt/profile/generate.ts';
import { allProfiles } from '../fakelibvirt/profile/load.ts';
import { createReferenceDriver } from './adapters/reference.ts';
import { describeConformance } from './vitest.ts';

// The bundled profiles and the default run's generated hosts, as `npx sevharness conformance` judges them.
const PROFILES = [...allProfiles().keys(), ...expandGeneratedSpec(`generated:${DEFAULT_GENERATED_COUNT}`)!];

describeConformance({ name: 'reference driver conformance', driver: () => createReferenceDriver(), profiles: PROFILES });
