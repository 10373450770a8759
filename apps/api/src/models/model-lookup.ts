import { Global, Injectable, Module } from '@nestjs/common';
import { BoundedCache } from '@gridline/common';
import { ModelRecord, ModelRepository, TeamScope, scopedTeam } from '@gridline/db';

/**
 * How long admission reuses a model it found, in one api process: a model deleted, changed or
 * moved to another team elsewhere is seen within this long by every replica (at once by the
 * replica that made the change). An absent model is never remembered: one registered now is
 * usable at once.
 */
export const MODEL_LOOKUP_CACHE_MS = 1000;

/** The models admission looks up on every inference request, cached briefly (one query a second per model and team, not one per request). */
@Injectable()
export class ModelLookup {
  private readonly found = new BoundedCache<ModelRecord>({
    maxBytes: 16 * 1024 * 1024,
    ttlMs: MODEL_LOOKUP_CACHE_MS,
    negativeTtlMs: 1,
    sizeOf: (m) => 2 * JSON.stringify(m).length,
  });

  constructor(private readonly models: ModelRepository) {}

  /** The model as the scope sees it: null when it does not exist or is another team's. */
  findVisible(scope: TeamScope, name: string): Promise<ModelRecord | null> {
    return this.found.get(`${scopedTeam(scope) ?? '*'}\u0000${name}`, () => this.models.findVisible(scope, name));
  }

  /** Forgets every cached model (this process changed one). */
  forget(): void {
    this.found.clear();
  }
}

@Global()
@Module({ providers: [ModelLookup], exports: [ModelLookup] })
export class ModelLookupModule {}
