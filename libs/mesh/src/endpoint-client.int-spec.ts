import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { AuthError, DEFAULT_API_VERSION, verifySignedRequest } from '@gridline/auth';
import { InferenceRequest, chatRequest } from '@gridline/contract';
import { DOUBLE_ANSWER, OpenAiDouble, startOpenAiDouble } from '@gridline/testing';
import { EndpointClient, EndpointTarget } from './endpoint-client';
import { EndpointFailure, EndpointFailureReason } from './endpoint-failure';
import { BACKENDAI_API_VERSION, EndpointKind, MESH_PROTOCOL } from './endpoint-spec';
import { ChunkPieces } from './openai-wire';

const API_KEY = 'sk-double-mesh';
const MODEL = 'double-mini';
const ACCESS_KEY = 'AKIAMESHTESTPEER0001';
const SECRET_KEY = 'peer-secret-key-0123456789-abcdefghijklmnop';

const hello: InferenceRequest = chatRequest([{ role: 'user', content: 'Say hello to me' }]);

/** Every chunk of a stream, or the error that ended it. */
async function drain(client: EndpointClient, signal: AbortSignal = new AbortController().signal, request = hello, model = MODEL): Promise<{ chunks: ChunkPieces[]; error: unknown }> {
  const chunks: ChunkPieces[] = [];
  try {
    for await (const c of client.stream(request, model, signal)) chunks.push(c);
    return { chunks, error: null };
  } catch (error) {
    return { chunks, error };
  }
}

/** The failure a promise rejects with (failing the test when it resolves, or rejects with something else). */
async function failureOf(p: Promise<unknown>): Promise<EndpointFailure> {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof EndpointFailure)) throw new Error(`expected an EndpointFailure, got ${String(error)}`);
  return error;
}

function expectFailure(error: unknown, reason: EndpointFailureReason): EndpointFailure {
  expect(error).toBeInstanceOf(EndpointFailure);
  const failure = error as EndpointFailure;
  expect(failure.reason).toBe(reason);
  return failure;
}

