import { Module } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisKeys } from '@gridline/common';
import { QuotaRepository } from '@gridline/db';
import { QuotaGate, QuotaPolicies } from '@gridline/jobs';
import { ApiConfig } from '../api.config';
import { AuditModule } from '../audit/audit.module';
import { QuotasController } from './quotas.controller';
import { QuotasService } from './quotas.service';

/** Inference quotas: the gate that admits jobs, the limits it applies (cached per process), and their admin API. */
@Module({
  imports: [AuditModule],
  controllers: [QuotasController],
  providers: [
    { provide: QuotaGate, inject: [Redis, RedisKeys, ApiConfig], useFactory: (redis: Redis, keys: RedisKeys, c: ApiConfig) => new QuotaGate(redis, keys, { slotLeaseMs: c.GRIDLINE_QUOTA_SLOT_LEASE_MS }) },
    { provide: QuotaPolicies, inject: [QuotaRepository, ApiConfig], useFactory: (repo: QuotaRepository, c: ApiConfig) => new QuotaPolicies(repo, { ttlMs: c.GRIDLINE_QUOTA_CACHE_MS }) },
    QuotasService,
  ],
  exports: [QuotaGate, QuotaPolicies],
})
export class QuotasModule {}
