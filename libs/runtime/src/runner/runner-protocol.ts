/**
 * Messages between the agent (CommonJS, NestJS) and its llama.cpp runner: a child process
 * with an ESM entry point (`llama-runner.mjs`), because node-llama-cpp is ESM with top-level
 * await. They travel over Node's IPC channel as JSON. This file holds types only; the
 * request itself is the inference contract's.
 */
import type { InferenceRequest, JobErrorCode, JobResume, JobTrace, TokenLogprob, ToolCall } from '@gridline/contract';

/** How the runner logs (the agent's own settings): pino lines on the agent's stdout, which it inherits. */
export interface RunnerLogSettings {
  level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  format: 'json' | 'pretty';
}

export type RunnerRequest =
  | { type: 'init'; gpu: 'auto' | 'cuda' | 'vulkan' | 'metal' | false; log?: RunnerLogSettings }
  | { type: 'inspect'; id: string; modelPath: string }
  | { type: 'load'; id: string; modelPath: string; gpuLayers: number | 'auto' | 'max'; contextSize: number; parallel: number; threads: number; span?: RunnerSpan }
  /** With `resume`: only what follows the text an earlier attempt streamed is sent (see llama-runner's `generate`). */
  /** `trace`: the job's and request's ids, which the runner's log lines about the generation carry. */
  | { type: 'generate'; id: string; request: InferenceRequest; resume?: JobResume; trace?: JobTrace }
  | { type: 'cancel'; id: string }
  | { type: 'shutdown' };

/** A replica spanning nodes, on its leader: the model is served by a supervised RPC-enabled llama-server whose remote devices are the group's workers, reached through the group's tunnel. */
export interface RunnerSpan {
  /** The RPC-enabled llama-server binary. */
  serverBinary: string;
  /** This node's tunnel identity in the group (tunnelIdentity(groupId, nodeId)) and its key as hex (tunnelKey(groupSecret, identity)). */
  identity: string;
  keyHex: string;
  /** The workers in layer order: their tunnel endpoints and how many layers each holds. The leader keeps the model's first layers (and the output); the workers hold the last ones, in this order. */
  workers: { host: string; port: number; layers: number }[];
  /** How long the load may wait for the workers' tunnels and llama-server (default 120 s). */
  timeoutMs?: number;
}

export interface RunnerGpuInfo {
  backend: 'cuda' | 'vulkan' | 'metal' | 'cpu';
  deviceNames: string[];
  vramTotalBytes: number;
  vramFreeBytes: number;
  /** The llama.cpp release the binaries were built from, and how (`prebuilt` or `localBuild`). */
  llamaCpp?: string;
}

export interface RunnerLoadedInfo {
  gpuLayers: number;
  totalLayers: number;
  /** Tokens of context per sequence: what one request may use, prompt and completion together. */
  contextSize: number;
  parallel: number;
  trainContextSize: number;
  /** UTF-8 bytes of input the longest token covers; null when the tokenizer rewrites its input (see ServedContext). */
  maxTokenBytes: number | null;
  /** What the load took, measured (model and context together). */
  memory: RunnerLoadMemory;
  /**
   * With a span, where llama-server put the model's repeating layers, as it logged them:
   * `localLayers` on the leader (the first ones; the output is the leader's too), then
   * `workerLayers[i]` on the i-th worker. `memory` is then the leader's only (llama-server's RSS).
   */
  span?: { localLayers: number; workerLayers: number[] };
}

/**
 * Memory a load took, as measured around it in the runner (after minus before, never below 0).
 * `gpuBytes`: the growth of the device memory in use (llama.cpp's VRAM state: weights
 * offloaded, KV cache and compute buffers on the GPU); the device's whole use, so another
 * process allocating at the same time counts too; 0 without a GPU. `cpuBytes`: the growth of
 * the runner process's resident set (RSS): host buffers, KV cache on the CPU, and the pages of
 * the memory-mapped weights read so far (pages not yet touched are not in it).
 */
export interface RunnerLoadMemory {
  gpuBytes: number;
  cpuBytes: number;
}

export interface RunnerInspectInfo {
  architecture: string;
  name: string | null;
  version: number;
  tensorCount: number;
  blockCount: number | null;
}

export interface RunnerGenerationDone {
  text: string;
  /** `tool_calls`: the generation ended with calls of the request's tools (`toolCalls`). */
  finishReason: 'stop' | 'length' | 'cancelled' | 'tool_calls';
  toolCalls?: ToolCall[];
  promptTokens: number;
  /**
   * Of `promptTokens`, how many the sequence already held from an earlier job (the longest
   * shared prefix) and were not evaluated again.
   */
  cachedPromptTokens: number;
  /** With a resume, the tokens of the text continued count too (as generated for the job). */
  completionTokens: number;
  firstTokenMs: number;
  totalMs: number;
}

/**
 * Why a runner request failed: a job error the client must see as it is (the request does not
 * fit the context, or asks for what this replica cannot do: `invalid_request` with the field in
 * `param`), or anything else (`runner_error`).
 */
export type RunnerErrorCode = Extract<JobErrorCode, 'context_length_exceeded' | 'invalid_request'> | 'runner_error';

export type RunnerEvent =
  | { type: 'ready'; gpu: RunnerGpuInfo }
  | { type: 'inspected'; id: string; info: RunnerInspectInfo }
  | { type: 'loaded'; id: string; info: RunnerLoadedInfo }
  /** `logprobs`: the log probabilities of the tokens the text holds, when the request asked for them. */
  | { type: 'chunk'; id: string; text: string; logprobs?: TokenLogprob[] }
  | { type: 'done'; id: string; result: RunnerGenerationDone }
  | { type: 'error'; id: string | null; code: RunnerErrorCode; message: string; param?: string };
