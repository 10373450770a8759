import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, FindOptionsWhere, In, IsNull, LessThan } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { JobStatus, JobTransition, OPEN_JOB_STATUSES, transitionSources, transitionTarget } from '@gridline/contract';
import { JobEntity, JobKind, JobMode, JobQuotaHold, JobQuotaHolds } from '../entities';
import { fenceCondition } from './lease.repository';
import { TeamScope, teamWhere } from './team-scope';

export interface NewJob {
  teamId: string;
  keypairId: string | null;
  /** For usage: the bearer token and the user behind the credential (default null). */
  apiTokenId?: string | null;
  userId?: string | null;
  kind: JobKind;
  mode: JobMode;
  model: string;
  request: Record<string, unknown>;
  requestId: string | null;
  createdAt: Date;
  deadlineAt: Date;
  idempotencyKey: string | null;
  requestHash: string | null;
  /** Default 0. */
  priority?: number;
  /** What the job took from its team's quotas (default none). */
  quota?: JobQuotaHolds | null;
}

export type JobRecord = Omit<JobEntity, 'team'>;

/** The most jobs one INSERT writes (a burst beyond goes in several). */
const MAX_INSERT_BATCH = 256;

/** Column changes a transition may carry (never the status: the transition sets it). */
export type JobChanges = Partial<
  Pick<JobEntity, 'nodeId' | 'endpointId' | 'replicaId' | 'attempt' | 'result' | 'errorCode' | 'errorMessage' | 'promptTokens' | 'cachedPromptTokens' | 'completionTokens' | 'dispatchedAt' | 'startedAt' | 'firstTokenAt' | 'finishedAt'>
>;

/** Extra conditions of a compare-and-set beyond the current status. */
export interface JobGuard {
  attempt?: number;
  /** Only while no token was produced (a requeue never re-runs a job that streamed text). */
  noFirstToken?: boolean;
  /** Only while this is still the scheduler lease's token (a deposed leader dispatches nothing). */
  fence?: number;
}

/** A transition's change to the concurrency slot the row records (`quota.slot`): the slot taken, or null once given back. */
export interface QuotaSlotChange {
  slot: JobQuotaHold | null;
}

export interface JobListFilter {
  status?: JobStatus;
  model?: string;
  /** Rows strictly older than this (createdAt, id) position: the cursor of the previous page. */
  before?: { createdAt: Date; id: string };
  limit: number;
}

function toRecord(e: JobEntity): JobRecord {
  const { team: _team, ...rest } = e;
  return rest;
}

/**
 * Jobs. Status changes go through `transition` only: a compare-and-set on the current status
 * (and attempt) that the job lifecycle drives; client-facing reads take a TeamScope.
 */
@Injectable()
export class JobRepository {
  constructor(private readonly db: DataSource) {}

  private get repo() {
    return this.db.getRepository(JobEntity);
  }

  /** The team's job submitted under an idempotency key, if any. */
  async findByIdempotencyKey(scope: TeamScope, idempotencyKey: string): Promise<JobRecord | null> {
    const row = await this.repo.findOne({ where: teamWhere(scope, { idempotencyKey }) });
    return row ? toRecord(row) : null;
  }

  /**
   * Inserts a queued job; with an idempotency key already used by the team, returns that job
   * instead. Jobs without a key are written by `insertBatched`: what arrives while an insert is
   * in flight goes in the next one, so a burst of submissions costs one commit per batch, not
   * one each (a commit waits for the disk), and a lone one waits for nothing.
   */
  async create(job: NewJob): Promise<{ job: JobRecord; created: boolean }> {
    if (!job.idempotencyKey) return { job: await this.insertBatched(job), created: true };
    const existing = await this.repo.findOne({ where: { teamId: job.teamId, idempotencyKey: job.idempotencyKey } });
    if (existing) return { job: toRecord(existing), created: false };
    try {
      return { job: (await this.insertRows([this.rowOf(job)]))[0], created: true };
    } catch (e) {
      // Two submits with one key at once: the loser returns the winner's job.
      if ((e as { code?: string }).code === '23505') {
        const winner = await this.repo.findOneOrFail({ where: { teamId: job.teamId, idempotencyKey: job.idempotencyKey } });
        return { job: toRecord(winner), created: false };
      }
      throw e;
    }
  }

  private readonly waiting: { row: QueryDeepPartialEntity<JobEntity> & { id: string }; done: (job: JobRecord) => void; failed: (e: unknown) => void }[] = [];
  private inserting = false;

