import { Injectable } from '@nestjs/common';
import { Brackets, DataSource, In, IsNull } from 'typeorm';
import { ModelEntity, ModelFileFacts } from '../entities';
import { Page, PageRequest, TeamScope, scopedTeam } from './team-scope';

export interface ModelRecord {
  id: string;
  name: string;
  sha256: string | null;
  sizeBytes: number;
  facts: ModelFileFacts;
  source: string | null;
  teamId: string | null;
  headerOnly: boolean;
  memoryOverrideBytes: number | null;
  createdAt: Date;
}

/** A model registered through the catalog API (agents' announcements go through `upsert`). */
export type NewModel = Pick<ModelRecord, 'name' | 'sizeBytes' | 'facts' | 'source' | 'teamId' | 'headerOnly'> & { sha256?: string | null };

function toRecord(e: ModelEntity): ModelRecord {
  return { id: e.id, name: e.name, sha256: e.sha256, sizeBytes: e.sizeBytes, facts: e.facts, source: e.source, teamId: e.teamId, headerOnly: e.headerOnly, memoryOverrideBytes: e.memoryOverrideBytes, createdAt: e.createdAt };
}

/** The model catalog. */
@Injectable()
export class ModelRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Records a model an agent announced. The same file announced again keeps the largest
   * context any agent serves it with (atomically: agents register concurrently); another file
   * under the name replaces the facts.
   */
  async upsert(model: Pick<ModelRecord, 'name' | 'sha256' | 'sizeBytes' | 'facts'>): Promise<void> {
    await this.db.query(
      `INSERT INTO models (name, sha256, size_bytes, facts) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET
         sha256 = EXCLUDED.sha256,
         size_bytes = EXCLUDED.size_bytes,
         updated_at = now(),
         facts = CASE
           WHEN models.sha256 IS NOT DISTINCT FROM EXCLUDED.sha256
             AND jsonb_typeof(models.facts #> '{serving,contextTokens}') = 'number'
             AND jsonb_typeof(EXCLUDED.facts #> '{serving,contextTokens}') = 'number'
           THEN jsonb_set(
             EXCLUDED.facts,
             '{serving,contextTokens}',
             to_jsonb(GREATEST((models.facts #>> '{serving,contextTokens}')::bigint, (EXCLUDED.facts #>> '{serving,contextTokens}')::bigint))
           )
           ELSE EXCLUDED.facts
         END
         -- The shape a catalog registration read stays: deployments are planned with it.
         || CASE WHEN models.facts ? 'shape' THEN jsonb_build_object('shape', models.facts -> 'shape') ELSE '{}'::jsonb END`,
      [model.name, model.sha256, model.sizeBytes, JSON.stringify(model.facts)],
    );
  }

  /** Registers a model; a taken name is Postgres' unique violation (23505) for the caller to map. */
  async register(model: NewModel): Promise<ModelRecord> {
    const repo = this.db.getRepository(ModelEntity);
    return toRecord(await repo.save(repo.create({ ...model, sha256: model.sha256 ?? null })));
  }

  /** The models a scope may see: global ones and its team's (all of them for the platform scope). */
  async listVisible(scope: TeamScope, page: PageRequest): Promise<Page<ModelRecord>> {
    const [rows, total] = await this.visible(scope).orderBy('m.name', 'ASC').take(page.limit).skip(page.offset).getManyAndCount();
    return { items: rows.map(toRecord), total, limit: page.limit, offset: page.offset };
  }

  async findVisible(scope: TeamScope, name: string): Promise<ModelRecord | null> {
    const row = await this.visible(scope).andWhere('m.name = :name', { name }).getOne();
    return row ? toRecord(row) : null;
  }

  /** A model the scope may change: its team's (any, for the platform scope); global ones belong to the platform scope. */
  async findChangeable(scope: TeamScope, name: string): Promise<ModelRecord | null> {
    const found = await this.findVisible(scope, name);
    return found && (scopedTeam(scope) === null || found.teamId !== null) ? found : null;
  }

  async findById(id: string): Promise<ModelRecord | null> {
    const row = await this.db.getRepository(ModelEntity).findOne({ where: { id } });
    return row ? toRecord(row) : null;
  }

  /** Names by id, for rows that refer to models. */
  async findByIds(ids: string[]): Promise<ModelRecord[]> {
    if (ids.length === 0) return [];
    return (await this.db.getRepository(ModelEntity).find({ where: { id: In([...new Set(ids)]) } })).map(toRecord);
  }

  async namesByIds(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.getRepository(ModelEntity).find({ select: { id: true, name: true }, where: { id: In([...new Set(ids)]) } });
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  /** Sets or clears the admin's memory figure (null: the estimate stands). */
  /** Records the digest of a file registered without one (computed once, when a node first needs it). */
  async setSha256(id: string, sha256: string): Promise<void> {
    await this.db.getRepository(ModelEntity).update({ id, sha256: IsNull() }, { sha256 });
  }

  async setMemoryOverride(id: string, bytes: number | null): Promise<void> {
    await this.db.getRepository(ModelEntity).update({ id }, { memoryOverrideBytes: bytes });
  }

  async delete(id: string): Promise<boolean> {
    return ((await this.db.getRepository(ModelEntity).delete({ id })).affected ?? 0) > 0;
  }

  private visible(scope: TeamScope) {
    const team = scopedTeam(scope);
    const q = this.db.getRepository(ModelEntity).createQueryBuilder('m');
    return team ? q.where(new Brackets((w) => w.where('m.team_id IS NULL').orWhere('m.team_id = :team', { team }))) : q.where('true');
  }

  async list(): Promise<ModelRecord[]> {
    return (await this.db.getRepository(ModelEntity).find({ order: { name: 'ASC' } })).map(toRecord);
  }

  async findByName(name: string): Promise<ModelRecord | null> {
    const row = await this.db.getRepository(ModelEntity).findOne({ where: { name } });
    return row ? toRecord(row) : null;
  }
}
