#!/usr/bin/env node
// The `sevharness` command. A checkout runs its TypeScript sources bundled by esbuild into
// node_modules/.cache/sevharness (cli-bundle.js: rebuilt whenever a source changed, so edits take
// effect at once; stack traces name the .ts lines), else through tsx; an installed package has no
// sources and runs the compiled dist/ with plain Node, as does a checkout built without devDependencies.
import { existsSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);

async function tsxLoader() {
  try {
    return await import('tsx/esm/api');
  } catch {
    return null;
  }
}

async function sourceCli() {
  const { bundledCli } = await import('./cli-bundle.js');
  const bundle = await bundledCli(decodeURIComponent(root.pathname).replace(/\/$/, ''));
  if (bundle) {
    process.setSourceMapsEnabled(true);
    return bundle;
  }
  const tsx = await tsxLoader();
  if (!tsx) return null;
  tsx.register();
  return source;
}

const entry = (existsSync(source) ? await sourceCli() : null) ?? (existsSync(compiled) ? compiled : null);
if (!entry) {
  console.error('sevharness: neither tsx (npm ci installs it in a checkout) nor a built dist/ (npm run build) is here');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
