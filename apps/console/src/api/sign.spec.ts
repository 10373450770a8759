import fc from 'fast-check';
import { computeSignature as nodeSignature } from '@gridline/auth';
import { computeSignature, signatureHeaders, uniqueSigningDate } from './sign';

describe('browser request signing (WebCrypto)', () => {
  it('matches the test vector of shared/HMAC.md', async () => {
    const signature = await computeSignature('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', {
      method: 'POST',
      pathAndQuery: '/session?owner_access_key=X',
      date: '2024-01-02T03:04:05.123456+00:00',
      host: 'api.example.com:8081',
      contentType: 'application/json',
      version: 'v9.20250722',
    });
    expect(signature).toBe('aefa58ba686ddb08ebf3792d53e0c59fb6b7d2edf8fa75406f1969062e4445b7');
  });

  it('signs as the server verifies, for any request', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1 }),
        fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE'),
        fc.webPath(),
        fc.constantFrom('localhost:3000', 'gridline.example.com', '[::1]:8080'),
        fc.constantFrom('application/json', 'text/plain; charset=utf-8', ''),
        async (secret, method, path, host, contentType) => {
          const input = { method, pathAndQuery: path || '/', date: uniqueSigningDate(), host, contentType, version: 'v9.20250722' };
          expect(await computeSignature(secret, input)).toBe(nodeSignature(secret, input));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('never repeats a date, so two requests to one path in one millisecond differ', async () => {
    const url = new URL('http://localhost:3000/api/v1/nodes');
    const keypair = { accessKey: 'AKIAIOSFODNN7EXAMPLE', secretKey: 'secret' };
    const a = await signatureHeaders(keypair, 'GET', url, 'application/json');
    const b = await signatureHeaders(keypair, 'GET', url, 'application/json');
    expect(a['x-backendai-date']).not.toBe(b['x-backendai-date']);
    expect(a.authorization).not.toBe(b.authorization);
    expect(a.authorization).toMatch(/^BackendAI signMethod=HMAC-SHA256, credential=AKIAIOSFODNN7EXAMPLE:[0-9a-f]{64}$/);
  });
});
