import { Injectable, Logger } from '@nestjs/common';
import { InferenceJobPayload, InferenceRequest, JOB_ERRORS, isDeterministic, JobErrorCode, JobEvent, JobOutput, JobResume, JobTransition, foldJobEvents, isTerminalStatus } from '@gridline/contract';
import { JobChanges, JobGuard, JobRecord, JobRepository, NewJob, QuotaSlotChange } from '@gridline/db';
import { CloseReason, CloseResult, JobQueues, JobStreams, Queues, StoredJobEvent } from '@gridline/messaging';
import { errorSummary } from '@gridline/common';
import { QuotaGate } from './quota/quota.gate';
import type { QuotaHold } from './quota/quota.types';

/**
 * Tries of one job: the first, and one more when its node was lost: from the start when it had
 * produced no token, else continuing the text already streamed.
 */
export const MAX_JOB_ATTEMPTS = 2;

export type JobEnding =
  | { transition: 'succeed'; output: JobOutput }
  | { transition: 'fail' | 'cancel' | 'expire'; code: JobErrorCode; message?: string; retryAfterSeconds?: number };

const CLOSE_REASON: Record<Exclude<JobEnding['transition'], 'succeed'>, CloseReason> = { fail: 'failed', cancel: 'cancelled', expire: 'expired' };

/**
 * The job lifecycle in one place: every status change is a guarded transition (compare-and-set
 * on the current status and attempt) of the state machine in @gridline/contract, and `end`
 * is the only way a job's row is finished. Refused transitions are logged with the status found.
 */
@Injectable()
export class JobLifecycle {
  private readonly logger = new Logger('JobLifecycle');

  constructor(
    private readonly jobs: JobRepository,
    private readonly streams: JobStreams,
    private readonly queues: JobQueues,
    private readonly quotas: QuotaGate,
  ) {}

  /** Persists an accepted job (`queued`); an idempotency key already used returns the first job. */
  accept(job: NewJob): Promise<{ job: JobRecord; created: boolean }> {
    return this.jobs.create(job);
  }

  /**
   * Puts a queued job on the `inference` queue for the scheduler (idempotent per attempt).
   * `again`: a job Redis may still hold as completed or failed (the sweeper's case), which must
   * be removed first or BullMQ would keep the old one under the same id.
   */
  async enqueue(job: JobRecord, options: { again?: boolean; resume?: JobResume } = {}): Promise<void> {
    if (options.again) await this.queues.removeLeftover(Queues.inference, payloadOf(job));
    let resume = options.resume ?? null;
    // Queued again after an attempt that streamed: the next one continues the text its client already has.
    if (!resume && (job.firstTokenAt || job.attempt > 1)) {
      resume = resumeFrom(await this.streams.read(job.id), job.attempt);
      if (!resume && job.firstTokenAt) {
        await this.end(job.id, { transition: 'fail', code: 'node_lost', message: 'the node running the job was lost, and the text it had streamed could not be read back' });
        return;
      }
    }
    await this.queues.enqueue(Queues.inference, resume ? { ...payloadOf(job), resume } : payloadOf(job));
  }

  /**
   * queued → dispatched, and the attempt may now write the job's stream. `fence`: the scheduler lease token the dispatch is
   * made under; refused (null) once a newer scheduler leads.
   */
  async dispatch(jobId: string, attempt: number, nodeId: string, replicaId: string, at = new Date(), fence?: number, slot?: QuotaHold | null): Promise<JobRecord | null> {
    // An asynchronous job's concurrency slot, taken as it is dispatched, is recorded with it (given back at its end or requeue).
    const job = await this.apply(jobId, 'dispatch', { nodeId, replicaId, dispatchedAt: at }, { attempt, fence }, slot ? { slot } : undefined);
    if (job && !(await this.streams.open(jobId, attempt))) {
      // Closed in Redis meanwhile (cancelled, expired): the row catches up when its ender runs.
      this.logger.debug({ jobId, requestId: job.requestId }, 'dispatched a job whose stream is closed');
    }
    return job;
  }

  /**
   * queued → dispatched to an endpoint (a peer, a cluster, an external server) instead of a node:
   * the api relaying it writes the attempt's stream as a node would.
   */
  async dispatchToEndpoint(jobId: string, attempt: number, endpointId: string, at = new Date()): Promise<JobRecord | null> {
    const job = await this.apply(jobId, 'dispatch', { endpointId, dispatchedAt: at }, { attempt });
    if (job && !(await this.streams.open(jobId, attempt))) this.logger.debug({ jobId, requestId: job.requestId }, 'dispatched a job whose stream is closed');
    return job;
  }

