import { ExecutionContext, SetMetadata, applyDecorators, createParamDecorator } from '@nestjs/common';
import { ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Principal } from './principal';

export const IS_PUBLIC = 'gridline:public';
export const HMAC_SECURITY = 'hmac';

/** Opts a route out of authentication (health probes, docs). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Documents that a route needs a signed request. Routes are authenticated by default; roles come with tenancy. */
export const Authenticated = () =>
  applyDecorators(ApiSecurity(HMAC_SECURITY), ApiUnauthorizedResponse({ description: 'Missing, invalid, expired or replayed signature' }));

/** Injects the authenticated caller. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<{ user?: Principal }>();
  if (!req.user) throw new Error('CurrentPrincipal used on a public route');
  return req.user;
});
