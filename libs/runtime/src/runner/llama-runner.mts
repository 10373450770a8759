/**
 * The agent's llama.cpp runner. Started by the agent with `fork()`, it owns one model and one
 * context with N parallel sequences, and answers requests over the IPC channel.
 * It must only be given files the agent has checked (see loadabilityProblems): llama.cpp
 * aborts the process on some malformed headers instead of throwing.
 */
import {
  getLlama,
  LlamaChat,
  LlamaCompletion,
  LlamaVocabularyType,
  readGgufFileInfo,
  resolveChatWrapper,
  TokenBias,
  type ChatHistoryItem,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaGrammar,
  type LlamaModel,
  type LlamaText,
  type Token,
} from 'node-llama-cpp';
import { completionBudget, contextOverflow, grammarSchema, isDeterministic, samplingValue, toolSchemaProblem } from '#gridline/contract';
import type { InferenceRequest, JobResume, JobTrace, TokenLogprob, ToolCall } from '@gridline/contract';
import pino, { type Logger } from 'pino';
import type { RunnerEvent, RunnerGenerationDone, RunnerLogSettings, RunnerRequest } from './runner-protocol.js';
import { SpanServer } from './span-server.mjs';
import { SpanText } from './span-text.mjs';
import { chatFunctions, chatHistory, toolCalls, type ChatFunctions } from './runner-tools.mjs';

if (!process.send) {
  process.stderr.write('llama-runner must be started with an IPC channel (child_process.fork)\n');
  process.exit(2);
}

/**
 * The agent is gone (it exited or was killed, so its channel closed or broke): nobody is left
 * to answer, so the runner stops its generations and exits, quietly (its stdio may be gone too).
 */
function leave(): void {
  for (const c of running.values()) c.abort();
  // A spanning load's llama-server goes first: it must not outlive its runner.
  if (spanServer) void spanServer.stop().finally(() => process.exit(0));
  else process.exit(0);
}

/**
 * The runner's structured log: pino lines on the agent's stdout (inherited), as the agent's own
 * settings say (sent with `init`). A line about a generation carries its job's trace (job id,
 * try, request id); no line carries a prompt or generated text.
 */
function runnerLogger(settings: RunnerLogSettings): Logger {
  return pino({
    name: 'runner',
    level: settings.level,
    base: { app: 'runner', pid: process.pid },
    transport: settings.format === 'pretty' ? { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } } : undefined,
  });
}
// Until `init` says otherwise (a runner driven by a test or a bench): warnings and errors only.
let log: Logger = runnerLogger({ level: 'warn', format: 'json' });
/** The trace of each generation in progress, by request id: what its log lines carry (none for a runner driven without one, as in tests). */
const traces = new Map<string, Partial<JobTrace>>();

/** Logs the end of a generation as its answer goes out: how it finished, or its error's code (never its text or message). */
function logOutcome(event: RunnerEvent): void {
  if ((event.type !== 'done' && event.type !== 'error') || event.id === null) return;
  const trace = traces.get(event.id);
  if (!trace) return;
  traces.delete(event.id);
  if (event.type === 'done') {
    const r = event.result;
    log.info({ ...trace, finishReason: r.finishReason, promptTokens: r.promptTokens, cachedPromptTokens: r.cachedPromptTokens, completionTokens: r.completionTokens, firstTokenMs: Math.round(r.firstTokenMs), totalMs: Math.round(r.totalMs) }, 'generation finished');
  } else {
    log[event.code === 'runner_error' ? 'error' : 'info']({ ...trace, code: event.code, ...(event.param ? { param: event.param } : {}) }, 'generation refused or failed');
  }
}

/** Set once a spanning replica is lost: the runner only leaves; its jobs end with it (see loadSpanning). */
let lostReplica = false;

const send = (event: RunnerEvent): void => {
  logOutcome(event);
  if (!process.connected) return leave();
  if (lostReplica && !(event.type === 'error' && event.id === null)) return;
  // With a callback, a write to a closed or broken channel (EPIPE) is reported here instead of
  // as an 'error' event on the process, which would crash it with a stack trace.
  process.send?.(event, undefined, undefined, (err: Error | null) => {
    if (err) leave();
  });
};

let llama: Llama | null = null;
let model: LlamaModel | null = null;
let context: LlamaContext | null = null;
/**
 * With a span, the model is evaluated by llama-server (span-server.mts); `model` then holds the
 * vocabulary only, and renders and tokenizes prompts exactly as for a single-node load.
 */
let spanServer: SpanServer | null = null;
/** Tokens of context per sequence, for the checks before a generation (the context's, or the span's). */
let contextSize = 0;
/** Resolved once per model: resolving it (template analysis) costs ~200 ms, far more than a short generation. */
let chatWrapper: ChatWrapper | null = null;
/**
 * The sequences, created at load and kept for the model's life: each keeps the tokens of its
 * last job in the KV cache, so a job whose prompt starts the same way (a shared system prompt, a
 * conversation one turn longer) evaluates only what follows. A local one is a context sequence;
 * a spanning one is a llama-server slot, and the runner tracks the prompt it last held (the
 * server reuses its cache by itself; the runner uses it to pick the slot).
 */
