import { ExecutionContext, SetMetadata, applyDecorators, createParamDecorator } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AccessScope, Principal, Role } from './principal';

export const IS_PUBLIC = 'gridline:public';
export const ACCESS = 'gridline:access';
export const HMAC_SECURITY = 'hmac';
export const BEARER_SECURITY = 'bearer';

export interface AccessRule {
  /** Roles allowed (superadmin always is); all roles when omitted. */
  roles?: Role[];
  /** Bearer-token scope the route belongs to; keypairs reach both. */
  scope: AccessScope;
}

/** Opts a route out of authentication (health probes, docs). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/**
 * States who may call a route and documents it: the global guard authenticates every route
 * that is not @Public() and enforces the roles and token scope given here.
 */
export const Authenticated = (rule: AccessRule = { scope: 'management' }) =>
  applyDecorators(
    SetMetadata(ACCESS, rule),
    ApiSecurity(HMAC_SECURITY),
    ApiBearerAuth(BEARER_SECURITY),
    ApiUnauthorizedResponse({ description: 'Missing, invalid, expired or replayed credentials' }),
    ApiForbiddenResponse({ description: `Requires ${rule.roles ? ['superadmin', ...rule.roles.filter((r) => r !== 'superadmin')].join(' or ') : 'any role'}${rule.scope === 'management' ? ' (tokens: management scope)' : ''}` }),
  );

/** Injects the authenticated caller. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<{ user?: Principal }>();
  if (!req.user) throw new Error('CurrentPrincipal used on a public route');
  return req.user;
});
