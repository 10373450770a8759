import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMasterKey } from './secret-box';

export interface MasterKeySource {
  /** GRIDLINE_MASTER_KEY, when set. */
  value?: string;
  /** Where a development key is kept when none is configured. */
  dataDir: string;
  /** In production a configured key is mandatory. */
  production: boolean;
}

export interface ResolvedMasterKey {
  key: Buffer;
  origin: 'environment' | 'generated' | 'data-dir';
  path?: string;
}

/**
 * The key that seals keypair secrets. Production requires GRIDLINE_MASTER_KEY; elsewhere a
 * key is generated once into `<dataDir>/master.key` (mode 0600) so local restarts keep
 * working. The caller warns about the latter.
 */
export function resolveMasterKey(source: MasterKeySource): ResolvedMasterKey {
  if (source.value) return { key: parseMasterKey(source.value), origin: 'environment' };
  if (source.production) throw new Error('GRIDLINE_MASTER_KEY is required when NODE_ENV=production');
  const path = join(source.dataDir, 'master.key');
  if (existsSync(path)) return { key: parseMasterKey(readFileSync(path, 'utf8')), origin: 'data-dir', path };
  mkdirSync(source.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(path, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { key, origin: 'generated', path };
}
