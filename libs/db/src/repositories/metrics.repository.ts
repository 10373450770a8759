import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { JobStatus } from '@gridline/contract';
import { TeamScope, scopedTeam } from './team-scope';

/** The jobs table summed by status, team and model: what the scheduler exports at each scrape. */
export interface JobFigures {
  status: JobStatus;
  team: string;
  model: string;
  jobs: number;
  /** Tokens recorded on the rows (usage as the nodes reported it; 0 where none was). */
  promptTokens: number;
  completionTokens: number;
  /** The oldest row's creation (for queued rows: how long the head of the team's queue has waited). */
  oldestCreatedAt: Date;
}

/** One replica as its node last reported it (a heartbeat's `replicas`), with the node's name. */
export interface ReportedReplica {
  node: string;
  model: string;
  state: string;
}

interface RawFigures {
  status: JobStatus;
  team: string;
  model: string;
  jobs: string;
  prompt_tokens: string;
  completion_tokens: string;
  oldest: Date;
}

/**
 * Operational figures over every team, for the metrics endpoints (never for a tenant's read):
 * aggregates only, no row leaves this class.
 */
@Injectable()
export class MetricsRepository {
  constructor(private readonly db: DataSource) {}

  /** One statement over the jobs table (the scope's teams), grouped by status, team (its name) and model. */
  async jobFigures(scope: TeamScope): Promise<JobFigures[]> {
    const team = scopedTeam(scope);
    const rows: RawFigures[] = await this.db.query(
      `SELECT j.status, t.name AS team, j.model, count(*) AS jobs,
              coalesce(sum(j.prompt_tokens), 0) AS prompt_tokens, coalesce(sum(j.completion_tokens), 0) AS completion_tokens,
              min(j.created_at) AS oldest
         FROM jobs j JOIN teams t ON t.id = j.team_id
        ${team ? 'WHERE j.team_id = $1' : ''}
        GROUP BY j.status, t.name, j.model`,
      team ? [team] : [],
    );
    return rows.map((r) => ({
      status: r.status,
      team: r.team,
      model: r.model,
      jobs: Number(r.jobs),
      promptTokens: Number(r.prompt_tokens),
      completionTokens: Number(r.completion_tokens),
      oldestCreatedAt: new Date(r.oldest),
    }));
  }

  /** The scope's teams' names by id (labels name teams; the table is small). */
  async teamNames(scope: TeamScope): Promise<Map<string, string>> {
    const team = scopedTeam(scope);
    const rows: { id: string; name: string }[] = await this.db.query(`SELECT id, name FROM teams${team ? ' WHERE id = $1' : ''}`, team ? [team] : []);
    return new Map(rows.map((r) => [r.id, r.name]));
  }
}
