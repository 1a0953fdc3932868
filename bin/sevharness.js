#!/usr/bin/env node
// The `sevharness` command. A checkout runs its TypeScript sources through tsx (a devDependency;
// no build step, edits take effect at once); an installed package has no sources and runs the
// compiled dist/ with plain Node, as does a checkout installed without devDependencies but built.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);

async function tsxLoader() {
  try {
    return await import('tsx/esm/api');
  } catch {
    return null;
  }
}

const tsx = existsSync(source) ? await tsxLoader() : null;
let main;
if (tsx) {
  tsx.register();
  ({ main } = await import(source.href));
} else if (existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  console.error('sevharness: neither tsx (npm ci installs it in a checkout) nor a built dist/ (npm run build) is here');
  process.exit(1);
}
process.exitCode = await main(process.argv.slice(2));
