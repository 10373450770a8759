import { computeSignature, parseSignedDate, signRequest, stringToSign, uniqueSigningDate } from './hmac-signature';

describe('HMAC signature (shared/HMAC.md)', () => {
  const vector = {
    secretKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    input: {
      method: 'POST',
      pathAndQuery: '/session?owner_access_key=X',
      date: '2024-01-02T03:04:05.123456+00:00',
      host: 'api.example.com:8081',
      contentType: 'application/json',
      version: 'v9.20250722',
    },
  };

  it('matches the specification test vector', () => {
    expect(computeSignature(vector.secretKey, vector.input)).toBe('aefa58ba686ddb08ebf3792d53e0c59fb6b7d2edf8fa75406f1969062e4445b7');
  });

  it('drops content-type parameters and lower-cases it before signing', () => {
    const withParams = { ...vector.input, contentType: 'Application/JSON; charset=utf-8' };
    expect(computeSignature(vector.secretKey, withParams)).toBe(computeSignature(vector.secretKey, vector.input));
    expect(stringToSign(withParams)).toContain('\ncontent-type:application/json\n');
  });

  it('ends the string to sign with the SHA-256 of an empty body', () => {
    expect(stringToSign(vector.input).split('\n').at(-1)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('signs with the calendar day in the zone the date was written in', () => {
    const utc = { ...vector.input, date: '2024-01-02T23:30:00+00:00' };
    const sameInstantTokyo = { ...vector.input, date: '2024-01-03T08:30:00+09:00' };
    expect(parseSignedDate(utc.date)).toBe(parseSignedDate(sameInstantTokyo.date));
    expect(computeSignature(vector.secretKey, utc)).not.toBe(computeSignature(vector.secretKey, sameInstantTokyo));
  });

  it('produces headers a server can verify with the same inputs', () => {
    const now = new Date('2025-05-06T07:08:09.010Z');
    const headers = signRequest({
      accessKey: 'AKIAIOSFODNN7EXAMPLE',
      secretKey: vector.secretKey,
      method: 'get',
      pathAndQuery: '/v1/models',
      host: '127.0.0.1:8080',
      now,
    });
    expect(headers.Date).toBe('2025-05-06T07:08:09.010+00:00');
    const sig = computeSignature(vector.secretKey, {
      method: 'GET',
      pathAndQuery: '/v1/models',
      date: headers.Date,
      host: '127.0.0.1:8080',
      contentType: 'application/json',
      version: headers['X-BackendAI-Version'],
    });
    expect(headers.Authorization).toBe(`BackendAI signMethod=HMAC-SHA256, credential=AKIAIOSFODNN7EXAMPLE:${sig}`);
  });

  describe('parseSignedDate', () => {
    it.each([
      ['2024-01-02T03:04:05Z', Date.UTC(2024, 0, 2, 3, 4, 5)],
      ['2024-01-02T03:04:05.123456+00:00', Date.UTC(2024, 0, 2, 3, 4, 5, 123)],
      ['2024-01-02T05:04:05+0200', Date.UTC(2024, 0, 2, 3, 4, 5)],
      ['2024-01-01T22:04:05-05:00', Date.UTC(2024, 0, 2, 3, 4, 5)],
    ])('reads %s', (text, expected) => {
      expect(parseSignedDate(text)).toBe(expected);
    });

    it.each(['2024-01-02T03:04:05', 'Tue, 02 Jan 2024 03:04:05 GMT', '2024-02-30T00:00:00Z', 'yesterday', ''])('refuses %j', (text) => {
      expect(parseSignedDate(text)).toBeNull();
    });
  });
});

describe('uniqueSigningDate', () => {
  it('gives distinct, increasing, parseable dates to requests signed in the same millisecond', () => {
    const now = new Date('2025-05-06T07:08:09.010Z');
    const dates = Array.from({ length: 50 }, () => uniqueSigningDate(now));
    expect(new Set(dates).size).toBe(50);
    expect(dates[0]).toMatch(/^2025-05-06T07:08:09\.010\d{3}\+00:00$/);
    expect([...dates].sort()).toEqual(dates);
    for (const d of dates) expect(Math.abs((parseSignedDate(d) ?? 0) - now.getTime())).toBeLessThan(2);
  });

  it('makes concurrent identical requests carry different signatures', () => {
    const opts = { accessKey: 'AKIAIOSFODNN7EXAMPLE', secretKey: 'secret-secret-secret-secret', method: 'POST', pathAndQuery: '/v1/chat/completions', host: 'h:1' };
    expect(signRequest(opts).Authorization).not.toBe(signRequest(opts).Authorization);
  });
});
