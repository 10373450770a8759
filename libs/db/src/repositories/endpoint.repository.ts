import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EndpointEntity, EndpointModelEntity, ModelFallbackEntity } from '../entities';
import type { EndpointHealthSettings, EndpointKind, EndpointState } from '../entities/endpoint.entity';

export type EndpointRecord = EndpointEntity;
export type EndpointModelRecord = Omit<EndpointModelEntity, 'endpoint'>;

export type NewEndpoint = Pick<EndpointRecord, 'name' | 'kind' | 'url' | 'credentialsSealed' | 'credentialHint' | 'weight' | 'enabled' | 'offerNewModels' | 'health' | 'remoteVersion' | 'createdBy'> & { state: EndpointState };
export type EndpointChanges = Partial<Pick<EndpointRecord, 'name' | 'url' | 'credentialsSealed' | 'credentialHint' | 'weight' | 'enabled' | 'offerNewModels' | 'health' | 'remoteVersion'>>;
export type EndpointModelChanges = Partial<Pick<EndpointModelRecord, 'alias' | 'teamIds' | 'enabled'>>;

/** What an active check changes on its endpoint (see the health rules in @gridline/mesh). */
export interface EndpointCheckResult {
  state: EndpointState;
  stateChanged: boolean;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastError: string | null;
  at: Date;
}

/** A model offered through an endpoint, with the endpoint's routing facts: what routing reads. */
export interface EndpointOffer {
  endpointId: string;
  endpointName: string;
  kind: EndpointKind;
  weight: number;
  state: EndpointState;
  remoteModel: string;
  alias: string;
  teamIds: string[] | null;
}

export interface FallbackRecord {
  model: string;
  chain: string[];
  updatedAt: Date;
}

const toModel = (e: EndpointModelEntity): EndpointModelRecord => {
  const { endpoint: _endpoint, ...rest } = e;
  return rest;
};

/** Registered endpoints, their catalogs and health, and the models' fallback chains. */
@Injectable()
export class EndpointRepository {
  constructor(private readonly db: DataSource) {}

  private get repo() {
    return this.db.getRepository(EndpointEntity);
  }

  async create(values: NewEndpoint): Promise<EndpointRecord> {
    return this.repo.save(this.repo.create({ ...values, stateSince: new Date() }));
  }

  list(): Promise<EndpointRecord[]> {
    return this.repo.find({ order: { name: 'ASC' } });
  }

  get(id: string): Promise<EndpointRecord | null> {
    return this.repo.findOne({ where: { id } });
  }

  findByName(name: string): Promise<EndpointRecord | null> {
    return this.repo.findOne({ where: { name } });
  }

  async update(id: string, changes: EndpointChanges): Promise<EndpointRecord | null> {
    if (Object.keys(changes).length > 0) await this.repo.update({ id }, changes);
    return this.get(id);
  }

  /** Puts an endpoint's health back to `state` (its credentials or address changed: what was known no longer holds). */
  async resetHealth(id: string, state: EndpointState, at: Date): Promise<void> {
    await this.repo.update({ id }, { state, stateSince: at, consecutiveFailures: 0, consecutiveSuccesses: 0, lastError: null });
  }

  async remove(id: string): Promise<boolean> {
    const r = await this.repo.delete({ id });
    return (r.affected ?? 0) > 0;
  }

  /** Records an active check's outcome. */
  async recordCheck(id: string, r: EndpointCheckResult): Promise<void> {
    await this.repo.update(
      { id },
      {
        state: r.state,
        ...(r.stateChanged ? { stateSince: r.at } : {}),
        consecutiveFailures: r.consecutiveFailures,
        consecutiveSuccesses: r.consecutiveSuccesses,
        lastError: r.lastError,
        lastCheckAt: r.at,
      },
    );
  }

