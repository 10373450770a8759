import { DomainError } from '@gridline/common';

/** A row that does not exist or belongs to another team: the same answer, so nothing leaks. */
export function notFound(what: string, id: string): DomainError {
  return new DomainError('not_found', 404, `${what} ${id} was not found`);
}

export function forbidden(message: string): DomainError {
  return new DomainError('forbidden', 403, message);
}

export function conflict(code: string, message: string): DomainError {
  return new DomainError(code, 409, message);
}

/** Postgres unique_violation. */
export function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: string }).code === '23505';
}
