import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ApiError } from '@gridline/common';
import { ParseUuidPipe } from './parse-uuid.pipe';
import { IsTimestamp } from './validators';

class Expiry {
  @IsTimestamp({ future: true })
  expiresAt!: string | null;

  @IsTimestamp()
  since!: string;
}

const messages = (value: Partial<Expiry>) =>
  validateSync(plainToInstance(Expiry, { since: '2020-01-01T00:00:00Z', expiresAt: null, ...value })).flatMap((e) => Object.values(e.constraints ?? {}));

describe('IsTimestamp', () => {
  it('takes an ISO-8601 date-time with a zone, past or future, and null', () => {
    expect(messages({ since: '2001-02-03T04:05:06.789+02:00' })).toEqual([]);
    expect(messages({ expiresAt: null })).toEqual([]);
  });

  it('refuses a date without a time or zone, saying what it expects (never quoting the value)', () => {
    expect(messages({ since: '2030-01-31' })).toEqual(['since must be an ISO-8601 date-time with a time zone, e.g. 2030-01-31T12:00:00Z']);
    expect(messages({ expiresAt: 'x'.repeat(10_000) })).toEqual(['expiresAt must be an ISO-8601 date-time with a time zone, e.g. 2030-01-31T12:00:00Z']);
  });

  it('with `future`, refuses now and any time before it', () => {
    expect(messages({ expiresAt: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
    for (const expiresAt of [new Date().toISOString(), '1999-12-31T23:59:59Z']) expect(messages({ expiresAt })).toEqual(['expiresAt must be in the future']);
  });
});

describe('ParseUuidPipe', () => {
  const pipe = new ParseUuidPipe();

  it('passes a UUID through', () => {
    expect(pipe.transform('0b5f4a8e-2d1c-4c3b-9a7e-6f5d4c3b2a19', { type: 'param', data: 'id' })).toBe('0b5f4a8e-2d1c-4c3b-9a7e-6f5d4c3b2a19');
  });

  it('refuses anything else with validation_failed naming the parameter, quoting none of the input', () => {
    const attempt = () => pipe.transform('A'.repeat(10_240), { type: 'param', data: 'userId' });
    expect(attempt).toThrow(ApiError);
    try {
      attempt();
    } catch (e) {
      expect(e).toMatchObject({ code: 'validation_failed', status: 400, param: 'userId', message: 'userId must be a UUID' });
    }
  });
});
