import { EMPTY_FORM, createEndpointRequest, notRoutableReason, stateColor } from './endpoint-form';

describe('the Add endpoint form', () => {
  it("sends a keypair for a peer and a Backend.AI cluster, and only the API key for an OpenAI server (fields of the other kind are dropped)", () => {
    const typed = { ...EMPTY_FORM, name: 'east', url: 'https://east.example.com/', accessKey: ' AK ', secretKey: 'SK', apiKey: 'sk-left-over', weight: '50' };
    expect(createEndpointRequest({ ...typed, kind: 'gridline' })).toEqual({ body: { name: 'east', kind: 'gridline', url: 'https://east.example.com', credentials: { accessKey: 'AK', secretKey: 'SK' }, weight: 50 } });
    expect(createEndpointRequest({ ...typed, kind: 'backendai' })).toMatchObject({ body: { kind: 'backendai', credentials: { accessKey: 'AK', secretKey: 'SK' } } });
    expect(createEndpointRequest({ ...typed, kind: 'openai' })).toEqual({ body: { name: 'east', kind: 'openai', url: 'https://east.example.com', credentials: { apiKey: 'sk-left-over' }, weight: 50 } });
  });

  it('says what is missing before asking the api', () => {
    const ok = { ...EMPTY_FORM, name: 'east', url: 'http://127.0.0.1:9', accessKey: 'AK', secretKey: 'SK' };
    expect(createEndpointRequest({ ...ok, name: 'East Peer' })).toEqual({ problem: expect.stringContaining('lower-case') });
    expect(createEndpointRequest({ ...ok, url: 'east.example.com' })).toEqual({ problem: expect.stringContaining('http://') });
    expect(createEndpointRequest({ ...ok, url: 'ftp://east' })).toEqual({ problem: expect.stringContaining('http://') });
    expect(createEndpointRequest({ ...ok, secretKey: '' })).toEqual({ problem: expect.stringContaining('secret key') });
    expect(createEndpointRequest({ ...ok, kind: 'openai' })).toEqual({ problem: expect.stringContaining('API key') });
    expect(createEndpointRequest({ ...ok, weight: 10_001 })).toEqual({ problem: expect.stringContaining('weight') });
    expect(createEndpointRequest(ok)).toHaveProperty('body');
  });
});

describe('endpoint state', () => {
  const e = { enabled: true, state: 'healthy' as const, circuit: 'closed' as const, routable: true, lastError: null };
  it('explains why requests do not go to an endpoint, the first thing to fix first', () => {
    expect(notRoutableReason(e)).toBeNull();
    expect(notRoutableReason({ ...e, routable: false, enabled: false, state: 'unhealthy' })).toBe('disabled: not checked, nothing routed');
    expect(notRoutableReason({ ...e, routable: false, state: 'unhealthy', lastError: 'HTTP 401' })).toBe('unhealthy: HTTP 401');
    expect(notRoutableReason({ ...e, routable: false, state: 'unknown' })).toBe('not checked yet');
    expect(notRoutableReason({ ...e, routable: false, circuit: 'open' })).toBe('circuit open after failed requests');
    expect([stateColor('healthy'), stateColor('unhealthy'), stateColor('unknown')]).toEqual(['green', 'red', 'gray']);
  });
});
