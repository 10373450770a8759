import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { ApiError, LogContext, errorSummary, quote } from '@gridline/common';
import { INPUT_PARAM, InferenceRequest, JobStatus, certainOverflow } from '@gridline/contract';
import { JobKind, JobMode, JobQuotaHolds, JobRecord, JobRepository, ModelRecord, TeamScope } from '@gridline/db';
import { Admission, JobLifecycle, QuotaGate, QuotaPolicies, rateLimitHeaders } from '@gridline/jobs';
import { JobEventFollower, JobEventSubscription } from '@gridline/messaging';
import { ApiConfig } from '../api.config';
import type { RequestTimeline } from '../common/request-timeline';
import { ApiMetrics } from '../metrics/api-metrics';
import { MeshRouter } from '../mesh/mesh-router';
import { RemoteRunner } from '../mesh/remote-runner';
import { RedisHealth } from '../redis/redis-health';
import { Principal, scopeFor } from '../auth/principal';
import { chatInput, toInferenceRequest } from '../openai/inference-body';
import type { CreateJobDto } from './dto/job.dto';
import { quotaRefusal, tokenReservation } from '../quotas/quota-admission';

export interface SubmitOptions {
  mode: JobMode;
  requestId: string | null;
  idempotencyKey?: string;
  /** Order among the team's waiting jobs (default 0). */
  priority?: number;
  /** The request's timeline, when the caller answers with its server-timing. */
  timeline?: RequestTimeline;
  /** Sent by a peer Gridline: served by this installation's fleet only. */
  fromPeer?: boolean;
}

/** What admission took for a submitted job, as its route needs it. */
export interface SubmittedQuota {
  /** OpenAI's `x-ratelimit-*` headers of the admission (none when no rate limit applies). */
  headers: Record<string, string>;
  /**
   * For a synchronous job: stops renewing its concurrency slot (call it when the response
   * ends, however it ends). The slot itself is freed when the job's row is finished, or lapses
   * one lease after this call if that never happens.
   */
  done(): void;
}

const NO_QUOTA: SubmittedQuota = { headers: {}, done: () => undefined };

