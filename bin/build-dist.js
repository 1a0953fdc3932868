#!/usr/bin/env node
// Builds the published dist/: tsc -p tsconfig.build.json (JavaScript with `.js` imports, and
// declarations), then points the declarations' relative `.ts` imports at `.js` as well: tsc's
// rewriteRelativeImportExtensions rewrites the JavaScript only, and a user's tsc without
// allowImportingTsExtensions must never be sent to a .ts file. Run by `npm run build` (prepack).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
if (r.status !== 0) {
  console.error(`build-dist: tsc failed (exit ${r.status ?? r.signal})`);
  process.exit(1);
}

/** Relative module specifiers ending in .ts (not .d.ts) in import/export-from and import() types. */
const RELATIVE_TS = /((?:from\s+|import\s*\(\s*|import\s+)['"])(\.{1,2}\/[^'"]*?)(?<!\.d)\.ts(['"])/g;

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else yield p;
  }
}

let rewritten = 0;
let declarations = 0;
const leftovers = [];
for (const file of files(dist)) {
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.d.ts')) {
    declarations += 1;
    const out = text.replace(RELATIVE_TS, (_m, pre, path, quote) => `${pre}${path}.js${quote}`);
    if (out !== text) {
      writeFileSync(file, out);
      rewritten += 1;
    }
  } else if (file.endsWith('.js') && RELATIVE_TS.test(text)) {
    leftovers.push(relative(root, file));
  }
  RELATIVE_TS.lastIndex = 0;
}
if (leftovers.length) {
  console.error(`build-dist: compiled JavaScript still imports .ts files: ${leftovers.join(', ')}`);
  process.exit(1);
}
console.log(`build-dist: dist/ built; ${rewritten} of ${declarations} declaration files had their .ts imports pointed at .js`);
