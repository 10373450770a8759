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

  async upsert(model: Omit<ModelRecord, 'createdAt'>): Promise<void> {
    await this.db
      .getRepository(ModelEntity)
      .upsert({ name: model.name, sha256: model.sha256, sizeBytes: model.sizeBytes, facts: model.facts }, { conflictPaths: ['name'] });
  }

  async list(): Promise<ModelRecord[]> {
    return (await this.db.getRepository(ModelEntity).find({ order: { name: 'ASC' } })).map(toRecord);
  }

  async findByName(name: string): Promise<ModelRecord | null> {
    const row = await this.db.getRepository(ModelEntity).findOne({ where: { name } });
    return row ? toRecord(row) : null;
  }
}
