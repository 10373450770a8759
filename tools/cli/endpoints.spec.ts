import { EndpointView, ago, endpointBody, endpointDetail, endpointId, endpointsTable, fallbacksTable } from './endpoints';

const NOW = Date.parse('2031-03-01T12:00:00.000Z');

const endpoint = (over: Partial<EndpointView>): EndpointView => ({
  id: '6f1c2b7e-0d7a-4c55-9d0a-3a4b5c6d7e8f',
  name: 'east',
  kind: 'gridline',
  url: 'https://east.example.com',
  credentialHint: 'AKIAEAST000000000001',
  weight: 100,
  enabled: true,
  state: 'healthy',
  circuit: 'closed',
  circuitOpenUntil: null,
  routable: true,
  lastCheckAt: new Date(NOW - 12_000).toISOString(),
  lastError: null,
  remoteVersion: '0.9.0',
  health: { intervalSeconds: 15, timeoutSeconds: 5 },
  models: [
    { remoteModel: 'llama-3.1-8b', alias: 'llama-3.1-8b', teamIds: null, enabled: true, listed: true },
    { remoteModel: 'org/qwen', alias: 'qwen', teamIds: ['t1'], enabled: false, listed: false },
  ],
  ...over,
});

describe('gridline endpoints', () => {
  it('lists each endpoint with its state, circuit, routability, models and last check, and why the check failed', () => {
    const table = endpointsTable(
      [
        endpoint({}),
        endpoint({ name: 'openai-1', kind: 'openai', url: 'http://127.0.0.1:9', state: 'unhealthy', circuit: 'open', routable: false, models: [], lastError: 'connect ECONNREFUSED', lastCheckAt: new Date(NOW - 300_000).toISOString() }),
        endpoint({ name: 'off', enabled: false, routable: false, lastCheckAt: null }),
      ],
      NOW,
    );
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+KIND\s+URL\s+STATE\s+CIRCUIT\s+ROUTABLE\s+MODELS\s+LAST CHECK\s+ID$/);
    expect(lines[1]).toMatch(/^east\s+gridline\s+https:\/\/east\.example\.com\s+healthy\s+closed\s+yes\s+2\s+12 s ago\s+6f1c2b7e-/);
    expect(lines[2]).toMatch(/^openai-1\s+openai\s+http:\/\/127\.0\.0\.1:9\s+unhealthy\s+open\s+no\s+0\s+5 min ago: connect ECONNREFUSED\s+/);
    expect(lines[3]).toMatch(/^off\s+gridline\s+\S+\s+healthy \(disabled\)\s+closed\s+no\s+2\s+never\s+/);
    expect(lines[4]).toBe('(3 endpoints)');
  });

  it("shows one endpoint's facts and its models with their alias, enabled and listed, never more of the credential than its hint", () => {
    const text = endpointDetail(endpoint({ circuit: 'open', circuitOpenUntil: '2031-03-01T12:00:30.000Z', lastError: 'HTTP 503' }), NOW);
    expect(text).toMatch(/^credential:\s+AKIAEAST000000000001$/m);
    expect(text).toMatch(/^circuit:\s+open until 2031-03-01T12:00:30.000Z$/m);
    expect(text).toMatch(/^last error:\s+HTTP 503$/m);
    expect(text).toMatch(/^REMOTE MODEL\s+ALIAS\s+ENABLED\s+LISTED\s+TEAMS$/m);
    expect(text).toMatch(/^llama-3\.1-8b\s+llama-3\.1-8b\s+yes\s+yes\s+all$/m);
    expect(text).toMatch(/^org\/qwen\s+qwen\s+no\s+no\s+1$/m);
    expect(text.endsWith('(2 models)\n')).toBe(true);
  });

  it('lists fallback chains in order', () => {
    expect(fallbacksTable([{ model: 'big', chain: ['medium', 'small'], updatedAt: '2031-03-01T00:00:00.000Z' }])).toMatch(/^big\s+medium -> small\s+2031-03-01T00:00:00.000Z$/m);
  });

  it('takes a keypair for a peer or a Backend.AI cluster and a bearer key for an OpenAI server, and says which when they do not match', () => {
    expect(endpointBody('east', { kind: 'backendai', url: 'https://b.example.com', 'access-key': 'AK', 'secret-key': 'SK', weight: 5, interval: 30 })).toEqual({
      name: 'east',
      kind: 'backendai',
      url: 'https://b.example.com',
      credentials: { accessKey: 'AK', secretKey: 'SK' },
      weight: 5,
      health: { intervalSeconds: 30 },
    });
    expect(endpointBody('o', { kind: 'openai', url: 'http://o', 'api-key': 'sk-1' })).toEqual({ name: 'o', kind: 'openai', url: 'http://o', credentials: { apiKey: 'sk-1' } });
    expect(() => endpointBody('o', { kind: 'openai', url: 'http://o', 'access-key': 'AK', 'secret-key': 'SK' })).toThrow('an openai endpoint takes --api-key KEY');
    expect(() => endpointBody('g', { kind: 'gridline', url: 'http://g', 'api-key': 'sk-1' })).toThrow('a gridline endpoint takes --access-key AK --secret-key SK');
    expect(() => endpointBody('g', { kind: 'gridline', url: 'http://g', 'access-key': 'AK' })).toThrow('--secret-key');
    expect(() => endpointBody('x', { kind: 'vllm', url: 'http://x' })).toThrow('--kind must be one of gridline, backendai, openai');
    expect(() => endpointBody('x', { kind: 'openai', 'api-key': 'k' })).toThrow('missing --url');
  });

  it('resolves a name to its id by listing, and takes an id as it is', async () => {
    const list = jest.fn(async () => [endpoint({}), endpoint({ id: '00000000-0000-4000-8000-000000000002', name: 'west' })]);
    expect(await endpointId('west', list)).toBe('00000000-0000-4000-8000-000000000002');
    expect(await endpointId('6f1c2b7e-0d7a-4c55-9d0a-3a4b5c6d7e8f', list)).toBe('6f1c2b7e-0d7a-4c55-9d0a-3a4b5c6d7e8f');
    expect(list).toHaveBeenCalledTimes(1);
    await expect(endpointId('north', list)).rejects.toThrow('no endpoint named north');
  });

  it('says how long ago in the unit a person reads', () => {
    expect([ago(new Date(NOW - 5_000).toISOString(), NOW), ago(new Date(NOW - 600_000).toISOString(), NOW), ago(new Date(NOW - 5 * 3600_000).toISOString(), NOW), ago(new Date(NOW - 3 * 86_400_000).toISOString(), NOW), ago(null, NOW)]).toEqual(['5 s ago', '10 min ago', '5 h ago', '3 d ago', 'never']);
  });
});
