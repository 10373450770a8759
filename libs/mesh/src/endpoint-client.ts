import { DEFAULT_API_VERSION, signHeaders } from '@gridline/auth';
import type { InferenceRequest } from '@gridline/contract';
import { BACKENDAI_API_VERSION, EndpointCredentials, EndpointKind, MESH_HOP_HEADER, MESH_PROTOCOL } from './endpoint-spec';
import { EndpointFailure, parseRetryAfter, remoteCode, remoteMessage } from './endpoint-failure';
import { ChunkPieces, openAiPath, readChunk, toOpenAiBody } from './openai-wire';
import { sseData } from './sse';

/** Where and how to reach one endpoint. */
export interface EndpointTarget {
  kind: EndpointKind;
  /** Base URL, normalized (see normalizeEndpointUrl). */
  url: string;
  credentials: EndpointCredentials;
  /** How long a call for JSON (a model list, a handshake) may take, answer read whole. */
  timeoutMs: number;
  /** How long a streamed request waits for its answer to begin, and at most between two chunks (default: timeoutMs). */
  streamTimeoutMs?: number;
}

export interface Handshake {
  /** The remote's version when it reports one (a peer Gridline's, a Backend.AI manager's). */
  version: string | null;
  models: string[];
}

type FetchLike = typeof fetch;

/** A fetch body read chunk by chunk (Node's web streams are async iterable; the DOM typings do not say so). */
function chunksOf(body: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  return body as unknown as AsyncIterable<Uint8Array>;
}

/** An answer whose timeout runs until `settle()` (or is started again by `rearm`): a stream that keeps coming is never cut. */
interface Answer {
  res: Response;
  settle(): void;
  rearm(ms: number): void;
  timedOut(): boolean;
}

/** The body's chunks; each starts the answer's timeout again, so only a stream that stalls for `idleMs` is cut. */
async function* settling(answer: Answer, idleMs: number): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunksOf(answer.res.body as ReadableStream<Uint8Array>)) {
    answer.rearm(idleMs);
    yield chunk;
  }
}

/** The longest error body read from an endpoint. */
const ERROR_BODY_MAX = 16 * 1024;

/** The connection failure's cause (ECONNREFUSED, ENOTFOUND…) for a message, never more. */
function causeOf(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  return typeof cause?.message === 'string' ? cause.message : (e as Error).message;
}

/**
 * Talks to one endpoint in its kind's terms: a peer Gridline and a Backend.AI cluster are signed
 * with a keypair in Backend.AI's scheme, an OpenAI-compatible server gets a bearer key. Every
 * failure is an EndpointFailure naming why; a caller's abort is thrown as the abort.
 */
export class EndpointClient {
  constructor(
    private readonly target: EndpointTarget,
    private readonly fetchImpl: FetchLike = fetch,
  ) {}

  /** The model ids the endpoint lists at `GET /v1/models`. */
  async listModels(signal?: AbortSignal): Promise<string[]> {
    const body = await this.json(await this.call('GET', '/v1/models', undefined, signal));
    const data = (body as { data?: unknown }).data;
    if (!Array.isArray(data)) throw new EndpointFailure('protocol', `${this.target.url}/v1/models did not answer a model list`);
    return [...new Set(data.map((m: { id?: unknown }) => m.id).filter((id): id is string => typeof id === 'string' && id.length > 0 && id.length <= 256))];
  }

