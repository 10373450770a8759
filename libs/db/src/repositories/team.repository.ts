import { Injectable } from '@nestjs/common';
import { DataSource, ILike } from 'typeorm';
import { TeamEntity } from '../entities';
import { Page, PageRequest, TeamScope, scopedTeam } from './team-scope';

export interface TeamRecord {
  id: string;
  name: string;
  weight: number;
  quotaGpus: number | null;
  quotaGpuMemoryBytes: number | null;
  localOnly: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type TeamChanges = Partial<Pick<TeamRecord, 'name' | 'weight' | 'quotaGpus' | 'quotaGpuMemoryBytes' | 'localOnly'>>;

const toRecord = ({ id, name, weight, quotaGpus, quotaGpuMemoryBytes, localOnly, createdAt, updatedAt }: TeamEntity): TeamRecord => ({
  id,
  name,
  weight,
  quotaGpus,
  quotaGpuMemoryBytes,
  localOnly,
  createdAt,
  updatedAt,
});

@Injectable()
export class TeamRepository {
  constructor(private readonly db: DataSource) {}

  async list(scope: TeamScope, filter: { name?: string }, page: PageRequest): Promise<Page<TeamRecord>> {
    const team = scopedTeam(scope);
    const where = { ...(team ? { id: team } : {}), ...(filter.name ? { name: ILike(`%${filter.name}%`) } : {}) };
    const [rows, total] = await this.db.getRepository(TeamEntity).findAndCount({ where, order: { name: 'ASC' }, take: page.limit, skip: page.offset });
    return { items: rows.map(toRecord), total, limit: page.limit, offset: page.offset };
  }

  /** Every team's fair-share weight (the scheduler serves waiting jobs by them). */
  async weights(): Promise<Map<string, number>> {
    const rows = await this.db.getRepository(TeamEntity).find({ select: { id: true, weight: true } });
    return new Map(rows.map((r) => [r.id, r.weight]));
  }

  async get(scope: TeamScope, id: string): Promise<TeamRecord | null> {
    const team = scopedTeam(scope);
    if (team && team !== id) return null;
    const row = await this.db.getRepository(TeamEntity).findOne({ where: { id } });
    return row ? toRecord(row) : null;
  }

  async findByName(name: string): Promise<TeamRecord | null> {
    const row = await this.db.getRepository(TeamEntity).findOne({ where: { name } });
    return row ? toRecord(row) : null;
  }

  async create(values: { name: string } & TeamChanges): Promise<TeamRecord> {
    const repo = this.db.getRepository(TeamEntity);
    return toRecord(await repo.save(repo.create(values)));
  }

  async update(scope: TeamScope, id: string, changes: TeamChanges): Promise<TeamRecord | null> {
    if (!(await this.get(scope, id))) return null;
    await this.db.getRepository(TeamEntity).update({ id }, changes);
    return this.get(scope, id);
  }

  async delete(scope: TeamScope, id: string): Promise<boolean> {
    if (!(await this.get(scope, id))) return false;
    return ((await this.db.getRepository(TeamEntity).delete({ id })).affected ?? 0) > 0;
  }
}
