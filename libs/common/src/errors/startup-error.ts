/** One clear line for the errors that stop a process at boot, with what to do about them. */
export function describeStartupError(e: unknown, urls: { database?: string; redis?: string }): string {
  const err = e as { code?: string; message?: string; address?: string; port?: number; errors?: unknown[] };
  const inner = Array.isArray(err.errors) && err.errors.length > 0 ? (err.errors[0] as typeof err) : err;
  const code = inner?.code ?? err.code;
  const safe = (url?: string) => (url ? url.replace(/\/\/[^@/]*@/, '//***@') : '');
  const text = `${err.message ?? ''} ${inner?.message ?? ''}`;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'EAI_AGAIN') {
    const port = inner?.port ?? err.port;
    if (urls.redis && (port === 6379 || text.includes('6379') || /redis/i.test(text))) {
      return `cannot reach Redis at ${safe(urls.redis)} (${code}). Start it (redis-server --daemonize yes) or run: docker compose -f docker/compose.yml up`;
    }
    return `cannot reach Postgres at ${safe(urls.database)} (${code}). Start it (pg_ctlcluster <version> main start) or run: docker compose -f docker/compose.yml up`;
  }
  if (code === 'EADDRINUSE') return `port ${inner?.port ?? err.port ?? ''} is already in use: stop the other process or set PORT`;
  if (code === '28P01' || code === '28000') return `Postgres refused the credentials in DATABASE_URL (${safe(urls.database)})`;
  return err.message ?? String(e);
}