  /** dispatched → running: the node's runner began this attempt. Its quota queue place is freed (it no longer waits). */
  async start(jobId: string, attempt: number, at = new Date()): Promise<JobRecord | null> {
    const job = await this.apply(jobId, 'start', { startedAt: at }, { attempt });
    if (job?.quota?.queued) await this.quotas.dequeue(job.quota.queued).catch((e: Error) => this.logger.warn({ jobId, requestId: job.requestId }, `freeing the job's queue place failed: ${errorSummary(e)}`));
    return job;
  }

  /** Records the first token of the attempt (the point after which a job is never re-run). */
  async firstToken(jobId: string, attempt: number, at = new Date()): Promise<void> {
    await this.jobs.note(jobId, ['dispatched', 'running'], { firstTokenAt: at }, { attempt, noFirstToken: true });
  }

  /**
   * A node ended an attempt: reads its outcome from the job's stream and finishes the row.
   * Nothing happens when the attempt wrote no final event (it was fenced: the job was closed).
   */
  async settle(jobId: string, attempt: number): Promise<JobRecord | null> {
    return this.settleFrom(jobId, attempt, attemptEvents(await this.streams.read(jobId), attempt));
  }

  /** Settles from whichever attempt last wrote a final event of its own (its node's end came first). */
  private async settleLatest(jobId: string): Promise<JobRecord | null> {
    const stored = (await this.streams.read(jobId)).filter((e) => !e.control);
    const last = [...stored].reverse().find((e) => e.event.type === 'finished' || e.event.type === 'error');
    if (!last) return null;
    return this.settleFrom(jobId, last.attempt, attemptEvents(stored, last.attempt));
  }

  /**
   * An earlier ender closed the job in Redis and has not (or could not) record it: the row
   * records that ending, with the code and message its readers were given.
   */
  private async finishEarlierClose(jobId: string, reason: CloseReason): Promise<JobRecord | null> {
    const closing = [...(await this.streams.read(jobId))].reverse().find((e) => e.control && e.event.type === 'error');
    if (!closing || closing.event.type !== 'error') return null;
    const transition = reason === 'cancelled' ? 'cancel' : reason === 'expired' ? 'expire' : 'fail';
    return this.end(jobId, { transition, code: closing.event.code, message: closing.event.message }, undefined, { alreadyInStream: true });
  }

  private async settleFrom(jobId: string, attempt: number, events: JobEvent[]): Promise<JobRecord | null> {
    const outcome = foldJobEvents(events);
    if (!outcome) return null;
    if ('output' in outcome) return this.end(jobId, { transition: 'succeed', output: outcome.output }, attempt);
    return this.end(jobId, { transition: 'fail', code: outcome.error.code, message: outcome.error.message }, attempt, { alreadyInStream: true });
  }

  /**
   * The attempt was lost before it produced a token: the job is taken from it in Redis first
   * (atomically checked: no token written; from then on the lost attempt can write nothing),
   * then back to `queued` with the next attempt, then onto the queue again. False when it may
   * not be requeued: a token was produced, the job was closed, or no tries are left.
   */
  async requeue(job: JobRecord, reason: string): Promise<boolean> {
    if (job.attempt >= MAX_JOB_ATTEMPTS || job.firstTokenAt) return false;
    if (!(await this.streams.reassign(job.id, job.attempt, job.attempt + 1))) return false;
    const next = await this.apply(job.id, 'requeue', { attempt: job.attempt + 1, nodeId: null, replicaId: null, dispatchedAt: null, startedAt: null }, { attempt: job.attempt, noFirstToken: true }, this.slotBack(job));
    if (!next) return false;
    await this.releaseSlot(job);
    this.logger.warn({ jobId: job.id, requestId: job.requestId, attempt: next.attempt }, `requeued: ${reason}`);
    await this.enqueue(next);
    return true;
  }

