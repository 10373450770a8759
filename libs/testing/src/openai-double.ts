import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

/**
 * An OpenAI-compatible server for tests of Gridline's external endpoints: a real HTTP server on
 * 127.0.0.1 that answers as api.openai.com does (shapes, status codes, SSE framing), and that a
 * test can make misbehave (rate-limit, fail, hang, stream slowly, drop mid-stream) to see what
 * Gridline's proxy does with it. Node built-ins only, so any test tier can start one.
 */

export interface OpenAiDoubleOptions {
  /** The bearer key it accepts; any other key (or none) gets 401 in OpenAI's error shape. */
  apiKey: string;
  /** The model ids it lists at GET /v1/models and serves; another model gets 404 `model_not_found`. */
  models: string[];
}

/**
 * What a request gets. `script` queues these for the next completion requests; `setDefault` sets
 * the one used when the queue is empty (and the one /v1/models follows).
 */
export type DoubleBehaviour =
  /** Answers "Hello from the double." (one word a chunk when streaming). */
  | { kind: 'normal' }
  /** 429 with a Retry-After header and OpenAI's `rate_limit_exceeded` error body. */
  | { kind: 'rate_limited'; retryAfterSeconds: number }
  /** That status with OpenAI's error body. */
  | { kind: 'error'; status: number }
  /** 503 to everything, /v1/models included, before the key is looked at: an upstream that is down. */
  | { kind: 'down' }
  /** Reads the request and never answers, until the client goes away or `close()`. */
  | { kind: 'hang' }
  /** Streams `chunks` content chunks `chunkDelayMs` apart; a non-streaming request gets the whole answer after chunks × delay. */
  | { kind: 'slow_stream'; chunkDelayMs: number; chunks: number }
  /** Streams the role chunk and `afterChunks` content chunks, then destroys the socket; a non-streaming request's socket is destroyed unanswered. */
  | { kind: 'fail_mid_stream'; afterChunks: number };

export type DoubleBehaviourKind = DoubleBehaviour['kind'];

/** One request the double received, updated in place while it is answered. */
export interface DoubleRequest {
  method: string;
  /** The path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body as received. */
  rawBody: string;
  /** The JSON body when it is an object; null when empty, not JSON, or not an object. */
  body: Record<string, unknown> | null;
  /** The behaviour it was given; null when it was refused first (404, 401, 400). */
  behaviour: DoubleBehaviourKind | null;
  /** The HTTP status sent; null while none has been (hang, or a socket destroyed before headers). */
  status: number | null;
  /** The client went away before the answer ended (not set by the double's own `fail_mid_stream` or `close()`). */
  aborted: boolean;
  /** The answer ended: sent in full, aborted by the client, or cut by the double. */
  settled: boolean;
}

export interface OpenAiDouble {
  /** Base URL without `/v1`, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Every request received, every path, in order of arrival. */
  requests: DoubleRequest[];
  /** Queues behaviours for the next completion requests (chat and legacy), one each; /v1/models and refused requests do not take from it. */
  script(...behaviours: DoubleBehaviour[]): void;
  /** The behaviour from now on once the queue is empty (`normal` at start). */
  setDefault(b: DoubleBehaviour): void;
  /** Resolves once `count` requests have arrived (rejects after `timeoutMs`, naming what did arrive). */
  waitForRequests(count: number, timeoutMs?: number): Promise<DoubleRequest[]>;
  /** Resolves once every request received so far has settled (rejects after `timeoutMs`). */
  idle(timeoutMs?: number): Promise<void>;
  /** Destroys open connections (hanging ones included) and stops listening. */
  close(): Promise<void>;
}

export const DOUBLE_ANSWER = 'Hello from the double.';
const ANSWER_WORDS = DOUBLE_ANSWER.split(' ');
const MODELS_CREATED = 1_700_000_000;

interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

function openAiError(message: string, type: string, code: string | null, param: string | null = null): OpenAiErrorBody {
  return { error: { message, type, param, code } };
}

/** Whitespace-separated words: the double's deterministic stand-in for a tokenizer. */
function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(textOf).join(' ');
  if (value && typeof value === 'object' && 'text' in value && typeof value.text === 'string') return value.text;
  return '';
}

