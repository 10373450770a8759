import { DEFAULT_HEALTH, ENDPOINT_KINDS, HEALTH_BOUNDS, HealthSettings, credentialHint, credentialShape, normalizeEndpointUrl } from './endpoint-spec';

describe('normalizeEndpointUrl', () => {
  it.each([
    ['http://gpu-box:8080', 'http://gpu-box:8080'],
    ['http://gpu-box:8080/', 'http://gpu-box:8080'],
    ['https://api.example.com/openai///', 'https://api.example.com/openai'],
    ['HTTPS://API.Example.COM/Base/', 'https://api.example.com/Base'],
    ['https://api.example.com:443/', 'https://api.example.com'],
    ['http://10.0.0.5:80', 'http://10.0.0.5'],
    ['http://[::1]:9000/', 'http://[::1]:9000'],
    ['http://gpu-box?', 'http://gpu-box'],
  ])('accepts %s as %s', (raw, normalized) => {
    expect(normalizeEndpointUrl(raw)).toBe(normalized);
  });

  it.each([
    ['credentials', 'https://user:pass@api.example.com'],
    ['a user name', 'https://user@api.example.com'],
    ['a query', 'https://api.example.com/v1?key=secret'],
    ['a fragment', 'https://api.example.com/#top'],
    ['ftp', 'ftp://files.example.com'],
    ['file', 'file:///etc/passwd'],
    ['javascript', 'javascript:alert(1)'],
    ['no scheme', 'api.example.com'],
    ['nothing', ''],
    ['not a URL', 'http://'],
  ])('refuses %s', (_what, raw) => {
    expect(normalizeEndpointUrl(raw)).toBeNull();
  });
});

describe('credentialHint', () => {
  it('shows a keypair’s access key and nothing of its secret', () => {
    const hint = credentialHint({ accessKey: 'AKIAIOSFODNN7EXAMPLE', secretKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' });
    expect(hint).toBe('AKIAIOSFODNN7EXAMPLE');
    expect(hint).not.toMatch(/wJal|EXAMPLEKEY/);
  });

  it('shows no more than the last 4 characters of an API key', () => {
    const key = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123';
    const hint = credentialHint({ apiKey: key });
    expect(hint).toBe('…0123');
    expect(hint.replace('…', '').length).toBeLessThanOrEqual(4);
    expect(hint).not.toContain('sk-');
  });
});

describe('kinds and health settings', () => {
  it('takes a keypair for peers and Backend.AI, an API key for OpenAI-compatible servers', () => {
    expect(ENDPOINT_KINDS.map((k) => [k, credentialShape(k)])).toEqual([
      ['gridline', 'keypair'],
      ['backendai', 'keypair'],
      ['openai', 'apiKey'],
    ]);
  });

  it('has defaults within their own bounds', () => {
    for (const [name, { min, max }] of Object.entries(HEALTH_BOUNDS) as [keyof HealthSettings, { min: number; max: number }][]) {
      expect(DEFAULT_HEALTH[name]).toBeGreaterThanOrEqual(min);
      expect(DEFAULT_HEALTH[name]).toBeLessThanOrEqual(max);
    }
    expect(Object.keys(DEFAULT_HEALTH).sort()).toEqual(Object.keys(HEALTH_BOUNDS).sort());
  });
});