  /**
   * The attempt was lost after it had streamed text: the next attempt continues that text on
   * another replica (see the runner for how: exactly for a greedy or seeded job). The job
   * is taken from the lost attempt in Redis first, so it can write nothing more and the text read
   * back is all its client can have; then back to `queued` with the next attempt, then onto the
   * queue with the text to continue. False when nothing changed because it may not be resumed: it
   * produced no token (see `requeue`), the job was closed, or no tries are left.
   */
  async resume(job: JobRecord, reason: string): Promise<boolean> {
    // A sampled job under a grammar (a JSON format) cannot go on from part of its text: a new
    // attempt would start a new document after it. Only an exact replay continues it.
    const request = job.request as unknown as InferenceRequest;
    if (request.responseFormat && !isDeterministic(request)) return false;
    // The row's first-token time may lag behind the stream (progress notes are read later): the stream decides.
    if (job.attempt >= MAX_JOB_ATTEMPTS || !resumeFrom(await this.streams.read(job.id), job.attempt + 1)) return false;
    if (!(await this.streams.reassign(job.id, job.attempt, job.attempt + 1, { resuming: true }))) return false;
    const lost = `the node running the job was lost (${reason})`;
    const resume = resumeFrom(await this.streams.read(job.id), job.attempt + 1);
    const next = resume
      ? await this.apply(job.id, 'requeue', { attempt: job.attempt + 1, nodeId: null, replicaId: null, dispatchedAt: null, startedAt: null, firstTokenAt: job.firstTokenAt ?? new Date() }, { attempt: job.attempt }, this.slotBack(job))
      : null;
    if (next) await this.releaseSlot(job);
    if (!resume || !next) {
      // The stream now belongs to an attempt that will never run: closed here, whatever the row says.
      await this.end(job.id, { transition: 'fail', code: 'node_lost', message: lost });
      return true;
    }
    this.logger.warn({ jobId: job.id, requestId: job.requestId, attempt: next.attempt, deltas: resume.deltas }, `resumed: ${reason}`);
    await this.enqueue(next, { resume });
    return true;
  }

  /**
   * Finishes a job: the one place a row becomes succeeded, failed, cancelled or expired. A job
   * ended by the control plane is closed in Redis first, so its readers get the final error and
   * the node running it is stopped and fenced off; if the node had already ended it there, the
   * node's own outcome is what the row records.
   */
  async end(jobId: string, ending: JobEnding, attempt?: number, options: { alreadyInStream?: boolean } = {}): Promise<JobRecord | null> {
    const at = new Date();
    if (ending.transition !== 'succeed' && !options.alreadyInStream) {
      const message = ending.message ?? JOB_ERRORS[ending.code].message;
      let result: CloseResult = { closed: true };
      try {
        const retry = ending.retryAfterSeconds !== undefined ? { retryAfterSeconds: ending.retryAfterSeconds } : {};
        result = await this.streams.close(jobId, CLOSE_REASON[ending.transition], { type: 'error', code: ending.code, message, ...retry }, attempt);
      } catch (e) {
        // Postgres stays the truth; a node that never hears of it is fenced off when its attempt ends.
        this.logger.warn({ jobId }, `closing the job's stream failed: ${errorSummary(e)}`);
      }
      if (!result.closed) {
        // Closed before: by its node's end (that outcome wins), or by another ender (its ending wins).
        if (result.before === 'ended') {
          const settled = await this.settleLatest(jobId);
          if (settled) return settled;
        } else if (result.before !== 'stale') {
          const earlier = await this.finishEarlierClose(jobId, result.before);
          if (earlier) return earlier;
        }
      }
    }
    const changes: JobChanges =
      ending.transition === 'succeed'
        ? { result: ending.output, promptTokens: ending.output.promptTokens, cachedPromptTokens: ending.output.cachedPromptTokens, completionTokens: ending.output.completionTokens, finishedAt: at }
        : { errorCode: ending.code, errorMessage: ending.message ?? JOB_ERRORS[ending.code].message, finishedAt: at };
    const job = await this.apply(jobId, ending.transition, changes, attempt !== undefined ? { attempt } : {});
    if (job && ending.transition !== 'succeed' && job.dispatchedAt === null) {
      await this.queues.discardWaiting(Queues.inference, payloadOf(job)).catch(() => undefined);
    }
    if (job) await this.giveBackQuota(job);
    // The row holds the outcome now: the stream only has to outlast its live reader.
    if (job) await this.streams.retire(jobId).catch((e: Error) => this.logger.warn({ jobId, requestId: job.requestId }, `retiring the job's stream failed: ${e.message}`));
    return job;
  }