/** Words of every message's content (string or text parts), or of the legacy prompt (string or strings). */
function promptTokens(path: string, body: Record<string, unknown>): number {
  if (path === '/v1/completions') return countWords(textOf(body.prompt));
  const messages = Array.isArray(body.messages) ? body.messages : [];
  return messages.reduce<number>((n, m: unknown) => n + countWords(m && typeof m === 'object' && 'content' in m ? textOf(m.content) : ''), 0);
}

/** The answer's pieces, one word a piece with its leading space, cycling the answer when more are asked for. */
function answerPieces(count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? '' : ' ') + ANSWER_WORDS[i % ANSWER_WORDS.length]);
}

function maxTokens(body: Record<string, unknown>): number | null {
  const v = body.max_completion_tokens ?? body.max_tokens;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
}

function includeUsage(body: Record<string, unknown>): boolean {
  const o = body.stream_options;
  return !!o && typeof o === 'object' && 'include_usage' in o && o.include_usage === true;
}

function lowerCasedHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function parseObject(raw: string): Record<string, unknown> | null | 'invalid' {
  if (raw.trim() === '') return null;
  try {
    const v: unknown = JSON.parse(raw);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return 'invalid';
  }
}

const COMPLETION_PATHS = new Set(['/v1/chat/completions', '/v1/completions']);

class Double implements OpenAiDouble {
  readonly requests: DoubleRequest[] = [];
  private queue: DoubleBehaviour[] = [];
  private fallback: DoubleBehaviour = { kind: 'normal' };
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters = new Set<() => void>();
  private closing = false;
  private seq = 0;