describe('EndpointClient with an OpenAI-compatible server', () => {
  let double: OpenAiDouble;
  const client = (over: Partial<EndpointTarget> = {}) => new EndpointClient({ kind: 'openai', url: double.url, credentials: { apiKey: API_KEY }, timeoutMs: 5_000, ...over });

  beforeEach(async () => {
    double = await startOpenAiDouble({ apiKey: API_KEY, models: [MODEL, 'double-large'] });
  });
  afterEach(() => double.close());

  it('lists the models with the bearer key', async () => {
    expect(await client().listModels()).toEqual([MODEL, 'double-large']);
    expect(double.requests[0]).toEqual(expect.objectContaining({ method: 'GET', path: '/v1/models', status: 200 }));
    expect(double.requests[0].headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it('shakes hands by listing the models, with no version', async () => {
    expect(await client().handshake()).toEqual({ version: null, models: [MODEL, 'double-large'] });
  });

  it('streams an answer whose pieces join to the text, and reads the usage chunk', async () => {
    const { chunks, error } = await drain(client());
    expect(error).toBeNull();
    expect(chunks.map((c) => c.text).join('')).toBe(DOUBLE_ANSWER);
    expect(chunks.map((c) => c.finishReason).filter(Boolean)).toEqual(['stop']);
    expect(chunks.at(-1)?.usage).toEqual({ promptTokens: 4, completionTokens: 4, cachedPromptTokens: null });
    const [sent] = double.requests;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.body).toEqual(expect.objectContaining({ model: MODEL, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Say hello to me' }] }));
    expect(sent.headers['content-type']).toBe('application/json');
  });

  it('streams a legacy completion from /v1/completions', async () => {
    const { chunks, error } = await drain(client(), undefined, { input: { kind: 'completion', prompt: 'Once upon' }, sampling: {} });
    expect(error).toBeNull();
    expect(chunks.map((c) => c.text).join('')).toBe(DOUBLE_ANSWER);
    expect(double.requests[0].path).toBe('/v1/completions');
  });

  it('reads a refused key as credential_refused, with the remote’s message and code', async () => {
    const failure = await failureOf(client({ credentials: { apiKey: 'sk-wrong-key-9999' } }).listModels());
    expect(failure.reason).toBe('credential_refused');
    expect(failure.details).toEqual({ status: 401, remoteCode: 'invalid_api_key' });
    expect(failure.message).toContain('Incorrect API key provided');
    const { error } = await drain(client({ credentials: { apiKey: 'sk-wrong-key-9999' } }));
    expectFailure(error, 'credential_refused');
  });

  it('reads 429 as rate_limited with the Retry-After', async () => {
    double.script({ kind: 'rate_limited', retryAfterSeconds: 7 });
    const { chunks, error } = await drain(client());
    expect(chunks).toEqual([]);
    expect(expectFailure(error, 'rate_limited').details).toEqual({ status: 429, retryAfterSeconds: 7, remoteCode: 'rate_limit_exceeded', remoteMessage: 'Rate limit reached for requests. Please try again later.' });
  });

  it('reads 5xx as server_error, and another 4xx as client_error', async () => {
    double.script({ kind: 'error', status: 503 }, { kind: 'error', status: 400 });
    expect(expectFailure((await drain(client())).error, 'server_error').details.status).toBe(503);
    expect(expectFailure((await drain(client())).error, 'client_error').details.status).toBe(400);
    expectFailure((await drain(client(), undefined, hello, 'no-such-model')).error, 'client_error');
  });

  it('gives up on an endpoint that does not answer within its timeout, and hangs up on it', async () => {
    double.script({ kind: 'hang' });
    const { error } = await drain(client({ timeoutMs: 300 }));
    expect(expectFailure(error, 'timeout').message).toContain(new URL(double.url).origin);
    await double.idle();
    expect(double.requests[0]).toEqual(expect.objectContaining({ behaviour: 'hang', aborted: true }));
  });

  it('times out a handshake with an endpoint that does not answer', async () => {
    double.setDefault({ kind: 'hang' });
    expect((await failureOf(client({ timeoutMs: 300 }).handshake())).reason).toBe('timeout');
  });

  it('does not cut a stream that began in time but lasts longer than the timeout', async () => {
    double.script({ kind: 'slow_stream', chunkDelayMs: 150, chunks: 6 });
    const { chunks, error } = await drain(client({ timeoutMs: 300 }));
    expect(error).toBeNull();
    expect(chunks.map((c) => c.text).join('')).toBe('Hello from the double. Hello from');
  });

  it('stops the remote when the caller aborts mid-stream, and throws the abort', async () => {
    double.script({ kind: 'slow_stream', chunkDelayMs: 100, chunks: 20 });
    const abort = new AbortController();
    const chunks: ChunkPieces[] = [];
    let error: unknown = null;
    try {
      for await (const c of client().stream(hello, MODEL, abort.signal)) {
        chunks.push(c);
        if (c.text !== '') abort.abort(new Error('the client went away'));
      }
    } catch (e) {
      error = e;
    }
    expect(error).not.toBeInstanceOf(EndpointFailure);
    expect(abort.signal.aborted).toBe(true);
    expect(chunks.map((c) => c.text).join('')).toBe('Hello');
    await double.idle();
    expect(double.requests[0]).toEqual(expect.objectContaining({ behaviour: 'slow_stream', aborted: true }));
  });

  it('throws the caller’s abort before the answer begins, too', async () => {
    double.script({ kind: 'hang' });
    const abort = new AbortController();
    const reason = new Error('cancelled by the client');
    setTimeout(() => abort.abort(reason), 100);
    const { error } = await drain(client(), abort.signal);
    expect(error).toBe(reason);
    await double.idle();
    expect(double.requests[0].aborted).toBe(true);
  });

  it('reads a stream that breaks as unreachable, after the chunks that came', async () => {
    double.script({ kind: 'fail_mid_stream', afterChunks: 2 });
    const { chunks, error } = await drain(client());
    expect(chunks.map((c) => c.text).join('')).toBe('Hello from');
    expect(expectFailure(error, 'unreachable').message).toContain('stream broke');
  });

  it('times out an answer whose headers came but whose body did not', async () => {
    // Headers at once, then a body that stops part way (a models list) or never starts (a stream).
    const stalling = createServer((req, res) => {
      req.resume();
      const stream = req.url === '/v1/chat/completions';
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
      if (stream) res.flushHeaders();
      else res.write('{"object":"list","data":[');
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    try {
      const stalled = client({ url: `http://127.0.0.1:${(stalling.address() as AddressInfo).port}`, timeoutMs: 300 });
      expect((await failureOf(stalled.listModels())).reason).toBe('timeout');
      expectFailure((await drain(stalled)).error, 'timeout');
    } finally {
      stalling.closeAllConnections();
      await new Promise((resolve) => stalling.close(resolve));
    }
  });

  it('reads a port nobody listens on as unreachable', async () => {
    const url = double.url;
    await double.close();
    const failure = await failureOf(new EndpointClient({ kind: 'openai', url, credentials: { apiKey: API_KEY }, timeoutMs: 5_000 }).listModels());
    expect(failure.reason).toBe('unreachable');
    expect(failure.message).toContain('ECONNREFUSED');
  });
});

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  /** What the verifier said: null when the signature was good, or the request was not checked. */
  refusal: string | null;
}

interface PeerOptions {
  /** `whoami`'s body (a valid peer's by default). */
  whoami?: unknown;
  /** What `GET /` answers, unsigned. */
  root?: { status: number; body: unknown };
}

/** A peer that verifies every request but `GET /` with libs/auth's verifier, as Gridline's api does. */
class SignedPeer {
  readonly received: Received[] = [];
  private readonly seen = new Set<string>();
  readonly server: Server;
  url = '';

  constructor(private readonly options: PeerOptions) {
    this.server = createServer((req, res) => void this.answer(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The scheme signs no body: read it to the end and leave it.
    await new Promise((resolve) => req.resume().once('end', resolve));
    const record: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, refusal: null };
    this.received.push(record);
    const send = (status: number, body: unknown, type = 'application/json'): void => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/') {
      const root = this.options.root ?? { status: 404, body: { title: 'Not Found', status: 404 } };
      return send(root.status, root.body);
    }
    try {
      await verifySignedRequest(
        { method: record.method, pathAndQuery: record.url, header: (name) => (Array.isArray(req.headers[name]) ? undefined : (req.headers[name] as string | undefined)) },
        {
          lookup: (accessKey) => Promise.resolve(accessKey === ACCESS_KEY ? { secretKey: SECRET_KEY, principal: accessKey } : null),
          markSeen: (signature) => Promise.resolve(!this.seen.has(signature) && !!this.seen.add(signature)),
          now: () => Date.now(),
        },
      );
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      record.refusal = e.code;
      return send(e.status, { type: 'about:blank', title: e.title, status: e.status, detail: e.message, code: e.code }, 'application/problem+json');
    }
    if (req.method === 'GET' && req.url === '/v1/models') return send(200, { object: 'list', data: [{ id: 'peer-model', object: 'model' }, { id: 'peer-large', object: 'model' }] });
    if (req.method === 'GET' && req.url === '/api/v1/whoami') {
      return send(200, this.options.whoami ?? { principal: { kind: 'keypair', accessKey: ACCESS_KEY }, server: { product: 'gridline', version: '0.1.0', meshProtocol: MESH_PROTOCOL } });
    }
    if (req.method === 'POST' && req.url === '/v1/chat/completions') {
      const chunk = (delta: Record<string, unknown>, finish: string | null) => ({ object: 'chat.completion.chunk', model: 'peer-model', choices: [{ index: 0, delta, finish_reason: finish }] });
      const events: unknown[] = [chunk({ role: 'assistant', content: '' }, null), chunk({ content: 'Hi' }, null), chunk({ content: ' peer' }, null), chunk({}, 'stop')];
      events.push({ object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } });
      return send(200, [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), 'data: [DONE]\n\n'].join(''), 'text/event-stream');
    }
    send(404, { title: 'Not Found', status: 404 });
  }
}

describe('EndpointClient with a keypair-signed endpoint', () => {
  let peer: SignedPeer | undefined;
  const start = async (options: PeerOptions = {}) => (peer = await new SignedPeer(options).start());
  const client = (p: SignedPeer, kind: EndpointKind, secretKey = SECRET_KEY) => new EndpointClient({ kind, url: p.url, credentials: { accessKey: ACCESS_KEY, secretKey }, timeoutMs: 5_000 });

  afterEach(async () => {
    await peer?.close();
    peer = undefined;
  });

  it('shakes hands with a peer Gridline: whoami and models, signed with Gridline’s API version', async () => {
    const p = await start();
    expect(await client(p, 'gridline').handshake()).toEqual({ version: '0.1.0', models: ['peer-model', 'peer-large'] });
    expect(p.received.map((r) => [r.method, r.url, r.refusal])).toEqual([
      ['GET', '/api/v1/whoami', null],
      ['GET', '/v1/models', null],
    ]);
    for (const r of p.received) {
      expect(r.headers['x-backendai-version']).toBe(DEFAULT_API_VERSION);
      expect(r.headers['x-backendai-version']).toMatch(/^v\d+\.\d{8}$/);
      expect(r.headers.authorization).toMatch(new RegExp(`^BackendAI signMethod=HMAC-SHA256, credential=${ACCESS_KEY}:[0-9a-f]{64}$`));
    }
  });

  it('reads a peer’s refusal of a wrong secret as credential_refused', async () => {
    const p = await start();
    const failure = await failureOf(client(p, 'gridline', 'not-the-secret').handshake());
    expect(failure.reason).toBe('credential_refused');
    expect(failure.details).toEqual({ status: 401, remoteCode: 'signature_mismatch' });
    expect(failure.message).not.toContain('not-the-secret');
    expect(p.received.map((r) => r.refusal)).toEqual(['signature_mismatch']);
  });

  it.each([
    ['names no server', { principal: { kind: 'keypair' } }],
    ['is another product', { server: { product: 'other', version: '1.0', meshProtocol: MESH_PROTOCOL } }],
    ['speaks another mesh protocol', { server: { product: 'gridline', version: '9.0.0', meshProtocol: MESH_PROTOCOL + 1 } }],
  ])('refuses a peer whose whoami %s as protocol', async (_what, whoami) => {
    const p = await start({ whoami });
    expect((await failureOf(client(p, 'gridline').handshake())).reason).toBe('protocol');
  });

  it('streams from a peer with a signed POST that carries its content type once', async () => {
    const p = await start();
    const { chunks, error } = await drain(client(p, 'gridline'), undefined, hello, 'peer-model');
    expect(error).toBeNull();
    expect(chunks.map((c) => c.text).join('')).toBe('Hi peer');
    expect(chunks.at(-1)?.usage).toEqual({ promptTokens: 5, completionTokens: 2, cachedPromptTokens: null });
    const [post] = p.received;
    expect(post).toEqual(expect.objectContaining({ method: 'POST', url: '/v1/chat/completions', refusal: null }));
    expect(post.rawHeaders.filter((_, i) => i % 2 === 0 && post.rawHeaders[i].toLowerCase() === 'content-type')).toHaveLength(1);
    expect(post.headers['content-type']).toBe('application/json');
  });

  it('shakes hands with a Backend.AI cluster: its versions from an unsigned root, models signed with its API version', async () => {
    const p = await start({ root: { status: 200, body: { version: 'v8.20240915', manager: '24.09.1' } } });
    expect(await client(p, 'backendai').handshake()).toEqual({ version: '24.09.1 (API v8.20240915)', models: ['peer-model', 'peer-large'] });
    const [root, models] = p.received;
    expect(root.url).toBe('/');
    expect(root.headers.authorization).toBeUndefined();
    expect(models).toEqual(expect.objectContaining({ url: '/v1/models', refusal: null }));
    expect(models.headers['x-backendai-version']).toBe(BACKENDAI_API_VERSION);
  });

  it('shakes hands with a Backend.AI cluster whose root answers 404, without a version', async () => {
    const p = await start({ root: { status: 404, body: { title: 'Not Found' } } });
    expect(await client(p, 'backendai').handshake()).toEqual({ version: null, models: ['peer-model', 'peer-large'] });
  });

  it('reads a Backend.AI cluster’s refusal of the keypair as credential_refused', async () => {
    const p = await start({ root: { status: 200, body: { version: 'v8.20240915', manager: '24.09.1' } } });
    expect((await failureOf(client(p, 'backendai', 'wrong').handshake())).reason).toBe('credential_refused');
  });
});
