import { ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { InferenceRequest, JobResume, JobTrace, TokenLogprob } from '@gridline/contract';
import { killGroup } from '../llama-rpc/rpc-worker-client';
import type { RunnerEvent, RunnerGenerationDone, RunnerGpuInfo, RunnerInspectInfo, RunnerLoadedInfo, RunnerLogSettings, RunnerRequest } from './runner-protocol';

/** Where the compiled ESM runner sits next to this file in the build output. */
export const RUNNER_ENTRY = join(__dirname, 'llama-runner.mjs');

export class RunnerError extends Error {
  override readonly name = 'RunnerError';
  constructor(
    readonly code: string,
    message: string,
    /** The request field a client error names (`invalid_request`). */
    readonly param?: string,
  ) {
    super(message);
  }
}

/** Receives generated text as it comes, with its tokens' log probabilities when the request asked for them. */
export type ChunkSink = (text: string, logprobs?: TokenLogprob[]) => void;

type Pending = { resolve: (e: RunnerEvent) => void; reject: (e: Error) => void; onChunk?: ChunkSink };


/**
 * Drives one llama.cpp runner child process. node-llama-cpp is ESM-only with top-level
 * await, so it lives in its own process; a llama.cpp abort also only takes the child down.
 */
export class RunnerClient extends EventEmitter {
  private child: ChildProcess | null = null;
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private ready: Promise<RunnerGpuInfo> | null = null;
  /** What the runner said about itself last (an error of no request: a spanning replica lost), for its exit's message. */
  private lastWords: string | null = null;

  constructor(private readonly entry: string = RUNNER_ENTRY) {
    super();
  }

  /** Starts the child and initialises llama.cpp with the requested backend; it logs as `log` says (default: JSON, warnings and errors only). */
  start(gpu: 'auto' | 'cuda' | 'vulkan' | 'metal' | 'cpu', log?: RunnerLogSettings): Promise<RunnerGpuInfo> {
    if (this.ready) return this.ready;
    // Its own process group: a terminal's Ctrl-C (or a signal to the agent's group) reaches the agent, which
    // stops its runners in order; a runner whose agent is gone exits by itself (its channel closes).
    const child = fork(this.entry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json', detached: true });
    this.child = child;
    this.ready = new Promise<RunnerGpuInfo>((resolve, reject) => {
      const onEarlyExit = (code: number | null, signal: string | null) => reject(new RunnerError('runner_exited', `the runner exited before it was ready (${signal ?? code})`));
      child.once('exit', onEarlyExit);
      child.on('message', (event: RunnerEvent) => {
        if (event.type === 'ready') {
          child.off('exit', onEarlyExit);
          resolve(event.gpu);
          return;
        }
        this.dispatch(event);
      });
      child.send({ type: 'init', gpu: gpu === 'cpu' ? false : gpu, ...(log ? { log } : {}) } satisfies RunnerRequest);
    });
    child.on('exit', (code, signal) => {
      const err = new RunnerError('runner_exited', `the runner exited (${signal ?? code})${this.lastWords ? `: ${this.lastWords}` : ''}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.child = null;
      this.emit('exit', err);
    });
    return this.ready;
  }

  /** The child's process id while it runs. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  inspect(modelPath: string): Promise<RunnerInspectInfo> {
    return this.call({ type: 'inspect', id: this.nextId(), modelPath }).then((e) => (e as Extract<RunnerEvent, { type: 'inspected' }>).info);
  }

  load(options: Omit<Extract<RunnerRequest, { type: 'load' }>, 'type' | 'id'>): Promise<RunnerLoadedInfo> {
    return this.call({ type: 'load', id: this.nextId(), ...options }).then((e) => (e as Extract<RunnerEvent, { type: 'loaded' }>).info);
  }

  /** Generates one completion (continuing `resume`'s text when given); `onChunk` receives text as it is produced; the runner's log lines about it carry `trace`. */
  generate(id: string, request: InferenceRequest, onChunk?: ChunkSink, resume?: JobResume, trace?: JobTrace): Promise<RunnerGenerationDone> {
    return this.call({ type: 'generate', id, request, ...(resume ? { resume } : {}), ...(trace ? { trace } : {}) }, onChunk).then((e) => (e as Extract<RunnerEvent, { type: 'done' }>).result);
  }

  cancel(id: string): void {
    this.child?.send({ type: 'cancel', id } satisfies RunnerRequest);
  }

  /** Asks the child to release the model and exit; kills its process group (with a spanning load's llama-server) if it does not within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.send({ type: 'shutdown' } satisfies RunnerRequest);
    const timer = setTimeout(() => killGroup(child), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private nextId(): string {
    return `r${++this.seq}`;
  }

  private call(req: Extract<RunnerRequest, { id: string }>, onChunk?: ChunkSink): Promise<RunnerEvent> {
    const child = this.child;
    if (!child?.connected) return Promise.reject(new RunnerError('runner_unavailable', 'the runner is not running'));
    return new Promise<RunnerEvent>((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject, onChunk });
      child.send(req);
    });
  }

  private dispatch(event: RunnerEvent): void {
    if (event.type === 'ready') return;
    if (event.type === 'error' && event.id === null) this.lastWords = event.message;
    const id = event.id;
    const p = id ? this.pending.get(id) : undefined;
    if (!p) return;
    if (event.type === 'chunk') {
      p.onChunk?.(event.text, event.logprobs);
      return;
    }
    this.pending.delete(id as string);
    if (event.type === 'error') p.reject(new RunnerError(event.code, event.message, event.param));
    else p.resolve(event);
  }
}