  constructor(
    readonly url: string,
    private readonly server: Server,
    private readonly options: OpenAiDoubleOptions,
  ) {
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.receive(req, res));
  }

  script(...behaviours: DoubleBehaviour[]): void {
    this.queue.push(...behaviours);
  }

  setDefault(b: DoubleBehaviour): void {
    this.fallback = b;
  }

  waitForRequests(count: number, timeoutMs = 5_000): Promise<DoubleRequest[]> {
    return this.until(() => this.requests.length >= count, timeoutMs, `${count} request(s)`).then(() => this.requests.slice(0, count));
  }

  idle(timeoutMs = 5_000): Promise<void> {
    return this.until(() => this.requests.every((r) => r.settled), timeoutMs, 'every request settled');
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // A hanging answer keeps its connection open forever, and fetch keeps idle ones alive: close() alone would wait on both.
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const seen = this.requests.map((r) => `${r.method} ${r.path} → ${r.status ?? '-'} ${r.behaviour ?? ''}${r.aborted ? ' aborted' : ''}${r.settled ? '' : ' open'}`);
        reject(new Error(`OpenAI double: no ${what} within ${timeoutMs} ms; received:\n${seen.join('\n') || '(none)'}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  private changed(): void {
    for (const w of [...this.waiters]) w();
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const parsed = parseObject(rawBody);
      const record: DoubleRequest = {
        method: req.method ?? 'GET',
        path: (req.url ?? '/').split('?')[0],
        headers: lowerCasedHeaders(req),
        rawBody,
        body: parsed === 'invalid' ? null : parsed,
        behaviour: null,
        status: null,
        aborted: false,
        settled: false,
      };
      this.requests.push(record);
      // The response's `close` before it finished is the client going away (IncomingMessage's own `close` fires once the body is read).
      res.once('close', () => {
        if (!res.writableFinished && !record.settled && !this.closing) record.aborted = true;
        record.settled = true;
        this.changed();
      });
      this.changed();
      this.route(record, parsed, res);
    });
  }

  private route(record: DoubleRequest, parsed: Record<string, unknown> | null | 'invalid', res: ServerResponse): void {
    const { method, path } = record;
    const isModels = method === 'GET' && path === '/v1/models';
    const isCompletion = method === 'POST' && COMPLETION_PATHS.has(path);
    if (!isModels && !isCompletion) {
      return this.json(record, res, 404, openAiError(`Invalid URL (${method} ${path})`, 'invalid_request_error', null));
    }
    // A dead or wedged upstream never gets as far as checking the key.
    const next = isCompletion ? (this.queue[0] ?? this.fallback) : this.fallback;
    if (next.kind === 'down' || next.kind === 'hang') {
      if (isCompletion && this.queue.length > 0) this.queue.shift();
      record.behaviour = next.kind;
      if (next.kind === 'down') this.json(record, res, 503, openAiError('The server is overloaded or not ready yet.', 'server_error', null));
      return;
    }
    const auth = record.headers.authorization ?? '';
    if (auth !== `Bearer ${this.options.apiKey}`) {
      const shown = auth.replace(/^Bearer\s+/i, '');
      const message = shown
        ? `Incorrect API key provided: ${shown.slice(0, 3)}***${shown.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`
        : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
      return this.json(record, res, 401, openAiError(message, 'invalid_request_error', 'invalid_api_key'));
    }
    if (isModels) return this.models(record, res, next);
    if (parsed === 'invalid' || parsed === null) {
      return this.json(record, res, 400, openAiError('We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)', 'invalid_request_error', null));
    }
    const refusal = this.validate(path, parsed);
    if (refusal) return this.json(record, res, refusal.status, refusal.body);
    const behaviour = this.queue.shift() ?? this.fallback;
    record.behaviour = behaviour.kind;
    this.complete(record, res, parsed, behaviour);
  }

  private validate(path: string, body: Record<string, unknown>): { status: number; body: OpenAiErrorBody } | null {
    if (typeof body.model !== 'string' || body.model === '') {
      return { status: 400, body: openAiError('you must provide a model parameter', 'invalid_request_error', null) };
    }
    if (!this.options.models.includes(body.model)) {
      return { status: 404, body: openAiError(`The model \`${body.model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found') };
    }
    if (path === '/v1/chat/completions' && (!Array.isArray(body.messages) || body.messages.length === 0)) {
      return { status: 400, body: openAiError("Missing required parameter: 'messages'.", 'invalid_request_error', 'missing_required_parameter', 'messages') };
    }
    if (path === '/v1/completions' && body.prompt === undefined) {
      return { status: 400, body: openAiError("Missing required parameter: 'prompt'.", 'invalid_request_error', 'missing_required_parameter', 'prompt') };
    }
    return null;
  }

  private models(record: DoubleRequest, res: ServerResponse, b: DoubleBehaviour): void {
    record.behaviour = b.kind;
    if (b.kind === 'rate_limited' || b.kind === 'error') return this.refuse(record, res, b);
    this.json(record, res, 200, {
      object: 'list',
      data: this.options.models.map((id) => ({ id, object: 'model', created: MODELS_CREATED, owned_by: 'double' })),
    });
  }

  private refuse(record: DoubleRequest, res: ServerResponse, b: Extract<DoubleBehaviour, { kind: 'rate_limited' | 'error' }>): void {
    if (b.kind === 'rate_limited') {
      res.setHeader('retry-after', String(b.retryAfterSeconds));
      return this.json(record, res, 429, openAiError('Rate limit reached for requests. Please try again later.', 'requests', 'rate_limit_exceeded'));
    }
    const type = b.status >= 500 ? 'server_error' : 'invalid_request_error';
    this.json(record, res, b.status, openAiError(`The double was told to answer ${b.status}.`, type, null));
  }

  private complete(record: DoubleRequest, res: ServerResponse, body: Record<string, unknown>, b: DoubleBehaviour): void {
    switch (b.kind) {
      case 'rate_limited':
      case 'error':
        return this.refuse(record, res, b);
      case 'down':
      case 'hang':
        return; // handled before authentication
      case 'normal':
      case 'slow_stream':
      case 'fail_mid_stream': {
        const wanted = b.kind === 'slow_stream' ? b.chunks : b.kind === 'fail_mid_stream' ? Math.max(b.afterChunks + 1, ANSWER_WORDS.length) : ANSWER_WORDS.length;
        const limit = maxTokens(body);
        const truncated = limit !== null && limit < wanted;
        const pieces = answerPieces(truncated ? limit : wanted);
        const answer: Answer = {
          id: `${record.path === '/v1/completions' ? 'cmpl' : 'chatcmpl'}-double${++this.seq}`,
          chat: record.path === '/v1/chat/completions',
          model: body.model as string,
          created: Math.floor(Date.now() / 1000),
          pieces,
          finishReason: truncated ? 'length' : 'stop',
          usage: { prompt_tokens: promptTokens(record.path, body), completion_tokens: pieces.length, total_tokens: 0 },
        };
        answer.usage.total_tokens = answer.usage.prompt_tokens + answer.usage.completion_tokens;
        if (body.stream === true) return this.stream(record, res, answer, includeUsage(body), b);
        if (b.kind === 'fail_mid_stream') return this.cut(record, res);
        const send = (): void => this.json(record, res, 200, wholeAnswer(answer));
        if (b.kind === 'slow_stream') return this.later(b.chunkDelayMs * b.chunks, send);
        return send();
      }
      default: {
        const never: never = b;
        throw new Error(`unknown behaviour ${JSON.stringify(never)}`);
      }
    }
  }

  private stream(record: DoubleRequest, res: ServerResponse, a: Answer, usage: boolean, b: DoubleBehaviour): void {
    record.status = 200;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': `req_${a.id}` });
    const events: unknown[] = [];
    // OpenAI sends `usage: null` on every chunk but the last when the client asked for usage.
    const u = usage ? { usage: null } : {};
    if (a.chat) events.push(chunk(a, { role: 'assistant', content: '' }, null, u));
    for (const p of a.pieces) events.push(chunk(a, a.chat ? { content: p } : p, null, u));
    events.push(chunk(a, a.chat ? {} : '', a.finishReason, u));
    if (usage) events.push({ id: a.id, object: a.chat ? 'chat.completion.chunk' : 'text_completion', created: a.created, model: a.model, choices: [], usage: a.usage });
    const frames = [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), 'data: [DONE]\n\n'];

    if (b.kind === 'fail_mid_stream') {
      const keep = (a.chat ? 1 : 0) + Math.min(b.afterChunks, a.pieces.length);
      // Destroy once the kept chunks are on the wire, so the client reads them before the connection drops.
      res.flushHeaders();
      res.write(frames.slice(0, keep).join(''), () => this.cut(record, res));
      return;
    }
    if (b.kind !== 'slow_stream') {
      res.end(frames.join(''));
      return;
    }
    // The role chunk at once, then each content chunk after the delay, then the rest with the last one.
    const first = a.chat ? 1 : 0;
    res.write(frames.slice(0, first).join(''));
    const step = (i: number): void => {
      if (res.destroyed) return;
      if (i >= a.pieces.length - 1) {
        res.end(frames.slice(first + i).join(''));
        return;
      }
      res.write(frames[first + i]);
      this.later(b.chunkDelayMs, () => step(i + 1));
    };
    this.later(b.chunkDelayMs, () => step(0));
  }

  /** Ends the connection without finishing the answer, as a crashed upstream does; not the client aborting. */
  private cut(record: DoubleRequest, res: ServerResponse): void {
    record.settled = true;
    this.changed();
    res.socket?.destroy();
  }

  private json(record: DoubleRequest, res: ServerResponse, status: number, body: unknown): void {
    record.status = status;
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_double${++this.seq}` });
    res.end(JSON.stringify(body));
  }
}

