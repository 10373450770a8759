/**
 * An error a client can act on: a stable machine-readable `code`, an HTTP status, and a
 * message that is safe to show (never a secret, never an internal detail).
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}
