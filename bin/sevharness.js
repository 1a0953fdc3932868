#!/usr/bin/env node
// The `sevharness` command. A checkout runs its TypeScript sources through tsx (a devDependency;
// no build step, edits take effect at once); an installed package has no sources and runs the
// compiled dist/ with plain Node.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/src/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
