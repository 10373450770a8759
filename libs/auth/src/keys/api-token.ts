import { createHash, randomBytes } from 'node:crypto';

export const API_TOKEN_PREFIX = 'gl_';
const PREFIX_SHOWN = 11;

export interface GeneratedApiToken {
  /** Shown once to its owner. */
  token: string;
  /** Identifies the token in listings (`gl_` and 8 characters). */
  prefix: string;
  /** What is stored. */
  hash: string;
}

export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** `gl_` + 43 URL-safe characters (32 random bytes). */
export function generateApiToken(): GeneratedApiToken {
  const token = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, prefix: token.slice(0, PREFIX_SHOWN), hash: hashApiToken(token) };
}

export function looksLikeApiToken(value: string): boolean {
  return /^gl_[A-Za-z0-9_-]{43}$/.test(value);
}
