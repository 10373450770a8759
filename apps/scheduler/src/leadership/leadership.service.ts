import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { errorSummary } from '@gridline/common';
import { LeaseRepository } from '@gridline/db';
import { SchedulerConfig } from '../scheduler.config';

/** What a component does when this scheduler starts or stops leading. */
export interface LeaderDuty {
  /** Called once this scheduler holds the lease with `fence`; resolve when ready to act. */
  lead(fence: number): Promise<void>;
  /** Called when the lease is lost or given up: stop acting at once. */
  follow(): Promise<void>;
}

/**
 * One scheduler acts at a time. Each competes for a lease in Postgres; the holder renews it every
 * third of `GRIDLINE_LEADER_LEASE_SECONDS`, a standby tries to take it as often. Taking it raises
 * its fencing token (`fence`), which the leader's writes carry (dispatches, placements): once a
 * standby has taken over, a deposed leader's late writes are refused. A leader that cannot renew
 * for longer than the lease stops acting by itself, before anyone could have taken over.
 */
@Injectable()
export class Leadership implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Leadership');
  readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private token: number | null = null;
  private renewedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private readonly duties: LeaderDuty[] = [];
  private stopped = false;

  constructor(
    private readonly config: SchedulerConfig,
    private readonly leases: LeaseRepository,
  ) {}

  /** Registers a component's duty (at construction or module init, before bootstrap ends). */
  register(duty: LeaderDuty): void {
    this.duties.push(duty);
  }

  /** The fencing token while this scheduler leads; null otherwise. */
  get fence(): number | null {
    return this.token;
  }

  get leading(): boolean {
    return this.token !== null;
  }

  private get leaseMs(): number {
    return this.config.GRIDLINE_LEADER_LEASE_SECONDS * 1000;
  }

  onApplicationBootstrap(): void {
    // After every provider's own bootstrap (the view is seeded): the first attempt is at once.
    setImmediate(() => this.tick());
    this.timer = setInterval(() => this.tick(), Math.max(200, this.leaseMs / 3));
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking?.catch(() => undefined);
    const token = this.token;
    if (token === null) return;
    await this.demote('shutting down');
    // Gives the lease up so a standby takes over now rather than when it expires.
    await this.leases.release(this.holder, token).catch((e) => this.logger.warn(`releasing the lease failed: ${errorSummary(e)}`));
  }

  private tick(): void {
    if (this.ticking || this.stopped) return;
    this.ticking = this.step().finally(() => (this.ticking = null));
  }

  private async step(): Promise<void> {
    const now = Date.now();
    if (this.token !== null) {
      let renewed = false;
      try {
        renewed = await this.leases.renew(this.holder, this.token, this.leaseMs);
      } catch (e) {
        this.logger.warn(`renewing the lease failed: ${errorSummary(e)}`);
        // Still ours until it could have expired: stop acting a little before anyone may take it.
        if (now - this.renewedAt < this.leaseMs * 0.8) return;
        await this.demote(`the lease could not be renewed for ${Math.round((now - this.renewedAt) / 1000)} s`);
        return;
      }
      if (renewed) this.renewedAt = now;
      else await this.demote('another scheduler took the lease');
      return;
    }
    let token: number | null;
    try {
      token = await this.leases.acquire(this.holder, this.leaseMs);
    } catch (e) {
      this.logger.warn(`taking the lease failed: ${errorSummary(e)}`);
      return;
    }
    if (token === null || this.stopped) return;
    this.token = token;
    this.renewedAt = now;
    this.logger.log(`leading (lease token ${token}): rebuilding the view before acting`);
    for (const duty of this.duties) {
      try {
        await duty.lead(token);
      } catch (e) {
        this.logger.error(`taking up a leader's duty failed: ${errorSummary(e)}`);
        await this.demote('taking up the duties failed');
        await this.leases.release(this.holder, token).catch(() => undefined);
        return;
      }
    }
    this.logger.log(`leader (lease token ${token}): dispatching, placing, sweeping`);
  }

  private async demote(why: string): Promise<void> {
    if (this.token === null) return;
    this.logger.warn(`no longer leading (lease token ${this.token}): ${why}`);
    this.token = null;
    for (const duty of [...this.duties].reverse()) await duty.follow().catch((e) => this.logger.warn(`standing down failed: ${errorSummary(e)}`));
  }
}
