import type { NextFunction, Request, Response } from 'express';
import { ApiError, JsonLimits, JsonScanner, JsonViolation, hasForbiddenText } from '@gridline/common';
import { sendError } from './problem.filter';
import { requestIdOf } from './request-id';
import { timelineOf } from './request-timeline';

const MiB = 1024 * 1024;

/** Inference bodies carry prompts; admin bodies carry names and ids. */
export const INFERENCE_LIMITS: JsonLimits = { maxBytes: 4 * MiB, maxDepth: 32, maxKeys: 1024, maxItems: 10_000, maxString: 4 * MiB };
export const ADMIN_LIMITS: JsonLimits = { maxBytes: 64 * 1024, maxDepth: 16, maxKeys: 256, maxItems: 1000, maxString: 8 * 1024 };

/** Routes whose body is a file, streamed by their handler (which bounds it): not JSON, never buffered here. */
const FILE_UPLOADS: { method: string; path: RegExp }[] = [{ method: 'PUT', path: /^\/api\/v1\/models\/[^/]+\/file$/ }];

function limitsFor(path: string): JsonLimits {
  return path.startsWith('/v1/') || path === '/api/v1/jobs' ? INFERENCE_LIMITS : ADMIN_LIMITS;
}

/** A refused body is read and dropped up to this many bytes before the answer; beyond, the connection is closed. */
const DRAIN_MAX = 64 * MiB;

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** `application/json` (or `…+json`), in UTF-8 when a charset is given; anything else is a 415. */
function checkContentType(value: string | undefined): ApiError | null {
  const [type = '', ...params] = (value ?? '').split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    return new ApiError('unsupported_media_type', 'request bodies are JSON: send Content-Type: application/json');
  }
  const charset = params.find((p) => p.startsWith('charset='))?.slice(8).replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return new ApiError('unsupported_media_type', 'request bodies are UTF-8: send no charset, or charset=utf-8');
  }
  return null;
}

/** Query strings hold no NUL or lone surrogate (Postgres text cannot, and nothing needs one). */
function checkQuery(query: unknown, path: string): ApiError | null {
  if (typeof query === 'string') return hasForbiddenText(query) ? new ApiError('invalid_text', 'query parameters must not contain NUL or a lone UTF-16 surrogate', { param: path }) : null;
  if (typeof query !== 'object' || query === null) return null;
  for (const [key, value] of Object.entries(query)) {
    const error = checkQuery(key, path) ?? checkQuery(value, path ? `${path}.${key.slice(0, 64)}` : key.slice(0, 64));
    if (error) return error;
  }
  return null;
}

/**
 * The first thing every request meets: bounds on the body's size and shape and on its text,
 * checked before any parser or validator does per-field work, so a hostile body costs one
 * linear scan and is refused in milliseconds. Replaces Nest's JSON body parser.
 */
export function inputGuard(req: Request, res: Response, next: NextFunction): void {
  let answered = false;
  const answer = (error: ApiError) => {
    if (answered) return;
    answered = true;
    res.setHeader('connection', 'close');
    sendError(req, res, error, requestIdOf(req, res));
  };
  /**
   * Refuses the request once its body has arrived (read and dropped, never kept), so that the
   * client, still sending, hears the answer instead of a reset; a body beyond DRAIN_MAX is not
   * waited for.
   */
  const refuse = (error: ApiError) => {
    if (req.complete || !hasBody(req)) return answer(error);
    let drained = 0;
    req.removeAllListeners('data');
    req.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > DRAIN_MAX) {
        answer(error);
        req.destroy();
      }
    });
    req.on('end', () => answer(error));
    req.resume();
  };
  const queryError = req.originalUrl.includes('?') ? checkQuery(req.query, '') : null;
  if (queryError) return refuse(queryError);
  if (/%00/i.test(req.originalUrl.split('?')[0] ?? '')) return refuse(new ApiError('invalid_text', 'the path must not contain NUL'));
  if (!hasBody(req) || req.method === 'GET' || req.method === 'HEAD') return next();

  if (FILE_UPLOADS.some((r) => r.method === req.method && r.path.test(req.path))) {
    if ((req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase() !== 'application/octet-stream') {
      return refuse(new ApiError('unsupported_media_type', 'model files are uploaded as Content-Type: application/octet-stream'));
    }
    return next();
  }
  const typeError = checkContentType(req.headers['content-type']);
  if (typeError) return refuse(typeError);
  const limits = limitsFor(req.path);
  const tooLarge = () => new ApiError('payload_too_large', `bodies on this route are limited to ${limits.maxBytes} bytes`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > DRAIN_MAX) {
    answer(tooLarge());
    req.destroy();
    return;
  }
  if (declared > limits.maxBytes) return refuse(tooLarge());

  // Decoded and scanned chunk by chunk as it arrives: a hostile body is refused at its first
  // chunk that breaks a bound, and the rest is never kept.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const scanner = new JsonScanner(limits);
  const parts: string[] = [];
  let size = 0;
  const stop = (error: ApiError) => {
    parts.length = 0;
    req.off('end', onEnd);
    refuse(error);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limits.maxBytes) return stop(tooLarge());
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      return stop(notUtf8());
    }
    const violation = scanner.write(text);
    if (violation) return stop(fromViolation(violation));
    parts.push(text);
  };
  const onEnd = () => {
    try {
      parts.push(decoder.decode());
    } catch {
      return answer(notUtf8());
    }
    const violation = scanner.end();
    if (violation) return answer(fromViolation(violation));
    const text = parts.join('');
    if (text.trim() !== '') {
      try {
        req.body = JSON.parse(text);
      } catch {
        return answer(new ApiError('invalid_json', 'the request body is not valid JSON'));
      }
    }
    timelineOf(req).mark('read');
    next();
  };
  req.on('data', onData);
  req.on('end', onEnd);
  // A body cut off mid-way: the connection is gone, there is nobody to answer.
  req.on('error', () => req.off('end', onEnd));
}

const notUtf8 = () => new ApiError('invalid_text', 'the body is not valid UTF-8');
const fromViolation = (v: JsonViolation) => new ApiError(v.code, `${v.path}: ${v.detail}`, { param: v.path });
