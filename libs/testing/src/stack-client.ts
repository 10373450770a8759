import { signingFetch } from '@gridline/auth';
import { Client } from 'pg';
import { OPEN_JOB_STATUSES } from '@gridline/contract';
import type { RunningStack } from './stack';

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export interface SseResult {
  status: number;
  headers: Headers;
  /** Parsed `data:` payloads, `[DONE]` excluded. */
  events: Record<string, unknown>[];
  done: boolean;
  text: string;
}

/** Signed JSON and SSE calls against a running stack, and its database, as a client and an operator would use them. */
export class StackClient {
  readonly fetch: ReturnType<typeof signingFetch>;
  private pg: Client | null = null;

  constructor(
    private readonly stack: Pick<RunningStack, 'accessKey' | 'secretKey' | 'db'>,
    readonly base: string,
  ) {
    this.fetch = signingFetch({ accessKey: stack.accessKey, secretKey: stack.secretKey });
  }

  /** A new bearer token of the inference scope (what the OpenAI SDKs send), for this client's user. */
  async inferenceToken(name = 'sdk'): Promise<string> {
    const made = await this.json<{ token: string }>('POST', '/api/v1/tokens', { name, scope: 'inference' });
    if (made.status !== 201) throw new Error(`creating an inference token answered ${made.status}: ${JSON.stringify(made.body)}`);
    return made.body.token;
  }

  async json<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
    const res = await this.fetch(`${this.base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as T };
  }

  /**
   * A streaming chat completion: collects events until the stream ends, or until `stopAfter`
   * returns true for an event (the connection is then dropped, as a client that goes away).
   * A request that fails before its first event gets a plain error response: its body is then
   * the one event.
   */
  async stream(body: Record<string, unknown>, stopAfter?: (event: Record<string, unknown>, index: number) => boolean): Promise<SseResult & { abortedAt: number | null }> {
    const abort = new AbortController();
    const res = await this.fetch(`${this.base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }), signal: abort.signal });
    const result = { status: res.status, headers: res.headers, events: [] as Record<string, unknown>[], done: false, text: '', abortedAt: null as number | null };
    if (!res.body) return result;
    if (!res.headers.get('content-type')?.startsWith('text/event-stream')) {
      // Failed before its first event: a plain error response, kept as the one event.
      result.events.push(JSON.parse(await res.text()) as Record<string, unknown>);
      return result;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = frame.replace(/^data: /, '');
          if (data === '[DONE]') {
            result.done = true;
            continue;
          }
          const event = JSON.parse(data) as Record<string, unknown>;
          result.events.push(event);
          const delta = (event.choices as { delta?: { content?: string } }[] | undefined)?.[0]?.delta?.content;
          if (delta) result.text += delta;
          if (stopAfter?.(event, result.events.length - 1)) {
            result.abortedAt = Date.now();
            abort.abort();
            return result;
          }
        }
      }
    } catch (e) {
      if (result.abortedAt === null) throw e;
    }
    return result;
  }

  /**
   * Jobs not yet ended (optionally among `ids`) whose deadline passed more than `graceSeconds`
   * ago: the sweeper's bound says there are none.
   */
  async openJobs(options: { ids?: string[]; overdueBySeconds?: number } = {}): Promise<number> {
    const where = ['status = ANY($1)'];
    const params: unknown[] = [[...OPEN_JOB_STATUSES]];
    if (options.ids) where.push(`id = ANY($${params.push(options.ids)})`);
    if (options.overdueBySeconds !== undefined) where.push(`deadline_at < now() - make_interval(secs => $${params.push(options.overdueBySeconds)})`);
    return (await this.sql<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE ${where.join(' AND ')}`, params))[0].n;
  }

  async sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
    if (!this.pg) {
      this.pg = new Client({ connectionString: this.stack.db.url });
      await this.pg.connect();
    }
    return (await this.pg.query(query, params)).rows as T[];
  }

  async close(): Promise<void> {
    await this.pg?.end();
    this.pg = null;
  }
}

/** Polls `check` until it returns a value other than undefined; fails with `what` after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
