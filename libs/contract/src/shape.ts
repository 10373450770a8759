/** Structural checks for data that crosses a process boundary untyped (Redis, IPC, JSON columns). */
export class PayloadError extends Error {
  override readonly name = 'PayloadError';
}

export type ShapeKind = 'string' | 'number' | 'boolean' | 'object' | 'array';
export type Shape = Record<string, ShapeKind | `${ShapeKind}?`>;

export function assertShape(what: string, value: unknown, shape: Shape): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PayloadError(`${what}: expected an object`);
  const obj = value as Record<string, unknown>;
  for (const [key, kind] of Object.entries(shape)) {
    const optional = kind.endsWith('?');
    const base = optional ? kind.slice(0, -1) : kind;
    const v = obj[key];
    if (v === undefined || v === null) {
      if (optional) continue;
      throw new PayloadError(`${what}: ${key} is required`);
    }
    const ok =
      base === 'array' ? Array.isArray(v) : base === 'object' ? typeof v === 'object' && !Array.isArray(v) : base === 'number' ? typeof v === 'number' && Number.isFinite(v) : typeof v === base;
    if (!ok) throw new PayloadError(`${what}: ${key} must be ${base}`);
  }
}
