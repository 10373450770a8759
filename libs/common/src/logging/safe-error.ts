/** What a log line may say about an error: its class, its stable code, where it came from. */
export interface LoggedError {
  type: string;
  code?: string;
  constraint?: string;
  table?: string;
  stack?: string;
}

const CODE = /^[A-Za-z0-9_.-]{1,64}$/;
const IDENTIFIER = /^[a-z0-9_]{1,63}$/;

/**
 * An error reduced to what is safe to log. Messages are dropped: a database error's message
 * and detail quote the values that failed (e-mails, prompt text, hashes), a JSON parse error
 * quotes the body. The stack keeps its frames, not its first (message) line.
 */
export function safeError(e: unknown): LoggedError {
  if (typeof e !== 'object' || e === null) return { type: typeof e };
  const o = e as { name?: unknown; code?: unknown; constraint?: unknown; table?: unknown; stack?: unknown; driverError?: unknown };
  const driver = (typeof o.driverError === 'object' && o.driverError !== null ? o.driverError : o) as { code?: unknown; constraint?: unknown; table?: unknown };
  const out: LoggedError = { type: typeof o.name === 'string' && CODE.test(o.name) ? o.name : (e.constructor?.name ?? 'Error') };
  const code = driver.code ?? o.code;
  if (typeof code === 'string' && CODE.test(code)) out.code = code;
  if (typeof driver.constraint === 'string' && IDENTIFIER.test(driver.constraint)) out.constraint = driver.constraint;
  if (typeof driver.table === 'string' && IDENTIFIER.test(driver.table)) out.table = driver.table;
  if (typeof o.stack === 'string') out.stack = o.stack.split('\n').filter((line) => /^\s+at /.test(line)).slice(0, 12).join('\n');
  return out;
}

/** Database errors (TypeORM's QueryFailedError, pg's DatabaseError) quote values in their messages. */
function isDatabaseError(e: object): boolean {
  const o = e as { driverError?: unknown; query?: unknown; severity?: unknown; name?: unknown };
  return o.driverError !== undefined || typeof o.query === 'string' || (typeof o.severity === 'string' && o.name === 'error') || o.name === 'QueryFailedError';
}

/** One line about an error, for a log message: a database error by class and code only. */
export function errorSummary(e: unknown): string {
  if (typeof e !== 'object' || e === null) return String(e).slice(0, 200);
  if (isDatabaseError(e)) {
    const s = safeError(e);
    return [s.type, s.code, s.constraint].filter(Boolean).join(' ');
  }
  return String((e as { message?: unknown }).message ?? e).slice(0, 200);
}
