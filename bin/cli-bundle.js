// The checkout's CLI as one bundle of plain JavaScript, so `sevharness` starts without a
// TypeScript loader (tsx compiles ~400 modules on every start, in the process and again in each
// worker thread). The bundle is rebuilt whenever any source it was built from changed, so it never
// runs stale code; it lives under node_modules/.cache/sevharness/ and is never committed.
//
// Each build goes to a directory of its own, written once and never changed; `current.json` names
// the newest and lists its inputs with their size and mtime. Two commands starting at once may
// both build; the later rename wins and both ran fresh code.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Entries of the bundle: the CLI, and the conformance worker thread it starts. */
const ENTRIES = { cli: 'src/cli/main.ts', 'conformance-worker': 'conformance/runner/worker.ts' };
/** Format of current.json and of the build: a change here makes every cached bundle stale. */
const FORMAT = 1;
/** Builds older than this and not current are removed (a running command may still start workers from its own). */
const KEEP_OLD_MS = 60 * 60 * 1000;

/** Inputs changed this close to a build's start are rebuilt at the next start, to be sure. */
const RECENT_MS = 2000;

const IMPORT_META = /\bimport\.meta\.(url|dirname|filename)\b/g;

/**
 * Modules find files beside them (worker entries, scripts, data) through import.meta: in the
 * bundle each module keeps its own source location, as it has under tsx.
 */
function sourceLocationPlugin() {
  return {
    name: 'source-location',
    setup(build) {
      build.onLoad({ filter: /\.(ts|mts|js|mjs)$/ }, (args) => {
        if (args.path.includes(`${'/'}node_modules${'/'}`)) return undefined;
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta')) return undefined;
        const where = { url: pathToFileURL(args.path).href, dirname: dirname(args.path), filename: args.path };
        const contents = text.replace(IMPORT_META, (_m, key) => JSON.stringify(where[key]));
        return { contents, loader: /\.m?ts$/.test(args.path) ? 'ts' : 'js' };
      });
    },
  };
}

function readCurrent(cache) {
  try {
    const c = JSON.parse(readFileSync(join(cache, 'current.json'), 'utf8'));
    return c.format === FORMAT && typeof c.dir === 'string' && Array.isArray(c.inputs) ? c : null;
  } catch {
    return null;
  }
}

/** Whether every input is as it was when the bundle was built (same size and mtime); any change, older or newer, is stale. */
function isFresh(root, current, esbuildVersion) {
  if (current.root !== root || current.esbuild !== esbuildVersion || current.node !== process.version) return false;
  for (const [path, size, mtimeMs] of current.inputs) {
    try {
      const s = statSync(join(root, path));
      if (s.size !== size || s.mtimeMs !== mtimeMs) return false;
    } catch {
      return false;
    }
  }
  try {
    return statSync(join(current.dir, 'cli.mjs')).isFile();
  } catch {
    return false;
  }
}

function removeOldBuilds(cache, keep) {
  for (const name of readdirSync(cache)) {
    const dir = join(cache, name);
    if (!name.startsWith('build-') || dir === keep) continue;
    try {
      if (Date.now() - statSync(dir).mtimeMs > KEEP_OLD_MS) rmSync(dir, { recursive: true, force: true });
    } catch {
      // another command removed it first
    }
  }
}

async function build(esbuild, root, cache) {
  mkdirSync(cache, { recursive: true });
  const dir = join(cache, `build-${Date.now().toString(36)}-${process.pid}`);
  const started = Date.now();
  const entryPoints = Object.fromEntries(Object.entries(ENTRIES).map(([name, path]) => [name, join(root, path)]));
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints,
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node.split('.')[0]}`,
    // Packages load from node_modules as they do under tsx: the bundle holds this checkout's code only.
    packages: 'external',
    sourcemap: 'linked',
    // Stack traces name the .ts files and lines (the map's sources are relative to the bundle).
    sourcesContent: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [sourceLocationPlugin()],
    // parallel.ts starts this bundle's worker rather than the TypeScript one.
    define: { SEVHARNESS_BUNDLED_WORKER: JSON.stringify(pathToFileURL(join(dir, 'conformance-worker.mjs')).href) },
  });
  const inputs = Object.keys(result.metafile.inputs).map((p) => {
    const abs = resolve(root, p);
    const s = statSync(abs);
    // A source saved while esbuild read it may not be what was bundled: stale at the next start
    // (with a margin, as file times come from a coarser clock than Date.now()).
    return [relative(root, abs), s.size, s.mtimeMs >= started - RECENT_MS ? -1 : s.mtimeMs];
  });
  const current = { format: FORMAT, root, node: process.version, esbuild: esbuild.version, dir, inputs };
  const tmp = join(cache, `current.json.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(current));
  renameSync(tmp, join(cache, 'current.json'));
  removeOldBuilds(cache, dir);
  return current;
}

/**
 * The URL of the bundled CLI module of the checkout at `root`, built first when missing or stale;
 * null when esbuild is not installed or the build fails (the caller then runs the sources through
 * tsx, which reports a broken source as it always did). `cache`: where builds go (tests).
 */
export async function bundledCli(root, cache = join(root, 'node_modules', '.cache', 'sevharness')) {
  let esbuild;
  try {
    esbuild = (await import('esbuild')).default;
  } catch {
    return null;
  }
  let current = readCurrent(cache);
  if (current === null || !isFresh(root, current, esbuild.version)) {
    try {
      current = await build(esbuild, root, cache);
    } catch {
      return null;
    }
  }
  return pathToFileURL(join(current.dir, 'cli.mjs'));
}
