/**
 * The agent's llama.cpp runner. Started by the agent with `fork()`, it owns one model and one
 * context with N parallel sequences, and answers requests over the IPC channel.
 * It must only be given files the agent has checked (see loadabilityProblems): llama.cpp
 * aborts the process on some malformed headers instead of throwing.
 */
import { getLlama, LlamaChat, LlamaCompletion, readGgufFileInfo, resolveChatWrapper, type ChatHistoryItem, type ChatWrapper, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel } from 'node-llama-cpp';
import { samplingValue } from '#gridline/contract';
import type { ChatMessage, InferenceRequest } from '@gridline/contract';
import type { RunnerEvent, RunnerGenerationDone, RunnerRequest } from './runner-protocol.js';

if (!process.send) {
  process.stderr.write('llama-runner must be started with an IPC channel (child_process.fork)\n');
  process.exit(2);
}

const send = (event: RunnerEvent): void => {
  process.send?.(event);
};

let llama: Llama | null = null;
let model: LlamaModel | null = null;
let context: LlamaContext | null = null;
/** Resolved once per model: resolving it (template analysis) costs ~200 ms, far more than a short generation. */
let chatWrapper: ChatWrapper | null = null;
const running = new Map<string, AbortController>();

function toHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
    if (m.role === 'system') return { type: 'system', text: m.content };
    if (m.role === 'user') return { type: 'user', text: m.content };
    return { type: 'model', response: [m.content] };
  });
  history.push({ type: 'model', response: [] });
  return history;
}

async function init(gpu: Extract<RunnerRequest, { type: 'init' }>['gpu']): Promise<void> {
  llama = await getLlama({ gpu, build: 'never', usePrebuiltBinaries: true, progressLogs: false, logLevel: 'error' as never });
  const backend = llama.gpu === false ? 'cpu' : llama.gpu;
  const vram = await llama.getVramState();
  const deviceNames = llama.gpu === false ? [] : await llama.getGpuDeviceNames();
  send({ type: 'ready', gpu: { backend, deviceNames, vramTotalBytes: vram.total, vramFreeBytes: vram.free } });
}

async function handle(req: RunnerRequest): Promise<void> {
  switch (req.type) {
    case 'init':
      return init(req.gpu);
    case 'inspect': {
      const info = await readGgufFileInfo(req.modelPath, { readTensorInfo: true });
      const md = info.metadata as { general?: { architecture?: string; name?: string } } & Record<string, { block_count?: number } | undefined>;
      const arch = md.general?.architecture ?? 'unknown';
      send({
        type: 'inspected',
        id: req.id,
        info: { architecture: arch, name: md.general?.name ?? null, version: info.version, tensorCount: info.tensorInfo?.length ?? 0, blockCount: md[arch]?.block_count ?? null },
      });
      return;
    }
    case 'load': {
      if (!llama) throw new Error('runner not initialised');
      if (context) await context.dispose();
      if (model) await model.dispose();
      model = await llama.loadModel({ modelPath: req.modelPath, gpuLayers: req.gpuLayers });
      context = await model.createContext({ contextSize: req.contextSize, sequences: req.parallel, threads: req.threads });
      chatWrapper = resolveChatWrapper(model);
      send({
        type: 'loaded',
        id: req.id,
        info: { gpuLayers: model.gpuLayers, totalLayers: model.fileInsights.totalLayers, contextSize: context.contextSize, parallel: req.parallel, trainContextSize: model.trainContextSize },
      });
      return;
    }
    case 'generate':
      return generate(req);
    case 'cancel':
      running.get(req.id)?.abort();
      return;
    case 'shutdown':
      for (const c of running.values()) c.abort();
      await context?.dispose();
      await model?.dispose();
      await llama?.dispose();
      process.exit(0);
  }
}

/** Waiters for a free context sequence, served in arrival order. */
const sequenceWaiters: (() => void)[] = [];

