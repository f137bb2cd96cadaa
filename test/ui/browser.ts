/**
 * The browser for the UI tests and the UI benchmark: Debian's chromium driven by
 * playwright-core. Never downloads a browser; a missing one is a clear failure.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.BP_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = path.resolve(__dirname, '../../test-artifacts/ui');

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `UI tests need Chromium at ${CHROMIUM_PATH} and it is missing. Install it with ` +
        '`apt-get install -y chromium` (CI\'s .ci/run does), or set BP_CHROMIUM to a Chromium binary.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** A page that fails the test on any uncaught page error (a script running that should not, a crash). */
export async function newPage(
  browser: Browser,
  width = 1280,
  height = 800,
  opts: { timezoneId?: string } = {},
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height }, timezoneId: opts.timezoneId });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** How far the page scrolls sideways: 0 when nothing is wider than the screen. */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** Elements matching `selector` that are visible but not wholly inside the viewport's width (cut off). */
export async function cutOff(page: Page, selector: string): Promise<string[]> {
  return page.$$eval(selector, (els) =>
    els
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && (r.left < -0.5 || r.right > window.innerWidth + 0.5);
      })
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}: ${(el.textContent ?? '').trim().slice(0, 40)}`),
  );
}
