import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { ChatMessage, InferenceRequest, chatRequest } from '@gridline/contract';
import { buildTinyLlama, encodeGguf } from '@gridline/models';
import { RunnerClient, RunnerError } from '../runner/runner-client';
import type { RunnerGenerationDone, RunnerLoadedInfo } from '../runner/runner-protocol';
import { llamaCacheRoot, rpcBinaries } from './rpc-binaries';
import { tunnelIdentity, tunnelKey } from './rpc-tunnel';
import { RpcWorkerClient } from './rpc-worker-client';

const DIST = join(__dirname, '..', '..', '..', '..', 'dist');
/** The runner and the worker child as `npm run build` emits them (Jest runs the TypeScript sources). */
const BUILT_RUNNER = join(DIST, 'libs', 'runtime', 'src', 'runner', 'llama-runner.mjs');
const BUILT_WORKER = join(DIST, 'libs', 'runtime', 'src', 'llama-rpc', 'rpc-worker.js');

const LOAD = { gpuLayers: 0, contextSize: 512, parallel: 2, threads: 1 } as const;
const greedy = { temperature: 0, topP: 1 };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The processes whose parent is `pid` (llama-server under its runner), from /proc. */
function childrenOf(pid: number): { pid: number; name: string }[] {
  const out: { pid: number; name: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces, so read after its closing parenthesis.
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (ppid === pid) out.push({ pid: Number(entry), name: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Connects to `port`, sends `data`, and resolves with what came back once the other side closed (or after 5 s). */
function strangerTcp(port: number, data: Buffer): Promise<{ closed: boolean; received: number }> {
  return new Promise((resolve) => {
    let received = 0;
    const socket = createConnection(port, '127.0.0.1', () => socket.write(data));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, received });
    }, 5000);
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, received });
    });
  });
}

/** A TLS-PSK handshake with `identity` and `key`: whether the worker let it in. */
function strangerTls(port: number, identity: string, key: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      ciphers: 'ECDHE-PSK-CHACHA20-POLY1305:DHE-PSK-AES256-GCM-SHA384',
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      checkServerIdentity: () => undefined,
      pskCallback: () => ({ identity, psk: key }),
    });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A replica spanning three processes on this machine, as on three nodes: a leader runner whose
 * llama-server holds the model's first layer and the output, and two RPC workers holding the
 * other layers, reached through the group's TLS tunnel. It must answer exactly as the same model
 * loaded on one node, refuse strangers, and go down whole when a worker is lost.
 */
