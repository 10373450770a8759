/**
 * The leader's side of a replica spanning nodes (issue #12). node-llama-cpp has no RPC backend,
 * so the model is evaluated by a supervised RPC-enabled `llama-server` on loopback: its remote
 * devices are the group's workers, reached through the group's TLS-PSK tunnels
 * (rpc-tunnel.ts). The runner keeps everything else (prompt rendering, tokenizing, the context
 * checks, the sequences) and sends llama-server token ids only.
 *
 * llama.cpp aborts when a remote device goes away, and a llama-server may be left behind by a
 * runner that is killed; so the server runs under PDEATHSIG (supervised-process.ts), the runner
 * watches its tunnels, and whoever notices a loss first stops the whole leader.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { openRpcTunnel, probeRpcTunnel, type RpcTunnel } from '../llama-rpc/rpc-tunnel.js';
import { describeExit, freePort, superviseBinary, waitUntil, type SupervisedProcess } from '../llama-rpc/supervised-process.js';
import type { RunnerSpan } from './runner-protocol.js';

const DEFAULT_LOAD_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 3000;

export interface SpanLoad {
  span: RunnerSpan;
  modelPath: string;
  contextSize: number;
  parallel: number;
  threads: number;
  /** The model's repeating layers (its block count). */
  blockCount: number;
}

/** Where the model's repeating layers are: the leader's first ones, then each worker's, in order. */
export interface SpanPlacement {
  localLayers: number;
  workerLayers: number[];
}

export interface CompletionRequest {
  /** The llama-server slot: one per runner sequence. */
  slot: number;
  tokens: readonly number[];
  maxTokens: number;
  stop: string[];
  temperature: number;
  topP: number;
  topK: number;
  seed: number | undefined;
}

/** One streamed step: the token llama-server generated and the text it would send for it. */
export interface CompletionPartial {
  /** Usually one token; none when llama-server held its text back (it ended inside a UTF-8 character, see SpanText). */
  tokens: number[];
  /** llama-server's own text for it (pieces; a stop string's possible start held back). */
  content: string;
  /** Tokens generated so far in all. */
  decoded: number;
}

export interface CompletionEnd {
  /** llama-server's reason: `eos` (an end-of-generation token), `word` (a stop string), `limit` (max tokens), `none` (aborted). */
  stopType: string;
  /** With `word`: the stop string it found. */
  stoppingWord: string;
  /** Tokens it generated. */
  completionTokens: number;
  /** Tokens of the prompt it found in the slot's cache and did not evaluate again. */
  cachedTokens: number;
  /** Tokens of the prompt it was given (to check that nothing, no BOS, was added). */
  promptTokens: number;
  firstTokenMs: number;
}

/** The device llama.cpp names in its load log: `CPU`, or `RPC<i>` for the i-th `--rpc` endpoint. */
const LAYER_LINE = /load_tensors: layer\s+(\d+) assigned to device (\S+?),/;

export class SpanServer {
  private stopping = false;

  private constructor(
    private readonly server: SupervisedProcess,
    private readonly tunnels: RpcTunnel[],
    private readonly port: number,
    readonly placement: SpanPlacement,
  ) {}

