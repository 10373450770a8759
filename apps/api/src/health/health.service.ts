import { Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { ApiError } from '@gridline/common';
import { LivenessDto, ReadinessChecksDto, ReadinessDto } from './dto/health.dto';

/** How long readiness waits for a dependency before it counts as unreachable. */
const CHECK_TIMEOUT_MS = 2000;

async function within<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS)))]);
  } finally {
    clearTimeout(timer);
  }
}

@Injectable()
export class HealthService {
  constructor(
    private readonly db: DataSource,
    private readonly redis: Redis,
  ) {}

  liveness(): LivenessDto {
    return { status: 'ok' };
  }

  /** Postgres and Redis answer within the bound; otherwise 503 `not_ready` naming each that did not. */
  async readiness(): Promise<ReadinessDto> {
    const [pg, rd] = await Promise.allSettled([within(this.db.query('SELECT 1')), within(this.redis.ping())]);
    const checks: ReadinessChecksDto = { postgres: pg.status === 'fulfilled' ? 'ok' : 'unreachable', redis: rd.status === 'fulfilled' ? 'ok' : 'unreachable' };
    const failed = Object.entries(checks).filter(([, state]) => state !== 'ok').map(([name]) => name);
    if (failed.length > 0) throw new ApiError('not_ready', `not ready: ${failed.join(' and ')} ${failed.length > 1 ? 'are' : 'is'} unreachable`, { extra: { checks } });
    return { status: 'ok', checks };
  }
}
