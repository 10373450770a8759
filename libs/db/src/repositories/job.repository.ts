import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { JobEntity, JobStatus } from '../entities';

export interface NewJob {
  teamId: string;
  keypairId: string | null;
  kind: string;
  model: string;
  request: Record<string, unknown>;
  requestId: string | null;
}

export interface JobRecord extends NewJob {
  id: string;
  status: JobStatus;
  result: Record<string, unknown> | null;
  errorCode: string | null;
  errorMessage: string | null;
  nodeId: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  createdAt: Date;
  dispatchedAt: Date | null;
  finishedAt: Date | null;
}

export interface JobOutcome {
  status: Extract<JobStatus, 'succeeded' | 'failed' | 'cancelled'>;
  result?: Record<string, unknown>;
  errorCode?: string;
  errorMessage?: string;
  promptTokens?: number;
  completionTokens?: number;
  nodeId?: string | null;
}

const OPEN: JobStatus[] = ['queued', 'dispatched'];

function toRecord(e: JobEntity): JobRecord {
  const { team: _team, ...rest } = e;
  return rest;
}

/** Inference jobs. Client-facing reads (a later issue) take a TeamScope, like every team-owned repository. */
@Injectable()
export class JobRepository {
  constructor(private readonly db: DataSource) {}

  async create(job: NewJob): Promise<JobRecord> {
    const repo = this.db.getRepository(JobEntity);
    return toRecord(await repo.save(repo.create({ ...job, status: 'queued' })));
  }



  async markDispatched(id: string, nodeId: string, at: Date): Promise<boolean> {
    const result = await this.db.getRepository(JobEntity).update({ id, status: In(OPEN) }, { status: 'dispatched', nodeId, dispatchedAt: at });
    return (result.affected ?? 0) > 0;
  }

  /** Records the final state once; a second outcome for a finished job changes nothing. */
  async finish(id: string, outcome: JobOutcome, at: Date): Promise<boolean> {
    const changes: Partial<JobEntity> = {
        status: outcome.status,
        result: outcome.result ?? null,
        errorCode: outcome.errorCode ?? null,
        errorMessage: outcome.errorMessage ?? null,
        promptTokens: outcome.promptTokens ?? null,
        completionTokens: outcome.completionTokens ?? null,
        ...(outcome.nodeId !== undefined ? { nodeId: outcome.nodeId } : {}),
        finishedAt: at,
    };
    const result = await this.db.getRepository(JobEntity).update({ id, status: In(OPEN) }, changes as never);
    return (result.affected ?? 0) > 0;
  }
}
