import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ModelEntity, ModelFileFacts } from '../entities';

export interface ModelRecord {
  name: string;
  sha256: string | null;
  sizeBytes: number;
  facts: ModelFileFacts;
  createdAt: Date;
}

function toRecord(e: ModelEntity): ModelRecord {
  return { name: e.name, sha256: e.sha256, sizeBytes: e.sizeBytes, facts: e.facts, createdAt: e.createdAt };
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
  async upsert(model: Omit<ModelRecord, 'createdAt'>): Promise<void> {
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
         END`,
      [model.name, model.sha256, model.sizeBytes, JSON.stringify(model.facts)],
    );
  }

  async list(): Promise<ModelRecord[]> {
    return (await this.db.getRepository(ModelEntity).find({ order: { name: 'ASC' } })).map(toRecord);
  }

  async findByName(name: string): Promise<ModelRecord | null> {
    const row = await this.db.getRepository(ModelEntity).findOne({ where: { name } });
    return row ? toRecord(row) : null;
  }
}