async function acquireSequence(ctx: LlamaContext): Promise<LlamaContextSequence> {
  while (ctx.sequencesLeft === 0) await new Promise<void>((resolve) => sequenceWaiters.push(resolve));
  return ctx.getSequence();
}

function releaseSequence(sequence: LlamaContextSequence): void {
  sequence.dispose();
  sequenceWaiters.shift()?.();
}

/**
 * The contract's sampling parameters as node-llama-cpp options: the one mapping to extend
 * when a sampling parameter is added to the contract.
 */
function samplingOptions(request: InferenceRequest) {
  return {
    temperature: samplingValue(request.sampling, 'temperature'),
    topP: samplingValue(request.sampling, 'topP'),
    seed: samplingValue(request.sampling, 'seed'),
    topK: samplingValue(request.sampling, 'topK'),
  };
}

type StopReason = 'eogToken' | 'stopGenerationTrigger' | 'customStopTrigger' | 'maxTokens' | 'abort' | 'functionCalls';

function finishReason(stop: StopReason): RunnerGenerationDone['finishReason'] {
  return stop === 'maxTokens' ? 'length' : stop === 'abort' ? 'cancelled' : 'stop';
}

async function generate(req: Extract<RunnerRequest, { type: 'generate' }>): Promise<void> {
  if (!context || !chatWrapper) throw new Error('no model is loaded');
  const abort = new AbortController();
  running.set(req.id, abort);
  const ctx = context;
  const wrapper = chatWrapper;
  const sequence = await acquireSequence(ctx);
  const { request } = req;
  const started = performance.now();
  if (abort.signal.aborted) {
    // Cancelled while it waited for a sequence: nothing was generated.
    running.delete(req.id);
    releaseSequence(sequence);
    send({ type: 'done', id: req.id, result: { text: '', finishReason: 'cancelled', promptTokens: 0, completionTokens: 0, firstTokenMs: 0, totalMs: 0 } });
    return;
  }
  let firstTokenMs = -1;
  let completionTokens = 0;
  const options = {
    maxTokens: request.maxTokens,
    ...samplingOptions(request),
    customStopTriggers: request.stop,
    signal: abort.signal,
    stopOnAbortSignal: true,
    onToken: (tokens: readonly unknown[]) => {
      if (firstTokenMs < 0) firstTokenMs = performance.now() - started;
      completionTokens += tokens.length;
    },
    onTextChunk: (text: string) => send({ type: 'chunk', id: req.id, text }),
  };
  let result: RunnerGenerationDone;
  try {
    let text: string;
    let stop: StopReason;
    let promptTokens: number;
    if (request.input.kind === 'chat') {
      const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: wrapper, autoDisposeSequence: false });
      try {
        const history = toHistory(request.input.messages);
        // The rendered prompt, tokenized: the sequence's token meter does not count it exactly.
        promptTokens = wrapper.generateContextState({ chatHistory: history }).contextText.tokenize(ctx.model.tokenizer).length;
        const res = await chat.generateResponse(history, options);
        text = res.response;
        stop = res.metadata.stopReason;
      } finally {
        chat.dispose();
      }
    } else {
      const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
      try {
        promptTokens = ctx.model.tokenize(request.input.prompt, false).length;
        const res = await completion.generateCompletionWithMeta(request.input.prompt, options);
        text = res.response;
        stop = res.metadata.stopReason;
      } finally {
        completion.dispose();
      }
    }
    result = { text, finishReason: finishReason(stop), promptTokens, completionTokens, firstTokenMs: Math.max(0, firstTokenMs), totalMs: performance.now() - started };
  } finally {
    running.delete(req.id);
    releaseSequence(sequence);
  }
  // Sent only once the sequence is free again, so the next job never finds the context full.
  send({ type: 'done', id: req.id, result });
}

process.on('message', (msg: RunnerRequest) => {
  handle(msg).catch((e: unknown) => {
    const id = 'id' in msg ? msg.id : null;
    send({ type: 'error', id, code: 'runner_error', message: e instanceof Error ? e.message : String(e) });
  });
});
process.on('disconnect', () => process.exit(0));