  /**
   * Checks that the endpoint is what it was registered as and takes our credential: a peer
   * Gridline must answer `whoami` signed with the keypair and speak our mesh protocol; every kind
   * must list its models.
   */
  async handshake(signal?: AbortSignal): Promise<Handshake> {
    let version: string | null = null;
    if (this.target.kind === 'gridline') {
      const who = (await this.json(await this.call('GET', '/api/v1/whoami', undefined, signal))) as { server?: { product?: unknown; version?: unknown; meshProtocol?: unknown } };
      if (who.server?.product !== 'gridline') throw new EndpointFailure('protocol', `${this.target.url} accepted the keypair but is not a Gridline that peers (its whoami names no server)`);
      if (who.server.meshProtocol !== MESH_PROTOCOL) {
        throw new EndpointFailure('protocol', `${this.target.url} is Gridline ${String(who.server.version)} speaking mesh protocol ${String(who.server.meshProtocol)}; this one speaks ${MESH_PROTOCOL}`);
      }
      version = typeof who.server.version === 'string' ? who.server.version : null;
    } else if (this.target.kind === 'backendai') {
      // A Backend.AI manager names its versions at its root, unsigned; a cluster that does not is still usable.
      version = await this.call('GET', '/', undefined, signal, { unsigned: true })
        .then(async (answer) => {
          const root = (await this.json(answer)) as { manager?: unknown; version?: unknown };
          return typeof root.manager === 'string' ? `${root.manager}${typeof root.version === 'string' ? ` (API ${root.version})` : ''}` : null;
        })
        .catch((e: unknown) => {
          if (e instanceof EndpointFailure && e.reason !== 'unreachable' && e.reason !== 'timeout') return null;
          throw e;
        });
    }
    return { version, models: await this.listModels(signal) };
  }

  /**
   * Streams an answer from the endpoint: the chunks as they come. Throws before the first chunk
   * when the endpoint refuses or fails the request; later, when the stream breaks.
   */
  async *stream(request: InferenceRequest, remoteModel: string, signal: AbortSignal): AsyncGenerator<ChunkPieces> {
    const waitMs = this.target.streamTimeoutMs ?? this.target.timeoutMs;
    const answer = await this.call('POST', openAiPath(request), toOpenAiBody(request, remoteModel), signal, { timeoutMs: waitMs });
    const { res } = answer;
    if (!res.body) {
      answer.settle();
      throw new EndpointFailure('protocol', 'the endpoint answered without a body');
    }
    const type = res.headers.get('content-type') ?? '';
    if (!type.includes('text/event-stream')) {
      // A server that ignores `stream`: its whole answer is one chunk.
      const whole = readChunk(await this.json(answer));
      if (!whole) throw new EndpointFailure('protocol', 'the endpoint answered neither a stream nor a completion');
      yield whole;
      return;
    }
    let finished = false;
    try {
      for await (const data of sseData(settling(answer, waitMs))) {
        if (data.trim() === '[DONE]') return;
        let parsed: unknown;
        try {
          parsed = JSON.parse(data);
        } catch {
          throw new EndpointFailure('protocol', 'the endpoint sent a chunk that is not JSON');
        }
        const error = (parsed as { error?: unknown }).error;
        if (error !== undefined) throw new EndpointFailure('server_error', `the endpoint failed while streaming: ${remoteMessage(parsed) ?? 'no message'}`, { remoteCode: remoteCode(parsed) });
        const chunk = readChunk(parsed);
        if (chunk?.finishReason) finished = true;
        if (chunk) yield chunk;
      }
    } catch (e) {
      if (e instanceof EndpointFailure || signal.aborted) throw e;
      if (answer.timedOut()) throw this.timeoutFailure(res.url, waitMs);
      throw new EndpointFailure('unreachable', `the endpoint's stream broke: ${causeOf(e)}`);
    } finally {
      answer.settle();
    }
    // Ended without [DONE] and without a finish reason: cut on its way (a proxy's timeout), not a whole answer.
    if (!finished) throw new EndpointFailure('unreachable', "the endpoint's stream ended before the answer did (no finish reason, no [DONE])");
  }

  private timeoutFailure(url: string, ms = this.target.timeoutMs): EndpointFailure {
    return new EndpointFailure('timeout', `${new URL(url || this.target.url).origin} did not answer within ${Math.round(ms / 1000)} s`);
  }

