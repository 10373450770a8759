import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { hostname } from 'node:os';
import { LogContext, RedisKeys, errorSummary } from '@gridline/common';
import { InferenceRequest, JobErrorCode, JobEvent } from '@gridline/contract';
import { EndpointOffer, JobRecord, JobRepository } from '@gridline/db';
import { JobLifecycle, QuotaGate } from '@gridline/jobs';
import { DeltaWriter, JobCancellations, JobStreams } from '@gridline/messaging';
import { EndpointFailure, FinishReason, ToolCallAssembler, backoffMs, pickWeighted } from '@gridline/mesh';
import { ApiMetrics } from '../metrics/api-metrics';
import { CircuitBreaker } from './circuit-breaker';
import { EndpointConnector } from './endpoint-connector';
import { MeshViews } from './mesh-views';

/** Tries of one job on endpoints before its first token (the first included); none after it. */
export const MAX_ENDPOINT_TRIES = 3;
/** How long the relay's lease lives unrenewed: a job whose api died is found by the sweeper within this. */
const RELAY_LEASE_MS = 15_000;
const RELAY_RENEW_MS = 5_000;
/** Pauses between tries of the last write of an attempt (it frees nothing, but tells the scheduler to settle the row). */
const END_RETRY_DELAYS_MS = [250, 500, 1000, 2000];

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Rough token counts for an endpoint that reports no usage: a prompt's characters over 4, one token per streamed piece. */
function estimatedPromptTokens(request: InferenceRequest): number {
  const chars = request.input.kind === 'chat' ? request.input.messages.reduce((n, m) => n + m.content.length, 0) : request.input.prompt.length;
  return Math.ceil(chars / 4);
}

/**
 * The job error a client gets for an endpoint's failure. Its message names the endpoint, never
 * its address (the failure's own message, with the URL and the remote's words, is for the
 * logs and the endpoint's `lastError`); a request the endpoint refused keeps the remote's reason.
 */
export function jobErrorOf(f: EndpointFailure, endpoint: string, afterText = false): Extract<JobEvent, { type: 'error' }> {
  const code: JobErrorCode =
    f.reason === 'rate_limited'
      ? 'endpoint_rate_limited'
      : f.reason === 'timeout'
        ? 'endpoint_timeout'
        : f.details.remoteCode === 'context_length_exceeded'
          ? 'context_length_exceeded'
          : f.reason === 'client_error' && (f.details.status === 400 || f.details.status === 413 || f.details.status === 422)
            ? 'invalid_request'
            : 'endpoint_failed';
  const name = `the endpoint '${endpoint}'`;
  const said = f.details.remoteMessage ? `: ${f.details.remoteMessage}` : '';
  const why: Record<EndpointFailure['reason'], string> = {
    unreachable: `${name} could not be reached`,
    timeout: `${name} did not answer in time`,
    credential_refused: `${name} refused this installation's credential`,
    rate_limited: `${name} is rate limiting requests${f.details.retryAfterSeconds !== undefined ? `; try again in ${f.details.retryAfterSeconds} s` : ''}`,
    client_error: `${name} refused the request (HTTP ${f.details.status ?? '4xx'})${said}`,
    server_error: `${name} failed${f.details.status ? ` (HTTP ${f.details.status})` : ''}`,
    protocol: `${name} answered something that is not an OpenAI response`,
  };
  const message = afterText ? `${name} failed while streaming (${f.reason === 'timeout' ? 'it stopped sending' : 'the stream broke'})` : why[f.reason];
  return { type: 'error', code: afterText && code !== 'endpoint_timeout' ? 'endpoint_failed' : code, message, ...(f.details.retryAfterSeconds !== undefined && !afterText ? { retryAfterSeconds: f.details.retryAfterSeconds } : {}) };
}

/**
 * Runs jobs on endpoints (peers, Backend.AI clusters, OpenAI-compatible servers) as an agent runs
 * them on a node: it writes the attempt's events to the job's stream (fenced by attempt, so the
 * usual relay, cancellation, timeouts and settlement apply), streams the endpoint's answer chunk by
 * chunk, and tries again with backoff and jitter (on another endpoint when one serves the model)
 * only while nothing was sent. A cancelled job (its client went away, DELETE, its deadline) aborts
 * the remote request at once. While it relays it holds a lease the sweeper checks.
 */
