import { createHmac, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuthError, SecretBox } from '@gridline/auth';
import { Principal } from '../auth/principal';

/** Where the queue board is served (bull-board's UI and its JSON API beneath it). */
export const QUEUE_BOARD_PATH = '/admin/queues';
/** The session cookie: HttpOnly, SameSite=Strict, scoped to QUEUE_BOARD_PATH, Secure over https. */
export const QUEUE_BOARD_COOKIE = 'gl_queue_board';
/** How long a board session lasts; the board never extends it (open a new one). */
export const QUEUE_BOARD_SESSION_SECONDS = 600;

/** Who opened a board session, as its cookie states (signed, not encrypted: it holds no secret). */
export interface QueueBoardSession {
  principal: Principal;
  expiresAt: Date;
}

interface Claims {
  v: 1;
  /** user, team, credential kind, credential id, credential label (access key or token prefix) */
  u: string;
  t: string;
  k: 'keypair' | 'token';
  i: string;
  l: string;
  /** Expiry, epoch seconds. */
  e: number;
}

/**
 * Mints and checks queue board session cookies: the caller's identity and an expiry, MACed
 * (HMAC-SHA256) under a key derived from the master key for this purpose only. A browser cannot
 * sign Gridline requests nor add a bearer header to a page it navigates to; the cookie it gets
 * from an authenticated `POST /api/v1/admin/queues/session` stands in, for ten minutes, on the
 * board's path only.
 */
@Injectable()
export class QueueBoardSessions {
  private readonly key: Buffer;

  constructor(secrets: SecretBox) {
    this.key = secrets.deriveKey('queue-board-session/v1');
  }

  issue(p: Principal, now = Date.now()): { value: string; expiresAt: Date } {
    const e = Math.floor(now / 1000) + QUEUE_BOARD_SESSION_SECONDS;
    const claims: Claims = { v: 1, u: p.userId, t: p.teamId, k: p.credential.kind, i: p.credential.id, l: p.credential.label, e };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { value: `${body}.${this.mac(body)}`, expiresAt: new Date(e * 1000) };
  }

  /** The session a cookie value states; refuses an altered or malformed value, then an expired one. */
  verify(value: string, now = Date.now()): QueueBoardSession {
    const [body, mac, extra] = value.split('.');
    if (!body || !mac || extra !== undefined || !this.macMatches(body, mac)) throw new AuthError('queue_board_session_invalid', 'the queue board session cookie is not valid: open a new session');
    const c = parseClaims(body);
    if (!c) throw new AuthError('queue_board_session_invalid', 'the queue board session cookie is not valid: open a new session');
    if (c.e * 1000 <= now) throw new AuthError('queue_board_session_expired', 'the queue board session has expired: open a new session with POST /api/v1/admin/queues/session');
    const credential: Principal['credential'] = c.k === 'keypair' ? { kind: 'keypair', id: c.i, label: c.l } : { kind: 'token', id: c.i, label: c.l, scope: 'management', models: null };
    return { principal: { userId: c.u, teamId: c.t, role: 'superadmin', credential }, expiresAt: new Date(c.e * 1000) };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(`queue-board.v1.${body}`).digest('base64url');
  }

  private macMatches(body: string, mac: string): boolean {
    const want = Buffer.from(this.mac(body));
    const got = Buffer.from(mac);
    return want.length === got.length && timingSafeEqual(want, got);
  }
}

function parseClaims(body: string): Claims | null {
  try {
    const c = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<Claims>;
    const strings = [c.u, c.t, c.i, c.l].every((s) => typeof s === 'string' && s.length > 0 && s.length <= 128);
    return c.v === 1 && strings && (c.k === 'keypair' || c.k === 'token') && Number.isInteger(c.e) ? (c as Claims) : null;
  } catch {
    return null;
  }
}

/** The Set-Cookie value for a session (or, with `value` null, one that clears it). */
export function sessionCookie(value: string | null, expiresAt: Date | null, secure: boolean): string {
  const parts = [`${QUEUE_BOARD_COOKIE}=${value ?? ''}`, `Path=${QUEUE_BOARD_PATH}`, 'HttpOnly', 'SameSite=Strict'];
  if (value && expiresAt) parts.push(`Max-Age=${Math.max(0, Math.round((expiresAt.getTime() - Date.now()) / 1000))}`, `Expires=${expiresAt.toUTCString()}`);
  else parts.push('Max-Age=0', 'Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  if (secure) parts.push('Secure');
  return parts.join('; ');
}

/** The named cookie of a Cookie header, or null. */
export function cookieOf(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