describe('a replica spanning nodes (llama-server over RPC through the tunnel)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gl-span-'));
  const modelPath = join(dir, 'tiny-4-layers.gguf');
  const groupSecret = randomBytes(32);
  const leaderIdentity = tunnelIdentity('group-span', 'node-leader');
  const keyHex = tunnelKey(groupSecret, leaderIdentity).toString('hex');
  const single = new RunnerClient(BUILT_RUNNER);
  const leader = new RunnerClient(BUILT_RUNNER);
  const workers = [new RpcWorkerClient(BUILT_WORKER), new RpcWorkerClient(BUILT_WORKER)];
  const refusals: string[] = [];
  const workerPorts: number[] = [];
  let loaded: RunnerLoadedInfo;
  let singleLoaded: RunnerLoadedInfo;

  beforeAll(async () => {
    const binaries = await rpcBinaries(llamaCacheRoot(process.env['GRIDLINE_LLAMA_CACHE']));
    if (binaries.status !== 'present') {
      throw new Error(`the RPC-enabled llama.cpp binaries are ${binaries.status} (${binaries.reason}): run \`npm run llama:build-rpc\` first`);
    }
    // Wide enough that the two paths disagree when they compute differently (with llama-server's
    // flash attention forced off, 2 of the 8 plain prompts below came out otherwise).
    writeFileSync(modelPath, encodeGguf(buildTinyLlama({ seed: 7, layers: 4, embedding: 128, heads: 8, kvHeads: 4, feedForward: 384 })));
    workers[0].on('refused', (why: string) => refusals.push(why));
    for (const w of workers) {
      const { port } = await w.start({ rpcServerBinary: binaries.paths['rpc-server'], listenHost: '127.0.0.1', listenPort: 0, threads: 1, leaderIdentity, keyHex });
      workerPorts.push(port);
    }
    await Promise.all([single.start('cpu'), leader.start('cpu')]);
    singleLoaded = await single.load({ modelPath, ...LOAD });
    loaded = await leader.load({
      modelPath,
      ...LOAD,
      span: {
        serverBinary: binaries.paths['llama-server'],
        identity: leaderIdentity,
        keyHex,
        workers: [
          { host: '127.0.0.1', port: workerPorts[0], layers: 2 },
          { host: '127.0.0.1', port: workerPorts[1], layers: 1 },
        ],
      },
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([single.stop(), leader.stop()]);
    await Promise.all(workers.map((w) => w.stop()));
  });

  it('puts the first layer on the leader and the others on the workers, in order', () => {
    expect(loaded.span).toEqual({ localLayers: 1, workerLayers: [2, 1] });
    // What the agent plans and checks requests with is the single-node load's (the vocabulary gives the longest token).
    const { contextSize, parallel, totalLayers, trainContextSize, maxTokenBytes } = singleLoaded;
    expect(loaded).toMatchObject({ contextSize, parallel, totalLayers, trainContextSize, maxTokenBytes, gpuLayers: 0 });
    expect(totalLayers).toBe(5);
    // llama-server's resident memory: the leader's layer, the output and the context, more than nothing.
    expect(loaded.memory.cpuBytes).toBeGreaterThan(1024 * 1024);
  });

  const chats: ChatMessage[][] = [
    [{ role: 'user', content: 'Hello, who are you?' }],
    [
      { role: 'system', content: 'You are a quiet river.' },
      { role: 'user', content: 'What did the stone say to the cloud?' },
    ],
    [{ role: 'user', content: 'write the first word of each line' }],
  ];

  /** The same request on both loads, streamed: what each returned and streamed. */
  async function onBoth(id: string, request: InferenceRequest): Promise<{ one: RunnerGenerationDone; span: RunnerGenerationDone; spanChunks: string[] }> {
    const spanChunks: string[] = [];
    const one = await single.generate(`${id}-single`, request);
    const span = await leader.generate(`${id}-span`, request, (t) => spanChunks.push(t));
    return { one, span, spanChunks };
  }

  it.each(chats.map((c, i) => [i, c] as const))('answers greedy chat %i exactly as the single-node load, streamed', async (i, messages) => {
    const { one, span, spanChunks } = await onBoth(`chat${i}`, chatRequest(messages, { maxTokens: 32, sampling: greedy }));
    expect(span.text).toBe(one.text);
    expect(spanChunks.join('')).toBe(span.text);
    expect(spanChunks.length).toBeGreaterThan(1);
    expect({ ...span, firstTokenMs: 0, totalMs: 0, cachedPromptTokens: 0 }).toEqual({ ...one, firstTokenMs: 0, totalMs: 0, cachedPromptTokens: 0 });
  }, 60_000);

  it('continues plain prompts exactly as the single-node load (no second BOS)', async () => {
    const differing: { prompt: string; one: string; span: string }[] = [];
    for (let round = 0; round < 8; round++) {
      const prompt = `Round ${round}: ${'the quiet river runs under the stone bridge and '.repeat(3)}`;
      const { one, span } = await onBoth(`plain${round}`, { input: { kind: 'completion', prompt }, sampling: greedy, maxTokens: 32 });
      expect(span).toMatchObject({ promptTokens: one.promptTokens, completionTokens: 32, finishReason: 'length' });
      if (span.text !== one.text) differing.push({ prompt, one: one.text, span: span.text });
    }
    expect(differing).toEqual([]);
  }, 120_000);

  it('stops before a stop string as the single-node load does', async () => {
    const full = await single.generate('stop-probe', chatRequest(chats[0], { maxTokens: 24, sampling: greedy }));
    const word = full.text.trim().split(/\s+/)[2];
    const { one, span } = await onBoth('stop', chatRequest(chats[0], { maxTokens: 24, sampling: greedy, stop: [word] }));
    expect(span).toMatchObject({ text: one.text, finishReason: 'stop' });
    expect(span.text).not.toContain(word);
  }, 60_000);

  it('reuses the prompt a sequence already holds, and refuses a request beyond the context as the single-node load does', async () => {
    const request = chatRequest(chats[1], { maxTokens: 4, sampling: greedy });
    await leader.generate('reuse-1', request);
    const again = await leader.generate('reuse-2', request);
    expect(again.cachedPromptTokens).toBeGreaterThan(again.promptTokens / 2);
    const tooLong = chatRequest(chats[0], { maxTokens: 600, sampling: greedy });
    const [a, b] = await Promise.allSettled([single.generate('over-single', tooLong), leader.generate('over-span', tooLong)]);
    expect(a.status).toBe('rejected');
    expect(b).toEqual({ status: 'rejected', reason: expect.objectContaining({ code: 'context_length_exceeded', message: (a as PromiseRejectedResult).reason.message }) });
  }, 60_000);

  it('refuses tools (no call grammar through llama-server) with invalid_request naming tools; with tool_choice none it answers as without them', async () => {
    const tools = [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string', enum: ['Paris'] } } } }];
    for (const toolChoice of ['auto', 'required'] as const) {
      await expect(leader.generate(`tools-${toolChoice}`, chatRequest(chats[0], { maxTokens: 4, sampling: greedy, tools, toolChoice }))).rejects.toMatchObject({
        code: 'invalid_request',
        param: 'tools',
        message: expect.stringMatching(/^tools: function calling is not available on a replica spanning several nodes/),
      });
    }
    const none = await leader.generate('tools-none', chatRequest(chats[0], { maxTokens: 4, sampling: greedy, tools, toolChoice: 'none' }));
    const plain = await leader.generate('tools-plain', chatRequest(chats[0], { maxTokens: 4, sampling: greedy }));
    expect(none).toMatchObject({ text: plain.text, promptTokens: plain.promptTokens });
  }, 60_000);

  it('refuses what llama-server is not given (penalties, logit_bias, logprobs, response_format) with invalid_request naming each; penalties of 0 are answered', async () => {
    const base = chatRequest(chats[0], { maxTokens: 4, sampling: greedy });
    const refused: [string, InferenceRequest][] = [
      ['frequency_penalty', { ...base, sampling: { ...greedy, frequencyPenalty: 1 } }],
      ['presence_penalty', { ...base, sampling: { ...greedy, presencePenalty: -1 } }],
      ['logit_bias', { ...base, logitBias: { '5': 1 } }],
      ['logprobs', { ...base, logprobs: { top: 0 } }],
      ['response_format', { ...base, responseFormat: { type: 'json_object' } }],
    ];
    for (const [param, request] of refused) {
      await expect(leader.generate(`refused-${param}`, request)).rejects.toMatchObject({ code: 'invalid_request', param, message: expect.stringContaining('not supported on a model spanning several nodes') });
    }
    const zero = await leader.generate('zero-penalties', { ...base, sampling: { ...greedy, frequencyPenalty: 0, presencePenalty: 0 } });
    const plain = await leader.generate('no-penalties', base);
    expect(zero).toMatchObject({ text: plain.text, completionTokens: 4 });
  }, 60_000);

  it('generates on its two sequences at once, each as alone', async () => {
    const requests = chats.slice(0, 2).map((c) => chatRequest(c, { maxTokens: 16, sampling: greedy }));
    const alone = await Promise.all(requests.map((r, i) => single.generate(`par-single-${i}`, r)));
    const together = await Promise.all(requests.map((r, i) => leader.generate(`par-span-${i}`, r)));
    expect(together.map((d) => d.text)).toEqual(alone.map((d) => d.text));
  }, 60_000);

  it('cancels a running generation', async () => {
    const done = await leader.generate('cancel', chatRequest(chats[0], { sampling: greedy }), () => leader.cancel('cancel'));
    expect(done.finishReason).toBe('cancelled');
    expect(done.completionTokens).toBeLessThan(512 - done.promptTokens);
  }, 60_000);

  it("refuses a stranger at a worker's tunnel: plain TCP, a wrong key, another member's identity", async () => {
    const before = refusals.length;
    expect(await strangerTcp(workerPorts[0], Buffer.from('\x00hello rpc-server'))).toEqual({ closed: true, received: 0 });
    expect(await strangerTls(workerPorts[0], leaderIdentity, randomBytes(32))).toBe(false);
    const member = tunnelIdentity('group-span', 'node-b');
    expect(await strangerTls(workerPorts[0], member, tunnelKey(groupSecret, member))).toBe(false);
    await until('three refusals', () => refusals.length >= before + 3, 5000);
    // The leader's connection through that worker is untouched: it still answers the same.
    const { one, span } = await onBoth('after-strangers', chatRequest(chats[2], { maxTokens: 8, sampling: greedy }));
    expect(span.text).toBe(one.text);
  }, 60_000);

  it("takes the leader down, llama-server included, when a worker is killed while it streams; the other worker stays up", async () => {
    const runnerPid = leader.pid as number;
    const servers = childrenOf(runnerPid).filter((c) => c.name.startsWith('llama-server'));
    expect(servers).toHaveLength(1);
    const rpcServerPid = workers[1].serverPid as number;
    const exited = new Promise<Error>((resolve) => leader.once('exit', resolve));
    const workerExited = new Promise<Error>((resolve) => workers[1].once('exit', resolve));
    let killed = false;
    // Without max_tokens: it streams until the kill ends it.
    const streaming = leader.generate('killed', chatRequest(chats[0], { sampling: greedy }), () => {
      if (killed) return;
      killed = true;
      process.kill(workers[1].pid as number, 'SIGKILL');
    });
    // The job ends with the runner (the agent runs it again elsewhere), not as answered or failed by it.
    await expect(streaming).rejects.toMatchObject({ code: 'runner_exited' });
    const err = await exited;
    expect(err).toBeInstanceOf(RunnerError);
    expect(err.message).toMatch(/the spanning replica is lost: the connection to worker 1 \(127\.0\.0\.1:\d+\) closed/);
    await workerExited;
    await until('llama-server gone', () => !alive(servers[0].pid), 5000);
    await until("the killed worker's RPC server gone", () => !alive(rpcServerPid), 5000);
    expect(alive(runnerPid)).toBe(false);
    expect(alive(workers[0].pid as number)).toBe(true);
    expect(alive(workers[0].serverPid as number)).toBe(true);
  }, 60_000);

  it('serves a new leader on the surviving worker, and stops its llama-server when the leader is stopped', async () => {
    const binaries = await rpcBinaries(llamaCacheRoot(process.env['GRIDLINE_LLAMA_CACHE']));
    if (binaries.status !== 'present') throw new Error('the RPC binaries went away');
    const again = new RunnerClient(BUILT_RUNNER);
    try {
      await again.start('cpu');
      const info = await again.load({
        modelPath,
        ...LOAD,
        span: { serverBinary: binaries.paths['llama-server'], identity: leaderIdentity, keyHex, workers: [{ host: '127.0.0.1', port: workerPorts[0], layers: 3 }] },
      });
      expect(info.span).toEqual({ localLayers: 1, workerLayers: [3] });
      const request = chatRequest(chats[1], { maxTokens: 16, sampling: greedy });
      expect((await again.generate('again', request)).text).toBe((await single.generate('again-single', request)).text);
      const servers = childrenOf(again.pid as number).filter((c) => c.name.startsWith('llama-server'));
      expect(servers).toHaveLength(1);
      await again.stop();
      expect(alive(servers[0].pid)).toBe(false);
    } finally {
      await again.stop();
    }
  }, 60_000);

  it('stops the RPC server when the agent that started the worker is killed (SIGKILL)', async () => {
    const binaries = await rpcBinaries(llamaCacheRoot(process.env['GRIDLINE_LLAMA_CACHE']));
    if (binaries.status !== 'present') throw new Error('the RPC binaries went away');
    // A stand-in agent: starts a worker with the built client, prints the pids, and waits to be killed.
    const options = { rpcServerBinary: binaries.paths['rpc-server'], listenHost: '127.0.0.1', listenPort: 0, threads: 1, leaderIdentity, keyHex };
    const agentCode = `
      const { RpcWorkerClient } = require(${JSON.stringify(join(DIST, 'libs', 'runtime', 'src', 'llama-rpc', 'rpc-worker-client.js'))});
      const w = new RpcWorkerClient(${JSON.stringify(BUILT_WORKER)});
      w.start(${JSON.stringify(options)}).then(() => console.log('pids ' + w.pid + ' ' + w.serverPid));
      setInterval(() => undefined, 1000);`;
    const agent = spawn(process.execPath, ['-e', agentCode], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pids = await new Promise<number[]>((resolve, reject) => {
      let out = '';
      agent.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /pids (\d+) (\d+)/.exec(out);
        if (m) resolve([Number(m[1]), Number(m[2])]);
      });
      agent.once('exit', () => reject(new Error(`the stand-in agent exited: ${out}`)));
    });
    expect(pids.every(alive)).toBe(true);
    agent.kill('SIGKILL');
    await until('the worker child and its RPC server gone', () => !pids.some(alive), 10_000);
  }, 30_000);

  it('fails to start a worker whose tunnel port is taken, saying why', async () => {
    const binaries = await rpcBinaries(llamaCacheRoot(process.env['GRIDLINE_LLAMA_CACHE']));
    if (binaries.status !== 'present') throw new Error('the RPC binaries went away');
    const clash = new RpcWorkerClient(BUILT_WORKER);
    await expect(clash.start({ rpcServerBinary: binaries.paths['rpc-server'], listenHost: '127.0.0.1', listenPort: workerPorts[0], threads: 1, leaderIdentity, keyHex })).rejects.toThrow(/EADDRINUSE/);
    expect(clash.pid).toBeNull();
  }, 30_000);
});