export interface JobPage {
  items: JobRecord[];
  nextCursor: string | null;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function encodeCursor(job: JobRecord): string {
  return Buffer.from(`${job.createdAt.toISOString()}|${job.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id ?? '')) throw new ApiError('invalid_cursor', 'the cursor is not one this api returned', { param: 'cursor' });
  return { createdAt, id };
}

/** Admits inference jobs (synchronous and asynchronous), follows, cancels and lists them. */
@Injectable()
export class JobsService {
  private readonly logger = new Logger('Jobs');

  constructor(
    private readonly config: ApiConfig,
    private readonly lifecycle: JobLifecycle,
    private readonly jobs: JobRepository,
    private readonly router: MeshRouter,
    private readonly remote: RemoteRunner,
    private readonly follower: JobEventFollower,
    private readonly redis: RedisHealth,
    private readonly gate: QuotaGate,
    private readonly policies: QuotaPolicies,
    private readonly metrics: ApiMetrics,
  ) {}

  /**
   * Admits a job: checks the caller may use the model, admits it against the quotas of its
   * team, key and model (nothing is written when they refuse: 429), writes the row (so an
   * accepted job is never lost) with what admission took, then enqueues it. With an
   * idempotency key already used, returns that job (not counted again), or refuses a different
   * body under the same key. Returns the model's record too (the OpenAI routes'
   * `system_fingerprint` is derived from it).
   *
   * Quotas: every job counts one request and reserves its tokens (prompt estimate + max_tokens
   * or the rest of the context). A synchronous job takes a concurrency slot here: a lease that
   * the caller keeps alive while it relays (`quota.done()` stops that). An asynchronous job takes
   * a queue place here, freed when it starts; its slot is taken by the scheduler when it is
   * dispatched (it waits queued while its team's slots are in use). Everything taken is given
   * back when the row is finished (JobLifecycle.end).
   */
  async submit(p: Principal, model: string, request: InferenceRequest, options: SubmitOptions): Promise<{ job: JobRecord; created: boolean; model: ModelRecord | null; quota: SubmittedQuota }> {
    const allowed = p.credential.kind === 'token' ? p.credential.models : null;
    if (allowed && !allowed.includes(model)) {
      throw new ApiError('model_not_allowed', `this token may not use the model ${quote(model)}`, { param: 'model' });
    }
    const requestHash = options.idempotencyKey ? createHash('sha256').update(JSON.stringify({ model, request })).digest('hex') : null;
    // A submit repeated under its idempotency key returns the first job without being admitted (or
    // refused) again, nor routed: where its model is served now does not matter to a job accepted.
    if (options.idempotencyKey) {
      const first = await this.jobs.findByIdempotencyKey(TeamScope.team(p.teamId), options.idempotencyKey);
      if (first) return this.repeated(first, requestHash, null);
    }
    // Local replicas first, then endpoints, then the fallback chain (another team's model is
    // answered as one that does not exist; a model only unhealthy endpoints serve is a 503).
    const route = await this.router.route(p, model, { localOnly: options.fromPeer === true });
    const record = route.kind === 'local' ? route.record : null;
    // What certainly overflows the model's context is refused here, before it costs a row and a
    // queue slot; the runner checks the exact count before it generates (an endpoint, itself).
    const overflow = record ? certainOverflow(record.facts.serving, request) : null;
    if (overflow) throw new ApiError('context_length_exceeded', overflow, { param: INPUT_PARAM[request.input.kind] });
    options.timeline?.mark('model');
    // Refused before anything is written: Redis carries the job from here on.
    this.redis.assertRoomForJob();
    const timeout = options.mode === 'sync' ? this.config.GRIDLINE_REQUEST_TIMEOUT_SECONDS : this.config.GRIDLINE_JOB_TIMEOUT_SECONDS;
    const admission = await this.admit(p, route.model, record, request, options.mode, timeout, route.kind === 'remote');
    options.timeline?.mark('admission');
    // Accepted from here: after admission, so a job's life as its row tells it lies within its quota slot's.
    const now = new Date();
    const holds: JobQuotaHolds | null = admission.slot || admission.queued || admission.reservation ? { slot: admission.slot, queued: admission.queued, reservation: admission.reservation } : null;
    let accepted: { job: JobRecord; created: boolean };
    try {
      accepted = await this.lifecycle.accept({
        teamId: p.teamId,
        keypairId: p.credential.kind === 'keypair' ? p.credential.id : null,
        apiTokenId: p.credential.kind === 'token' ? p.credential.id : null,
        userId: p.userId,
        kind: request.input.kind as JobKind,
        mode: options.mode,
        model: route.model,
        request: request as unknown as Record<string, unknown>,
        requestId: options.requestId,
        createdAt: now,
        deadlineAt: new Date(now.getTime() + timeout * 1000),
        idempotencyKey: options.idempotencyKey ?? null,
        requestHash,
        priority: options.priority ?? 0,
        quota: holds,
      });
    } catch (e) {
      await this.giveBack(admission);
      throw e;
    }
    const { job, created } = accepted;
    // Every later line of this request is about the job: the log context carries its id (with the request's).
    LogContext.assign({ jobId: job.id });
    if (created) this.logger.log({ mode: options.mode, model }, 'job accepted');
    options.timeline?.mark('row');
    if (!created) {
      // Another submit with the same key won the race: this admission was not needed.
      await this.giveBack(admission);
      return this.repeated(job, requestHash, record);
    }
    if (this.config.GRIDLINE_FAULT === 'crash-after-insert') {
      // Fault injection for the resilience tests: die between the row and the queue.
      process.kill(process.pid, 'SIGKILL');
    }
    try {
      if (route.kind === 'remote') await this.remote.start(job, route.offers);
      else await this.lifecycle.enqueue(job);
    } catch (e) {
      this.logger.error({ jobId: job.id }, `${route.kind === 'remote' ? 'dispatch to an endpoint' : 'enqueue'} failed: ${errorSummary(e)}`);
      // Not awaited: the answer must not wait on a Redis that just failed (the row is failed in the background).
      void this.lifecycle.end(job.id, { transition: 'fail', code: 'internal', message: 'the job could not be queued' }).catch(() => undefined);
      throw this.redis.failure(e);
    }
    options.timeline?.mark('dispatch');
    // Counted at the api as it accepts: a row the sweeper queues after an api crash is not counted.
    this.metrics.jobSubmitted(p.teamId, route.model, options.mode);
    return { job, created, model: record, quota: options.mode === 'sync' ? this.held(admission, job.id) : { headers: rateLimitHeaders(admission.rateLimits), done: () => undefined } };
  }

  private repeated(job: JobRecord, requestHash: string | null, model: ModelRecord | null): { job: JobRecord; created: false; model: ModelRecord | null; quota: SubmittedQuota } {
    if (job.requestHash !== requestHash) {
      throw new ApiError('idempotency_key_reused', 'this Idempotency-Key was used with a different request', { param: 'Idempotency-Key' });
    }
    return { job, created: false, model, quota: NO_QUOTA };
  }

  /** Checks and takes what the job needs of its team's, key's and model's quotas, or refuses (429) changing nothing. */
  private async admit(p: Principal, model: string, record: ModelRecord | null, request: InferenceRequest, mode: JobMode, timeoutSeconds: number, remote: boolean): Promise<Admission> {
    const keyId = p.credential.id;
    const policy = await this.policies.policyFor(p.teamId, keyId, model);
    const sync = mode === 'sync';
    let result;
    try {
      result = await this.gate.admit(
        { teamId: p.teamId, keyId, model },
        policy,
        // An asynchronous job holds its queue place at most until its deadline (nothing renews it); its slot comes at dispatch.
        // A job sent to an endpoint never waits in our queue: it takes its slot now, whatever its mode (the remote runner holds an asynchronous one's).
        remote
          ? { tokens: tokenReservation(undefined, request), slot: true, queue: false }
          : { tokens: tokenReservation(record?.facts.serving, request), slot: sync, queue: !sync, ...(sync ? {} : { queueTtlMs: timeoutSeconds * 1000 }) },
      );
    } catch (e) {
      throw this.redis.failure(e);
    }
    if (!result.admitted) {
      this.metrics.quotaRefused(p.teamId, result.scope, result.limit);
      throw quotaRefusal(result);
    }
    return result;
  }

  /** A synchronous job's slot is renewed while its response lasts. */
  private held(admission: Admission, jobId: string): SubmittedQuota {
    const headers = rateLimitHeaders(admission.rateLimits);
    const slot = admission.slot;
    if (!slot) return { headers, done: () => undefined };
    // Lost: the job's end freed it (while the response was still being written), or the lease lapsed (this process stalled).
    const stop = this.gate.keepAlive(slot, () => this.logger.debug({ jobId }, 'the concurrency slot is no longer held'));
    return { headers, done: stop };
  }

  /** Gives back an admission whose job was never written (or was a repeat). */
  private async giveBack(a: Admission): Promise<void> {
    await Promise.allSettled([this.gate.release(a.slot), this.gate.dequeue(a.queued), this.gate.settle(a.reservation, 0)]);
  }

  /** POST /api/v1/jobs: a chat (`messages`) or plain (`prompt`) body, run asynchronously. */
  async submitAsync(p: Principal, dto: CreateJobDto, idempotencyKey: string | undefined, requestId: string | null, timeline?: RequestTimeline): Promise<{ job: JobRecord; headers: Record<string, string> }> {
    if ((dto.messages === undefined) === (dto.prompt === undefined)) {
      throw new ApiError('validation_failed', 'give exactly one of messages and prompt', { param: dto.messages ? 'prompt' : 'messages' });
    }
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new ApiError('validation_failed', 'Idempotency-Key must be 1 to 255 visible ASCII characters', { param: 'Idempotency-Key' });
    }
    const input = dto.messages ? chatInput(dto.messages) : { kind: 'completion' as const, prompt: dto.prompt as string };
    timeline?.mark('validate');
    const { job, quota } = await this.submit(p, dto.model, toInferenceRequest(dto, input), { mode: 'async', requestId, idempotencyKey, priority: dto.priority, timeline });
    return { job, headers: { ...quota.headers, ...(timeline ? { 'server-timing': timeline.serverTiming() } : {}) } };
  }

  /**
   * Follows a job's events. A reader told that deltas were lost (`stream_interrupted`) ends
   * the job too: its client has the error, so the node stops and the row records it.
   */
  follow(jobId: string): JobEventSubscription {
    const sub = this.follower.follow(jobId);
    return {
      close: () => sub.close(),
      next: async (deadline) => {
        const next = await sub.next(deadline);
        if (typeof next === 'object' && next.event.type === 'error' && next.event.code === 'stream_interrupted' && !next.control) {
          const { code, message } = next.event;
          void this.lifecycle.end(jobId, { transition: 'fail', code, message }).catch((e: Error) => this.logger.warn({ jobId }, `ending an interrupted job failed: ${e.message}`));
        }
        return next;
      },
    };
  }

  async get(p: Principal, id: string): Promise<JobRecord> {
    const job = await this.jobs.find(scopeFor(p), id);
    if (!job) throw new ApiError('not_found', `job ${quote(id)} was not found`);
    return job;
  }

  async list(p: Principal, q: { status?: string; model?: string; teamId?: string; limit: number; cursor?: string }): Promise<JobPage> {
    const status = q.status as JobStatus | undefined; // checked against JOB_STATUSES by JobQueryDto
    if (q.teamId && p.role !== 'superadmin' && q.teamId !== p.teamId) throw new ApiError('forbidden', "only superadmins see other teams' jobs", { param: 'teamId' });
    const scope = q.teamId ? TeamScope.team(q.teamId) : scopeFor(p);
    const items = await this.jobs.list(scope, { status, model: q.model, limit: q.limit + 1, before: q.cursor ? decodeCursor(q.cursor) : undefined });
    const more = items.length > q.limit;
    const page = more ? items.slice(0, q.limit) : items;
    return { items: page, nextCursor: more ? encodeCursor(page[page.length - 1]) : null };
  }

  /** Cancels a job of the caller's scope; a job that already ended is returned as it is. */
  async cancel(p: Principal, id: string): Promise<JobRecord> {
    const job = await this.get(p, id);
    return (await this.cancelById(job.id, 'cancelled by request')) ?? (await this.get(p, id));
  }

  /** Cancels a job whose client went away (no scope check: the caller submitted it). */
  cancelById(id: string, message: string): Promise<JobRecord | null> {
    return this.lifecycle.end(id, { transition: 'cancel', code: 'cancelled', message });
  }

  expire(id: string): Promise<JobRecord | null> {
    return this.lifecycle.end(id, { transition: 'expire', code: 'timeout', message: `the job did not finish within ${this.config.GRIDLINE_REQUEST_TIMEOUT_SECONDS} s` });
  }
}
