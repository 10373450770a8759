import { ApiError, ApiErrorCode, quote } from '@gridline/common';

/** A row that does not exist or belongs to another team: the same answer, so nothing leaks. */
export function notFound(what: string, id: string): ApiError {
  return new ApiError('not_found', `${what} ${quote(id)} was not found`);
}

export function forbidden(message: string): ApiError {
  return new ApiError('forbidden', message);
}

export function conflict(code: Extract<ApiErrorCode, 'email_taken' | 'team_exists'>, message: string): ApiError {
  return new ApiError(code, message);
}

/** Postgres unique_violation. */
export function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: string }).code === '23505';
}
