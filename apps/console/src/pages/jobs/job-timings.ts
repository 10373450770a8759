/** What the Jobs page derives from a job's timestamps. */

export interface Timings {
  queued_at: string;
  dispatched_at: string | null;
  started_at: string | null;
  first_token_at: string | null;
  finished_at: string | null;
}

export interface JobDurations {
  /** Accepted to started on a node (ms); null while it waits. */
  queueWaitMs: number | null;
  /** Accepted to its first token (ms). */
  firstTokenMs: number | null;
  /** Accepted to its end (ms). */
  totalMs: number | null;
  /** Started to end: the node's share (ms). */
  runMs: number | null;
}

const between = (from: string | null, to: string | null): number | null => {
  if (!from || !to) return null;
  const d = Date.parse(to) - Date.parse(from);
  return Number.isFinite(d) ? Math.max(d, 0) : null;
};

export function jobDurations(t: Timings): JobDurations {
  return {
    queueWaitMs: between(t.queued_at, t.started_at),
    firstTokenMs: between(t.queued_at, t.first_token_at),
    totalMs: between(t.queued_at, t.finished_at),
    runMs: between(t.started_at, t.finished_at),
  };
}

export const JOB_STATUSES = ['queued', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled', 'expired'] as const;

/** Whether a DELETE still changes the job (it has not ended). */
export function isCancellable(status: string): boolean {
  return status === 'queued' || status === 'dispatched' || status === 'running';
}

export function statusColor(status: string): string {
  switch (status) {
    case 'succeeded':
      return 'green';
    case 'failed':
    case 'expired':
      return 'red';
    case 'cancelled':
      return 'gray';
    case 'running':
    case 'dispatched':
      return 'blue';
    default:
      return 'yellow';
  }
}
