import { ApiError, quote } from '@gridline/common';

/** A row that does not exist or that the caller may not see: the same answer, so nothing leaks. */
export function notFound(what: string, id: string, param?: string): ApiError {
  return new ApiError('not_found', `${what} ${quote(id)} was not found`, param ? { param } : {});
}

/** Postgres unique_violation. */
export function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: string }).code === '23505';
}
