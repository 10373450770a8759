import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiError, ApiErrorCode, openAiErrorType, safeError } from '@gridline/common';
import { ERROR_CODE_LOCAL } from '../metrics/api-metrics';

/** Nest's own HTTP exceptions (router, pipes) by status, in the catalogue's words. */
const BY_STATUS: Record<number, ApiErrorCode> = {
  400: 'validation_failed',
  401: 'authentication_required',
  403: 'forbidden',
  404: 'route_not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  503: 'not_ready',
};

function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof HttpException) {
    const code = BY_STATUS[e.getStatus()];
    // Nest's messages name the route or the pipe's expectation, never the input itself.
    if (code) return new ApiError(code, code === 'route_not_found' ? 'no route matches this method and path' : e.message);
  }
  return new ApiError('internal_error', 'an internal error occurred');
}

/**
 * The one exception filter. Under `/v1` errors take OpenAI's shape; elsewhere RFC 9457 problem
 * details. Every error carries a code from the catalogue and the request id; 5xx hide their
 * cause from the client, and their log line names the error's class and code, never its
 * parameters.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request & { id?: string }>();
    const res = ctx.getResponse<Response>();
    const error = toApiError(exception);
    const requestId = String(req.id ?? '');
    if (error.status >= 500) this.logger.error({ err: safeError(exception), requestId, code: error.code }, 'request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    res.setHeader('x-request-id', requestId);
    sendError(req, res, error, requestId);
  }
}

/** The OpenAI-compatible routes answer errors in OpenAI's shape; all others as problem details. */
export function usesOpenAiErrors(path: string): boolean {
  return path.startsWith('/v1/') || path === '/v1';
}

/** Writes one error in the shape the route family uses (also used before Nest's pipeline runs). */
export function sendError(req: Request, res: Response, error: ApiError, requestId: string): void {
  // The request's metrics count the error by its code.
  res.locals[ERROR_CODE_LOCAL] = error.code;
  if (error.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(error.retryAfterSeconds));
  for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
  if (usesOpenAiErrors(req.path)) {
    res.status(error.status).json({ error: { message: error.message, type: openAiErrorType(error.status), param: error.param ?? null, code: error.code } });
    return;
  }
  res
    .status(error.status)
    .type('application/problem+json')
    .json({
      type: `https://gridline.dev/errors/${error.code}`,
      title: error.title,
      status: error.status,
      detail: error.message,
      code: error.code,
      ...(error.param ? { param: error.param } : {}),
      requestId,
      ...error.extra,
    });
}
