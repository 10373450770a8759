import { Injectable, Logger } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { AuthError } from '@gridline/auth';
import { ApiError, errorSummary } from '@gridline/common';
import { IdentityRepository, NodeRepository } from '@gridline/db';
import { JobQueues, Queues } from '@gridline/messaging';
import { AuditService } from '../audit/audit.service';
import { CredentialStrategy } from '../auth/credential.strategy';
import { Principal } from '../auth/principal';
import { sendError } from '../common/problem.filter';
import { RequestOrigin } from '../common/request-origin';
import { QueueBoardSessionDto } from './dto/queue-board-session.dto';
import { isAllowedBoardAction } from './queue-board-actions';
import { QUEUE_BOARD_COOKIE, QUEUE_BOARD_PATH, QueueBoardSessions, cookieOf, sessionCookie } from './queue-board-sessions';

/** How often the board's list of queues (`inference`, and `node.<id>` per node) is read again. */
const QUEUE_LIST_MS = 5000;
/** How long a session's credential and user are taken to still stand before they are read again. */
const CREDENTIAL_RECHECK_MS = 2000;

const READS = new Set(['GET', 'HEAD']);

/**
 * bull-board for superadmins at QUEUE_BOARD_PATH. Every request passes the gate first: a
 * superadmin's bearer token or signature (for curl), or a session cookie from
 * `POST /api/v1/admin/queues/session`; anything else is refused with a problem body. Changes made
 * through the board are audited.
 */
@Injectable()
export class QueueBoard {
  private readonly logger = new Logger('QueueBoard');
  private readonly server = new ExpressAdapter().setBasePath(QUEUE_BOARD_PATH);
  // @bull-board/express 9.10.1 carries its own @bull-board/api 9.10.1 beside the 9.10.2 installed: the same interface, declared twice.
  private readonly board = createBullBoard({ queues: [], serverAdapter: this.server, options: { uiConfig: { boardTitle: 'Gridline queues' } } });
  private readonly adapters = new Map<string, BullMQAdapter>();
  private listedAt = 0;
  private readonly standing = new Map<string, { is: boolean; at: number }>();

  constructor(
    private readonly sessions: QueueBoardSessions,
    private readonly credentials: CredentialStrategy,
    private readonly queues: JobQueues,
    private readonly nodes: NodeRepository,
    private readonly identity: IdentityRepository,
    private readonly audit: AuditService,
  ) {}

  /** Opens a session for a superadmin (the route's guard checked the role): the cookie to set, and where to go. */
  async open(p: Principal, origin: RequestOrigin, secure: boolean): Promise<{ body: QueueBoardSessionDto; setCookie: string }> {
    const { value, expiresAt } = this.sessions.issue(p);
    await this.audit.record(p, origin, { action: 'queue_board.session_opened', targetType: 'queue_board', targetId: null, teamId: null, details: { expiresAt: expiresAt.toISOString() } });
    return {
      body: { url: QUEUE_BOARD_PATH, cookie: QUEUE_BOARD_COOKIE, cookiePath: QUEUE_BOARD_PATH, expiresAt: expiresAt.toISOString() },
      setCookie: sessionCookie(value, expiresAt, secure),
    };
  }

  /** The Set-Cookie value that ends a session in the browser. */
  close(secure: boolean): string {
    return sessionCookie(null, null, secure);
  }

  /** The express handler mounted at QUEUE_BOARD_PATH: the gate, then bull-board. */
  handler(): RequestHandler {
    const router = this.server.getRouter() as RequestHandler;
    return (req: Request, res: Response, next: NextFunction) => {
      this.admit(req)
        .then(async () => {
          await this.refreshQueues();
          router(req, res, next);
        })
        .catch((e: unknown) => {
          const error = e instanceof ApiError ? e : new ApiError('internal_error', 'an internal error occurred');
          if (!(e instanceof ApiError)) this.logger.error(`queue board request failed: ${errorSummary(e)}`);
          sendError(req, res, error, String((req as Request & { id?: unknown }).id ?? ''));
        });
    };
  }

