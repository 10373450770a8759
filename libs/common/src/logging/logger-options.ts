import type { LoggerOptions } from 'pino';
import type { LogLevel } from '../config/common-config';
import { LogContext } from './log-context';

/** Paths pino censors wherever they appear in a log object. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-gridline-token"]',
  'res.headers["set-cookie"]',
  '*.secretKey',
  '*.secret_key',
  '*.secret',
  '*.password',
  '*.token',
  '*.apiKey',
  '*.masterKey',
  'secretKey',
  'secret',
  'token',
];

export function loggerOptions(app: string, level: LogLevel, format: 'json' | 'pretty'): LoggerOptions {
  return {
    name: app,
    level,
    base: { app },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // The request and job a line is about (LogContext); a field the call gives itself wins.
    mixin: () => LogContext.mixin(),
    transport: format === 'pretty' ? { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } } : undefined,
  };
}
