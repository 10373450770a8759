import { boardPath, isAllowedBoardAction } from './queue-board-actions';

describe('the queue board allowlist', () => {
  it('normalizes a path as bull-board routes it: any case, a trailing slash, percent-encoding', () => {
    expect(boardPath('/api/queues/Inference/PAUSE/')).toBe('/api/queues/inference/pause');
    expect(boardPath('/api/queues/inference/%65mpty')).toBe('/api/queues/inference/empty');
    // A segment cannot pose as two, and a bad escape is no path.
    expect(boardPath('/api/queues/x%2Fpause')).toBeNull();
    expect(boardPath('/api/queues/x%5Cpause')).toBeNull();
    expect(boardPath('/api/queues/%E0%A4%A')).toBeNull();
  });

  it.each([
    ['PUT', '/api/queues/pause'],
    ['PUT', '/api/queues/resume/'],
    ['PUT', '/api/queues/inference/pause'],
    ['put', '/api/queues/node.abc/RESUME'],
    ['PUT', '/api/queues/inference/promote'],
    ['PUT', '/api/queues/inference/retry/failed'],
    ['PUT', '/api/queues/inference/clean/completed/'],
    ['PUT', '/api/queues/inference/job-1/retry'],
    ['PUT', '/api/queues/inference/job-1/promote'],
  ])('lets %s %s through', (method, path) => {
    expect(isAllowedBoardAction(method, path)).toBe(true);
  });

  it.each([
    ['POST', '/api/queues/inference/add'],
    ['PUT', '/api/queues/inference/empty'],
    ['PUT', '/api/queues/inference/obliterate'],
    ['PUT', '/api/queues/inference/clean/wait'],
    ['PUT', '/api/queues/inference/clean/delayed'],
    ['PUT', '/api/queues/inference/retry/completed/x'],
    ['PUT', '/api/queues/inference/clean/retry'],
    ['PUT', '/api/queues/inference/job-1/clean'],
    ['PATCH', '/api/queues/inference/job-1/update-data'],
    ['PATCH', '/api/queues/inference/job-1/delay'],
    ['PATCH', '/api/queues/inference/job-1/priority'],
    ['PUT', '/api/queues/inference/job-1/remove-unprocessed-children'],
    ['PUT', '/api/queues/inference/concurrency'],
    ['PUT', '/api/queues/inference/rate-limit'],
    ['PUT', '/api/queues/inference/rate-limit/release'],
    ['PUT', '/api/queues/inference/job-schedulers/s/run'],
    ['PATCH', '/api/queues/inference/job-schedulers/s'],
    ['POST', '/api/metrics/history/purge'],
    ['POST', '/api/queues/inference/pause'],
    ['PUT', '/api/queues/inference%2Fx/pause'],
  ])('refuses %s %s', (method, path) => {
    expect(isAllowedBoardAction(method, path)).toBe(false);
  });
});