  /**
   * The endpoint's catalog as it listed it now: new models are added (under their own name,
   * offered to every team), known ones marked listed again, the rest marked unlisted (their
   * alias and team restriction stay, for when they come back).
   */
  async replaceCatalog(endpointId: string, remoteModels: readonly string[], at: Date, options: { offerNew?: boolean } = {}): Promise<void> {
    await this.db.transaction(async (m) => {
      if (remoteModels.length > 0) {
        await m.query(
          `UPDATE endpoint_models SET listed = true, last_seen_at = $3 WHERE endpoint_id = $1 AND remote_model = ANY($2::text[])`,
          [endpointId, remoteModels, at],
        );
        // New models under their own name; one whose name is already another model's alias here
        // (an admin renamed a model to it) under `<name>@<endpoint>`, and a model whose both names
        // are taken is left out (an alias chosen later frees one). Never a failed catalog.
        await m.query(
          `INSERT INTO endpoint_models (endpoint_id, remote_model, alias, enabled, listed, first_seen_at, last_seen_at)
           SELECT $1, r, CASE WHEN EXISTS (SELECT 1 FROM endpoint_models x WHERE x.endpoint_id = $1 AND x.alias = r) THEN r || '@' || e.name ELSE r END, $4, true, $3, $3
           FROM unnest($2::text[]) AS r, endpoints e
           WHERE e.id = $1 AND NOT EXISTS (SELECT 1 FROM endpoint_models y WHERE y.endpoint_id = $1 AND y.remote_model = r)
           ON CONFLICT DO NOTHING`,
          [endpointId, remoteModels, at, options.offerNew ?? true],
        );
      }
      await m.query(`UPDATE endpoint_models SET listed = false WHERE endpoint_id = $1 AND NOT (remote_model = ANY($2::text[]))`, [endpointId, remoteModels]);
      await m.getRepository(EndpointEntity).update({ id: endpointId }, { catalogRefreshedAt: at });
    });
  }

  async models(endpointId: string): Promise<EndpointModelRecord[]> {
    return (await this.db.getRepository(EndpointModelEntity).find({ where: { endpointId }, order: { alias: 'ASC' } })).map(toModel);
  }

  async allModels(): Promise<EndpointModelRecord[]> {
    return (await this.db.getRepository(EndpointModelEntity).find({ order: { alias: 'ASC' } })).map(toModel);
  }

  async updateModel(endpointId: string, remoteModel: string, changes: EndpointModelChanges): Promise<EndpointModelRecord | null> {
    const repo = this.db.getRepository(EndpointModelEntity);
    if (Object.keys(changes).length > 0) await repo.update({ endpointId, remoteModel }, changes);
    const row = await repo.findOne({ where: { endpointId, remoteModel } });
    return row ? toModel(row) : null;
  }

  /** Every model routing may send requests to: listed and enabled, on enabled endpoints (whatever their health). */
  async offers(): Promise<EndpointOffer[]> {
    const rows: { endpoint_id: string; name: string; kind: EndpointKind; weight: number; state: EndpointState; remote_model: string; alias: string; team_ids: string[] | null }[] = await this.db.query(
      `SELECT m.endpoint_id, e.name, e.kind, e.weight, e.state, m.remote_model, m.alias, m.team_ids
       FROM endpoint_models m JOIN endpoints e ON e.id = m.endpoint_id
       WHERE e.enabled AND m.enabled AND m.listed
       ORDER BY m.alias, e.name`,
    );
    return rows.map((r) => ({ endpointId: r.endpoint_id, endpointName: r.name, kind: r.kind, weight: r.weight, state: r.state, remoteModel: r.remote_model, alias: r.alias, teamIds: r.team_ids }));
  }

  async fallbacks(): Promise<FallbackRecord[]> {
    return this.db.getRepository(ModelFallbackEntity).find({ order: { model: 'ASC' } });
  }

  async setFallback(model: string, chain: string[]): Promise<FallbackRecord> {
    const repo = this.db.getRepository(ModelFallbackEntity);
    await repo.upsert({ model, chain }, ['model']);
    return (await repo.findOne({ where: { model } })) as FallbackRecord;
  }

  async removeFallback(model: string): Promise<boolean> {
    const r = await this.db.getRepository(ModelFallbackEntity).delete({ model });
    return (r.affected ?? 0) > 0;
  }
}

export type { EndpointHealthSettings, EndpointKind, EndpointState };
