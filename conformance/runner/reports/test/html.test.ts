/**
 * The HTML report in a real browser (Debian's chromium, headless, through playwright-core): the
 * matrix is drawn from the embedded data, a filter hides what it should, a click shows a result's
 * reason and its own driver log, and no report text becomes markup. A screenshot is written to a
 * temporary directory for a human look (its path is printed).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { requireRealStack } from '../../../../containers/real-stack.ts';
import { formatHtml } from '../html.ts';
import { profileFacts } from '../html-facts.ts';
import { REPORT, TRACEBACK } from './fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const stack = requireRealStack([CHROMIUM]);
const dir = mkdtempSync(join(tmpdir(), 'sevharness-html-'));
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('HTML report', () => {
  const html = formatHtml(REPORT, profileFacts(REPORT.profiles));

  it('is one file: no external script, style or image', () => {
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
    // Report text never becomes markup: the driver name's markup is escaped in the title, and the embedded JSON cannot close its element.
    expect(html).toContain('toy &#60;driver&#62;');
    expect(html.match(/<\/script>/g)).toHaveLength(2);
  });

  describe.runIf(stack.available)('in headless chromium', () => {
    let browser: Browser;
    let page: Page;
    const errors: string[] = [];

    beforeAll(async () => {
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
      page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
      page.on('pageerror', (e) => errors.push(e.message));
      const file = join(dir, 'report.html');
      writeFileSync(file, html);
      await page.goto(pathToFileURL(file).href);
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('draws the case × profile matrix with a mark per result and the profile facts', async () => {
      expect(errors).toEqual([]);
      const rows = await page.locator('#matrix tbody tr[data-case]').evaluateAll((trs) => trs.map((tr) => tr.textContent));
      expect(rows).toEqual(['detect.sev-es✓–', 'xml.launch-security✗!', 'slots.sev-exhaustion?–']);
      expect(await page.locator('#matrix thead th').allTextContents()).toEqual(['case', 'milan-7003-es8', 'intel-xeon']);
      expect(await page.locator('#facts th').allTextContents()).toEqual(['milan-7003-es8', 'intel-xeon']);
      expect(await page.locator('#facts').textContent()).toContain('slots (maxGuests / maxESGuests): 502 / 7');
      expect(await page.locator('#failures li').count()).toBe(2);
    });

    it('filters: unticking a status hides its marks, "only failures" hides passing rows, text narrows', async () => {
      await page.locator('input[data-status="pass"]').uncheck();
      expect(await page.locator('#matrix tr[data-case="detect.sev-es"]').textContent()).toBe('detect.sev-es–');
      await page.locator('input[data-status="not-applicable"]').uncheck();
      expect(await page.locator('#matrix tr[data-case="detect.sev-es"]').count()).toBe(0);
      await page.locator('input[data-status="pass"]').check();
      await page.locator('input[data-status="not-applicable"]').check();
      await page.locator('#problem-rows').check();
      expect(await page.locator('#matrix tbody tr[data-case]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-case')))).toEqual(['xml.launch-security']);
      await page.locator('#problem-rows').uncheck();
      await page.locator('#text-filter').fill('slots');
      expect(await page.locator('#matrix tbody tr[data-case]').count()).toBe(1);
      await page.locator('#text-filter').fill('');
    });

    it('a click on a result shows its reason and the driver log of that case; a screenshot is kept', async () => {
      await page.locator('#matrix tr[data-case="xml.launch-security"] td.cell').nth(1).click();
      const details = page.locator('#details');
      expect(await details.isVisible()).toBe(true);
      expect(await details.locator('h3').textContent()).toBe('xml.launch-security on intel-xeon');
      expect(await details.locator('pre.log').textContent()).toBe(TRACEBACK);
      await page.locator('#matrix tr[data-case="xml.launch-security"] td.cell').nth(0).click();
      expect(await details.locator('pre.reason').textContent()).toBe("launchSecurity is missing\nsecond line with <tags> & 'quotes'\u0001");
      const shot = join(mkdtempSync(join(tmpdir(), 'sevharness-html-shot-')), 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`HTML report screenshot: ${shot}`);
    });
  });
});
