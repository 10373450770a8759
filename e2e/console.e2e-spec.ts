import { ConsoleStack, screenshot, startConsoleStack } from '@gridline/testing';

/** The web console in a real headless Chromium against the real stack and a simulated fleet of two nodes. */
describe('console', () => {
  let c: ConsoleStack;

  beforeAll(async () => {
    c = await startConsoleStack();
  }, 180_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('refuses a wrong secret with the reason, and signs in with the right one', async () => {
    const { page, url, stack } = c;
    await page.goto(url);
    await page.getByLabel('Access key').fill(stack.accessKey);
    await page.getByLabel('Secret key').fill('not-the-secret-key-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectText(page.getByRole('alert'), /signature/i);
    await screenshot(page, '00-sign-in-refused');

    await c.signIn();
    await expectText(page.getByTestId('whoami'), /./);
    expect(await page.getByText('superadmin').first().isVisible()).toBe(true);
  }, 60_000);
});

async function expectText(locator: import('playwright-core').Locator, pattern: RegExp): Promise<void> {
  await locator.waitFor();
  expect(await locator.innerText()).toMatch(pattern);
}