  /**
   * One request; a non-2xx answer is thrown as the failure it means. The timeout keeps running
   * after the headers, until the caller settles the answer (read whole, or its stream begun).
   */
  private async call(method: 'GET' | 'POST', path: string, body: unknown, signal?: AbortSignal, options: { unsigned?: boolean; timeoutMs?: number; resigned?: boolean } = {}): Promise<Answer> {
    const timeoutMs = options.timeoutMs ?? this.target.timeoutMs;
    const url = new URL(`${this.target.url}${path}`);
    // Set, never appended: the signature names the content type, and a header sent twice would be joined into another.
    const headers = new Headers({ accept: body === undefined ? 'application/json' : 'text/event-stream, application/json' });
    if (body !== undefined) headers.set('content-type', 'application/json');
    // Every kind: a peer Gridline registered as a plain OpenAI server must not pass the request on either.
    headers.set(MESH_HOP_HEADER, '1');
    const c = this.target.credentials;
    if (!options.unsigned) {
      if ('apiKey' in c) headers.set('authorization', `Bearer ${c.apiKey}`);
else signHeaders(headers, { ...c, version: this.target.kind === 'backendai' ? BACKENDAI_API_VERSION : DEFAULT_API_VERSION }, method, url);
    }
    // Not AbortSignal.timeout: it would also cut a stream that began in time but runs longer.
    const timeout = new AbortController();
    const expire = () => timeout.abort(new DOMException('the endpoint did not answer in time', 'TimeoutError'));
    let timer = setTimeout(expire, timeoutMs);
    timer.unref();
    const settle = (): void => clearTimeout(timer);
    const rearm = (ms: number): void => {
      clearTimeout(timer);
      timer = setTimeout(expire, ms);
      timer.unref();
    };
    let res: Response;
    try {
      res = await this.fetchImpl(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal, redirect: 'error' });
    } catch (e) {
      settle();
      if (signal?.aborted) throw signal.reason ?? e;
      if (timeout.signal.aborted) throw this.timeoutFailure(url.href, timeoutMs);
      throw new EndpointFailure('unreachable', `could not reach ${url.origin}: ${causeOf(e)}`);
    }
    if (res.ok) return { res, settle, rearm, timedOut: () => timeout.signal.aborted };
    const text = await this.readLimited(res)
      .catch(() => '')
      .finally(settle);
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: the status says it all.
    }
    const said = remoteMessage(parsed);
    const code = remoteCode(parsed);
    const what = `${res.status}${code ? ` ${code}` : ''}${said ? `: ${said}` : ''}`;
    // Another process signed the very same request in the same microsecond (api replicas sharing
    // the keypair): signed again, with a new date, it passes.
    if (res.status === 401 && code === 'replayed_request' && !options.resigned) return this.call(method, path, body, signal, { ...options, resigned: true });
    if (res.status === 401 || res.status === 403) throw new EndpointFailure('credential_refused', `the endpoint refused the credential (${what})`, { status: res.status, remoteCode: code });
    const remote = said ? { remoteMessage: said } : {};
    if (res.status === 429) {
      const retryAfterSeconds = parseRetryAfter(res.headers.get('retry-after'));
      throw new EndpointFailure('rate_limited', `the endpoint is rate limiting requests (${what})`, { status: 429, remoteCode: code, ...remote, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });
    }
    if (res.status >= 500) throw new EndpointFailure('server_error', `the endpoint failed (${what})`, { status: res.status, remoteCode: code, ...remote });
    throw new EndpointFailure('client_error', `the endpoint refused the request (${what})`, { status: res.status, remoteCode: code, ...remote });
  }

  /** The answer's JSON body, read within the call's timeout. */
  private async json(answer: Answer): Promise<unknown> {
    const { res } = answer;
    let text: string;
    try {
      text = await this.readLimited(res, 8 * 1024 * 1024);
    } catch (e) {
      if (e instanceof EndpointFailure || !answer.timedOut()) throw e;
      throw this.timeoutFailure(res.url);
    } finally {
      answer.settle();
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new EndpointFailure('protocol', `${res.url || this.target.url} answered something that is not JSON`);
    }
  }

  private async readLimited(res: Response, max = ERROR_BODY_MAX): Promise<string> {
    if (!res.body) return '';
    const decoder = new TextDecoder();
    let out = '';
    for await (const chunk of chunksOf(res.body)) {
      out += decoder.decode(chunk as Uint8Array, { stream: true });
      if (out.length > max) {
        await res.body.cancel().catch(() => undefined);
        if (max === ERROR_BODY_MAX) return out.slice(0, max);
        throw new EndpointFailure('protocol', 'the endpoint answered more than a model list can hold');
      }
    }
    return out + decoder.decode();
  }
}