type Slot = { busy: boolean } & ({ kind: 'local'; sequence: LlamaContextSequence } | { kind: 'span'; index: number; held: Token[] });
let slots: Slot[] = [];
const running = new Map<string, AbortController>();

async function init(gpu: Extract<RunnerRequest, { type: 'init' }>['gpu']): Promise<void> {
  llama = await getLlama({ gpu, build: 'never', usePrebuiltBinaries: true, progressLogs: false, logLevel: 'error' as never });
  const backend = llama.gpu === false ? 'cpu' : llama.gpu;
  const vram = await llama.getVramState();
  const deviceNames = llama.gpu === false ? [] : await llama.getGpuDeviceNames();
  const release = llama.llamaCppRelease;
  send({ type: 'ready', gpu: { backend, deviceNames, vramTotalBytes: vram.total, vramFreeBytes: vram.free, llamaCpp: `${release.release} (${llama.buildType})` } });
}

async function handle(req: RunnerRequest): Promise<void> {
  switch (req.type) {
    case 'init':
      if (req.log) log = runnerLogger(req.log);
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
      await unload();
      if (req.span) return loadSpanning(req, req.span, llama);
      const vramBefore = (await llama.getVramState()).used;
      const rssBefore = process.memoryUsage().rss;
      model = await llama.loadModel({ modelPath: req.modelPath, gpuLayers: req.gpuLayers });
      context = await model.createContext({ contextSize: req.contextSize, sequences: req.parallel, threads: req.threads });
      const ctx = context;
      contextSize = ctx.contextSize;
      slots = Array.from({ length: req.parallel }, (): Slot => ({ kind: 'local', sequence: ctx.getSequence(), busy: false }));
      chatWrapper = resolveChatWrapper(model);
      const memory = { gpuBytes: Math.max(0, (await llama.getVramState()).used - vramBefore), cpuBytes: Math.max(0, process.memoryUsage().rss - rssBefore) };
      send({
        type: 'loaded',
        id: req.id,
        info: {
          gpuLayers: model.gpuLayers,
          totalLayers: model.fileInsights.totalLayers,
          contextSize: context.contextSize,
          parallel: req.parallel,
          trainContextSize: model.trainContextSize,
          maxTokenBytes: longestTokenBytes(model),
          memory,
        },
      });
      return;
    }
    case 'generate':
      traces.set(req.id, req.trace ?? {});
      log.info({ ...req.trace, kind: req.request.input.kind, maxTokens: req.request.maxTokens, ...(req.resume ? { resumedAfterDeltas: req.resume.deltas } : {}) }, 'generation started');
      return generate(req);
    case 'cancel': {
      const trace = traces.get(req.id);
      if (trace && running.has(req.id)) log.info(trace, 'cancel: stopping the generation');
      running.get(req.id)?.abort();
      return;
    }
    case 'shutdown':
      for (const c of running.values()) c.abort();
      await unload().catch(() => undefined);
      await llama?.dispose();
      process.exit(0);
  }
}

/**
 * A replica spanning nodes, on its leader: the vocabulary here (prompts are rendered and
 * tokenized exactly as for a single-node load, by the same code), the weights in llama-server
 * and the workers' RPC servers. A llama-server that exits, or a worker lost, ends the runner:
 * the replica cannot serve without it, and the agent sees the runner exit.
 */
async function loadSpanning(req: Extract<RunnerRequest, { type: 'load' }>, span: NonNullable<Extract<RunnerRequest, { type: 'load' }>['span']>, l: Llama): Promise<void> {
  model = await l.loadModel({ modelPath: req.modelPath, vocabOnly: true });
  chatWrapper = resolveChatWrapper(model);
  const blockCount = model.fileInsights.totalLayers - 1;
  const server = await SpanServer.start({ span, modelPath: req.modelPath, contextSize: req.contextSize, parallel: req.parallel, threads: req.threads, blockCount }, (why) => {
    // The replica cannot serve without the lost member. Its jobs are not failed or answered one by
    // one: the runner exits, and the agent sees each of them end with the runner (runner_exited),
    // which is what a job that may run again elsewhere needs.
    const message = `the spanning replica is lost: ${why}`;
    send({ type: 'error', id: null, code: 'runner_error', message });
    lostReplica = true;
    process.stderr.write(`llama-runner: ${message}\n`);
    void server.stop().finally(() => setTimeout(() => process.exit(1), 50));
  });
  spanServer = server;
  contextSize = req.contextSize;
  slots = Array.from({ length: req.parallel }, (_, index): Slot => ({ kind: 'span', index, held: [], busy: false }));
  send({
    type: 'loaded',
    id: req.id,
    info: {
      // llama-server is a CPU build: the leader holds no layer on a GPU; `span` says where they are.
      gpuLayers: 0,
      totalLayers: model.fileInsights.totalLayers,
      contextSize,
      parallel: req.parallel,
      // A vocabulary-only model has no hyperparameters loaded (its own says 0): the file's.
      trainContextSize: model.fileInsights.trainContextSize ?? 0,
      maxTokenBytes: longestTokenBytes(model),
      memory: { gpuBytes: 0, cpuBytes: server.residentBytes() },
      span: server.placement,
    },
  });
}

