import { Global, Injectable, Module } from '@nestjs/common';
import { EndpointOffer, EndpointRecord, EndpointRepository, FallbackRecord, NodeRepository, TeamRepository, TeamScope } from '@gridline/db';
import { ApiConfig } from '../api.config';

/** How long routing reuses what it read of endpoints, fallbacks, local replicas and teams, in one api process. */
export const MESH_VIEW_TTL_MS = 1000;

/** One value loaded at most once per `ttlMs`, concurrent readers sharing the load; a failed load is not kept. */
class Memo<T> {
  private value: { at: number; v: T } | null = null;
  private loading: Promise<T> | null = null;

  constructor(
    private readonly ttlMs: number,
    private readonly load: () => Promise<T>,
  ) {}

  get(): Promise<T> {
    if (this.value && Date.now() - this.value.at < this.ttlMs) return Promise.resolve(this.value.v);
    this.loading ??= this.load()
      .then((v) => {
        this.value = { at: Date.now(), v };
        return v;
      })
      .finally(() => (this.loading = null));
    return this.loading;
  }

  forget(): void {
    this.value = null;
  }
}

/**
 * What routing reads on every request, each from one query at most once a second per api
 * process: the endpoints' offers, the fallback chains, the models with a Ready local replica,
 * and which teams are local-only. A change made through this process is seen at once.
 */
@Injectable()
export class MeshViews {
  private readonly offers: Memo<EndpointOffer[]>;
  private readonly endpoints: Memo<Map<string, EndpointRecord>>;
  private readonly fallbacks: Memo<Map<string, string[]>>;
  private readonly ready: Memo<Set<string>>;
  private readonly localOnly: Memo<Set<string>>;

  constructor(endpoints: EndpointRepository, nodes: NodeRepository, teams: TeamRepository, config: ApiConfig) {
    this.offers = new Memo(MESH_VIEW_TTL_MS, () => endpoints.offers());
    this.endpoints = new Memo(MESH_VIEW_TTL_MS, async () => new Map((await endpoints.list()).map((e) => [e.id, e])));
    this.fallbacks = new Memo(MESH_VIEW_TTL_MS, async () => new Map((await endpoints.fallbacks()).map((f: FallbackRecord) => [f.model, f.chain])));
    this.ready = new Memo(MESH_VIEW_TTL_MS, () => nodes.modelsReady(new Date(Date.now() - config.GRIDLINE_NODE_TIMEOUT_SECONDS * 1000)));
    this.localOnly = new Memo(MESH_VIEW_TTL_MS, async () => new Set((await teams.list(TeamScope.all(), {}, { limit: 100_000, offset: 0 })).items.filter((t) => t.localOnly).map((t) => t.id)));
  }

  /** The offers of `model` a team may use: none for a local-only team. */
  async offersFor(teamId: string, model: string): Promise<EndpointOffer[]> {
    if ((await this.localOnly.get()).has(teamId)) return [];
    return (await this.offers.get()).filter((o) => o.alias === model && (o.teamIds === null || o.teamIds.includes(teamId)));
  }

  /** Every offer a team may use (for /v1/models). */
  async allOffersFor(teamId: string | null): Promise<EndpointOffer[]> {
    if (teamId !== null && (await this.localOnly.get()).has(teamId)) return [];
    return (await this.offers.get()).filter((o) => teamId === null || o.teamIds === null || o.teamIds.includes(teamId));
  }

  /** Every endpoint, as routing last read it (the health checks' list: no query of their own). */
  async endpointList(): Promise<EndpointRecord[]> {
    return [...(await this.endpoints.get()).values()];
  }

  /** An endpoint's record (address, sealed credentials, health settings), as routing last read it; null once removed. */
  async endpoint(id: string): Promise<EndpointRecord | null> {
    return (await this.endpoints.get()).get(id) ?? null;
  }

  async chainOf(model: string): Promise<string[]> {
    return (await this.fallbacks.get()).get(model) ?? [];
  }

  async readyLocally(model: string): Promise<boolean> {
    return (await this.ready.get()).has(model);
  }

  /** This process changed endpoints, fallbacks or teams: read them again on next use. */
  forget(): void {
    this.offers.forget();
    this.endpoints.forget();
    this.fallbacks.forget();
    this.localOnly.forget();
  }
}

/** Global: teams and models change what routing sees, and forget it at once in this process. */
@Global()
@Module({ providers: [MeshViews], exports: [MeshViews] })
export class MeshViewsModule {}
