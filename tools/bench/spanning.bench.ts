#!/usr/bin/env node
/**
 * `npm run bench:spanning`: what serving a model across nodes costs (issue #12). One generated
 * llama-architecture model (F32, a few hundred MB) is served four ways on this machine, one CPU
 * thread per process: on one node by node-llama-cpp (the runner's single-node load); by
 * llama-server alone (the RPC build, no workers: the binaries' own speed); and spanning over one
 * and over two RPC workers through the group's TLS tunnel (the runner's spanning load). Prints,
 * per way, the median time to first token of a fresh prompt and the generation speed after it.
 *
 * BENCH_LAYERS, BENCH_EMBEDDING, BENCH_ROUNDS, BENCH_TOKENS change the model and the run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatRequest } from '@gridline/contract';
import { buildTinyLlama, encodeGguf } from '@gridline/models';
import {
  RpcWorkerClient,
  RunnerClient,
  RunnerSpan,
  accepts,
  freePort,
  llamaCacheRoot,
  rpcBinaries,
  superviseBinary,
  tunnelIdentity,
  tunnelKey,
  waitUntil,
} from '@gridline/runtime';
import { quantile } from './bench-stats';

const LAYERS = Number(process.env.BENCH_LAYERS ?? 8);
const EMBEDDING = Number(process.env.BENCH_EMBEDDING ?? 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 48);
const CONTEXT = 512;

interface Figures {
  way: string;
  firstTokenMs: number[];
  tokensPerSecond: number[];
  /** The greedy texts, in round order (the runner's ways only: llama-server alone is given a string). */
  texts?: string[];
}

/** A fresh prompt per round (a cached one would make the first token free), ~130 tokens long. */
const promptOf = (round: number) => `Round ${round}: ${'the quiet river runs under the stone bridge and '.repeat(3)}`;

/** Time to first token and tokens/s after it, from one generation. */
function rate(completionTokens: number, firstTokenMs: number, totalMs: number): number {
  return (completionTokens - 1) / ((totalMs - firstTokenMs) / 1000);
}

async function viaRunner(way: string, runner: RunnerClient): Promise<Figures> {
  process.stderr.write(`${way}...\n`);
  const figures: Figures = { way, firstTokenMs: [], tokensPerSecond: [], texts: [] };
  // A warm-up round: the first evaluation pages the weights in.
  for (let round = 0; round <= ROUNDS; round++) {
    const done = await runner.generate(`${way}-${round}`, chatRequest([{ role: 'user', content: promptOf(round) }], { maxTokens: TOKENS, sampling: { temperature: 0 } }));
    if (done.completionTokens !== TOKENS) throw new Error(`${way}: ${done.completionTokens} tokens, not ${TOKENS}`);
    figures.texts?.push(done.text);
    if (round === 0) continue;
    figures.firstTokenMs.push(done.firstTokenMs);
    figures.tokensPerSecond.push(rate(done.completionTokens, done.firstTokenMs, done.totalMs));
  }
  return figures;
}

/** llama-server alone, driven over HTTP as the spanning runner drives it (a prompt string, streamed). */
async function viaServerAlone(serverBinary: string, modelPath: string): Promise<Figures> {
  const port = await freePort();
  const server = superviseBinary(serverBinary, [
    '-m', modelPath, '--host', '127.0.0.1', '--port', String(port), '-c', String(CONTEXT), '-np', '1', '--no-kv-unified',
    '-t', '1', '-tb', '1', '-b', String(CONTEXT), '-ub', String(CONTEXT), '-fa', 'auto', '-fit', 'off', '-cram', '0', '-ngl', '0',
  ]);
  try {
    await waitUntil('llama-server', () => accepts(port), { process: server, timeoutMs: 60_000 });
    await waitUntil('llama-server health', () => get(port, '/health'), { process: server, timeoutMs: 60_000 });
    const figures: Figures = { way: 'llama-server alone (no RPC)', firstTokenMs: [], tokensPerSecond: [] };
    process.stderr.write(`${figures.way}...\n`);
    for (let round = 0; round <= ROUNDS; round++) {
      const r = await streamCompletion(port, promptOf(round));
      if (round === 0) continue;
      figures.firstTokenMs.push(r.firstTokenMs);
      figures.tokensPerSecond.push(rate(r.tokens, r.firstTokenMs, r.totalMs));
    }
    return figures;
  } catch (e) {
    throw new Error(`llama-server alone: ${e instanceof Error ? e.message : String(e)}\n${server.tail().slice(-10).join('\n')}`);
  } finally {
    await server.stop();
  }
}

