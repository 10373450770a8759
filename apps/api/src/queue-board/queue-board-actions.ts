/**
 * The only bull-board writes let through, on the normalized path (see `boardPath`): each leaves
 * the jobs table the source of truth. Pausing and resuming holds or releases dispatch (rows stay
 * queued); a retry or a promotion only makes a BullMQ job run again or sooner, and its dispatch
 * is conditional on the row (still queued, same attempt), so a job whose row moved on ends without
 * running; cleaning removes finished BullMQ jobs only (completed or failed, whose rows are
 * settled). Everything else — adding or editing a job, its delay or priority, emptying or
 * obliterating a queue, removing one job (it may be waiting), concurrency, rate limits, job
 * schedulers, and any route bull-board adds later — is refused for everyone.
 */
const ALLOWED_ACTIONS: { method: string; path: RegExp }[] = [
  { method: 'PUT', path: /^\/api\/queues\/(pause|resume)$/ },
  { method: 'PUT', path: /^\/api\/queues\/[^/]+\/(pause|resume|promote)$/ },
  { method: 'PUT', path: /^\/api\/queues\/[^/]+\/(retry|clean)\/(completed|failed)$/ },
  { method: 'PUT', path: /^\/api\/queues\/[^/]+\/(?!retry\/|clean\/)[^/]+\/(retry|promote)$/ },
];

/**
 * The path as bull-board's router would match it: its express router ignores case and a trailing
 * slash. Segments are decoded; null when one does not decode or decodes to a slash (so a segment
 * cannot pose as two).
 */
export function boardPath(raw: string): string | null {
  const segments = raw.replace(/\/+$/, '').split('/');
  const decoded: string[] = [];
  for (const s of segments) {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      return null;
    }
    if (d.includes('/') || d.includes('\\')) return null;
    decoded.push(d.toLowerCase());
  }
  return decoded.join('/');
}

/** Whether a bull-board write is one of ALLOWED_ACTIONS. */
export function isAllowedBoardAction(method: string, rawPath: string): boolean {
  const path = boardPath(rawPath);
  return path !== null && ALLOWED_ACTIONS.some((a) => a.method === method.toUpperCase() && a.path.test(path));
}
