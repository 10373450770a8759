/** Minimal structural checks for data read back from Redis, which arrives untyped. */
export class PayloadError extends Error {
  override readonly name = 'PayloadError';
}

export type Shape = Record<string, 'string' | 'number' | 'boolean' | 'object' | 'array' | 'string?' | 'number?' | 'object?' | 'array?'>;

export function assertShape(what: string, value: unknown, shape: Shape): void {
  if (typeof value !== 'object' || value === null) throw new PayloadError(`${what}: expected an object`);
  const obj = value as Record<string, unknown>;
  for (const [key, kind] of Object.entries(shape)) {
    const optional = kind.endsWith('?');
    const base = optional ? kind.slice(0, -1) : kind;
    const v = obj[key];
    if (v === undefined || v === null) {
      if (optional) continue;
      throw new PayloadError(`${what}: ${key} is required`);
    }
    const ok = base === 'array' ? Array.isArray(v) : base === 'object' ? typeof v === 'object' && !Array.isArray(v) : typeof v === base;
    if (!ok) throw new PayloadError(`${what}: ${key} must be ${base}`);
  }
}
