import { ArgumentsHost, BadRequestException, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthError } from '@gridline/auth';
import { DomainError } from '@gridline/common';

interface ErrorView {
  status: number;
  code: string;
  title: string;
  detail: string;
  extra?: Record<string, unknown>;
}

const OPENAI_TYPE: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'invalid_request_error',
  409: 'invalid_request_error',
  429: 'rate_limit_error',
};

function fromHttpException(e: HttpException): ErrorView {
  const status = e.getStatus();
  const body = e.getResponse();
  const message = typeof body === 'object' && body !== null && 'message' in body ? (body as { message: unknown }).message : e.message;
  const detail = Array.isArray(message) ? message.join('; ') : String(message);
  const code = status === 400 ? 'validation_failed' : status === 404 ? 'not_found' : (HttpStatus[status] ?? 'error').toLowerCase();
  return { status, code, title: HttpStatus[status] ? HttpStatus[status].replace(/_/g, ' ').toLowerCase() : 'error', detail };
}

/**
 * The one exception filter. Under `/v1` errors take OpenAI's shape; elsewhere RFC 9457 problem
 * details. Every error carries a stable `code` and the request id; 5xx hide their cause.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request & { id?: string }>();
    const res = ctx.getResponse<Response>();
    const view = this.toView(exception);
    const requestId = String(req.id ?? '');
    if (view.status >= 500) this.logger.error({ err: exception, requestId }, 'request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    res.setHeader('x-request-id', requestId);
    if (req.path.startsWith('/v1/') || req.path === '/v1') {
      res.status(view.status).json({
        error: { message: view.detail, type: OPENAI_TYPE[view.status] ?? 'api_error', param: view.extra?.param ?? null, code: view.code },
      });
      return;
    }
    res
      .status(view.status)
      .type('application/problem+json')
      .json({ type: `https://gridline.dev/errors/${view.code}`, title: view.title, status: view.status, detail: view.detail, code: view.code, requestId, ...view.extra });
  }

  private toView(e: unknown): ErrorView {
    if (e instanceof AuthError) return { status: e.status, code: e.code, title: e.title, detail: e.message };
    if (e instanceof DomainError) return { status: e.status, code: e.code, title: e.code.replace(/_/g, ' '), detail: e.message, extra: e.extra };
    // Nest turns body-parser's SyntaxError into a BadRequestException carrying only its message
    // (validation failures always carry an array of messages instead).
    const parseFailure =
      (e as { type?: string }).type === 'entity.parse.failed' ||
      (e instanceof BadRequestException && typeof (e.getResponse() as { message?: unknown }).message === 'string' && /JSON/.test(e.message));
    if (parseFailure) {
      return { status: 400, code: 'invalid_json', title: 'invalid json', detail: 'the request body is not valid JSON' };
    }
    if ((e as { type?: string }).type === 'entity.too.large') {
      return { status: 413, code: 'payload_too_large', title: 'payload too large', detail: 'the request body is larger than 4 MB' };
    }
    if (e instanceof HttpException) return fromHttpException(e);
    return { status: 500, code: 'internal_error', title: 'internal error', detail: 'an internal error occurred' };
  }
}
