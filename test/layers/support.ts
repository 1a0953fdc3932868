/**
 * Runs dependency-cruiser the way `npm run lint:layers` does (the script's own arguments, the
 * project's .dependency-cruiser.cjs) and returns its violations, so a test can hold the import
 * graph to the layer plan.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '..', '..');
export const RULES_FILE = join(REPO, '.dependency-cruiser.cjs');
/** Loops older than the rules, written by `depcruise-baseline`; the list may only shrink. */

/** The devDependency's command line (the package exports no path to it). */
const DEPCRUISE = join(REPO, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

export interface Violation {
  readonly rule: string;
  readonly from: string;
  readonly to: string;
  /** For no-circular: the loop, starting after `from`. */
  readonly cycle: readonly string[];
}

interface CruiseJson {
  readonly summary: {
    readonly violations: ReadonlyArray<{
      readonly from: string;
      readonly to: string;
      readonly rule: { readonly name: string };
      readonly cycle?: ReadonlyArray<string | { readonly name: string }>;
    }>;
    readonly totalCruised: number;
  };
}

export interface CruiseResult {
  readonly violations: readonly Violation[];
  readonly modules: number;
}

/**
 * What `npm run lint:layers` cruises (read from package.json, so the two never drift), without its
 * `--ignore-known FILE`: the test sees every violation and judges the known ones itself.
 */
export function lintLayersArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const script = pkg.scripts['lint:layers'];
  if (!script?.startsWith('depcruise ')) throw new Error('package.json has no "lint:layers": "depcruise …" script');
  return script.split(/\s+/).slice(1);
}

function toViolation(v: CruiseJson['summary']['violations'][number]): Violation {
  return { rule: v.rule.name, from: v.from, to: v.to, cycle: (v.cycle ?? []).map((c) => (typeof c === 'string' ? c : c.name)) };
}

/** Cruises `args` (paths and options) from `cwd`; a violation is data, only a crash is an error. */
export function cruise(cwd: string, args: readonly string[]): Promise<CruiseResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [DEPCRUISE, ...args, '--output-type', 'json'], { cwd, maxBuffer: 256 << 20, timeout: 240_000 }, (err, stdout, stderr) => {
      let parsed: CruiseJson;
      try {
        parsed = JSON.parse(stdout) as CruiseJson;
      } catch {
        reject(new Error(`depcruise gave no JSON (${err?.message ?? 'exit 0'}): ${stderr.slice(0, 2000)}`));
        return;
      }
      const violations = parsed.summary.violations.map(toViolation);
      resolve({ violations, modules: parsed.summary.totalCruised });
    });
  });
}

export const describeViolation = (v: Violation): string =>
  v.rule === 'no-circular' ? `${v.rule}: ${[v.from, ...v.cycle].join(' → ')}` : `${v.rule}: ${v.from} → ${v.to}`;
