import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { ApiError, errorSummary, quote } from '@gridline/common';
import { INPUT_PARAM, InferenceRequest, JobStatus, certainOverflow } from '@gridline/contract';
import { JobKind, JobMode, JobRecord, JobRepository, ModelRecord } from '@gridline/db';
import { JobLifecycle } from '@gridline/jobs';
import { JobEventFollower, JobEventSubscription } from '@gridline/messaging';
import { ApiConfig } from '../api.config';
import type { RequestTimeline } from '../common/request-timeline';
import { ModelLookup } from '../models/model-lookup';
import { RedisHealth } from '../redis/redis-health';
import { Principal, scopeFor } from '../auth/principal';
import { chatInput, toInferenceRequest } from '../openai/inference-body';
import type { CreateJobDto } from './dto/job.dto';

export interface SubmitOptions {
  mode: JobMode;
  requestId: string | null;
  idempotencyKey?: string;
  /** Order among the team's waiting jobs (default 0). */
  priority?: number;
  /** The request's timeline, when the caller answers with its server-timing. */
  timeline?: RequestTimeline;
}

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
    private readonly models: ModelLookup,
    private readonly follower: JobEventFollower,
    private readonly redis: RedisHealth,
  ) {}

  /**
   * Admits a job: checks the caller may use the model, writes the row (so an accepted job is
   * never lost), then enqueues it. With an idempotency key already used, returns that job, or
   * refuses a different body under the same key. Returns the model's record too (the OpenAI
   * routes' `system_fingerprint` is derived from it).
   */
  async submit(p: Principal, model: string, request: InferenceRequest, options: SubmitOptions): Promise<{ job: JobRecord; created: boolean; model: ModelRecord }> {
    const allowed = p.credential.kind === 'token' ? p.credential.models : null;
    if (allowed && !allowed.includes(model)) {
      throw new ApiError('model_not_allowed', `this token may not use the model ${quote(model)}`, { param: 'model' });
    }
    // Another team's model is answered as one that does not exist.
    const record = await this.models.findVisible(scopeFor(p), model);
    if (!record) {
      throw new ApiError('model_not_found', `The model ${quote(model)} does not exist`, { param: 'model' });
    }
    // What certainly overflows the model's context is refused here, before it costs a row and a
    // queue slot; the runner checks the exact count before it generates.
    const overflow = certainOverflow(record.facts.serving, request);
    if (overflow) throw new ApiError('context_length_exceeded', overflow, { param: INPUT_PARAM[request.input.kind] });
    options.timeline?.mark('model');
    // Refused before anything is written: Redis carries the job from here on.
    this.redis.assertRoomForJob();
    const now = new Date();
    const timeout = options.mode === 'sync' ? this.config.GRIDLINE_REQUEST_TIMEOUT_SECONDS : this.config.GRIDLINE_JOB_TIMEOUT_SECONDS;
    const requestHash = options.idempotencyKey ? createHash('sha256').update(JSON.stringify({ model, request })).digest('hex') : null;
    const { job, created } = await this.lifecycle.accept({
      teamId: p.teamId,
      keypairId: p.credential.kind === 'keypair' ? p.credential.id : null,
      apiTokenId: p.credential.kind === 'token' ? p.credential.id : null,
      userId: p.userId,
      kind: request.input.kind as JobKind,
      mode: options.mode,
      model,
      request: request as unknown as Record<string, unknown>,
      requestId: options.requestId,
      createdAt: now,
      deadlineAt: new Date(now.getTime() + timeout * 1000),
      idempotencyKey: options.idempotencyKey ?? null,
      requestHash,
      priority: options.priority ?? 0,
    });
    options.timeline?.mark('row');
    if (!created) {
      if (job.requestHash !== requestHash) {
        throw new ApiError('idempotency_key_reused', 'this Idempotency-Key was used with a different request', { param: 'Idempotency-Key' });
      }
      return { job, created, model: record };
    }
    if (this.config.GRIDLINE_FAULT === 'crash-after-insert') {
      // Fault injection for the resilience tests: die between the row and the queue.
      process.kill(process.pid, 'SIGKILL');
    }
    try {
      await this.lifecycle.enqueue(job);
    } catch (e) {
      this.logger.error({ jobId: job.id }, `enqueue failed: ${errorSummary(e)}`);
      // Not awaited: the answer must not wait on a Redis that just failed (the row is failed in the background).
      void this.lifecycle.end(job.id, { transition: 'fail', code: 'internal', message: 'the job could not be queued' }).catch(() => undefined);
      throw this.redis.failure(e);
    }
    options.timeline?.mark('dispatch');
    return { job, created, model: record };
  }

  /** POST /api/v1/jobs: a chat (`messages`) or plain (`prompt`) body, run asynchronously. */
  async submitAsync(p: Principal, dto: CreateJobDto, idempotencyKey: string | undefined, requestId: string | null): Promise<JobRecord> {
    if ((dto.messages === undefined) === (dto.prompt === undefined)) {
      throw new ApiError('validation_failed', 'give exactly one of messages and prompt', { param: dto.messages ? 'prompt' : 'messages' });
    }
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new ApiError('validation_failed', 'Idempotency-Key must be 1 to 255 visible ASCII characters', { param: 'Idempotency-Key' });
    }
    const input = dto.messages ? chatInput(dto.messages) : { kind: 'completion' as const, prompt: dto.prompt as string };
    return (await this.submit(p, dto.model, toInferenceRequest(dto, input), { mode: 'async', requestId, idempotencyKey, priority: dto.priority })).job;
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

  async list(p: Principal, q: { status?: string; model?: string; limit: number; cursor?: string }): Promise<JobPage> {
    const status = q.status as JobStatus | undefined; // checked against JOB_STATUSES by JobQueryDto
    const items = await this.jobs.list(scopeFor(p), { status, model: q.model, limit: q.limit + 1, before: q.cursor ? decodeCursor(q.cursor) : undefined });
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
