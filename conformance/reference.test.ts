/**
 * The reference driver (src/driver through conformance/adapters/reference.ts) judged by the whole
 * catalogue on every hardware profile's fake host. Every applicable case must pass; a failure here
 * names the case, the profile and what the driver did.
 */
import { createReferenceDriver } from './adapters/reference.ts';
import { describeConformance } from './vitest.ts';

describeConformance({ name: 'reference driver conformance', driver: () => createReferenceDriver() });
