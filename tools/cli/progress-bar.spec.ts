import { formatBytes, renderProgressBar } from './progress-bar';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe('renderProgressBar', () => {
  it('draws the share done, the sizes and the speed in binary units', () => {
    expect(renderProgressBar({ bytes: 1.2 * GiB, totalBytes: 2.6 * GiB, bytesPerSecond: 85.3 * MiB }, 20)).toBe('[#########...........] 46% 1.2 GiB / 2.6 GiB 85.3 MiB/s');
  });

  it('shows an empty bar at the start and a full one only when every byte is there', () => {
    expect(renderProgressBar({ bytes: 0, totalBytes: 4096, bytesPerSecond: 0 }, 10)).toBe('[..........] 0% 0 B / 4.0 KiB 0 B/s');
    expect(renderProgressBar({ bytes: 4095, totalBytes: 4096, bytesPerSecond: 512 }, 10)).toBe('[#########.] 99% 4.0 KiB / 4.0 KiB 512 B/s');
    expect(renderProgressBar({ bytes: 4096, totalBytes: 4096, bytesPerSecond: 512 }, 10)).toBe('[##########] 100% 4.0 KiB / 4.0 KiB 512 B/s');
  });

  it('is 30 wide by default and stays inside its bounds for an unknown or overrun total', () => {
    expect(renderProgressBar({ bytes: 10, totalBytes: 0, bytesPerSecond: 0 })).toBe(`[${'.'.repeat(30)}] 0% 10 B / 0 B 0 B/s`);
    expect(renderProgressBar({ bytes: 200, totalBytes: 100, bytesPerSecond: 0 }, 4)).toBe('[####] 100% 200 B / 100 B 0 B/s');
  });
});

describe('formatBytes', () => {
  it('moves to the next unit at 1024', () => {
    expect([1023, 1024, 1536 * 1024, 5 * 1024 ** 4].map(formatBytes)).toEqual(['1023 B', '1.0 KiB', '1.5 MiB', '5.0 TiB']);
  });
});