  /**
   * What the job took from its team's quotas at admission goes back when its row is finished:
   * the concurrency slot and the queue place are freed, the token reservation is replaced by
   * the tokens the job used: prompt and completion as the row has them; none recorded (it was
   * cancelled, it failed, it timed out) the whole reservation when it reached a node (it may
   * have generated: a client that goes away before the end must not make its tokens free), and
   * zero when it never left the queue. Each is idempotent; a failure is logged, never the end's:
   * a slot then lapses with its lease, a place with the job's deadline, and an unsettled
   * reservation stays charged to its window.
   */
  private async giveBackQuota(job: JobRecord): Promise<void> {
    const q = job.quota;
    if (!q) return;
    const reported = job.promptTokens !== null || job.completionTokens !== null;
    const used = reported ? (job.promptTokens ?? 0) + (job.completionTokens ?? 0) : job.dispatchedAt ? (q.reservation?.tokens ?? 0) : 0;
    const results = await Promise.allSettled([this.quotas.release(q.slot), this.quotas.dequeue(q.queued), this.quotas.settle(q.reservation, used)]);
    for (const r of results) if (r.status === 'rejected') this.logger.warn({ jobId: job.id, requestId: job.requestId }, `giving back the job's quota failed: ${errorSummary(r.reason)}`);
  }

  /**
   * A requeued asynchronous job waits again without its slot (its next dispatch takes one); a
   * synchronous job keeps its own, held by the api that relays it for as long as its client waits.
   */
  private slotBack(job: JobRecord): QuotaSlotChange | undefined {
    return job.mode === 'async' && job.quota?.slot ? { slot: null } : undefined;
  }

  private async releaseSlot(job: JobRecord): Promise<void> {
    if (!this.slotBack(job)) return;
    await this.quotas.release(job.quota?.slot ?? null).catch((e: Error) => this.logger.warn({ jobId: job.id, requestId: job.requestId }, `freeing the requeued job's slot failed: ${errorSummary(e)}`));
  }

  private async apply(jobId: string, t: JobTransition, changes: JobChanges, guard: JobGuard, quota?: QuotaSlotChange): Promise<JobRecord | null> {
    const job = await this.jobs.transition(jobId, t, changes, guard, quota);
    if (job) return job;
    const current = await this.jobs.get(jobId);
    const found = current ? `${current.status} (attempt ${current.attempt})` : 'missing';
    const level = current && isTerminalStatus(current.status) ? 'debug' : 'warn';
    this.logger[level]({ jobId, transition: t, attempt: guard.attempt }, `refused ${t}: the job is ${found}`);
    return null;
  }
}

/**
 * The events that make up `attempt`'s outcome: its own, after the earlier attempts' deltas it
 * continues (below its `started.fromDelta`) when it resumed their text.
 */
function attemptEvents(stored: readonly StoredJobEvent[], attempt: number): JobEvent[] {
  const own = stored.filter((e) => e.attempt === attempt && !e.control).map((e) => e.event);
  const started = own.find((e) => e.type === 'started');
  const from = started?.type === 'started' ? (started.fromDelta ?? 0) : 0;
  if (from === 0) return own;
  const earlier = stored.filter((e) => e.attempt < attempt && !e.control && e.event.type === 'delta' && e.event.index < from).map((e) => e.event);
  return [...earlier, ...own];
}

/**
 * The text the attempts before `attempt` streamed, for `attempt` to continue: their deltas
 * joined by index. Null when there is none, or when a delta is missing (the stream was trimmed
 * or lost: the text cannot be continued exactly).
 */
export function resumeFrom(stored: readonly StoredJobEvent[], attempt: number): JobResume | null {
  const parts: string[] = [];
  for (const e of stored) if (e.attempt < attempt && !e.control && e.event.type === 'delta') parts[e.event.index] = e.event.text;
  if (parts.length === 0) return null;
  for (let i = 0; i < parts.length; i++) if (parts[i] === undefined) return null;
  return { text: parts.join(''), deltas: parts.length };
}

/** The `inference` queue payload of a job row. */
export function payloadOf(job: JobRecord): InferenceJobPayload {
  return {
    jobId: job.id,
    teamId: job.teamId,
    ...(job.keypairId || job.apiTokenId ? { keyId: (job.keypairId ?? job.apiTokenId) as string } : {}),
    model: job.model,
    requestId: job.requestId,
    mode: job.mode,
    ...(job.priority ? { priority: job.priority } : {}),
    attempt: job.attempt,
    acceptedAt: job.createdAt.getTime(),
    deadlineAt: job.deadlineAt.getTime(),
    request: job.request as unknown as InferenceRequest,
  };
}