/**
 * UTF-8 bytes of input that one token covers at most, over the whole vocabulary: with it the
 * api bounds a prompt's tokens from below without a tokenizer. Only SentencePiece and
 * byte-level BPE tokenizers keep every byte of their input; others lowercase, strip accents
 * or drop whitespace, so bytes bound nothing there (null).
 */
function longestTokenBytes(m: LlamaModel): number | null {
  if (m.vocabularyType !== LlamaVocabularyType.spm && m.vocabularyType !== LlamaVocabularyType.bpe) return null;
  const size = m.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
  // A token's text is read after an anchor token, since detokenizing one token alone drops a
  // leading space; control tokens have no text (they never come from input text).
  const anchor = m.tokenize('a', false).at(-1);
  const anchorText = anchor === undefined ? '' : m.detokenize([anchor], false);
  let longest = 0;
  for (let id = 0; id < size; id++) {
    const token = id as Token;
    let bytes: number;
    if (anchor === undefined) {
      bytes = Buffer.byteLength(m.detokenize([token], false)) + 1;
    } else {
      const text = m.detokenize([anchor, token], false);
      bytes = Buffer.byteLength(text.startsWith(anchorText) ? text.slice(anchorText.length) : text);
    }
    if (bytes > longest) longest = bytes;
  }
  return longest > 0 ? longest : null;
}

/** The token LlamaCompletion puts before a plain prompt (as node-llama-cpp's resolveBeginningTokenToPrepend). */
function beginningToken(m: LlamaModel): Token | null {
  switch (m.vocabularyType) {
    case LlamaVocabularyType.rwkv:
    case LlamaVocabularyType.ugm:
      return null;
    case LlamaVocabularyType.wpm:
      return m.tokens.bos;
    default:
      return m.tokens.shouldPrependBosToken ? m.tokens.bos : null;
  }
}

/** Jobs waiting for a free sequence, served in arrival order. */
const sequenceWaiters: { resolve: (slot: Slot) => void }[] = [];

/**
 * A free sequence for a prompt: of several, the one whose cached tokens share the longest
 * prefix with it (on a tie, the one holding the fewest tokens, so more of the others' caches
 * survive). Null when the job was cancelled while it waited.
 */