function get(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

function streamCompletion(port: number, prompt: string): Promise<{ tokens: number; firstTokenMs: number; totalMs: number }> {
  const body = JSON.stringify({ prompt, n_predict: TOKENS, temperature: 0, stream: true, cache_prompt: true, id_slot: 0 });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let first = -1;
    let tokens = 0;
    // No keep-alive agent: llama-server closes idle connections (as the runner does it).
    const req = request({ host: '127.0.0.1', port, path: '/completion', method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        for (const line of d.split('\n')) {
          if (!line.startsWith('data: ')) continue;
          const event = JSON.parse(line.slice(6)) as { tokens_predicted?: number };
          tokens = event.tokens_predicted ?? tokens;
          if (first < 0 && tokens > 0) first = performance.now() - started;
        }
      });
      res.on('end', () => resolve({ tokens, firstTokenMs: first, totalMs: performance.now() - started }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function spanning(binaries: { 'llama-server': string; 'rpc-server': string }, modelPath: string, split: number[]): Promise<Figures> {
  const secret = randomBytes(32);
  const identity = tunnelIdentity('bench', 'leader');
  const keyHex = tunnelKey(secret, identity).toString('hex');
  const workers = split.slice(1).map(() => new RpcWorkerClient());
  const runner = new RunnerClient();
  try {
    const ports = [];
    for (const w of workers) {
      ports.push((await w.start({ rpcServerBinary: binaries['rpc-server'], listenHost: '127.0.0.1', listenPort: 0, threads: 1, leaderIdentity: identity, keyHex })).port);
    }
    const span: RunnerSpan = { serverBinary: binaries['llama-server'], identity, keyHex, workers: ports.map((port, i) => ({ host: '127.0.0.1', port, layers: split[i + 1] })) };
    await runner.start('cpu');
    const started = performance.now();
    const info = await runner.load({ modelPath, gpuLayers: 0, contextSize: CONTEXT, parallel: 1, threads: 1, span });
    const loadMs = performance.now() - started;
    const way = `spanning, ${workers.length} worker${workers.length > 1 ? 's' : ''} (layers ${[info.span?.localLayers, ...(info.span?.workerLayers ?? [])].join('+')}, load ${(loadMs / 1000).toFixed(1)} s)`;
    return await viaRunner(way, runner);
  } finally {
    await runner.stop();
    await Promise.all(workers.map((w) => w.stop()));
  }
}

async function main(): Promise<void> {
  const state = await rpcBinaries(llamaCacheRoot(process.env.GRIDLINE_LLAMA_CACHE));
  if (state.status !== 'present') throw new Error(`the RPC binaries are ${state.status} (${state.reason}): run \`npm run llama:build-rpc\``);
  const dir = mkdtempSync(join(tmpdir(), 'gl-bench-span-'));
  const modelPath = join(dir, 'bench.gguf');
  try {
    writeFileSync(modelPath, encodeGguf(buildTinyLlama({ seed: 11, layers: LAYERS, embedding: EMBEDDING, heads: 16, kvHeads: 8, feedForward: EMBEDDING * 3, name: 'gridline-bench' })));
    const sizeMb = statSync(modelPath).size / 1e6;
    process.stdout.write(`model: ${LAYERS} layers, embedding ${EMBEDDING}, F32, ${sizeMb.toFixed(0)} MB; ${ROUNDS} rounds of ${TOKENS} tokens after a ~130-token prompt; 1 thread per process\n`);
    const results: Figures[] = [];
    const single = new RunnerClient();
    try {
      await single.start('cpu');
      await single.load({ modelPath, gpuLayers: 0, contextSize: CONTEXT, parallel: 1, threads: 1 });
      results.push(await viaRunner('one node (node-llama-cpp)', single));
    } finally {
      await single.stop();
    }
    results.push(await viaServerAlone(state.paths['llama-server'], modelPath));
    const half = Math.floor(LAYERS / 2);
    const third = Math.floor(LAYERS / 3);
    results.push(await spanning(state.paths, modelPath, [LAYERS - half, half]));
    results.push(await spanning(state.paths, modelPath, [LAYERS - 2 * third, third, third]));
    const width = Math.max(...results.map((r) => r.way.length));
    const reference = results[0].texts ?? [];
    process.stdout.write(`\n${'way'.padEnd(width)}  first token (p50)  tokens/s (p50)  greedy text = one node's\n`);
    for (const r of results) {
      const same = r.texts ? `${r.texts.filter((t, i) => t === reference[i]).length}/${reference.length}` : '-';
      process.stdout.write(`${r.way.padEnd(width)}  ${`${quantile(r.firstTokenMs, 0.5).toFixed(0)} ms`.padStart(17)}  ${quantile(r.tokensPerSecond, 0.5).toFixed(1).padStart(14)}  ${same.padStart(23)}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