@Injectable()
export class RemoteRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RemoteRunner');
  private readonly running = new Map<string, AbortController>();
  private readonly relays = new Set<Promise<void>>();
  private readonly owner = `${hostname()}-${process.pid}`;

  constructor(
    private readonly lifecycle: JobLifecycle,
    private readonly jobs: JobRepository,
    private readonly streams: JobStreams,
    private readonly cancellations: JobCancellations,
    private readonly views: MeshViews,
    private readonly connector: EndpointConnector,
    private readonly breaker: CircuitBreaker,
    private readonly gate: QuotaGate,
    private readonly metrics: ApiMetrics,
    private readonly keys: RedisKeys,
    @Inject(Redis) private readonly redis: Redis,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.cancellations.listen((jobId) => this.running.get(jobId)?.abort(new Error('the job was closed')));
  }

  /** Shutting down: every relay is stopped (their jobs are closed by their readers' timeouts or the sweeper) and awaited. */
  async onApplicationShutdown(): Promise<void> {
    for (const a of this.running.values()) a.abort(new Error('the api is shutting down'));
    await Promise.allSettled([...this.relays]);
  }

  /**
   * Dispatches the job to one of the offers (by weight) and relays it there in the background;
   * resolves once the row says so. Nothing runs when the job was closed meanwhile.
   */
  async start(job: JobRecord, offers: EndpointOffer[]): Promise<void> {
    const first = pickWeighted(offers);
    if (!first) throw new Error('no endpoint offered');
    // The lease first: the sweeper never sees a dispatched job without it.
    await this.redis.set(this.keys.endpointRelay(job.id), this.owner, 'PX', RELAY_LEASE_MS);
    const dispatched = await this.lifecycle.dispatchToEndpoint(job.id, job.attempt, first.endpointId);
    if (!dispatched) {
      await this.redis.del(this.keys.endpointRelay(job.id)).catch(() => undefined);
      return;
    }
    const trace = { jobId: job.id, requestId: job.requestId, attempt: job.attempt };
    const relay = LogContext.run(trace, () => this.relay(dispatched, offers, first)).catch((e: unknown) => this.logger.error(trace, `relaying to the endpoint failed: ${errorSummary(e)}`));
    this.relays.add(relay);
    void relay.finally(() => this.relays.delete(relay));
  }

  private async relay(job: JobRecord, offers: EndpointOffer[], first: EndpointOffer): Promise<void> {
    const { id: jobId, attempt } = job;
    const request = job.request as unknown as InferenceRequest;
    const writer = `endpoint:${first.endpointId}`;
    const abort = new AbortController();
    this.running.set(jobId, abort);
    const lease = setInterval(() => void this.redis.set(this.keys.endpointRelay(jobId), this.owner, 'PX', RELAY_LEASE_MS).catch(() => undefined), RELAY_RENEW_MS);
    // An asynchronous job's concurrency slot (taken at admission) is held while it runs here.
    const slot = job.mode === 'async' && job.quota?.slot ? this.gate.keepAlive(job.quota.slot, () => undefined) : null;
    const end = async (events: JobEvent[]) => {
      for (let i = 0; ; i++) {
        try {
          await this.streams.end(jobId, attempt, writer, events);
          return;
        } catch (e) {
          if (i >= END_RETRY_DELAYS_MS.length) throw e;
          await new Promise((r) => setTimeout(r, END_RETRY_DELAYS_MS[i]));
        }
      }
    };
    try {
      if (!(await this.streams.append(jobId, attempt, writer, [{ type: 'started', attempt, nodeId: writer }]))) {
        await end([]);
        return;
      }
      const began = performance.now();
      const deltas = new DeltaWriter(
        (events) => this.streams.append(jobId, attempt, writer, events),
        (why) => {
          if (why === 'failed') this.logger.error("writing the job's events failed: stopping the remote request");
          abort.abort(new Error(`the job's stream is ${why}`));
        },
      );
      const tools = new ToolCallAssembler();
      const tried = new Set<string>();
      let offer = first;
      for (let tryNo = 1; ; tryNo++) {
        tried.add(offer.endpointId);
        const endpoint = await this.views.endpoint(offer.endpointId);
        const asked = performance.now();
        let produced = false;
        let firstMs = 0;
        let pieces = 0;
        let finish: FinishReason | null = null;
        let usage: Extract<JobEvent, { type: 'usage' }> | null = null;
        try {
          if (!endpoint || !endpoint.enabled) throw new EndpointFailure('unreachable', `the endpoint ${offer.endpointName} was removed or disabled`, { gone: true });
          const client = this.connector.client(endpoint);
          for await (const chunk of client.stream(request, offer.remoteModel, abort.signal)) {
            if (chunk.text) {
              const now = performance.now();
              if (!produced) firstMs = now - asked;
              deltas.push(chunk.text, produced ? undefined : { nodeMs: now - began, runnerMs: now - asked }, chunk.logprobs);
              produced = true;
              pieces++;
            }
            if (chunk.toolCallParts.length > 0) {
              tools.add(chunk.toolCallParts);
              produced = true;
            }
            if (chunk.finishReason) finish = chunk.finishReason;
            if (chunk.usage) usage = { type: 'usage', promptTokens: chunk.usage.promptTokens, completionTokens: chunk.usage.completionTokens, ...(chunk.usage.cachedPromptTokens !== null ? { cachedPromptTokens: chunk.usage.cachedPromptTokens } : {}) };
          }
          await this.breaker.success(offer.endpointId).catch(() => undefined);
        } catch (e) {
          if (deltas.stoppedBy === 'failed') {
            // Our side failed: the endpoint's text could not be written (Redis unreachable). Its reader must not take what it has for a whole answer.
            await deltas.finish();
            await end([{ type: 'error', code: 'stream_interrupted', message: "part of the endpoint's answer could not be written (Redis unreachable)" }]);
            this.metrics.endpointRequest(offer.endpointName, 'interrupted');
            return;
          }
          if (abort.signal.aborted) {
            // Closed from the control plane (cancelled, expired) or fenced: its reader already has the ending.
            await deltas.finish();
            await end([]);
            this.metrics.endpointRequest(offer.endpointName, 'cancelled');
            this.logger.log({ endpoint: offer.endpointName }, 'remote request cancelled');
            return;
          }
          const failure = e instanceof EndpointFailure ? e : new EndpointFailure('protocol', `the endpoint's answer could not be read: ${errorSummary(e)}`);
          this.metrics.endpointRequest(offer.endpointName, failure.reason);
          if (failure.countsAgainstEndpoint && endpoint?.enabled && !failure.details.gone) {
            const opened = await this.breaker.failure(offer.endpointId, endpoint.health).catch(() => false);
            if (opened) this.logger.warn({ endpoint: offer.endpointName }, `circuit opened for ${endpoint.health.breakerOpenSeconds} s after failed requests: ${failure.message}`);
          }
          if (produced) {
            // Text went out: never tried again (its client would see it twice).
            const rest = await deltas.finish();
            await end([...rest, jobErrorOf(failure, offer.endpointName, true)]);
            this.logger.warn({ endpoint: offer.endpointName, reason: failure.reason }, `the endpoint failed while streaming: ${failure.message}`);
            return;
          }
          const next = failure.retryable && tryNo < MAX_ENDPOINT_TRIES ? this.nextOffer(offers, tried, offer, failure) : null;
          if (!next) {
            await deltas.finish();
            await end([jobErrorOf(failure, offer.endpointName)]);
            this.logger.warn({ endpoint: offer.endpointName, reason: failure.reason, tries: tryNo }, `the endpoint failed the job: ${failure.message}`);
            return;
          }
          this.logger.warn({ endpoint: offer.endpointName, next: next.endpointName, reason: failure.reason }, `trying again before the first token: ${failure.message}`);
          await pause(backoffMs(tryNo), abort.signal);
          if (abort.signal.aborted) {
            await end([]);
            return;
          }
          if (next.endpointId !== offer.endpointId) await this.jobs.note(jobId, ['dispatched', 'running'], { endpointId: next.endpointId }, { attempt }).catch(() => false);
          offer = next;
          continue;
        }
        const rest = await deltas.finish();
        if (deltas.stoppedBy) {
          await end(deltas.stoppedBy === 'failed' ? [{ type: 'error', code: 'stream_interrupted', message: "part of the endpoint's answer could not be written (Redis unreachable)" }] : []);
          return;
        }
        const calls = tools.done();
        const totalMs = performance.now() - asked;
        await end([
          ...rest,
          ...calls.map((call, index): JobEvent => ({ type: 'tool_call', index, ...call })),
          usage ?? { type: 'usage', promptTokens: estimatedPromptTokens(request), completionTokens: pieces },
          { type: 'finished', finishReason: calls.length > 0 ? 'tool_calls' : (finish ?? 'stop'), firstTokenMs: firstMs, totalMs, deltas: deltas.deltas },
        ]);
        this.metrics.endpointRequest(offer.endpointName, 'succeeded');
        this.logger.log({ endpoint: offer.endpointName, remoteModel: offer.remoteModel, promptTokens: usage?.promptTokens ?? null, completionTokens: usage?.completionTokens ?? null, totalMs: Math.round(totalMs) }, 'remote job done');
        return;
      }
    } finally {
      clearInterval(lease);
      slot?.();
      this.running.delete(jobId);
      await this.redis.del(this.keys.endpointRelay(jobId)).catch(() => undefined);
    }
  }

  /**
   * Where the next try goes: an endpoint not tried yet (by weight), else the same one again for a
   * failure that may pass at once (a refused connection, a 5xx), never for a 429 (it asked us to
   * wait: its answer is relayed), a timeout (it already had its whole wait) or an endpoint gone.
   */
  private nextOffer(offers: EndpointOffer[], tried: Set<string>, current: EndpointOffer, failure: EndpointFailure): EndpointOffer | null {
    const fresh = pickWeighted(offers.filter((o) => !tried.has(o.endpointId)));
    if (fresh) return fresh;
    return failure.reason === 'rate_limited' || failure.reason === 'timeout' || failure.details.gone ? null : current;
  }
}