  /** Lets a superadmin through (by credential or session cookie); refuses everyone else and the refused actions. */
  private async admit(req: Request): Promise<void> {
    let principal: Principal;
    if (req.headers.authorization) {
      principal = await this.credentials.validate(req);
      if (principal.credential.kind === 'token' && principal.credential.scope !== 'management') throw new AuthError('insufficient_scope', 'the queue board needs a management token or a keypair');
    } else {
      const cookie = cookieOf(req.headers.cookie, QUEUE_BOARD_COOKIE);
      if (!cookie) throw new AuthError('authentication_required', 'open a session with POST /api/v1/admin/queues/session (or send a superadmin credential)');
      principal = this.sessions.verify(cookie).principal;
      // A cookie is sent by the browser with any request to the board: a write must come from the board's own pages.
      if (!READS.has(req.method) && !sameOrigin(req)) throw new AuthError('forbidden', 'a queue board change must come from the board itself');
    }
    if (!(await this.isSuperadmin(principal))) throw new AuthError('forbidden', 'the queue board is for superadmins');
    if (READS.has(req.method)) return;
    const path = req.path;
    if (!isAllowedBoardAction(req.method, path)) {
      throw new ApiError('queue_board_action_refused', 'the queue board only pauses, resumes, retries, promotes and cleans finished jobs: a job enters and changes through its lifecycle');
    }
    this.logger.log({ method: req.method, path, userId: principal.userId }, 'queue board action');
    await this.audit.record(principal, { ip: req.ip ?? null, requestId: String((req as Request & { id?: unknown }).id ?? '') || null }, {
      action: 'queue_board.action',
      targetType: 'queue',
      targetId: /^\/api\/queues\/([^/]+)/i.exec(path)?.[1] ?? null,
      teamId: null,
      details: { method: req.method, path },
    });
  }

  /**
   * Whether the caller is a superadmin whose credential still stands. A credential sent with the
   * request was just checked; a session cookie names one, read again (with its user) every few
   * seconds: a deactivated, revoked or expired credential, or a user no longer superadmin, ends
   * the session within seconds.
   */
  private async isSuperadmin(p: Principal): Promise<boolean> {
    if (p.role !== 'superadmin') return false;
    const key = `${p.credential.kind}:${p.credential.id}:${p.userId}`;
    const known = this.standing.get(key);
    if (known && Date.now() - known.at < CREDENTIAL_RECHECK_MS) return known.is;
    const is = await this.identity.isLiveSuperadminCredential(p.credential.kind, p.credential.id, p.userId);
    for (const [k, v] of this.standing) if (Date.now() - v.at >= CREDENTIAL_RECHECK_MS) this.standing.delete(k);
    this.standing.set(key, { is, at: Date.now() });
    return is;
  }

  /** Gridline's queues: `inference`, and one `node.<id>` per known node. */
  private async refreshQueues(): Promise<void> {
    if (Date.now() - this.listedAt < QUEUE_LIST_MS) return;
    this.listedAt = Date.now();
    const wanted = [this.adapter(Queues.inference.name, () => this.queues.queueOf(Queues.inference))];
    for (const node of await this.nodes.list()) wanted.push(this.adapter(`${Queues.node.name}.${node.id}`, () => this.queues.queueOf(Queues.node, node.id)));
    this.board.replaceQueues(wanted);
  }

  private adapter(name: string, queue: () => ReturnType<JobQueues['queueOf']>): BullMQAdapter {
    let a = this.adapters.get(name);
    if (!a) {
      a = new BullMQAdapter(queue(), { readOnlyMode: false, allowRetries: true });
      this.adapters.set(name, a);
    }
    return a;
  }
}

/** Whether a browser's write names the board's own origin (Origin, else Referer); a request with neither (curl) passes. */
function sameOrigin(req: Request): boolean {
  const from = req.headers.origin ?? req.headers.referer;
  if (!from) return true;
  try {
    return new URL(from).host === req.headers.host;
  } catch {
    return false;
  }
}
