import { EndpointFailure, EndpointFailureReason, parseRetryAfter, remoteCode, remoteMessage } from './endpoint-failure';

describe('EndpointFailure', () => {
  it.each<[EndpointFailureReason, boolean, boolean]>([
    // reason, retryable, counts against the endpoint
    ['unreachable', true, true],
    ['timeout', true, true],
    ['server_error', true, true],
    ['rate_limited', true, false],
    ['credential_refused', false, true],
    ['protocol', false, true],
    ['client_error', false, false],
  ])('%s: retryable %s, counts against the endpoint %s', (reason, retryable, counts) => {
    const failure = new EndpointFailure(reason, 'why');
    expect(failure.retryable).toBe(retryable);
    expect(failure.countsAgainstEndpoint).toBe(counts);
  });

  it('is an Error that names itself and carries its details', () => {
    const failure = new EndpointFailure('rate_limited', 'slow down', { status: 429, retryAfterSeconds: 7, remoteCode: 'rate_limit_exceeded' });
    expect(failure).toBeInstanceOf(Error);
    expect(failure.name).toBe('EndpointFailure');
    expect(failure.message).toBe('slow down');
    expect(failure.details).toEqual({ status: 429, retryAfterSeconds: 7, remoteCode: 'rate_limit_exceeded' });
    expect(new EndpointFailure('timeout', 'late').details).toEqual({});
  });
});

describe('remoteMessage', () => {
  it('reads OpenAI’s error body', () => {
    expect(remoteMessage({ error: { message: 'Incorrect API key provided: sk-ab***wxyz.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } })).toBe('Incorrect API key provided: sk-ab***wxyz.');
    expect(remoteMessage({ error: 'model not loaded' })).toBe('model not loaded');
  });

  it('reads a problem+json body: its detail, else its title', () => {
    expect(remoteMessage({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'the signature does not match', code: 'signature_mismatch' })).toBe('the signature does not match');
    expect(remoteMessage({ type: 'about:blank', title: 'Service Unavailable', status: 503 })).toBe('Service Unavailable');
    expect(remoteMessage({ message: 'Internal Server Error' })).toBe('Internal Server Error');
  });

  it('puts the message on one line and shortens a long one', () => {
    expect(remoteMessage({ error: { message: '  line one\n\tline   two  ' } })).toBe('line one line two');
    const long = remoteMessage({ detail: 'x'.repeat(5000) });
    expect(long).toBe(`${'x'.repeat(300)}…`);
  });

  it('is null when there is no message', () => {
    for (const body of [null, 'text', 42, {}, { error: { message: '  ' } }, { error: { code: 'x' } }, { detail: 3 }, { error: null }]) expect(remoteMessage(body)).toBeNull();
  });
});

describe('remoteCode', () => {
  it('reads OpenAI’s and problem+json’s codes', () => {
    expect(remoteCode({ error: { message: 'm', code: 'rate_limit_exceeded' } })).toBe('rate_limit_exceeded');
    expect(remoteCode({ title: 'Unauthorized', code: 'signature_mismatch' })).toBe('signature_mismatch');
  });

  it('keeps only a short word-like code', () => {
    for (const body of [null, {}, { error: { code: null } }, { error: { code: 429 } }, { code: 'has spaces' }, { code: 'x'.repeat(65) }, { code: '<script>' }, { code: '' }]) expect(remoteCode(body)).toBeUndefined();
    expect(remoteCode({ code: 'x'.repeat(64) })).toBe('x'.repeat(64));
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter(' 5 ', now)).toBe(5);
    expect(parseRetryAfter('0', now)).toBe(0);
  });

  it('rounds fractional seconds up, never reading them as a date', () => {
    expect(parseRetryAfter('1.5', now)).toBe(2);
    expect(parseRetryAfter('0.2', now)).toBe(1);
  });

  it('reads an HTTP date as the seconds until it, rounded up, and a past one as 0', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 12:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Thu, 01 Jan 2026 12:01:00 GMT', now + 500)).toBe(60);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });

  it('is undefined when absent or unreadable', () => {
    for (const value of [null, '', 'soon', '-5', '1e3']) expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});
