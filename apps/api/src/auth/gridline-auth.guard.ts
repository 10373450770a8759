import type { IncomingMessage } from 'node:http';
import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { AuthError } from '@gridline/auth';
import { timelineOf } from '../common/request-timeline';
import { ACCESS, AccessRule, IS_PUBLIC } from './auth.decorators';
import { Principal } from './principal';

/** Global guard: authenticates every route not marked @Public(), then applies its AccessRule. */
@Injectable()
export class GridlineAuthGuard extends AuthGuard('gridline') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    await super.canActivate(context);
    const req = context.switchToHttp().getRequest<IncomingMessage & { user: Principal }>();
    timelineOf(req).mark('auth');
    const principal = req.user;
    const rule = this.reflector.getAllAndOverride<AccessRule>(ACCESS, targets) ?? { scope: 'management' };
    if (principal.credential.kind === 'token' && rule.scope === 'management' && principal.credential.scope !== 'management') {
      throw new AuthError('insufficient_scope', 'this token has the inference scope; the route needs a management token or a keypair');
    }
    if (rule.roles && principal.role !== 'superadmin' && !rule.roles.includes(principal.role)) {
      throw new AuthError('forbidden', `this route needs the ${['superadmin', ...rule.roles].join(' or ')} role`);
    }
    return true;
  }

  override handleRequest<T>(err: unknown, user: T): T {
    if (err) throw err;
    return user;
  }
}
