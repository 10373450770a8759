const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `1.2 GiB`: binary units, one decimal past bytes. */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/**
 * One line for a model pull: `[#########.........] 45% 1.2 GiB / 2.6 GiB 85.3 MiB/s`. The
 * percentage rounds down, so 100% means the whole file is there.
 */
export function renderProgressBar(p: { bytes: number; totalBytes: number; bytesPerSecond: number }, width = 30): string {
  const fraction = p.totalBytes > 0 ? Math.min(1, Math.max(0, p.bytes / p.totalBytes)) : 0;
  const filled = Math.floor(fraction * width);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  return `[${bar}] ${Math.floor(fraction * 100)}% ${formatBytes(p.bytes)} / ${formatBytes(p.totalBytes)} ${formatBytes(p.bytesPerSecond)}/s`;
}
