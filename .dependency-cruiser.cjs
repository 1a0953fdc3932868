/**
 * The layer plan of issue #13 as dependency-cruiser rules (`npm run lint:layers`;
 * test/layers/ runs the same rules inside vitest, so CI fails on a violation).
 *
 * Bottom to top: vocabulary (libvirt's words) → client, sev facts, fs utils → fakelibvirt
 * and the driver (which never see each other), containers (real libvirt) → conformance → cli,
 * bench, oracle, scripts. Tests may import anything; nothing else imports a test.
 *
 * Each layer rule is an allow-list: an import from the layer to a project file outside the
 * layer's allowed paths is an error. Node built-ins and npm packages are not project files.
 */

/** Test code: the test/ tree and vitest files (with their helper folders) beside the code. */
const TEST = '(^test/|\\.test\\.ts$|/test/)';
/** Any file of the project (what a layer rule judges; node_modules and core modules are not). */
const PROJECT = '^(src|fakelibvirt|conformance|bench|oracle|containers|scripts|bin|hardware-profiles|test)/';

const VOCABULARY = '^src/(xdr|rpc)/|^src/libvirt/(errors|flags|typed-params|uri|structs)\\.ts$';
const CLIENT = '^src/libvirt/(client|transport|stream-pair|index)\\.ts$';
const SEV = '^src/sev/';
const FS = '^src/fs/';
const FAKE = '^fakelibvirt/';
const PROFILES = '^hardware-profiles/';
const DRIVER = '^src/driver/';
/** The one door of the suite the driver may use: the contract (which owns the refusal codes). */
const CONTRACT = '^conformance/contract\\.ts$';
/** The one door of the driver the suite may use. */
const DRIVER_ENTRY = '^src/driver/index\\.ts$';
const CONFORMANCE = '^conformance/';
/** Real libvirt in containers and on this machine, and the gates that skip or fail without it. */
const CONTAINERS = '^containers/';

/** An allow-list rule: files matching `from` (tests excluded) import only `allowed` project paths. */
function layer(name, comment, from, allowed) {
  return {
    name,
    comment,
    severity: 'error',
    from: { path: from, pathNot: TEST },
    to: { path: PROJECT, pathNot: allowed.map((p) => `(${p})`).join('|') },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Files that import each other in a loop cannot be layered or loaded one at a time.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-test-imports-outside-test',
      comment: 'Test code is not shipped: nothing outside the tests may import it.',
      severity: 'error',
      from: { path: PROJECT, pathNot: TEST },
      to: { path: TEST },
    },
    {
      name: 'bottom-layers-need-only-node',
      comment: "libvirt's vocabulary, the sev facts and the fs utils run on node alone: no npm package.",
      severity: 'error',
      from: { path: [VOCABULARY, SEV, FS].map((p) => `(${p})`).join('|'), pathNot: TEST },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg', 'npm-unknown'] },
    },
    layer(
      'vocabulary-is-the-bottom',
      "XDR, RPC, errors, flags, typed parameters, URIs and info structs: libvirt's words, importing only each other.",
      VOCABULARY,
      [VOCABULARY],
    ),
    layer(
      'client-sits-on-vocabulary',
      'The TypeScript libvirt client speaks the vocabulary over a socket.',
      CLIENT,
      [CLIENT, VOCABULARY],
    ),
    layer(
      'sev-facts-are-neutral',
      'Facts both the fake and drivers need (QEMU regions, guest-OS namespace) stand on the vocabulary only.',
      SEV,
      [SEV, VOCABULARY],
    ),
    layer('fs-utils-use-node-only', 'File-system helpers depend on node alone.', FS, [FS]),
    layer(
      'fakelibvirt-never-sees-driver-or-suite',
      'The fake host and daemon: vocabulary, sev facts, fs utils, profiles, and the client where the fake is itself a client.',
      FAKE,
      [FAKE, VOCABULARY, SEV, FS, CLIENT, PROFILES],
    ),
    layer(
      'driver-sees-only-vocabulary-client-sev-and-contract',
      'The reference driver: vocabulary, client, sev facts, and from the suite only its contract.',
      DRIVER,
      [DRIVER, VOCABULARY, CLIENT, SEV, CONTRACT],
    ),
    layer(
      'conformance-never-sees-cli-or-driver-internals',
      'The suite: everything below it (real libvirt from containers/), the reference driver through src/driver/index.ts only; never cli.',
      CONFORMANCE,
      [CONFORMANCE, VOCABULARY, CLIENT, SEV, FS, FAKE, PROFILES, DRIVER_ENTRY, CONTAINERS],
    ),
    layer(
      'containers-are-infrastructure',
      'Starting real libvirt (containers, this machine) needs none of the fake, the driver or the suite.',
      CONTAINERS,
      [CONTAINERS, VOCABULARY, CLIENT, FS],
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