  /**
   * Waits for every worker's tunnel to let this leader in (they may still be starting), opens
   * the local ends, starts llama-server on them and waits until it serves. `onLost` is called
   * once if, after that, llama-server exits or a worker's connection closes: the replica is gone.
   */
  static async start(load: SpanLoad, onLost: (why: string) => void): Promise<SpanServer> {
    const { span } = load;
    const workerLayers = span.workers.map((w) => w.layers);
    const offloaded = workerLayers.reduce((a, b) => a + b, 0);
    if (span.workers.length === 0) throw new Error('a span needs at least one worker');
    if (!workerLayers.every((n) => Number.isInteger(n) && n >= 1)) throw new Error('every worker of a span holds at least one layer');
    if (offloaded > load.blockCount) throw new Error(`the workers hold ${offloaded} layers; the model has ${load.blockCount}`);
    const key = Buffer.from(span.keyHex, 'hex');
    const deadline = Date.now() + (span.timeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS);
    const remaining = () => Math.max(0, deadline - Date.now());

    for (const [i, w] of span.workers.entries()) {
      const endpoint = { remoteHost: w.host, remotePort: w.port, identity: span.identity, key };
      await waitUntil(`worker ${i} (${w.host}:${w.port}) did not let this leader in`, () => probeRpcTunnel(endpoint, 3000), { timeoutMs: remaining(), intervalMs: 250 });
    }
    let serving = false;
    let lost = false;
    let owner: SpanServer | null = null;
    const lose = (why: string) => {
      // A stop closes llama-server's connections to the workers too: that is no loss.
      if (!serving || lost || owner?.stopping) return;
      lost = true;
      onLost(why);
    };
    const tunnels: RpcTunnel[] = [];
    let server: SupervisedProcess | null = null;
    try {
      for (const [i, w] of span.workers.entries()) {
        tunnels.push(
          await openRpcTunnel({
            remoteHost: w.host,
            remotePort: w.port,
            identity: span.identity,
            key,
            // Once it serves, llama-server keeps its connections to the workers open: one that closes is a worker lost.
            onConnectionClosed: () => lose(`the connection to worker ${i} (${w.host}:${w.port}) closed`),
          }),
        );
      }
      const port = await freePort('127.0.0.1');
      const placed = new Map<number, string>();
      const args = serverArgs(load, port, tunnels.map((t) => t.port));
      server = superviseBinary(span.serverBinary, args, {
        onLine: (line) => {
          const m = serving ? null : LAYER_LINE.exec(line);
          if (m) placed.set(Number(m[1]), m[2]);
        },
        // Debug lines may quote a prompt: they never go into an error report.
        keepLine: (line) => !line.startsWith('D '),
      });
      const proc = server;
      await waitUntil('llama-server did not start serving', () => healthy(port), { process: proc, timeoutMs: remaining(), intervalMs: 200 });
      const placement = placementOf(placed, load.blockCount, span.workers.length);
      if (placement.localLayers !== load.blockCount - offloaded || placement.workerLayers.some((n, i) => n !== workerLayers[i])) {
        throw new Error(`llama-server placed the layers ${JSON.stringify(placement)}, not ${JSON.stringify({ localLayers: load.blockCount - offloaded, workerLayers })}`);
      }
      const spanServer = new SpanServer(proc, tunnels, port, placement);
      owner = spanServer;
      serving = true;
      void proc.exited.then((exit) => {
        if (spanServer.stopping) return;
        const lines = proc.tail().slice(-8);
        lose(`llama-server exited (${describeExit(exit)})${lines.length ? `:\n${lines.join('\n')}` : ''}`);
      });
      return spanServer;
    } catch (e) {
      await server?.stop(STOP_GRACE_MS);
      for (const t of tunnels) await t.close();
      throw e;
    }
  }

  /** llama-server's process id (a test checks that it is gone with the runner). */
  get pid(): number | null {
    return this.server.pid;
  }

  /** llama-server's resident memory: the leader's part of the model and its context. */
  residentBytes(): number {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.server.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  }

