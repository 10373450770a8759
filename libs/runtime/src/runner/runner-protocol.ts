/**
 * Messages between the agent (CommonJS, NestJS) and its llama.cpp runner: a child process
 * with an ESM entry point (`llama-runner.mjs`), because node-llama-cpp is ESM with top-level
 * await. They travel over Node's IPC channel as JSON. This file holds types only; the
 * request itself is the inference contract's.
 */
import type { InferenceRequest } from '@gridline/contract';

export type RunnerRequest =
  | { type: 'init'; gpu: 'auto' | 'cuda' | 'vulkan' | 'metal' | false }
  | { type: 'inspect'; id: string; modelPath: string }
  | { type: 'load'; id: string; modelPath: string; gpuLayers: number | 'auto' | 'max'; contextSize: number; parallel: number; threads: number }
  | { type: 'generate'; id: string; request: InferenceRequest }
  | { type: 'cancel'; id: string }
  | { type: 'shutdown' };

export interface RunnerGpuInfo {
  backend: 'cuda' | 'vulkan' | 'metal' | 'cpu';
  deviceNames: string[];
  vramTotalBytes: number;
  vramFreeBytes: number;
}

export interface RunnerLoadedInfo {
  gpuLayers: number;
  totalLayers: number;
  contextSize: number;
  parallel: number;
  trainContextSize: number;
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
  finishReason: 'stop' | 'length' | 'cancelled';
  promptTokens: number;
  completionTokens: number;
  firstTokenMs: number;
  totalMs: number;
}

export type RunnerEvent =
  | { type: 'ready'; gpu: RunnerGpuInfo }
  | { type: 'inspected'; id: string; info: RunnerInspectInfo }
  | { type: 'loaded'; id: string; info: RunnerLoadedInfo }
  | { type: 'chunk'; id: string; text: string }
  | { type: 'done'; id: string; result: RunnerGenerationDone }
  | { type: 'error'; id: string | null; code: string; message: string };