  private insertBatched(job: NewJob): Promise<JobRecord> {
    return new Promise((done, failed) => {
      this.waiting.push({ row: this.rowOf(job), done, failed });
      if (!this.inserting) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.inserting = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, MAX_INSERT_BATCH);
        try {
          const rows = await this.insertRows(batch.map((b) => b.row));
          const byId = new Map(rows.map((r) => [r.id, r]));
          for (const b of batch) {
            const row = byId.get(b.row.id);
            if (row) b.done(row);
            else b.failed(new Error('the inserted job was not returned'));
          }
        } catch {
          // One row the database refuses (its team deleted meanwhile) fails alone: the rows go in one by one.
          await Promise.all(batch.map((b) => this.insertAlone(b.row).then(b.done, b.failed)));
        }
      }
    } finally {
      this.inserting = false;
    }
  }

  /**
   * One row on its own, after its batch failed. The batch may have been written all the same (its
   * answer was lost after the commit): a row already there under this id is that row.
   */
  private async insertAlone(row: QueryDeepPartialEntity<JobEntity> & { id: string }): Promise<JobRecord> {
    try {
      return (await this.insertRows([row]))[0];
    } catch (e) {
      const written = (e as { code?: string }).code === '23505' ? await this.get(row.id) : null;
      if (written) return written;
      throw e;
    }
  }

  /** A new job's row: its id made here, so a batch's rows are matched to their callers by id. */
  private rowOf(job: NewJob): QueryDeepPartialEntity<JobEntity> & { id: string } {
    return { ...job, id: randomUUID(), status: 'queued', attempt: 1 } as QueryDeepPartialEntity<JobEntity> & { id: string };
  }

  /** One INSERT … RETURNING for all the rows: one round trip and one commit (save() would take a transaction of three per row). */
  private async insertRows(rows: QueryDeepPartialEntity<JobEntity>[]): Promise<JobRecord[]> {
    const result = await this.repo.createQueryBuilder().insert().into(JobEntity).values(rows).returning('*').execute();
    return (result.raw as Record<string, unknown>[]).map((raw) => this.fromRow(raw));
  }

  /**
   * Applies a lifecycle transition as a compare-and-set: the row changes only when its status
   * is one the transition starts from (and the guard holds). Returns the updated row, or null.
   */
  async transition(id: string, t: JobTransition, changes: JobChanges, guard: JobGuard = {}, quota?: QuotaSlotChange): Promise<JobRecord | null> {
    // The slot is set inside the row's holds (the queue place and the reservation stay as they are).
    const slot = quota ? { quota: () => `jsonb_set(COALESCE(quota, '{"slot": null, "queued": null, "reservation": null}'::jsonb), '{slot}', CAST(:slot AS jsonb))` } : {};
    const qb = this.repo
      .createQueryBuilder()
      .update(JobEntity)
      .set({ ...changes, ...slot, status: transitionTarget(t) } as never)
      .where('id = :id', { id })
      .andWhere('status IN (:...from)', { from: [...transitionSources(t)] });
    if (guard.attempt !== undefined) qb.andWhere('attempt = :attempt', { attempt: guard.attempt });
    if (guard.noFirstToken) qb.andWhere('first_token_at IS NULL');
    if (guard.fence !== undefined) qb.andWhere(fenceCondition(), { fence: guard.fence });
    if (quota) qb.setParameter('slot', JSON.stringify(quota.slot));
    const result = await qb.returning('*').execute();
    const raw = (result.raw as Record<string, unknown>[])[0];
    return raw ? this.fromRow(raw) : null;
  }

  /** A row as RETURNING gives it (column names), as a record (property names); no job column has a transformer. */
  private fromRow(raw: Record<string, unknown>): JobRecord {
    const out: Record<string, unknown> = {};
    for (const c of this.repo.metadata.columns) out[c.propertyName] = raw[c.databaseName];
    return out as unknown as JobRecord;
  }

  /** Sets columns of a job in one of `statuses` without changing its status (first-token time). */
  async note(id: string, statuses: JobStatus[], changes: JobChanges, guard: JobGuard = {}): Promise<boolean> {
    const where: FindOptionsWhere<JobEntity> = { id, status: In(statuses) };
    if (guard.attempt !== undefined) where.attempt = guard.attempt;
    if (guard.noFirstToken) where.firstTokenAt = IsNull();
    const result = await this.repo.update(where, changes as never);
    return (result.affected ?? 0) > 0;
  }

  /** Any job by id, for the control plane (no tenancy: never answer a client with it directly). */
  async get(id: string): Promise<JobRecord | null> {
    const e = await this.repo.findOne({ where: { id } });
    return e ? toRecord(e) : null;
  }

  async find(scope: TeamScope, id: string): Promise<JobRecord | null> {
    const e = await this.repo.findOne({ where: teamWhere(scope, { id }) });
    return e ? toRecord(e) : null;
  }

  /** Newest first, `limit` rows after the cursor position. */
  async list(scope: TeamScope, filter: JobListFilter): Promise<JobRecord[]> {
    const qb = this.repo.createQueryBuilder('j').orderBy('j.created_at', 'DESC').addOrderBy('j.id', 'DESC').limit(filter.limit);
    const where = teamWhere(scope, {});
    if (where.teamId) qb.andWhere('j.team_id = :teamId', { teamId: where.teamId });
    if (filter.status) qb.andWhere('j.status = :status', { status: filter.status });
    if (filter.model) qb.andWhere('j.model = :model', { model: filter.model });
    if (filter.before) qb.andWhere('(j.created_at, j.id) < (:createdAt, :beforeId)', { createdAt: filter.before.createdAt, beforeId: filter.before.id });
    return (await qb.getMany()).map(toRecord);
  }

  /** Jobs not yet ended whose deadline has passed. */
  async listOverdue(now: Date, limit = 500): Promise<JobRecord[]> {
    return (await this.repo.find({ where: { status: In([...OPEN_JOB_STATUSES]), deadlineAt: LessThan(now) }, order: { deadlineAt: 'ASC' }, take: limit })).map(toRecord);
  }

  /** Jobs not yet ended in the given statuses, oldest first. */
  async listOpen(statuses: readonly JobStatus[] = OPEN_JOB_STATUSES, limit = 2000): Promise<JobRecord[]> {
    return (await this.repo.find({ where: { status: In([...statuses]) }, order: { createdAt: 'ASC' }, take: limit })).map(toRecord);
  }
}