function acquireSlot(tokens: Token[], signal: AbortSignal): Promise<Slot | null> {
  // While jobs wait, every sequence is busy: a newcomer queues behind them.
  const free = sequenceWaiters.length === 0 ? slots.filter((s) => !s.busy) : [];
  if (free.length > 0) {
    const shared = (s: Slot) => (s.kind === 'local' ? s.sequence.compareContextTokens(tokens).firstDifferentIndex : sharedPrefix(s.held, tokens));
    const held = (s: Slot) => (s.kind === 'local' ? s.sequence.nextTokenIndex : s.held.length);
    const best = free.reduce((a, b) => {
      const d = shared(b) - shared(a);
      return d > 0 || (d === 0 && held(b) < held(a)) ? b : a;
    });
    best.busy = true;
    return Promise.resolve(best);
  }
  return new Promise((resolve) => {
    const waiter = {
      resolve: (slot: Slot) => {
        signal.removeEventListener('abort', onAbort);
        resolve(slot);
      },
    };
    const onAbort = () => {
      sequenceWaiters.splice(sequenceWaiters.indexOf(waiter), 1);
      resolve(null);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    sequenceWaiters.push(waiter);
  });
}

function sharedPrefix(a: readonly Token[], b: readonly Token[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Hands a sequence to the first waiter (it stays busy), or frees it. */
function releaseSlot(slot: Slot): void {
  const waiter = sequenceWaiters.shift();
  if (waiter) waiter.resolve(slot);
  else slot.busy = false;
}

/**
 * After a failed generation the sequence's KV cache may hold cells its token list does not
 * know of: it is replaced by an empty one (disposing it clears its cells in llama.cpp).
 */
async function resetSlot(slot: Slot): Promise<void> {
  if (slot.kind === 'span') {
    slot.held = [];
    return;
  }
  const ctx = slot.sequence.context;
  await slot.sequence.dispose();
  if (context === ctx && !ctx.disposed) slot.sequence = ctx.getSequence();
}

async function unload(): Promise<void> {
  slots = [];
  const server = spanServer;
  spanServer = null;
  await server?.stop();
  await context?.dispose();
  await model?.dispose();
  context = null;
  model = null;
  contextSize = 0;
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

/**
 * OpenAI's frequency and presence penalties as node-llama-cpp's repeat penalty: llama.cpp's
 * penalties sampler subtracts `count × frequency + (count > 0) × presence` from a token's logit,
 * OpenAI's formula, negative values included (they favour repetition). It counts the tokens
 * generated so far for this request, all of them (the window is the completion's budget, so
 * newlines count too), not the prompt's. Undefined when both are 0: no penalty, as before.
 */
function penaltyOptions(request: InferenceRequest, budget: number) {
  const frequencyPenalty = samplingValue(request.sampling, 'frequencyPenalty') ?? 0;
  const presencePenalty = samplingValue(request.sampling, 'presencePenalty') ?? 0;
  if (frequencyPenalty === 0 && presencePenalty === 0) return undefined;
  return { frequencyPenalty, presencePenalty, penalty: 1, lastTokens: Math.max(1, budget), penalizeNewLine: true };
}

/** A parameter of the request the model cannot honour: the job fails with `invalid_request` naming it. */
class InvalidParameter extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

/** The logit a logit_bias value adds: OpenAI's -100 bans the token; any other value is added to the logit as it is (+100 all but forces it). */
function biasLogit(value: number): number {
  return value <= -100 ? -Infinity : value;
}

/**
 * OpenAI's `logit_bias` as node-llama-cpp's TokenBias, with every token id checked against the
 * model's vocabulary (the api has no vocabulary: the check is here). TokenBias.set skips
 * end-of-generation tokens, which a client may well bias (to ban the end of a text): those are
 * written to its map directly, the one node-llama-cpp reads (see getTokenBiasesForAddon).
 */
function tokenBias(request: InferenceRequest, m: LlamaModel): TokenBias | undefined {
  const entries = Object.entries(request.logitBias ?? {});
  if (entries.length === 0) return undefined;
  const size = vocabularySize(m);
  const bias = new TokenBias(m.tokenizer);
  const direct = (bias as unknown as { _biases?: unknown })._biases;
  for (const [id, value] of entries) {
    const token = Number(id) as Token;
    if (!Number.isInteger(token) || token < 0 || token >= size) throw new InvalidParameter('logit_bias', `logit_bias: token ${id} is not in the model's vocabulary (ids 0 to ${size - 1})`);
    if (!m.isEogToken(token)) bias.set(token, { logit: biasLogit(value) });
    else if (direct instanceof Map) direct.set(token, biasLogit(value));
    else throw new InvalidParameter('logit_bias', `logit_bias: token ${id} ends generation and cannot be biased with this runtime`);
  }
  return bias;
}

function vocabularySize(m: LlamaModel): number {
  return m.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
}

/** The grammar for a response_format: any JSON, or JSON valid against a schema (node-llama-cpp's JSON-schema grammar). */
async function responseGrammar(request: InferenceRequest, l: Llama): Promise<LlamaGrammar | undefined> {
  const format = request.responseFormat;
  if (!format) return undefined;
  if (format.type === 'json_object') return l.getGrammarFor('json');
  // The subset the grammar enforces, as for a tool's parameters (checked by the api too).
  const problem = toolSchemaProblem(format.schema, 'response_format.json_schema.schema');
  if (problem) throw new InvalidParameter('response_format', `response_format: the JSON schema is not supported: ${problem}`);
  try {
    return await l.createGrammarForJsonSchema(grammarSchema(format.schema) as never);
  } catch (e) {
    throw new InvalidParameter('response_format', `response_format: the JSON schema is not supported: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** What a request asks of its output, as node-llama-cpp options; throws InvalidParameter for what the model cannot honour. */
async function outputOptions(request: InferenceRequest, m: LlamaModel, l: Llama) {
  return { tokenBias: tokenBias(request, m), grammar: await responseGrammar(request, l) };
}

/**
 * A spanning replica's llama-server is given sampling, limits and stops only: a request that
 * asks for more is refused, naming the parameter, rather than answered without it.
 */
function spanningRefusal(request: InferenceRequest): InvalidParameter | null {
  const refuse = (param: string, what: string) => new InvalidParameter(param, `${param}: ${what} is not supported on a model spanning several nodes`);
  if ((request.sampling.frequencyPenalty ?? 0) !== 0) return refuse('frequency_penalty', 'a frequency penalty');
  if ((request.sampling.presencePenalty ?? 0) !== 0) return refuse('presence_penalty', 'a presence penalty');
  if (Object.keys(request.logitBias ?? {}).length > 0) return refuse('logit_bias', 'a token bias');
  if (request.logprobs) return refuse('logprobs', 'returning log probabilities');
  if (request.responseFormat) return refuse('response_format', 'a response format');
  return null;
}

/** OpenAI's floor for a log probability it cannot represent (a token the sampler ruled out has probability 0). */
const MIN_LOGPROB = -9999;
const logprobOf = (p: number | undefined) => (p !== undefined && p > 0 ? Math.max(MIN_LOGPROB, Math.log(p)) : MIN_LOGPROB);

/**
 * Log probabilities from the generation pass itself. LlamaChat and LlamaCompletion evaluate
 * through `sequence.evaluate(...)`, which is `evaluateWithMetadata(tokens, {}, options)` giving
 * the tokens only; for the job's duration the sequence's `evaluate` asks for the probabilities
 * too (same call, same options, same sampler), and records each generated token's. They are
 * those of the distribution the token was sampled from, after logit_bias, penalties, a grammar
 * and, when sampling, top_k / top_p / temperature (with temperature 0: the model's own, biased
 * and penalized). `take` gives the entries of the tokens LlamaChat passes on as text (onToken):
 * a generated token it keeps back for good (a stop trigger, the end token) is skipped.
 */
class ProbabilityRecorder {
  private readonly queue: { token: Token; logprob: number; top: [Token, number][] }[] = [];
  /** The tokens taken so far: a token's text is read after them, as LlamaChat and LlamaCompletion read the text they stream (the first one on its own). */
  private readonly previous: Token[] = [];

  constructor(
    private readonly sequence: LlamaContextSequence,
    private readonly m: LlamaModel,
    top: number,
  ) {
    const metadata = top > 0 ? ({ probabilities: true } as const) : ({ confidence: true } as const);
    const queue = this.queue;
    const evaluate = async function* (tokens: Token[], options?: Parameters<LlamaContextSequence['evaluate']>[1]): AsyncGenerator<Token, void, Token | Token[] | void> {
      const iterator = sequence.evaluateWithMetadata(tokens, metadata, options);
      let input: Token | Token[] | void = undefined;
      try {
        for (;;) {
          const { value, done } = await iterator.next(input);
          if (done) return;
          const probabilities = (value as { probabilities?: Map<Token, number> }).probabilities;
          const confidence = (value as { confidence?: number }).confidence;
          // The map is sorted from the most likely token down.
          const alternatives: [Token, number][] = [];
          for (const entry of probabilities ?? []) {
            if (alternatives.length >= top) break;
            alternatives.push(entry);
          }
          queue.push({ token: value.token, logprob: logprobOf(probabilities ? probabilities.get(value.token) : confidence), top: alternatives });
          input = yield value.token;
        }
      } finally {
        await iterator.return();
      }
    };
    Object.defineProperty(sequence, 'evaluate', { value: evaluate, configurable: true, writable: true });
  }

  /** The entries of tokens passed on as text, in order. */
  take(tokens: readonly Token[]): TokenLogprob[] {
    const out: TokenLogprob[] = [];
    for (const token of tokens) {
      let entry = this.queue.shift();
      while (entry && entry.token !== token) entry = this.queue.shift();
      const text = (t: Token) => this.m.detokenize([t], false, this.previous.slice(-8));
      const piece = (t: Token, logprob: number) => {
        const s = text(t);
        return { token: s, logprob, bytes: [...Buffer.from(s, 'utf8')] };
      };
      const self = piece(token, entry?.logprob ?? MIN_LOGPROB);
      out.push({ ...self, top: (entry?.top ?? []).map(([t, p]) => piece(t, logprobOf(p))) });
      this.previous.push(token);
    }
    return out;
  }

  /** Gives the sequence its own `evaluate` back. */
  restore(): void {
    delete (this.sequence as unknown as { evaluate?: unknown }).evaluate;
  }
}

type StopReason = 'eogToken' | 'stopGenerationTrigger' | 'customStopTrigger' | 'maxTokens' | 'abort' | 'functionCalls';

function finishReason(stop: StopReason): RunnerGenerationDone['finishReason'] {
  return stop === 'maxTokens' ? 'length' : stop === 'abort' ? 'cancelled' : 'stop';
}

/**
 * The prompt as the model will evaluate it: `tokens` are exactly the tokens LlamaChat or
 * LlamaCompletion put into the sequence before the first generated one. When the job continues
 * an earlier attempt's text, that text is part of them (its last `resumed` tokens), as the model's
 * response so far for a chat, after the prompt for a completion.
 */
type Prompt = (
  | { kind: 'chat'; history: ChatHistoryItem[]; tokens: Token[]; stopTriggers: readonly LlamaText[]; functions: ChatFunctions | null }
  | { kind: 'completion'; input: Token[]; tokens: Token[] }
) & {
  resumed: number;
  /** Tokens put into the sequence after `tokens` before the first generated one (a forced call's prefix): prompt too. */
  injected: number;
};

function preparePrompt(request: InferenceRequest, model: LlamaModel, wrapper: ChatWrapper, resume: JobResume | undefined): Prompt {
  if (request.input.kind === 'chat') {
    // Rendered and tokenized as LlamaChat does before it evaluates (its context window), with
    // the tools' documentation the chat wrapper adds.
    const functions = chatFunctions(request, wrapper);
    const render = (history: ChatHistoryItem[]) =>
      (functions?.wrapper ?? wrapper).generateContextState({ chatHistory: history, ...(functions ? { availableFunctions: functions.functions, documentFunctionParams: true } : {}) });
    const tokensOf = (history: ChatHistoryItem[]) => render(history).contextText.tokenize(model.tokenizer);
    const history = chatHistory(request.input.messages, resume?.text);
    const state = render(history);
    const tokens = state.contextText.tokenize(model.tokenizer);
    return {
      kind: 'chat',
      history,
      tokens,
      stopTriggers: state.stopGenerationTriggers,
      functions,
      resumed: resume ? tokens.length - tokensOf(chatHistory(request.input.messages)).length : 0,
      injected: functions?.forcedPrefix ? functions.forcedPrefix.tokenize(model.tokenizer, 'trimLeadingSpace').length : 0,
    };
  }
  // Tokenized here as LlamaCompletion would (it takes tokens as they are, then prepends its token).
  const first = beginningToken(model);
  const prompt = model.tokenize(request.input.prompt, false, first !== null ? 'trimLeadingSpace' : undefined);
  // The text continued is tokenized on its own, as it was generated: after the prompt's tokens, never merged with them.
  const soFar = resume ? model.tokenize(resume.text, false, 'trimLeadingSpace') : [];
  const input = [...prompt, ...soFar];
  return { kind: 'completion', input, tokens: first !== null ? [first, ...input] : input, resumed: soFar.length, injected: 0 };
}

/** A job that ends without generating anything. */
const NOTHING_DONE: RunnerGenerationDone = { text: '', finishReason: 'cancelled', promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0, firstTokenMs: 0, totalMs: 0 };

/**
 * Keeps back the text a generation produces again until it has caught up with the text the job
 * already streamed; what follows is new. Null once the text differs from it.
 */
class Replay {
  constructor(private pending: string) {}

  get caughtUp(): boolean {
    return this.pending === '';
  }

  pass(text: string): string | null {
    if (this.caughtUp) return text;
    const n = Math.min(text.length, this.pending.length);
    if (text.slice(0, n) !== this.pending.slice(0, n)) return null;
    this.pending = this.pending.slice(n);
    return text.slice(n);
  }
}


async function generate(req: Extract<RunnerRequest, { type: 'generate' }>): Promise<void> {
  if (!model || !chatWrapper || (!context && !spanServer)) throw new Error('no model is loaded');
  const loadedModel = model;
  const wrapper = chatWrapper;
  if (spanServer && req.request.input.kind === 'chat' && (req.request.tools?.length ?? 0) > 0 && req.request.toolChoice !== 'none') {
    // llama-server is given rendered tokens and samples freely: no function-call grammar, no call parsing.
    send({ type: 'error', id: req.id, code: 'invalid_request', param: 'tools', message: 'tools: function calling is not available on a replica spanning several nodes; call without tools (or with tool_choice "none")' });
    return;
  }
  // A job that continues an earlier attempt's text. When its generation is deterministic, the
  // text is generated again from the prompt and kept back, and only what follows is sent: the
  // result is exactly the uninterrupted one. Evaluating the text after the prompt instead would
  // be quicker but not exact: a text does not always tokenize back into the tokens that made it
  // (a tokenizer may spell a generated word with other pieces), and the model then goes on
  // differently. A sampled generation has no exact result to keep, so it continues the text.
  const replay = req.resume && isDeterministic(req.request) ? new Replay(req.resume.text) : null;
  const prompt = preparePrompt(req.request, loadedModel, wrapper, replay ? undefined : req.resume);
  // A continued text counts against max_tokens.
  const request: InferenceRequest = req.request.maxTokens === undefined ? req.request : { ...req.request, maxTokens: req.request.maxTokens - prompt.resumed };
  const promptTokens = prompt.tokens.length + prompt.injected - prompt.resumed;
  if (request.maxTokens !== undefined && request.maxTokens <= 0) {
    // The text continued had already reached max_tokens: the job ends as it would have.
    send({ type: 'done', id: req.id, result: { text: '', finishReason: 'length', promptTokens, cachedPromptTokens: 0, completionTokens: req.request.maxTokens ?? prompt.resumed, firstTokenMs: 0, totalMs: 0 } });
    return;
  }
  // The exact check, before any generation: prompt + max_tokens within the context of a
  // sequence. Never truncated: LlamaChat and LlamaCompletion would shift the context (drop the
  // start of the prompt) instead of failing. LlamaChat also keeps one token free after the
  // prompt (it compresses a history that fills all but one), hence its shorter prompt limit.
  // A spanning load keeps the same limits: the same request fits, or fails, on either.
  const overflow = contextOverflow({
    kind: prompt.kind,
    contextTokens: contextSize,
    promptTokens: prompt.tokens.length + prompt.injected,
    maxTokens: request.maxTokens,
    promptLimit: prompt.kind === 'chat' ? contextSize - 2 : contextSize - 1,
  });
  if (overflow) {
    send({ type: 'error', id: req.id, code: 'context_length_exceeded', message: overflow });
    return;
  }
  // Registered before anything is awaited, so that a cancel finds the job from now on.
  const abort = new AbortController();
  running.set(req.id, abort);
  // What the request asks of its output, checked against the model before any generation.
  let controls: OutputOptions = {};
  try {
    const refusal = spanServer ? spanningRefusal(request) : null;
    if (refusal) throw refusal;
    if (!spanServer && llama) controls = await outputOptions(request, loadedModel, llama);
    // node-llama-cpp constrains either a function call or the answer, not both (the api refuses the pair too).
    if (controls.grammar && prompt.kind === 'chat' && prompt.functions) throw new InvalidParameter('response_format', 'response_format: a JSON format cannot be combined with tools');
  } catch (e) {
    running.delete(req.id);
    if (!(e instanceof InvalidParameter)) throw e;
    send({ type: 'error', id: req.id, code: 'invalid_request', message: e.message, param: e.param });
    return;
  }
  const slot = abort.signal.aborted ? null : await acquireSlot(prompt.tokens, abort.signal);
  if (!slot) {
    // Cancelled while it waited for a sequence: nothing was generated.
    running.delete(req.id);
    send({ type: 'done', id: req.id, result: NOTHING_DONE });
    return;
  }
  const started = performance.now();
  let result: RunnerGenerationDone;
  let failed = true;
  try {
    let diverged = false;
    // A text generated again and kept back takes its log probabilities with it (a token partly kept back keeps its own).
    const onText = (text: string, logprobs?: TokenLogprob[]) => {
      const fresh = replay ? replay.pass(text) : text;
      if (fresh === null) {
        diverged = true;
        abort.abort();
      } else if (fresh) send({ type: 'chunk', id: req.id, text: fresh, ...(logprobs ? { logprobs } : {}) });
    };
    const options: RunOptions = { signal: abort.signal, started, onText, controls };
    const done = slot.kind === 'local' ? await runLocal(prompt, slot.sequence, wrapper, request, options) : await runSpanning(prompt, slot, loadedModel, request, options);
    failed = false;
    if (done === null) {
      // Cancelled while the sequence was being prepared: nothing was evaluated.
      result = NOTHING_DONE;
    } else {
      if (replay && (diverged || (!replay.caughtUp && done.finishReason !== 'cancelled'))) {
        // Not the text the job streamed (or it ended before it): the job cannot be continued exactly.
        send({ type: 'error', id: req.id, code: 'runner_error', message: 'the text generated again differs from the text the job streamed' });
        return;
      }
      // The text continued counts as many tokens as it tokenizes into, within max_tokens (it may have been generated in fewer).
      const completionTokens = Math.min(done.completionTokens + prompt.resumed, req.request.maxTokens ?? Infinity);
      result = { ...done, completionTokens, promptTokens, cachedPromptTokens: Math.min(done.cachedPromptTokens, promptTokens) };
    }
  } finally {
    running.delete(req.id);
    if (failed) await resetSlot(slot).catch(() => undefined);
    releaseSlot(slot);
  }
  // Sent only once the sequence is free again, so the next job never finds the context full.
  send({ type: 'done', id: req.id, result });
}

type OutputOptions = Partial<Awaited<ReturnType<typeof outputOptions>>>;

interface RunOptions {
  signal: AbortSignal;
  started: number;
  onText: (text: string, logprobs?: TokenLogprob[]) => void;
  /** The request's token bias and grammar (a local sequence only). */
  controls: OutputOptions;
}

/** A generation's result before the job's accounting (promptTokens, a resumed text). */
type Evaluated = Omit<RunnerGenerationDone, 'promptTokens'>;

/** One generation on a local sequence; null when cancelled before anything was evaluated. */
async function runLocal(prompt: Prompt, sequence: LlamaContextSequence, wrapper: ChatWrapper, request: InferenceRequest, options: RunOptions): Promise<Evaluated | null> {
  // What LlamaChat and LlamaCompletion do first: drop what the sequence holds past the
  // prompt's longest cached prefix (they evaluate the last prompt token in any case, to get
  // its logits). Done here, the reuse is measured exactly: what stays is not evaluated again.
  await sequence.adaptStateToTokens(prompt.tokens.slice(0, -1), false);
  const cachedPromptTokens = sequence.nextTokenIndex;
  if (options.signal.aborted) return null;
  return { ...(await run(prompt, sequence, wrapper, request, options)), cachedPromptTokens };
}

/**
 * One generation on a llama-server slot: the prompt's tokens as the single-node path evaluates
 * them (never tokenized again, so no second BOS), the same sampling and limits. LlamaChat and
 * LlamaCompletion stop at an end-of-generation token and at their stop triggers: llama-server
 * stops at the first by itself and is given the triggers that are text.
 */
async function runSpanning(prompt: Prompt, slot: Extract<Slot, { kind: 'span' }>, m: LlamaModel, request: InferenceRequest, options: RunOptions): Promise<Evaluated | null> {
  if (!spanServer) throw new Error('no model is loaded');
  if (options.signal.aborted) return null;
  const sampling = samplingOptions(request);
  const stop = [...(request.stop ?? []), ...(prompt.kind === 'chat' ? textTriggers(prompt.stopTriggers, m) : [])];
  const text = new SpanText(m, stop, options.onText);
  const end = await spanServer.complete(
    {
      slot: slot.index,
      tokens: prompt.tokens,
      maxTokens: completionBudget(contextSize, prompt.tokens.length, request.maxTokens),
      stop,
      // Left out, node-llama-cpp's defaults (what the single-node path samples with).
      temperature: sampling.temperature ?? 0,
      topP: sampling.topP ?? 0.95,
      topK: sampling.topK ?? 40,
      seed: sampling.seed,
    },
    { signal: options.signal, onPartial: (p) => text.partial(p) },
  );
  if (end.promptTokens !== prompt.tokens.length) throw new Error(`llama-server evaluated ${end.promptTokens} prompt tokens, not the ${prompt.tokens.length} it was given`);
  slot.held = prompt.tokens;
  return {
    text: text.finish(end),
    finishReason: end.stopType === 'limit' ? 'length' : end.stopType === 'none' ? 'cancelled' : 'stop',
    completionTokens: end.completionTokens,
    cachedPromptTokens: end.cachedTokens,
    firstTokenMs: end.firstTokenMs,
    totalMs: performance.now() - options.started,
  };
}

/**
 * A chat wrapper's stop triggers that llama-server can match: the plain-text ones. A trigger
 * made of special tokens is an end-of-generation token (llama-server stops at those itself) or
 * never shows in the text it streams; such a trigger that is not one is refused rather than
 * silently ignored.
 */
function textTriggers(triggers: readonly LlamaText[], m: LlamaModel): string[] {
  const out: string[] = [];
  for (const trigger of triggers) {
    if (trigger.values.every((v) => typeof v === 'string')) {
      out.push(trigger.values.join(''));
      continue;
    }
    const tokens = trigger.tokenize(m.tokenizer);
    if (tokens.length === 1 && m.isEogToken(tokens[0])) continue;
    throw new Error(`the chat template stops at ${JSON.stringify(trigger.toJSON())}, which a spanning replica cannot match`);
  }
  return out;
}

/** Runs one generation on a sequence that holds the prompt's cached prefix (and nothing past it). */
async function run(
  prompt: Prompt,
  sequence: LlamaContextSequence,
  wrapper: ChatWrapper,
  request: InferenceRequest,
  { signal, started, onText, controls }: RunOptions,
): Promise<Omit<RunnerGenerationDone, 'promptTokens' | 'cachedPromptTokens'>> {
  let firstTokenMs = -1;
  let completionTokens = 0;
  const maxTokens = completionBudget(contextSize, prompt.tokens.length, request.maxTokens);
  // Log probabilities: recorded as the tokens are sampled, handed on with the text they make.
  const recorder = request.logprobs ? new ProbabilityRecorder(sequence, sequence.model, request.logprobs.top) : null;
  let pending: TokenLogprob[] = [];
  const options = {
    maxTokens,
    ...samplingOptions(request),
    repeatPenalty: penaltyOptions(request, maxTokens),
    ...controls,
    customStopTriggers: request.stop,
    signal,
    // An abort ends the generation between two evaluations: the sequence keeps exactly the
    // tokens it evaluated, a consistent state for the next job's reuse.
    stopOnAbortSignal: true,
    onToken: (tokens: Token[]) => {
      if (firstTokenMs < 0) firstTokenMs = performance.now() - started;
      completionTokens += tokens.length;
      if (recorder) pending.push(...recorder.take(tokens));
    },
    onTextChunk: (text: string) => {
      if (!recorder) return onText(text);
      // An empty piece carries nothing: its tokens' entries go with the next text.
      if (!text) return;
      const logprobs = pending;
      pending = [];
      onText(text, logprobs);
    },
  };
  let text: string;
  let stop: StopReason;
  let calls: ToolCall[] = [];
  try {
  if (prompt.kind === 'chat') {
    const fn = prompt.functions;
    const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: fn?.wrapper ?? wrapper, autoDisposeSequence: false });
    try {
      const promptLength = prompt.tokens.length + prompt.injected;
      const onFunctionCallParamsChunk = () => {
        if (firstTokenMs < 0) firstTokenMs = performance.now() - started;
      };
      const res = await chat.generateResponse(prompt.history, fn ? { ...options, grammar: undefined, functions: fn.functions, documentFunctionParams: true, maxParallelFunctionCalls: 1, onFunctionCallParamsChunk } : options);
      // The check above makes a shift impossible; should one happen anyway, fail loudly.
      if (res.lastEvaluation.contextShiftMetadata != null) throw new Error('the chat history was shifted out of the context window');
      text = res.response;
      stop = res.metadata.stopReason;
      if (res.functionCalls?.length) calls = toolCalls(res.functionCalls);
      // A call's tokens (whole or cut by max_tokens) are generated under its grammar and not
      // reported as text tokens: the sequence holds them, all but the last one sampled.
      if (fn && stop !== 'abort') completionTokens = Math.max(completionTokens, sequence.nextTokenIndex - promptLength + 1);
    } finally {
      chat.dispose();
    }
  } else {
    const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
    try {
      // A context shift of one token keeps the whole prompt (the check leaves that room), and
      // with shifts disabled the generation ends at the end of the context at the latest.
      const res = await completion.generateCompletionWithMeta(prompt.input, { ...options, contextShiftSize: 1, disableContextShift: true });
      text = res.response;
      stop = res.metadata.stopReason;
    } finally {
      completion.dispose();
    }
  }
  } finally {
    recorder?.restore();
  }
  if (calls.length > 0) {
    return { text, finishReason: 'tool_calls', toolCalls: calls, completionTokens, firstTokenMs: Math.max(0, firstTokenMs), totalMs: performance.now() - started };
  }
  return { text, finishReason: finishReason(stop), completionTokens, firstTokenMs: Math.max(0, firstTokenMs), totalMs: performance.now() - started };
}


process.on('message', (msg: RunnerRequest) => {
  handle(msg).catch((e: unknown) => {
    const id = 'id' in msg ? msg.id : null;
    send({ type: 'error', id, code: 'runner_error', message: e instanceof Error ? e.message : String(e) });
  });
});
process.on('disconnect', leave);
// The channel's own errors (a broken pipe to a dead agent) end the runner the same way.
process.on('error', leave);
