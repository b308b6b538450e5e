// SPDX-License-Identifier: Apache-2.0
/**
 * Driving the harness page in a real browser (playwright-core), shared by the headless-browser test and
 * screenshot.mjs so both reach the same state the same way.
 */
import type { Browser, Page } from 'playwright-core';
import type { TimeRange } from '../common';

/** Debian's chromium package; playwright-core ships no browser of its own. */
export const CHROMIUM_PATH = process.env.TF_CHROMIUM_PATH ?? '/usr/bin/chromium';

/** CSS selector of an element by its `data-test-subj` (Kibana's and EUI's test hook). */
export function subj(name: string): string {
  return `[data-test-subj="${name.replace(/(["\\])/g, '\\$1')}"]`;
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  // --no-sandbox: CI and containers run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] });
}

/** A page with a fixed viewport, locale and zone, so dates render the same on every machine. */
export async function newHarnessPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US', timezoneId: 'UTC', deviceScaleFactor: 1 });
  return context.newPage();
}

/**
 * Sets an absolute range in EuiSuperDatePicker the way an analyst does: start popover → Absolute tab →
 * type the ISO instant → Enter, the same for the end, then Update. (EUI parses ISO-8601 in that field.)
 */
export async function setAbsoluteRange(page: Page, range: TimeRange): Promise<void> {
  const button = (position: 'start' | 'end') => page.locator(subj(`superDatePicker${position}DatePopoverButton`));
  const open = (position: 'start' | 'end') => page.locator(`${subj(`superDatePicker${position}DatePopoverButton`)}.euiDatePopoverButton-isSelected`);
  for (const [position, value] of [
    ['start', range.from],
    ['end', range.to],
  ] as const) {
    // A range shown as a phrase ("Last 24 hours") is one button until "Show dates" expands it, and that
    // click also opens the start popover: clicking the start button after it would close it again.
    const showDates = page.locator(subj('superDatePickerShowDatesButton'));
    if (await showDates.isVisible()) await showDates.click();
    if ((await open(position).count()) === 0) await button(position).click();
    await open(position).waitFor();
    const other = position === 'start' ? 'end' : 'start';
    await open(other).waitFor({ state: 'detached' });
    const popover = page.locator('[data-popover-open="true"]', { has: page.locator(subj('superDatePickerAbsoluteTab')) });
    await popover.locator(subj('superDatePickerAbsoluteTab')).click();
    const input = popover.locator(subj('superDatePickerAbsoluteDateInput'));
    await input.fill(value);
    await input.press('Enter');
    await page.keyboard.press('Escape');
    await popover.waitFor({ state: 'detached' });
  }
  await page.locator(subj('superDatePickerApplyTimeButton')).click();
}

/** The indicator IPs the threats table lists, from its rows' test subjects. */
export async function tableIndicators(page: Page): Promise<string[]> {
  const prefix = 'threatflowThreatRow-';
  const ids = await page.locator(`${subj('threatflowThreatsTable')} [data-test-subj^="${prefix}"]`).evaluateAll((els) =>
    els.map((e) => e.getAttribute('data-test-subj') ?? ''),
  );
  return ids.map((id) => id.slice(prefix.length)).sort();
}
