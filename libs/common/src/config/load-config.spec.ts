import { IsBoolean, IsInt, IsOptional, IsString, Matches, Min } from 'class-validator';
import { ConfigError, loadConfig } from './load-config';

class SampleConfig {
  @Matches(/^postgres:\/\//)
  DATABASE_URL = 'postgres://localhost/gridline';

  @IsInt()
  @Min(1)
  PORT = 8080;

  @IsBoolean()
  FLAG = true;

  @IsOptional()
  @IsString()
  OPTIONAL?: string = undefined;
}

describe('loadConfig', () => {
  it('uses the local defaults when nothing is set', () => {
    expect(loadConfig(SampleConfig, {})).toMatchObject({ DATABASE_URL: 'postgres://localhost/gridline', PORT: 8080, FLAG: true });
  });

  it('reads and converts variables, treating empty strings as unset', () => {
    expect(loadConfig(SampleConfig, { PORT: '9090', FLAG: 'false', OPTIONAL: 'x', DATABASE_URL: '' })).toMatchObject({
      PORT: 9090,
      FLAG: false,
      OPTIONAL: 'x',
      DATABASE_URL: 'postgres://localhost/gridline',
    });
  });

  it('names every invalid variable', () => {
    try {
      loadConfig(SampleConfig, { PORT: 'eighty', FLAG: 'maybe', DATABASE_URL: 'mysql://x' });
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).variables.map((v) => v.name).sort()).toEqual(['DATABASE_URL', 'FLAG', 'PORT']);
      expect((e as Error).message).toMatch(/PORT \(.*integer/);
    }
  });
});
