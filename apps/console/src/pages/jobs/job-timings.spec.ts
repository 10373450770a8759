import { isCancellable, jobDurations } from './job-timings';

describe('jobDurations', () => {
  it('measures queue wait, time to first token and total from acceptance, and the run from the start', () => {
    expect(
      jobDurations({
        queued_at: '2026-12-01T10:00:00.000Z',
        dispatched_at: '2026-12-01T10:00:00.010Z',
        started_at: '2026-12-01T10:00:00.250Z',
        first_token_at: '2026-12-01T10:00:00.400Z',
        finished_at: '2026-12-01T10:00:01.500Z',
      }),
    ).toEqual({ queueWaitMs: 250, firstTokenMs: 400, totalMs: 1500, runMs: 1250 });
  });

  it('leaves what has not happened yet unknown', () => {
    expect(jobDurations({ queued_at: '2026-12-01T10:00:00.000Z', dispatched_at: null, started_at: null, first_token_at: null, finished_at: null })).toEqual({
      queueWaitMs: null,
      firstTokenMs: null,
      totalMs: null,
      runMs: null,
    });
  });
});

describe('isCancellable', () => {
  it('is true for jobs that have not ended only', () => {
    expect(['queued', 'dispatched', 'running'].every(isCancellable)).toBe(true);
    expect(['succeeded', 'failed', 'cancelled', 'expired'].some(isCancellable)).toBe(false);
  });
});
