/**
 * The Python example driver judged by the runner: every detection and inventory case on every
 * hardware profile's fake host, through the process adapter. Each applicable case must pass.
 */
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { requireRealStack } from '../../../test/support/real-stack.ts';
import { startProcessDriver } from '../../adapters/process.ts';
import { describeConformance } from '../../vitest.ts';

const stack = requireRealStack(['/usr/bin/python3']);
const DRIVER = fileURLToPath(new URL('./driver.py', import.meta.url));

if (stack.available) {
  describeConformance({
    name: 'python example driver conformance',
    driver: () => startProcessDriver(['/usr/bin/python3', DRIVER]),
    cases: ['detect', 'inventory'],
  });
} else {
  describe.skip('python example driver conformance', () => it('needs /usr/bin/python3', () => {}));
}
