import { JOB_STATUSES, JOB_TRANSITION_NAMES, JobStatus, JobTransition, applyTransition, canMove, isTerminalStatus, transitionSources } from './job-lifecycle';

/** The whole table, written out: what each transition does from each status (null: refused). */
const EXPECTED: Record<JobTransition, Record<JobStatus, JobStatus | null>> = {
  dispatch: { queued: 'dispatched', dispatched: null, running: null, succeeded: null, failed: null, cancelled: null, expired: null },
  start: { queued: null, dispatched: 'running', running: null, succeeded: null, failed: null, cancelled: null, expired: null },
  requeue: { queued: null, dispatched: 'queued', running: 'queued', succeeded: null, failed: null, cancelled: null, expired: null },
  succeed: { queued: null, dispatched: 'succeeded', running: 'succeeded', succeeded: null, failed: null, cancelled: null, expired: null },
  fail: { queued: 'failed', dispatched: 'failed', running: 'failed', succeeded: null, failed: null, cancelled: null, expired: null },
  cancel: { queued: 'cancelled', dispatched: 'cancelled', running: 'cancelled', succeeded: null, failed: null, cancelled: null, expired: null },
  expire: { queued: 'expired', dispatched: 'expired', running: 'expired', succeeded: null, failed: null, cancelled: null, expired: null },
};

const cases = JOB_TRANSITION_NAMES.flatMap((t) => JOB_STATUSES.map((s) => [t, s, EXPECTED[t][s]] as const));

describe('job lifecycle state machine', () => {
  it('covers every transition and status', () => {
    expect(JOB_TRANSITION_NAMES.sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(cases).toHaveLength(7 * 7);
  });

  it.each(cases.filter(([, , to]) => to !== null))('%s from %s is legal and leads to %s', (t, from, to) => {
    expect(applyTransition(from, t)).toBe(to);
    expect(transitionSources(t)).toContain(from);
  });

  it.each(cases.filter(([, , to]) => to === null))('%s from %s is refused', (t, from) => {
    expect(applyTransition(from, t)).toBeNull();
    expect(transitionSources(t)).not.toContain(from);
  });

  it('never leaves a terminal status, and only reaches a terminal status by succeed, fail, cancel or expire', () => {
    for (const s of JOB_STATUSES.filter(isTerminalStatus)) for (const to of JOB_STATUSES) expect(canMove(s, to)).toBe(false);
    for (const t of JOB_TRANSITION_NAMES) {
      const target = EXPECTED[t].queued ?? EXPECTED[t].dispatched ?? EXPECTED[t].running;
      expect(isTerminalStatus(target as JobStatus)).toBe(['succeed', 'fail', 'cancel', 'expire'].includes(t));
    }
  });

  it('moves forward only, except a requeue back to queued', () => {
    expect(canMove('running', 'dispatched')).toBe(false);
    expect(canMove('dispatched', 'queued')).toBe(true);
    expect(canMove('queued', 'running')).toBe(false);
    expect(canMove('queued', 'succeeded')).toBe(false);
  });
});
