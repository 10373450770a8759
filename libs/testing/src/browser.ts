import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { until } from './stack-client';

/**
 * Debian's chromium (`apt-get install chromium`; Playwright's own browser download is out of
 * reach here), headless, with nothing that calls out to Google's services: the sandbox's
 * closed network refuses those connections by the dozen.
 */
export const CHROMIUM_PATH = process.env.GRIDLINE_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** Screenshots of the console, kept by CI as artifacts: artifacts/screenshots/<name>.png at the repository root. */
export const SCREENSHOT_DIR = join(__dirname, '..', '..', '..', 'artifacts', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Waits until the locator's text matches `pattern`, the page refreshing into it, and returns the text as shown. Either
 * the rendered text (innerText) or the DOM's (textContent: CSS upper-cases badges) may match. Fails with the last text seen.
 */
export async function expectText(locator: Locator, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  let last = '(nothing yet)';
  try {
    return await until(
      `text ${pattern}`,
      async () => {
        try {
          const [shown, dom] = await Promise.all([locator.innerText({ timeout: 1000 }), locator.textContent({ timeout: 1000 })]);
          last = JSON.stringify(shown);
          return pattern.test(shown) || pattern.test(dom ?? '') ? shown : undefined;
        } catch (e) {
          last = e instanceof Error ? e.message.split('\n')[0] : String(e);
          return undefined;
        }
      },
      timeoutMs,
      100,
    );
  } catch {
    throw new Error(`expected ${String(locator)} to show text matching ${pattern}; last: ${last}`);
  }
}

/** A string matched literally inside a RegExp. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Bytes as the console writes them (apps/console/src/components/format.ts): binary units, one decimal: 512 B, 12.3 MiB, 24.0 GiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Math.abs(bytes);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${bytes < 0 ? '-' : ''}${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
