import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import type { Request } from 'express';

/** Where a change came from, as the audit log records it. */
export interface RequestOrigin {
  ip: string | null;
  requestId: string | null;
}

/** Injects the request's origin (client address and request id) for services that audit. */
export const Origin = createParamDecorator((_data: unknown, ctx: ExecutionContext): RequestOrigin => {
  const req = ctx.switchToHttp().getRequest<Request & { id?: unknown }>();
  return { ip: req.ip ?? null, requestId: req.id ? String(req.id) : null };
});
