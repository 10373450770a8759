/**
 * The job lifecycle: `queued → dispatched → running → succeeded | failed | cancelled |
 * expired`. Every change of a job's status is one of these named transitions, applied as a
 * compare-and-set on the current status; anything else is refused.
 */
export const JOB_STATUSES = ['queued', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled', 'expired'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_JOB_STATUSES = ['succeeded', 'failed', 'cancelled', 'expired'] as const satisfies readonly JobStatus[];
export type TerminalJobStatus = (typeof TERMINAL_JOB_STATUSES)[number];
export const OPEN_JOB_STATUSES = ['queued', 'dispatched', 'running'] as const satisfies readonly JobStatus[];
export type OpenJobStatus = (typeof OPEN_JOB_STATUSES)[number];

export const JOB_TRANSITIONS = {
  /** The scheduler sent the job to a node. */
  dispatch: { from: ['queued'], to: 'dispatched' },
  /** The node's runner began the attempt. */
  start: { from: ['dispatched'], to: 'running' },
  /**
   * The attempt was lost: the job waits for a replica again, to run from the start (no token
   * yet) or to continue the text already streamed (resumed).
   */
  requeue: { from: ['dispatched', 'running'], to: 'queued' },
  /** From `dispatched` too: a node's end may be handled before its start was recorded. */
  succeed: { from: ['dispatched', 'running'], to: 'succeeded' },
  fail: { from: ['queued', 'dispatched', 'running'], to: 'failed' },
  cancel: { from: ['queued', 'dispatched', 'running'], to: 'cancelled' },
  expire: { from: ['queued', 'dispatched', 'running'], to: 'expired' },
} as const satisfies Record<string, { from: readonly OpenJobStatus[]; to: JobStatus }>;

export type JobTransition = keyof typeof JOB_TRANSITIONS;
export const JOB_TRANSITION_NAMES = Object.keys(JOB_TRANSITIONS) as JobTransition[];

export function isTerminalStatus(status: JobStatus): status is TerminalJobStatus {
  return (TERMINAL_JOB_STATUSES as readonly JobStatus[]).includes(status);
}

/** The states a transition may start from (the compare-and-set's expected values). */
export function transitionSources(t: JobTransition): readonly OpenJobStatus[] {
  return JOB_TRANSITIONS[t].from;
}

export function transitionTarget(t: JobTransition): JobStatus {
  return JOB_TRANSITIONS[t].to;
}

/** The status after `t` from `current`, or null when the transition is illegal there. */
export function applyTransition(current: JobStatus, t: JobTransition): JobStatus | null {
  const spec = JOB_TRANSITIONS[t];
  return (spec.from as readonly JobStatus[]).includes(current) ? spec.to : null;
}

/** Whether some transition leads from `from` to `to`. */
export function canMove(from: JobStatus, to: JobStatus): boolean {
  return JOB_TRANSITION_NAMES.some((t) => applyTransition(from, t) === to);
}
