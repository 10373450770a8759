#!/usr/bin/env node
/**
 * `npm run bench:agent`: what the agent protocol costs and how fast a node takes on a model.
 * - A heartbeat's round trip (signed with the node credential, the answer carrying the desired
 *   replicas), vs. an unauthenticated `GET /healthz` on the same api in the same run.
 * - A model loaded on command: the pull from the control plane (MB/s), the load, and the whole
 *   POST → Ready, for a generated model of BENCH_MODEL_MB (default 256) of weights.
 */
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { signingFetch } from '@gridline/auth';
import { buildTinyLlama, encodeGguf } from '@gridline/models';
import { StackClient, startStack, until } from '@gridline/testing';

const BEATS = Number(process.env.BENCH_BEATS ?? 500);
const MODEL_MB = Number(process.env.BENCH_MODEL_MB ?? 256);

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `p50 ${q(0.5).toFixed(2)} ms  p99 ${q(0.99).toFixed(2)} ms`;
}

async function timed(n: number, call: () => Promise<Response>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await call();
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    out.push(performance.now() - t);
  }
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gl-bench-agent-'));
  const stack = await startStack({ modelName: 'bench-local', apiEnv: { GRIDLINE_MODEL_ROOTS: dir } });
  const client = new StackClient(stack, stack.url);
  try {
    const node = JSON.parse(readFileSync(join(dirname(stack.modelPath), 'agent', 'node-credential.json'), 'utf8')) as { nodeId: string; accessKey: string; secretKey: string };
    const signed = signingFetch(node);
    const inventory = { agentVersion: 'bench', backend: 'cpu', llamaCppVersion: null, gpus: [], cpuCores: 2, totalMemoryBytes: 1, freeMemoryBytes: 1, diskFreeBytes: null, capabilities: [], platform: 'linux', arch: 'x64' };
    const current = (await client.json<{ replicas: unknown[] }>('GET', `/api/v1/nodes/${node.nodeId}`)).body;
    const beat = JSON.stringify({ nodeId: node.nodeId, inventory, replicas: [], runningJobs: [], loads: [], shuttingDown: false });
    await timed(50, () => fetch(`${stack.url}/healthz`)); // warm-up
    const healthz = await timed(BEATS, () => fetch(`${stack.url}/healthz`));
    const beats = await timed(BEATS, () => signed(`${stack.url}/api/v1/agent/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: beat }));

    // A model of about MODEL_MB of weights (f32 tensors of a wider tiny llama).
    const embedding = 1024;
    const layers = Math.max(1, Math.round((MODEL_MB * 1024 * 1024) / (4 * (4 * embedding * embedding + 3 * embedding * 4 * embedding))));
    const bytes = encodeGguf(buildTinyLlama({ seed: 5, embedding, layers, heads: 16, kvHeads: 8, feedForward: 4 * embedding }));
    writeFileSync(join(dir, 'bench-pull.gguf'), bytes);
    await client.json('POST', '/api/v1/models', { name: 'bench-pull', source: `file://${join(dir, 'bench-pull.gguf')}` });
    const posted = Date.now();
    let pullSeen = 0;
    const created = await client.json<{ id: string }>('POST', `/api/v1/nodes/${node.nodeId}/replicas`, { model: 'bench-pull', contextSize: 512, parallel: 1, threads: 1 });
    const ready = await until('the replica Ready', async () => {
      const r = (await client.json<{ replicas: { id: string; state: string; reason: string | null; pull: { bytesPerSecond: number } | null }[] }>('GET', `/api/v1/nodes/${node.nodeId}`)).body.replicas.find((x) => x.id === created.body.id);
      if (r?.pull) pullSeen = Math.max(pullSeen, r.pull.bytesPerSecond);
      if (r?.state === 'Failed') throw new Error(`load failed: ${r.reason}`);
      return r?.state === 'Ready' ? Date.now() : undefined;
    }, 600_000, 50);
    const load = (await client.json<{ items: { model: string; loadMs: number; estimateBytes: number; cpuBytes: number }[] }>('GET', '/api/v1/nodes/loads?model=bench-pull')).body.items[0];
    const out = process.stdout;
    out.write(`\nGridline agent benchmark (${BEATS} sequential requests each; ${current.replicas.length} replica on the node)\n`);
    out.write(`  heartbeat round trip (signed, desired state back)  ${stats(beats)}\n`);
    out.write(`  baseline: GET /healthz on the same api              ${stats(healthz)}\n`);
    out.write(`  model of ${(bytes.length / 1024 ** 2).toFixed(0)} MiB loaded on command: POST → Ready ${((ready - posted) / 1000).toFixed(2)} s, of which the runner's load ${(load.loadMs / 1000).toFixed(2)} s (the pull, checks and heartbeats the rest)\n`);
    out.write(`  pull rate seen in heartbeats                        ${pullSeen ? `${(pullSeen / 1024 ** 2).toFixed(1)} MiB/s` : 'too fast to be reported'}\n`);
    out.write(`  memory planned ${(load.estimateBytes / 1024 ** 2).toFixed(0)} MiB, measured in host memory ${(load.cpuBytes / 1024 ** 2).toFixed(0)} MiB\n`);
  } finally {
    await client.close();
    await stack.stop();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench:agent failed: ${e.message}\n`);
  process.exit(1);
});
