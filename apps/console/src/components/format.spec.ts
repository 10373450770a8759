import { formatAgo, formatBytes, formatMs } from './format';

describe('console formatting', () => {
  it('writes GPU memory in binary units, as the planner counts it', () => {
    expect(formatBytes(24 * 1024 ** 3)).toBe('24.0 GiB');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536 * 1024 ** 2)).toBe('1.5 GiB');
    expect(formatBytes(null)).toBe('—');
  });

  it('writes durations and ages a reader takes in at a glance', () => {
    expect(formatMs(12.4)).toBe('12 ms');
    expect(formatMs(2500)).toBe('2.5 s');
    expect(formatAgo('2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:00:30Z'))).toBe('30 s ago');
    expect(formatAgo('2026-01-01T00:00:00Z', Date.parse('2026-01-01T02:00:00Z'))).toBe('2 h ago');
  });
});
