import { ApiError } from '@gridline/common';
import type { EndpointOffer, ModelRecord } from '@gridline/db';
import type { Principal } from '../auth/principal';
import type { ModelLookup } from '../models/model-lookup';
import type { CircuitBreaker } from './circuit-breaker';
import { MeshRouter, Route } from './mesh-router';
import type { MeshViews } from './mesh-views';

const member: Principal = { userId: 'u1', teamId: 'team-a', role: 'member', credential: { kind: 'keypair', id: 'k1', label: 'AKIA' } };

const model = (name: string) => ({ id: `id-${name}`, name, teamId: null }) as unknown as ModelRecord;
const offer = (alias: string, endpointName: string, over: Partial<EndpointOffer> = {}): EndpointOffer => ({
  endpointId: `ep-${endpointName}`,
  endpointName,
  kind: 'openai',
  weight: 100,
  state: 'healthy',
  remoteModel: alias,
  alias,
  teamIds: null,
  ...over,
});

/** A router over a fleet and a mesh described in plain data (the views, the breaker and the catalog faked). */
function routerOver(world: { local?: string[]; ready?: string[]; offers?: EndpointOffer[]; chains?: Record<string, string[]>; open?: string[]; localOnly?: string[] }) {
  const models = { findVisible: async (_scope: unknown, name: string) => ((world.local ?? []).includes(name) ? model(name) : null) } as unknown as ModelLookup;
  const views = {
    offersFor: async (teamId: string, name: string) => ((world.localOnly ?? []).includes(teamId) ? [] : (world.offers ?? []).filter((o) => o.alias === name && (o.teamIds === null || o.teamIds.includes(teamId)))),
    chainOf: async (name: string) => world.chains?.[name] ?? [],
    readyLocally: async (name: string) => (world.ready ?? []).includes(name),
  } as unknown as MeshViews;
  const breaker = { openUntil: async (ids: string[]) => new Map(ids.filter((id) => (world.open ?? []).includes(id)).map((id) => [id, Date.now() + 10_000])) } as unknown as CircuitBreaker;
  return new MeshRouter(models, views, breaker);
}

const where = (r: Route) => (r.kind === 'local' ? `local:${r.model}` : `remote:${r.model}:${r.offers.map((o) => o.endpointName).join(',')}`);

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(e)}`);
  return e;
}

describe('MeshRouter', () => {
  it('keeps a model with a Ready local replica local, even when endpoints serve it too', async () => {
    const r = routerOver({ local: ['m'], ready: ['m'], offers: [offer('m', 'peer')] });
    expect(where(await r.route(member, 'm'))).toBe('local:m');
  });

  it('sends a model no local replica serves now to the endpoints that serve it, leaving out unhealthy ones and open circuits', async () => {
    const r = routerOver({ local: ['m'], offers: [offer('m', 'peer'), offer('m', 'sick', { state: 'unhealthy' }), offer('m', 'tripped'), offer('m', 'new', { state: 'unknown' })], open: ['ep-tripped'] });
    expect(where(await r.route(member, 'm'))).toBe('remote:m:peer,new');
  });

  it("offers only what the team may use: a model restricted to other teams is one that does not exist", async () => {
    const r = routerOver({ offers: [offer('m', 'peer', { teamIds: ['team-b'] })] });
    expect((await refusal(r.route(member, 'm'))).code).toBe('model_not_found');
    expect(where(await r.route({ ...member, teamId: 'team-b' }, 'm'))).toBe('remote:m:peer');
  });

  it('a local-only team never reaches an endpoint', async () => {
    const r = routerOver({ offers: [offer('m', 'peer')], localOnly: ['team-a'] });
    expect((await refusal(r.route(member, 'm'))).code).toBe('model_not_found');
  });

  it('falls back along the chain, in order, to the first model served now (local or remote)', async () => {
    const r = routerOver({ offers: [offer('m', 'peer', { state: 'unhealthy' }), offer('c', 'other')], local: ['b'], chains: { m: ['a', 'b', 'c'] } });
    // `a` is served nowhere, `b` is local but not Ready: `c` is the first served now.
    expect(where(await r.route(member, 'm'))).toBe('remote:c:other');
    const ready = routerOver({ offers: [offer('m', 'peer', { state: 'unhealthy' }), offer('c', 'other')], local: ['b'], ready: ['b'], chains: { m: ['a', 'b', 'c'] } });
    expect(where(await ready.route(member, 'm'))).toBe('local:b');
  });

  it("a token limited to some models falls back only to models it may use", async () => {
    const token: Principal = { ...member, credential: { kind: 'token', id: 't', label: 'gl_', scope: 'inference', models: ['m'] } };
    const r = routerOver({ offers: [offer('m', 'peer', { state: 'unhealthy' }), offer('c', 'other')], chains: { m: ['c'] } });
    expect((await refusal(r.route(token, 'm'))).code).toBe('endpoint_unavailable');
  });

  it('a local model nothing serves now waits for the fleet (it may load on demand); a remote-only one is refused 503 with Retry-After', async () => {
    expect(where(await routerOver({ local: ['m'], offers: [offer('m', 'peer', { state: 'unhealthy' })] }).route(member, 'm'))).toBe('local:m');
    const refused = await refusal(routerOver({ offers: [offer('m', 'peer', { state: 'unhealthy' })], chains: { m: ['gone'] } }).route(member, 'm'));
    expect(refused).toMatchObject({ code: 'endpoint_unavailable', status: 503, param: 'model', retryAfterSeconds: 5 });
    expect(refused.message).toBe("no healthy endpoint serves the model 'm' now, nor any model of its fallback chain; try again later");
  });

  it('a name nothing knows is model_not_found, also when it has a fallback chain (another team\'s private model must not be told apart)', async () => {
    expect((await refusal(routerOver({ local: ['x'] }).route(member, 'nope'))).code).toBe('model_not_found');
    expect((await refusal(routerOver({ local: ['x'], chains: { private: ['x'] } }).route(member, 'private'))).code).toBe('model_not_found');
  });
});
