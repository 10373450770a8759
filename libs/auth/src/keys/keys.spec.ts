import { randomBytes } from 'node:crypto';
import { ACCESS_KEY_PATTERN, base32, generateKeypair } from './keypair-generator';
import { SecretBox, parseMasterKey } from './secret-box';

describe('generateKeypair', () => {
  it('makes AKIA + 16 base32 access keys and 40-character URL-safe secrets, all different', () => {
    const pairs = Array.from({ length: 200 }, generateKeypair);
    for (const p of pairs) {
      expect(p.accessKey).toMatch(ACCESS_KEY_PATTERN);
      expect(p.secretKey).toMatch(/^[A-Za-z0-9_-]{40}$/);
    }
    expect(new Set(pairs.map((p) => p.accessKey)).size).toBe(200);
    expect(new Set(pairs.map((p) => p.secretKey)).size).toBe(200);
  });

  it('encodes base32 per RFC 4648', () => {
    expect(base32(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
  });
});

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips a secret and never stores it in the clear', () => {
    const sealed = box.seal('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'AKIAIOSFODNN7EXAMPLE');
    expect(sealed).not.toContain('wJalrXUtnFEMI');
    expect(box.open(sealed, 'AKIAIOSFODNN7EXAMPLE')).toBe('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  });

  it('refuses a ciphertext moved to another row, or opened with another key', () => {
    const sealed = box.seal('secret', 'AKIAAAAAAAAAAAAAAAAA');
    expect(() => box.open(sealed, 'AKIABBBBBBBBBBBBBBBB')).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'AKIAAAAAAAAAAAAAAAAA')).toThrow();
  });

  it('reads master keys as hex or base64 of 32 bytes only', () => {
    const key = randomBytes(32);
    expect(parseMasterKey(key.toString('hex'))).toEqual(key);
    expect(parseMasterKey(key.toString('base64'))).toEqual(key);
    expect(() => parseMasterKey('short')).toThrow(/32 bytes/);
  });
});
