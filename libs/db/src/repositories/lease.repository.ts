import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** The lease every scheduler competes for: one leader at a time. */
export const SCHEDULER_LEASE = 'scheduler';

/**
 * A fencing condition for a write a leader makes: true only while the token (parameter `param`)
 * is still the lease's, so a deposed leader's late writes change nothing. The row is locked for
 * share, so a taking-over waits for the write to commit rather than slipping in under it.
 */
export function fenceCondition(param = 'fence'): string {
  return `EXISTS (SELECT 1 FROM scheduler_leases WHERE name = '${SCHEDULER_LEASE}' AND token = :${param} FOR SHARE)`;
}

/** A write refused because a newer scheduler holds the lease. */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  constructor(readonly token: number) {
    super(`scheduler lease token ${token} is no longer current: another scheduler leads`);
  }
}

/**
 * Leadership leases in Postgres: Postgres' clock decides expiry (no two schedulers' clocks are
 * compared), and the fencing token survives a Redis restart. Taking an expired lease raises its
 * token; renewing keeps it.
 */
@Injectable()
export class LeaseRepository {
  constructor(private readonly db: DataSource) {}

  /** Takes the lease when it is free or expired (or already ours): the new token, or null while another holds it. */
  async acquire(holder: string, ttlMs: number, name = SCHEDULER_LEASE): Promise<number | null> {
    const rows = (await this.db.query(
      `INSERT INTO scheduler_leases (name, holder, token, expires_at, acquired_at)
       VALUES ($1, $2, 1, now() + make_interval(secs => $3::double precision / 1000), now())
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, token = scheduler_leases.token + 1,
         expires_at = EXCLUDED.expires_at, acquired_at = now()
       WHERE scheduler_leases.expires_at < now() OR scheduler_leases.holder = EXCLUDED.holder
       RETURNING token`,
      [name, holder, ttlMs],
    )) as { token: string }[];
    return rows[0] ? Number(rows[0].token) : null;
  }

  /** Extends our lease; false when it is no longer ours (taken over: stop acting at once). */
  async renew(holder: string, token: number, ttlMs: number, name = SCHEDULER_LEASE): Promise<boolean> {
    // TypeORM answers an UPDATE with [rows, affected count]: the pair itself is never empty.
    const [rows]: [unknown[], number] = await this.db.query(
      `UPDATE scheduler_leases SET expires_at = now() + make_interval(secs => $4::double precision / 1000)
       WHERE name = $1 AND holder = $2 AND token = $3 RETURNING token`,
      [name, holder, token, ttlMs],
    );
    return rows.length > 0;
  }

  /** Gives the lease up (a clean shutdown): a standby takes over without waiting for expiry. */
  async release(holder: string, token: number, name = SCHEDULER_LEASE): Promise<void> {
    await this.db.query(`UPDATE scheduler_leases SET expires_at = now() - interval '1 second' WHERE name = $1 AND holder = $2 AND token = $3`, [name, holder, token]);
  }

  /**
   * Runs `write` in a transaction that holds the lease row for share while `token` is current;
   * throws FencedError (and writes nothing) when it is not. A taking-over waits for it to commit.
   */
  async fenced<T>(token: number, write: (manager: EntityManager) => Promise<T>, name = SCHEDULER_LEASE): Promise<T> {
    return this.db.transaction(async (manager) => {
      const rows = (await manager.query(`SELECT 1 FROM scheduler_leases WHERE name = $1 AND token = $2 FOR SHARE`, [name, token])) as unknown[];
      if (rows.length === 0) throw new FencedError(token);
      return write(manager);
    });
  }

  async current(name = SCHEDULER_LEASE): Promise<{ holder: string; token: number; expiresAt: Date } | null> {
    const rows = (await this.db.query(`SELECT holder, token, expires_at FROM scheduler_leases WHERE name = $1`, [name])) as { holder: string; token: string; expires_at: Date }[];
    return rows[0] ? { holder: rows[0].holder, token: Number(rows[0].token), expiresAt: rows[0].expires_at } : null;
  }
}
