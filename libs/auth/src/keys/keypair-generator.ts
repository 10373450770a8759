import { randomBytes } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export interface GeneratedKeypair {
  accessKey: string;
  secretKey: string;
}

/** `AKIA` + 16 base32 characters, and a 40-character URL-safe secret (shared/HMAC.md). */
export function generateKeypair(): GeneratedKeypair {
  return {
    accessKey: `AKIA${base32(randomBytes(10))}`,
    secretKey: randomBytes(30).toString('base64url'),
  };
}

export const ACCESS_KEY_PATTERN = /^AKIA[A-Z2-7]{16}$/;
