/**
 * The import graph follows the layer plan of issue #13 (.dependency-cruiser.cjs): the project has
 * no violation, and the rules do catch each kind of violation in a small tree built for the test.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cruise, describeViolation, lintLayersArgs, REPO, RULES_FILE } from './support.ts';

describe('layers', () => {
  it('the project imports only along the layers, with no file loop and nothing from test/ outside it', async () => {
    const { violations, modules } = await cruise(REPO, lintLayersArgs());
    expect(modules).toBeGreaterThan(400); // the cruise saw the tree, not an empty selection
    expect(violations.map(describeViolation), 'violations of the layer plan').toEqual([]);
  }, 300_000);

  describe('the rules bite', () => {
    const root = mkdtempSync(join(tmpdir(), 'sevharness-layers-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    /** file → the project files it imports (each a side-effect import, which is still an edge). */
    const tree: Record<string, readonly string[]> = {
      'src/libvirt/errors.ts': [],
      'src/rpc/frame.ts': ['src/libvirt/errors.ts'],
      'src/xdr/codec.ts': ['src/rpc/frame.ts', 'src/libvirt/client.ts'],
      'src/libvirt/client.ts': ['src/rpc/frame.ts', 'src/sev/facts.ts'],
      'src/sev/facts.ts': ['src/libvirt/errors.ts', 'src/fs/dirs.ts'],
      'src/fs/dirs.ts': ['src/libvirt/errors.ts', 'node_modules/left-pad'],
      'fakelibvirt/host.ts': ['src/sev/facts.ts', 'src/libvirt/client.ts', 'conformance/catalogue.ts'],
      'fakelibvirt/a.ts': ['fakelibvirt/b.ts'],
      'fakelibvirt/b.ts': ['fakelibvirt/a.ts'],
      'src/driver/index.ts': ['src/sev/facts.ts', 'conformance/contract.ts', 'src/driver/plan.ts', 'conformance/catalogue.ts'],
      'src/driver/plan.ts': ['fakelibvirt/host.ts'],
      'conformance/contract.ts': [],
      'conformance/catalogue.ts': [],
      'conformance/run.ts': ['fakelibvirt/host.ts', 'src/driver/index.ts', 'containers/gate.ts', 'src/driver/plan.ts', 'src/cli/main.ts'],
      'containers/gate.ts': ['fakelibvirt/host.ts'],
      'src/cli/main.ts': ['fakelibvirt/host.ts', 'test/support/helper.ts'],
      'bench/x.bench.ts': ['conformance/run.ts', 'test/support/helper.ts'],
      'test/support/helper.ts': ['fakelibvirt/host.ts'],
      'test/a.test.ts': ['test/support/helper.ts', 'src/driver/plan.ts'],
      'conformance/x.test.ts': ['test/support/helper.ts', 'src/driver/plan.ts'],
    };
    // One npm package, declared as a dependency, for the node-only rule of the bottom layers.
    mkdirSync(join(root, 'node_modules', 'left-pad'), { recursive: true });
    writeFileSync(join(root, 'node_modules', 'left-pad', 'package.json'), JSON.stringify({ name: 'left-pad', version: '1.0.0', main: 'index.js' }));
    writeFileSync(join(root, 'node_modules', 'left-pad', 'index.js'), 'module.exports = (s) => s;\n');
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'tree', type: 'module', dependencies: { 'left-pad': '1.0.0' } }));
    for (const [file, imports] of Object.entries(tree)) {
      const path = join(root, file);
      mkdirSync(dirname(path), { recursive: true });
      const rel = (to: string) => {
        if (to.startsWith('node_modules/')) return to.slice('node_modules/'.length);
        const up = '../'.repeat(file.split('/').length - 1);
        return up === '' ? `./${to}` : `${up}${to}`;
      };
      writeFileSync(path, `import 'node:fs';\n${imports.map((to) => `import '${rel(to)}';\n`).join('')}export {};\n`);
    }
    writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', allowImportingTsExtensions: true, noEmit: true } }));

    it('reports exactly the imports the plan forbids, each under its rule', async () => {
      const { violations, modules } = await cruise(root, ['--config', RULES_FILE, 'src', 'fakelibvirt', 'conformance', 'containers', 'bench', 'test']);
      expect(modules).toBe(Object.keys(tree).length + 2); // and node:fs, left-pad
      expect(violations.map(describeViolation).sort()).toEqual(
        [
          'vocabulary-is-the-bottom: src/xdr/codec.ts → src/libvirt/client.ts',
          'client-sits-on-vocabulary: src/libvirt/client.ts → src/sev/facts.ts',
          'sev-facts-are-neutral: src/sev/facts.ts → src/fs/dirs.ts',
          'fs-utils-use-node-only: src/fs/dirs.ts → src/libvirt/errors.ts',
          'bottom-layers-need-only-node: src/fs/dirs.ts → node_modules/left-pad/index.js',
          'fakelibvirt-never-sees-driver-or-suite: fakelibvirt/host.ts → conformance/catalogue.ts',
          'driver-sees-only-vocabulary-client-sev-and-contract: src/driver/index.ts → conformance/catalogue.ts',
          'driver-sees-only-vocabulary-client-sev-and-contract: src/driver/plan.ts → fakelibvirt/host.ts',
          'conformance-never-sees-cli-or-driver-internals: conformance/run.ts → src/driver/plan.ts',
          'conformance-never-sees-cli-or-driver-internals: conformance/run.ts → src/cli/main.ts',
          'containers-are-infrastructure: containers/gate.ts → fakelibvirt/host.ts',
          'no-test-imports-outside-test: src/cli/main.ts → test/support/helper.ts',
          'no-test-imports-outside-test: bench/x.bench.ts → test/support/helper.ts',
          'no-circular: fakelibvirt/a.ts → fakelibvirt/b.ts → fakelibvirt/a.ts', // one report per loop
        ].sort(),
      );
    }, 120_000);
  });
});