interface Answer {
  id: string;
  chat: boolean;
  model: string;
  created: number;
  pieces: string[];
  finishReason: 'stop' | 'length';
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

function chunk(a: Answer, delta: Record<string, unknown> | string, finishReason: Answer['finishReason'] | null, extra: Record<string, unknown>): Record<string, unknown> {
  const choice = typeof delta === 'string' ? { text: delta, index: 0, logprobs: null, finish_reason: finishReason } : { index: 0, delta, logprobs: null, finish_reason: finishReason };
  return { id: a.id, object: a.chat ? 'chat.completion.chunk' : 'text_completion', created: a.created, model: a.model, choices: [choice], ...extra };
}

function wholeAnswer(a: Answer): Record<string, unknown> {
  const text = a.pieces.join('');
  const choice = a.chat
    ? { index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: a.finishReason }
    : { text, index: 0, logprobs: null, finish_reason: a.finishReason };
  return { id: a.id, object: a.chat ? 'chat.completion' : 'text_completion', created: a.created, model: a.model, choices: [choice], usage: a.usage };
}

/**
 * Starts a double on 127.0.0.1 and a free port. Close it in afterAll/afterEach. It listens on port 0
 * rather than asking `freePort()` first: the kernel's choice cannot be taken by another process in between.
 */
export async function startOpenAiDouble(options: OpenAiDoubleOptions): Promise<OpenAiDouble> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return new Double(`http://127.0.0.1:${port}`, server, options);
}
