import { AuthError } from './auth-error';
import { computeSignature, signRequest } from './hmac-signature';
import { HmacVerifierDeps, IncomingSignedRequest, parseAuthorization, verifySignedRequest } from './hmac-verifier';

const ACCESS = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const NOW = Date.UTC(2025, 4, 6, 7, 8, 9);

function request(headers: Record<string, string>, method = 'POST', pathAndQuery = '/v1/chat/completions'): IncomingSignedRequest {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method, pathAndQuery, header: (name) => lower[name] };
}

function signed(overrides: { now?: number; secret?: string; method?: string; path?: string } = {}): Record<string, string> {
  return {
    ...signRequest({
      accessKey: ACCESS,
      secretKey: overrides.secret ?? SECRET,
      method: overrides.method ?? 'POST',
      pathAndQuery: overrides.path ?? '/v1/chat/completions',
      host: '127.0.0.1:8080',
      now: new Date(overrides.now ?? NOW),
    }),
    Host: '127.0.0.1:8080',
  };
}

function deps(): HmacVerifierDeps<string> & { seen: Set<string>; lookups: number } {
  const seen = new Set<string>();
  const d = {
    seen,
    lookups: 0,
    lookup: async (key: string) => {
      d.lookups++;
      return key === ACCESS ? { secretKey: SECRET, principal: 'admin' } : null;
    },
    markSeen: async (sig: string) => {
      if (seen.has(sig)) return false;
      seen.add(sig);
      return true;
    },
    now: () => NOW,
  };
  return d;
}

async function refusal(req: IncomingSignedRequest, d = deps()): Promise<AuthError> {
  try {
    await verifySignedRequest(req, d);
  } catch (e) {
    if (e instanceof AuthError) return e;
    throw e;
  }
  throw new Error('the request was accepted');
}

describe('verifySignedRequest', () => {
  it('accepts a correctly signed request and returns its principal', async () => {
    await expect(verifySignedRequest(request(signed()), deps())).resolves.toBe('admin');
  });

  it('accepts X-BackendAI-Date in place of Date, and header names in any case', async () => {
    const h = signed();
    const req = request({ AUTHORIZATION: h.Authorization, 'x-backendai-date': h.Date, 'X-BACKENDAI-VERSION': h['X-BackendAI-Version'], 'content-type': h['Content-Type'], host: h.Host });
    await expect(verifySignedRequest(req, deps())).resolves.toBe('admin');
  });

  it('refuses a request without Authorization with 401', async () => {
    const { Authorization: _a, ...rest } = signed();
    const e = await refusal(request(rest));
    expect([e.status, e.code]).toEqual([401, 'authentication_required']);
  });

  it.each([
    ['a Bearer token', 'Bearer abc'],
    ['no credential', 'BackendAI signMethod=HMAC-SHA256'],
    ['a credential without signature', `BackendAI signMethod=HMAC-SHA256, credential=${ACCESS}`],
    ['a non-hex signature', `BackendAI signMethod=HMAC-SHA256, credential=${ACCESS}:${'z'.repeat(64)}`],
    ['a parameter without =', `BackendAI signMethod=HMAC-SHA256, credential`],
  ])('refuses %s with 400 malformed_authorization', async (_what, authorization) => {
    const e = await refusal(request({ ...signed(), Authorization: authorization }));
    expect([e.status, e.code]).toEqual([400, 'malformed_authorization']);
  });

  it('refuses an unknown signing method with 400', async () => {
    const h = signed();
    const e = await refusal(request({ ...h, Authorization: h.Authorization.replace('HMAC-SHA256', 'HMAC-MD5') }));
    expect([e.status, e.code]).toEqual([400, 'unsupported_sign_method']);
  });

  it('refuses a missing date with 400 Date/time sync error', async () => {
    const { Date: _d, ...rest } = signed();
    const e = await refusal(request(rest));
    expect([e.status, e.title]).toEqual([400, 'Date/time sync error']);
  });

  it.each([16, -16])('refuses a date %i minutes off with 400 Date/time sync error', async (minutes) => {
    const e = await refusal(request(signed({ now: NOW + minutes * 60_000 })));
    expect([e.status, e.code, e.title]).toEqual([400, 'date_sync_error', 'Date/time sync error']);
  });

  it('accepts a date 14 minutes off', async () => {
    await expect(verifySignedRequest(request(signed({ now: NOW - 14 * 60_000 })), deps())).resolves.toBe('admin');
  });

  it('refuses a missing version header with 400', async () => {
    const { 'X-BackendAI-Version': _v, ...rest } = signed();
    const e = await refusal(request(rest));
    expect([e.status, e.code]).toEqual([400, 'missing_version']);
  });

  it('answers an unknown access key exactly as a wrong signature, so no answer tells whether a key exists', async () => {
    const h = signed();
    const unknown = await refusal(request({ ...h, Authorization: h.Authorization.replace(ACCESS, 'AKIAAAAAAAAAAAAAAAAA') }));
    const wrong = await refusal(request(signed({ secret: 'not-the-secret-at-all-0000000000000000000' })));
    expect([unknown.status, unknown.code, unknown.message]).toEqual([401, 'signature_mismatch', wrong.message]);
  });

  it('refuses a signature made with the wrong secret with 401, without echoing either', async () => {
    const e = await refusal(request(signed({ secret: 'not-the-secret-at-all-0000000000000000000' })));
    expect([e.status, e.code]).toEqual([401, 'signature_mismatch']);
    expect(e.message).not.toContain(SECRET);
    expect(e.message).not.toMatch(/[0-9a-f]{64}/);
  });

  it('refuses a signed request replayed inside the window with 401', async () => {
    const d = deps();
    const h = signed();
    await expect(verifySignedRequest(request(h), d)).resolves.toBe('admin');
    const e = await refusal(request(h), d);
    expect([e.status, e.code]).toEqual([401, 'replayed_request']);
  });

  it('does not record a signature that failed verification', async () => {
    const d = deps();
    await refusal(request(signed({ secret: 'x'.repeat(40) })), d);
    expect(d.seen.size).toBe(0);
  });

  it.each<[string, { method?: string; path?: string }]>([
    ['method', { method: 'GET' }],
    ['path', { path: '/v1/models' }],
    ['query', { path: '/v1/chat/completions?x=1' }],
  ])('refuses a request whose %s differs from what was signed', async (_what, change) => {
    const h = signed();
    const req = request(h, change.method ?? 'POST', change.path ?? '/v1/chat/completions');
    expect((await refusal(req)).code).toBe('signature_mismatch');
  });

  it('refuses a request whose Host differs from what was signed', async () => {
    expect((await refusal(request({ ...signed(), Host: 'evil.example.com:8080' }))).code).toBe('signature_mismatch');
  });

  it('refuses a request whose content type differs from what was signed', async () => {
    expect((await refusal(request({ ...signed(), 'Content-Type': 'text/plain' }))).code).toBe('signature_mismatch');
  });

  it('checks the date before touching the key store', async () => {
    const d = deps();
    await refusal(request(signed({ now: NOW + 3600_000 })), d);
    expect(d.lookups).toBe(0);
  });

  it('parses Authorization parameters with extra spaces', () => {
    const sig = computeSignature(SECRET, { method: 'GET', pathAndQuery: '/', date: '2025-01-01T00:00:00Z', host: 'h', contentType: '', version: 'v' });
    expect(parseAuthorization(`BackendAI  signMethod = HMAC-SHA256 ,  credential = ${ACCESS}:${sig} `)).toEqual({ accessKey: ACCESS, signature: sig });
  });
});
