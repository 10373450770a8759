import { ExecutionContext, SetMetadata, applyDecorators, createParamDecorator } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import { ApiErrorCode } from '@gridline/common';
import { AUTHENTICATION_ERRORS, documentErrors } from '../common/api-errors.decorator';
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
 * States who may call a route and documents it, with the errors the guard can answer: the
 * global guard authenticates every route that is not @Public() and enforces the roles and token
 * scope given here.
 */
export const Authenticated = (rule: AccessRule = { scope: 'management' }) => {
  // The input guard refuses NUL in any path or query string before authentication.
  const codes: ApiErrorCode[] = ['invalid_text', ...AUTHENTICATION_ERRORS, ...(rule.scope === 'management' ? ['insufficient_scope' as const] : []), ...(rule.roles ? ['forbidden' as const] : [])];
  const needs = [
    ...(rule.roles ? [`the ${['superadmin', ...rule.roles.filter((r) => r !== 'superadmin')].join(' or ')} role`] : []),
    ...(rule.scope === 'management' ? ['a keypair or a management-scope token'] : []),
  ];
  const notes: Record<number, string> = { 401: 'Missing, invalid, expired or replayed credentials' };
  if (needs.length > 0) notes[403] = `Requires ${needs.join(', and ')}`;
  return applyDecorators(
    SetMetadata(ACCESS, rule),
    ApiSecurity(HMAC_SECURITY),
    ApiBearerAuth(BEARER_SECURITY),
    documentErrors(codes, notes),
  );
};

/** Injects the authenticated caller. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<{ user?: Principal }>();
  if (!req.user) throw new Error('CurrentPrincipal used on a public route');
  return req.user;
});
