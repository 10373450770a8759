import { DataSource } from 'typeorm';
import { createDataSource } from '../data-source';
import { TemplateClone, cloneTemplate } from '../testing/template-database';
import { EndpointRecord, EndpointRepository } from './endpoint.repository';

const HEALTH = { intervalSeconds: 10, timeoutSeconds: 5, requestTimeoutSeconds: 120, unhealthyThreshold: 2, healthyThreshold: 1, breakerFailures: 3, breakerOpenSeconds: 30 };

/** An endpoint's catalog as the checks refresh it, on the real Postgres (migrated template). */
describe('EndpointRepository catalogs (Postgres)', () => {
  let db: TemplateClone;
  let ds: DataSource;
  let repo: EndpointRepository;
  let n = 0;

  beforeAll(async () => {
    db = await cloneTemplate();
    ds = createDataSource(db.url, { poolSize: 2 });
    await ds.initialize();
    repo = new EndpointRepository(ds);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const endpoint = (offerNewModels = true): Promise<EndpointRecord> =>
    repo.create({ name: `ep-${++n}`, kind: 'openai', url: 'http://127.0.0.1:9', credentialsSealed: 'sealed', credentialHint: '…abcd', weight: 100, enabled: true, offerNewModels, health: HEALTH, remoteVersion: null, createdBy: null, state: 'healthy' });
  const catalog = async (id: string) => (await repo.models(id)).map((m) => ({ remote: m.remoteModel, alias: m.alias, enabled: m.enabled, listed: m.listed })).sort((a, b) => a.remote.localeCompare(b.remote));

  it('adds new models under their own names, marks the ones it stopped listing, and lists them again when they come back, alias kept', async () => {
    const e = await endpoint();
    await repo.replaceCatalog(e.id, ['a', 'b'], new Date());
    await repo.updateModel(e.id, 'b', { alias: 'bee' });
    await repo.replaceCatalog(e.id, ['a'], new Date());
    expect(await catalog(e.id)).toEqual([
      { remote: 'a', alias: 'a', enabled: true, listed: true },
      { remote: 'b', alias: 'bee', enabled: true, listed: false },
    ]);
    await repo.replaceCatalog(e.id, ['a', 'b'], new Date());
    expect((await catalog(e.id)).find((m) => m.remote === 'b')).toEqual({ remote: 'b', alias: 'bee', enabled: true, listed: true });
    // Only listed, enabled models are routed to.
    expect((await repo.offers()).filter((o) => o.endpointId === e.id).map((o) => o.alias).sort()).toEqual(['a', 'bee']);
  });

  it("a new model named like another model's alias is offered as <model>@<endpoint>, never a failed refresh", async () => {
    const e = await endpoint();
    await repo.replaceCatalog(e.id, ['llama'], new Date());
    await repo.updateModel(e.id, 'llama', { alias: 'chat' });
    await expect(repo.replaceCatalog(e.id, ['llama', 'chat'], new Date())).resolves.toBeUndefined();
    expect(await catalog(e.id)).toEqual([
      { remote: 'chat', alias: `chat@${e.name}`, enabled: true, listed: true },
      { remote: 'llama', alias: 'chat', enabled: true, listed: true },
    ]);
  });

  it('an endpoint that does not offer new models lists them disabled until an admin enables one', async () => {
    const e = await endpoint(false);
    await repo.replaceCatalog(e.id, ['x', 'y'], new Date(), { offerNew: e.offerNewModels });
    expect((await catalog(e.id)).map((m) => m.enabled)).toEqual([false, false]);
    expect((await repo.offers()).filter((o) => o.endpointId === e.id)).toEqual([]);
    await repo.updateModel(e.id, 'x', { enabled: true });
    expect((await repo.offers()).filter((o) => o.endpointId === e.id).map((o) => o.alias)).toEqual(['x']);
  });
});
