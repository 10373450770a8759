import { fleetUsage, gpuDisplayName, gpuUsage, joinTokenRequest, labelRows, labelsFromRows, parseLabel, scheduling, taintsFromRows, usageColor } from './fleet';

const GiB = 1024 ** 3;

describe('the Nodes page figures', () => {
  it('shows a GPU memory in use as total minus free, and a node as the sum of its GPUs', () => {
    expect(gpuUsage({ totalMemoryBytes: 24 * GiB, freeMemoryBytes: 18 * GiB })).toEqual({ totalBytes: 24 * GiB, usedBytes: 6 * GiB, freeBytes: 18 * GiB, usedPercent: 25 });
    // A report with more free than total (drivers round) never shows negative use.
    expect(gpuUsage({ totalMemoryBytes: GiB, freeMemoryBytes: 2 * GiB }).usedBytes).toBe(0);
    expect(gpuUsage({ totalMemoryBytes: 0, freeMemoryBytes: 0 }).usedPercent).toBe(0);
    expect(fleetUsage([
      { totalMemoryBytes: 24 * GiB, freeMemoryBytes: 24 * GiB },
      { totalMemoryBytes: 24 * GiB, freeMemoryBytes: 12 * GiB },
    ])).toMatchObject({ totalBytes: 48 * GiB, usedBytes: 12 * GiB, usedPercent: 25 });
    expect([usageColor(10), usageColor(75), usageColor(95)]).toEqual(['teal', 'yellow', 'red']);
  });

  it('marks a simulated GPU with a badge rather than in its name', () => {
    expect(gpuDisplayName({ name: 'NVIDIA L4 24GB (simulated)', simulated: true })).toBe('NVIDIA L4 24GB');
    expect(gpuDisplayName({ name: 'NVIDIA L4 (simulated)', simulated: false })).toBe('NVIDIA L4 (simulated)');
  });

  it('says how a node takes work, draining before cordoned', () => {
    expect(scheduling({ schedulable: true, cordoned: false, draining: false })).toBe('Schedulable');
    expect(scheduling({ schedulable: false, cordoned: true, draining: true })).toBe('Draining');
    expect(scheduling({ schedulable: false, cordoned: true, draining: false })).toBe('Cordoned');
    expect(scheduling({ schedulable: false, cordoned: false, draining: false })).toBe('Unschedulable');
  });
});

describe('editing labels and taints', () => {
  it('round-trips labels through the rows a person edits, skipping blank rows', () => {
    const rows = labelRows({ zone: 'a', pool: 'inference' });
    expect(rows).toEqual([{ key: 'pool', value: 'inference' }, { key: 'zone', value: 'a' }]);
    expect(labelsFromRows([...rows, { key: ' gridline.dev/gpu ', value: 'l4' }, { key: '', value: '' }])).toEqual({ labels: { pool: 'inference', zone: 'a', 'gridline.dev/gpu': 'l4' } });
  });

  it('refuses a bad key, a bad value or a key twice, naming it', () => {
    expect(labelsFromRows([{ key: 'has space', value: 'x' }])).toEqual({ problem: expect.stringContaining('has space') });
    expect(labelsFromRows([{ key: 'Bad_Prefix/name', value: 'x' }])).toEqual({ problem: expect.stringContaining('prefix') });
    expect(labelsFromRows([{ key: 'zone', value: '-a' }])).toEqual({ problem: expect.stringContaining('-a') });
    expect(labelsFromRows([{ key: '', value: 'orphan' }])).toEqual({ problem: expect.stringContaining('key is required') });
    expect(labelsFromRows([{ key: 'zone', value: 'a' }, { key: 'zone', value: 'b' }])).toEqual({ problem: 'zone: appears twice' });
  });

  it('builds taints, leaving out an empty value', () => {
    expect(taintsFromRows([{ key: 'gpu', value: '', effect: 'NoSchedule' }, { key: 'team', value: 'ml', effect: 'PreferNoSchedule' }])).toEqual({
      taints: [{ key: 'gpu', effect: 'NoSchedule' }, { key: 'team', value: 'ml', effect: 'PreferNoSchedule' }],
    });
    expect(taintsFromRows([{ key: 'gpu', value: '', effect: 'NoSchedule' }, { key: 'gpu', value: 'x', effect: 'NoSchedule' }])).toEqual({ problem: expect.stringContaining('twice') });
  });
});

describe('the join-token request', () => {
  it('sends what the form says: labels parsed, unlimited uses as null, no empty description', () => {
    expect(parseLabel('pool=inference')).toEqual({ key: 'pool', value: 'inference' });
    expect(parseLabel('gpu')).toEqual({ key: 'gpu', value: '' });
    expect(joinTokenRequest({ description: ' rack 4 ', labels: ['pool=inference', 'zone=a'], uses: 3, autoApprove: true, ttlSeconds: 3600 })).toEqual({
      body: { description: 'rack 4', labels: { pool: 'inference', zone: 'a' }, maxUses: 3, autoApprove: true, ttlSeconds: 3600 },
    });
    expect(joinTokenRequest({ description: '', labels: [], uses: null, autoApprove: false, ttlSeconds: 86_400 })).toEqual({ body: { maxUses: null, autoApprove: false, ttlSeconds: 86_400 } });
  });

  it('refuses a bad label or a use count below one', () => {
    expect(joinTokenRequest({ description: '', labels: ['=x'], uses: 1, autoApprove: false, ttlSeconds: 3600 })).toEqual({ problem: expect.stringContaining('key is required') });
    expect(joinTokenRequest({ description: '', labels: [], uses: 0, autoApprove: false, ttlSeconds: 3600 })).toEqual({ problem: expect.stringContaining('at least 1') });
  });
});
