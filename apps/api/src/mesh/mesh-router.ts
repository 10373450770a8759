import { Injectable } from '@nestjs/common';
import { ApiError, quote } from '@gridline/common';
import type { EndpointOffer, ModelRecord } from '@gridline/db';
import { ModelLookup } from '../models/model-lookup';
import { Principal, scopeFor } from '../auth/principal';
import { CircuitBreaker } from './circuit-breaker';
import { MeshViews } from './mesh-views';

/** Where a request goes: the local fleet (through the scheduler), or endpoints that serve the model. */
export type Route =
  | { kind: 'local'; model: string; record: ModelRecord }
  /** `offers`: the endpoints serving `model` that may be tried now (healthy or not yet checked, circuit closed). */
  | { kind: 'remote'; model: string; offers: EndpointOffer[] };

/**
 * Chooses where an inference request goes, before anything is written: a model with a Ready local
 * replica stays local; otherwise the healthy endpoints that serve it (the runner picks among them
 * by weight); otherwise the models of its fallback chain, in order, by the same rule; otherwise a
 * local model waits for the fleet (it may load on demand), and a model only endpoints serve is
 * refused with 503 `endpoint_unavailable`.
 */
@Injectable()
export class MeshRouter {
  constructor(
    private readonly models: ModelLookup,
    private readonly views: MeshViews,
    private readonly breaker: CircuitBreaker,
  ) {}

  /** `localOnly`: endpoints are not considered (a request a peer sent us: see MESH_HOP_HEADER). */
  async route(p: Principal, name: string, options: { localOnly?: boolean } = {}): Promise<Route> {
    const offersFor = async (model: string) => (options.localOnly ? [] : this.views.offersFor(p.teamId, model));
    const local = await this.models.findVisible(scopeFor(p), name);
    const offers = await offersFor(name);
    // A name the caller cannot see is one that does not exist, chain or not (its chain would tell it exists).
    if (!local && offers.length === 0) throw new ApiError('model_not_found', `The model ${quote(name)} does not exist`, { param: 'model' });
    const first = await this.serveNow(name, local, offers);
    if (first) return first;
    const chain = (await this.views.chainOf(name)).filter((m) => m !== name && this.tokenAllows(p, m));
    for (const next of chain) {
      const served = await this.serveNow(next, await this.models.findVisible(scopeFor(p), next), await offersFor(next));
      if (served) return served;
    }
    if (local) return { kind: 'local', model: name, record: local };
    const tried = chain.length > 0 ? ', nor any model of its fallback chain' : '';
    throw new ApiError('endpoint_unavailable', `no healthy endpoint serves the model ${quote(name)} now${tried}; try again later`, { param: 'model', retryAfterSeconds: 5 });
  }

  /** The model served now: a Ready local replica, else endpoints that may be tried; null when neither. */
  private async serveNow(model: string, local: ModelRecord | null, offers: EndpointOffer[]): Promise<Route | null> {
    if (local && (await this.views.readyLocally(model))) return { kind: 'local', model, record: local };
    const routable = await this.routable(offers);
    if (routable.length > 0) return { kind: 'remote', model, offers: routable };
    return null;
  }

  /** Offers whose endpoint is not known unhealthy and whose circuit is closed. */
  private async routable(offers: EndpointOffer[]): Promise<EndpointOffer[]> {
    const candidates = offers.filter((o) => o.state !== 'unhealthy');
    if (candidates.length === 0) return [];
    const open = await this.breaker.openUntil([...new Set(candidates.map((o) => o.endpointId))]);
    return candidates.filter((o) => !open.has(o.endpointId));
  }

  private tokenAllows(p: Principal, model: string): boolean {
    const allowed = p.credential.kind === 'token' ? p.credential.models : null;
    return !allowed || allowed.includes(model);
  }
}
