import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { MODEL_PRESETS, buildPresetHeader, buildTinyLlama, encodeGguf } from '@gridline/models';
import { launchChromium } from './browser';
import { StackClient, until } from './stack-client';
import { RunningStack, startStack } from './stack';

export interface ConsoleStack {
  stack: RunningStack;
  /** A signed client of the bootstrap superadmin, for setting up and checking what the console did. */
  client: StackClient;
  browser: Browser;
  page: Page;
  /** The console's address on this stack. */
  url: string;
  /** Signs the page in with the superadmin's keypair, as a user types it. */
  signIn(page?: Page): Promise<void>;
  stop(): Promise<void>;
}

export const CONSOLE_FLEET = {
  /** The stack's own agent: two simulated 24 GiB L4s (the runner itself runs on the CPU). */
  large: { name: 'gpu-l4', gpus: '2xL4-24GB', labels: 'pool=inference,zone=a' },
  /** A second agent with one small GPU, so the fit verdicts differ per node. */
  small: { name: 'gpu-t4', gpus: '1xT4-1GB', labels: 'pool=batch,zone=b' },
} as const;

/**
 * The real stack with a simulated fleet of two nodes, a tiny real model (`tiny`, answers) and a
 * header-only Llama 3.1 70B at Q8_0 (`llama-3.1-70b-q8`, fits nowhere here) in the catalog, and a
 * headless Chromium on the console.
 */
export async function startConsoleStack(): Promise<ConsoleStack> {
  const dir = mkdtempSync(join(tmpdir(), 'gl-console-'));
  const stack = await startStack({
    apiEnv: { GRIDLINE_MODEL_ROOTS: dir },
    agentEnv: { GRIDLINE_MODEL_PATH: '', GRIDLINE_NODE_NAME: CONSOLE_FLEET.large.name, GRIDLINE_SIMULATE_GPUS: CONSOLE_FLEET.large.gpus, GRIDLINE_NODE_LABELS: CONSOLE_FLEET.large.labels },
    schedulerEnv: { GRIDLINE_RECONCILE_SECONDS: '1' },
  });
  const client = new StackClient(stack, stack.url);
  let browser: Browser | null = null;
  try {
    const token = await client.json<{ token: string }>('POST', '/api/v1/join-tokens', { autoApprove: true, description: 'console fleet' });
    const small = stack.spawnAgent(
      { GRIDLINE_NODE_NAME: CONSOLE_FLEET.small.name, GRIDLINE_DATA_DIR: join(dir, CONSOLE_FLEET.small.name), GRIDLINE_SIMULATE_GPUS: CONSOLE_FLEET.small.gpus, GRIDLINE_NODE_LABELS: CONSOLE_FLEET.small.labels },
      token.body.token,
    );
    await small.waitFor(/registered as/);
    await until('both nodes Ready', async () => {
      const nodes = (await client.json<{ items: { status: string }[] }>('GET', '/api/v1/nodes')).body.items;
      return nodes.length === 2 && nodes.every((n) => n.status === 'Ready') ? true : undefined;
    });
    writeFileSync(join(dir, 'tiny.gguf'), encodeGguf(buildTinyLlama({ seed: 7 })));
    writeFileSync(join(dir, 'llama-3.1-70b-q8.gguf'), encodeGguf(buildPresetHeader(MODEL_PRESETS['llama-3.1-70b'], 'Q8_0'), { headerOnly: true }));
    for (const name of ['tiny', 'llama-3.1-70b-q8']) {
      const res = await client.json('POST', '/api/v1/models', { name, source: `file://${join(dir, `${name}.gguf`)}` });
      if (res.status !== 201) throw new Error(`registering ${name}: ${res.status}`);
    }
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const url = `${stack.url}/console`;
    const b = browser;
    return {
      stack,
      client,
      browser: b,
      page,
      url,
      signIn: async (p = page) => {
        await p.goto(url);
        // Already signed in in this tab (the session lives in its sessionStorage): nothing to type.
        await p.locator('[data-testid=whoami], form[aria-label="Sign in"]').first().waitFor();
        if (await p.getByTestId('whoami').isVisible()) return;
        await p.getByLabel('Access key').fill(stack.accessKey);
        await p.getByLabel('Secret key').fill(stack.secretKey);
        await p.getByRole('button', { name: 'Sign in' }).click();
        await p.getByTestId('whoami').waitFor();
      },
      stop: async () => {
        await b.close();
        await client.close();
        await stack.stop();
      },
    };
  } catch (e) {
    await browser?.close();
    await client.close();
    await stack.stop();
    throw e;
  }
}
