/**
 * The HTML report: one self-contained file (no network, no external script) with the case × profile
 * matrix, filters by status, area and text, the details of a result on click (reason, the driver's
 * log of that case), every failure listed, and the facts of each profile. The run's data is embedded
 * as JSON and drawn by a small script with `textContent` only, so no report text becomes markup.
 */
import type { RunReport } from '../types.ts';
import { HTML_SCRIPT } from './html-script.ts';

/** What the report shows about a profile (`profileFacts` in html-facts.ts). */
export interface ProfileFacts {
  readonly name: string;
  readonly description: string;
  readonly facts: ReadonlyArray<readonly [string, string]>;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** JSON inside <script>: `<` escaped so no text can close the element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const STYLE = `
:root { --pass:#1a7f37; --fail:#cf222e; --error:#8250df; --na:#8c959f; --ni:#bf8700; --line:#d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1f2328; background: #fff; }
header { padding: 12px 20px; border-bottom: 1px solid var(--line); background: #f6f8fa; }
h1 { font-size: 18px; margin: 0 0 4px; }
h2 { font-size: 15px; margin: 20px 0 8px; }
main { padding: 0 20px 40px; }
.counts span { margin-right: 14px; font-weight: 600; }
#filters { display: flex; flex-wrap: wrap; gap: 10px 18px; align-items: center; padding: 10px 0; position: sticky; top: 0; background: #fff; border-bottom: 1px solid var(--line); z-index: 2; }
#filters label { white-space: nowrap; cursor: pointer; }
#filters input[type=search] { padding: 3px 6px; min-width: 220px; }
table { border-collapse: collapse; }
#matrix th, #matrix td { border: 1px solid var(--line); padding: 2px 6px; text-align: center; }
#matrix th.case, #matrix td.case { text-align: left; font-family: ui-monospace, monospace; font-size: 12px; white-space: nowrap; }
#matrix thead th { position: sticky; top: 44px; background: #f6f8fa; font-size: 11px; writing-mode: vertical-rl; transform: rotate(180deg); max-height: 160px; }
#matrix thead th.case { writing-mode: horizontal-tb; transform: none; }
td.cell { cursor: pointer; font-weight: 700; min-width: 26px; }
td.cell.selected { outline: 2px solid #0969da; outline-offset: -2px; }
.pass { color: var(--pass); } .fail { color: var(--fail); background: #ffebe9; } .error { color: var(--error); background: #fbefff; }
.not-applicable { color: var(--na); } .not-implemented { color: var(--ni); }
tr.area td { background: #eaeef2; font-weight: 600; text-align: left; }
#details { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; margin-top: 14px; background: #f6f8fa; }
#details pre, #failures pre { white-space: pre-wrap; word-break: break-word; background: #fff; border: 1px solid var(--line); padding: 8px; max-height: 320px; overflow: auto; font-size: 12px; }
#failures li { margin-bottom: 10px; }
#facts td, #facts th { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; font-size: 12px; }
.hidden { display: none; }
.muted { color: #59636e; }
`;

/** The report as one HTML document. */
export function formatHtml(report: RunReport, facts: readonly ProfileFacts[] = []): string {
  const data = {
    driver: report.driver,
    target: report.target,
    profiles: report.profiles,
    wallMs: report.wallMs,
    counts: report.counts,
    results: report.results,
    facts,
  };
  const title = `sevharness conformance — ${report.driver.name} ${report.driver.version}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>${escapeHtml(title)}</h1>
  <div class="muted">target ${escapeHtml(report.target)} · ${report.profiles.length} profiles · wall time ${(report.wallMs / 1000).toFixed(1)} s</div>
  <div class="counts" id="counts"></div>
</header>
<main>
  <div id="filters" role="group" aria-label="filters">
    <span id="status-filters"></span>
    <label>area <select id="area-filter"><option value="">all areas</option></select></label>
    <label>case <input type="search" id="text-filter" placeholder="id or title contains…"></label>
    <label><input type="checkbox" id="problem-rows"> only cases with a failure</label>
  </div>
  <h2>Results</h2>
  <table id="matrix"><thead></thead><tbody></tbody></table>
  <div id="details" class="hidden" aria-live="polite"></div>
  <h2>Failures and errors</h2>
  <ol id="failures"></ol>
  <h2>Profiles</h2>
  <table id="facts"><tbody></tbody></table>
</main>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${HTML_SCRIPT}</script>
</body>
</html>
`;
}