  /**
   * One generation on a slot, streamed: `onPartial` receives each step as it comes. An abort ends
   * the request (llama-server stops generating when the connection closes) and resolves at once.
   */
  complete(req: CompletionRequest, { signal, onPartial }: { signal: AbortSignal; onPartial: (partial: CompletionPartial) => void }): Promise<CompletionEnd> {
    const body = JSON.stringify({
      prompt: req.tokens,
      id_slot: req.slot,
      cache_prompt: true,
      stream: true,
      n_predict: req.maxTokens,
      stop: req.stop,
      temperature: req.temperature,
      top_p: req.topP,
      top_k: req.topK,
      // node-llama-cpp's defaults for what the contract leaves out: no min-p, no penalties.
      min_p: 0,
      seed: req.seed ?? -1,
      // The token ids, so that the runner renders the text with node-llama-cpp's detokenizer.
      return_tokens: true,
    });
    const started = performance.now();
    return new Promise<CompletionEnd>((resolve, reject) => {
      let firstTokenMs = -1;
      let completionTokens = 0;
      let promptTokens = req.tokens.length;
      let settled = false;
      const finish = (end: Omit<CompletionEnd, 'firstTokenMs'> | Error) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        if (end instanceof Error) reject(end);
        else resolve({ ...end, firstTokenMs: Math.max(0, firstTokenMs) });
      };
      const onAbort = () => {
        http.destroy();
        finish({ stopType: 'none', stoppingWord: '', completionTokens, cachedTokens: 0, promptTokens });
      };
      const http = httpRequest(
        // A connection per generation (no keep-alive agent): llama-server closes idle connections, and
        // a request sent on one it just closed fails with "socket hang up".
        { host: '127.0.0.1', port: this.port, path: '/completion', method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res: IncomingMessage) => {
          res.setEncoding('utf8');
          if (res.statusCode !== 200) {
            let error = '';
            res.on('data', (d: string) => (error += d));
            res.on('end', () => finish(new Error(`llama-server answered ${res.statusCode}: ${serverError(error)}`)));
            return;
          }
          let buffer = '';
          res.on('data', (d: string) => {
            buffer += d;
            let cut: number;
            while ((cut = buffer.indexOf('\n\n')) >= 0) {
              const event = buffer.slice(0, cut);
              buffer = buffer.slice(cut + 2);
              if (!event.startsWith('data: ')) continue;
              const data = JSON.parse(event.slice(6)) as ServerEvent;
              if (data.error) return finish(new Error(`llama-server: ${data.error.message ?? JSON.stringify(data.error)}`));
              completionTokens = data.tokens_predicted ?? completionTokens;
              promptTokens = data.tokens_evaluated ?? promptTokens;
              if (firstTokenMs < 0 && completionTokens > 0) firstTokenMs = performance.now() - started;
              if (data.tokens?.length || data.content) onPartial({ tokens: data.tokens ?? [], content: data.content ?? '', decoded: completionTokens });
              if (data.stop) {
                return finish({ stopType: data.stop_type ?? 'none', stoppingWord: data.stopping_word ?? '', completionTokens, cachedTokens: data.timings?.cache_n ?? 0, promptTokens });
              }
            }
          });
          res.on('end', () => finish(new Error('llama-server ended the stream before the generation ended')));
          res.on('error', (e) => finish(e));
        },
      );
      http.on('error', (e) => finish(e));
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
      else http.end(body);
    });
  }

  /** llama-server first (it aborts when a worker goes away under it), then the tunnels. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.server.stop(STOP_GRACE_MS);
    for (const t of this.tunnels) await t.close().catch(() => undefined);
  }
}

interface ServerEvent {
  content?: string;
  tokens?: number[];
  stop?: boolean;
  stop_type?: string;
  stopping_word?: string;
  tokens_predicted?: number;
  tokens_evaluated?: number;
  timings?: { cache_n?: number };
  error?: { message?: string };
}

function serverError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } };
    return parsed.error?.message ?? body;
  } catch {
    return body.slice(0, 500);
  }
}

/**
 * llama-server's command line. The numbers that decide what is computed how are node-llama-cpp's
 * (what the runner's single-node load uses), so that both give the same logits: batch and
 * micro-batch min(context, 512), flash attention as llama.cpp decides (`auto`, node-llama-cpp's
 * default: on for the CPU; forcing it off changed greedy outputs of a 400 MB model in 5 of 8
 * prompts), one KV cache per sequence.
 */
export function serverArgs(load: SpanLoad, port: number, tunnelPorts: number[]): string[] {
  const workerLayers = load.span.workers.map((w) => w.layers);
  const offloaded = workerLayers.reduce((a, b) => a + b, 0);
  const totalContext = load.contextSize * load.parallel;
  const batch = Math.min(totalContext, 512);
  // llama.cpp counts the output as one more layer after the last: offloading N+1 layers puts the
  // last N repeating ones on the devices, and the split gives the last device the output's share.
  // The split's fractions are exact layer counts (llama.cpp cuts at cumulative fraction ≥ i/N,
  // computed the same way), and the output's weights stay on the leader (-ot).
  const split = workerLayers.map((n, i) => (i === workerLayers.length - 1 ? n + 1 : n));
  return [
    '-m', load.modelPath,
    '--host', '127.0.0.1',
    '--port', String(port),
    '-c', String(totalContext),
    '-np', String(load.parallel),
    '--no-kv-unified',
    '-t', String(load.threads),
    '-tb', String(load.threads),
    '-b', String(batch),
    '-ub', String(batch),
    '-fa', 'auto',
    // The split is the plan's: never let llama.cpp move layers or shrink the context to fit memory.
    '-fit', 'off',
    // No prompt cache in host memory beyond the slots (memory the plan does not count).
    '-cram', '0',
    '--rpc', tunnelPorts.map((p) => `127.0.0.1:${p}`).join(','),
    '-ngl', String(offloaded + 1),
    '-ts', split.join(','),
    '-ot', '^output=CPU',
    // The layer placement is logged at debug level only; it is read while the model loads.
    '-lv', '5',
    '--log-prefix',
    '--log-colors', 'off',
  ];
}

function placementOf(placed: Map<number, string>, blockCount: number, workers: number): SpanPlacement {
  const placement: SpanPlacement = { localLayers: 0, workerLayers: new Array<number>(workers).fill(0) };
  for (let il = 0; il < blockCount; il++) {
    const device = placed.get(il);
    const rpc = device ? /^RPC(\d+)$/.exec(device) : null;
    if (device === 'CPU') placement.localLayers++;
    else if (rpc && Number(rpc[1]) < workers) placement.workerLayers[Number(rpc[1])]++;
    else throw new Error(`llama-server did not say where layer ${il} is (${device ?? 'nothing logged'})`);
  }
  return placement;
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/health', method: 'GET', agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}
