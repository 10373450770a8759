import { DynamicModule, Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ensureDatabase } from '@gridline/common';
import { createDataSource } from './data-source';
import { IdentityRepository } from './repositories/identity.repository';
import { JobRepository } from './repositories/job.repository';
import { ModelRepository } from './repositories/model.repository';
import { NodeRepository } from './repositories/node.repository';
import { JoinTokenRepository } from './repositories/join-token.repository';
import { ReplicaRepository } from './repositories/replica.repository';
import { AuditRepository } from './repositories/audit.repository';
import { DeploymentRepository } from './repositories/deployment.repository';
import { KeypairRepository } from './repositories/keypair.repository';
import { TeamRepository } from './repositories/team.repository';
import { TokenRepository } from './repositories/token.repository';
import { UserRepository } from './repositories/user.repository';
import { LeaseRepository } from './repositories/lease.repository';
import { UsageRepository } from './repositories/usage.repository';
import { QuotaRepository } from './repositories/quota.repository';
import { MetricsRepository } from './repositories/metrics.repository';
import { EndpointRepository } from './repositories/endpoint.repository';

export interface DatabaseModuleOptions {
  url: string;
  applicationName: string;
  /** Create the database when missing and apply pending migrations before serving. */
  migrate: boolean;
  poolSize?: number;
}

const REPOSITORIES = [
  IdentityRepository,
  JobRepository,
  ModelRepository,
  NodeRepository,
  JoinTokenRepository,
  ReplicaRepository,
  TeamRepository,
  UserRepository,
  KeypairRepository,
  TokenRepository,
  AuditRepository,
  DeploymentRepository,
  LeaseRepository,
  UsageRepository,
  QuotaRepository,
  MetricsRepository,
  EndpointRepository,
];

/** Creates the database if needed, runs pending migrations (under an advisory lock), and initialises a DataSource. */
export async function openDatabase(options: DatabaseModuleOptions): Promise<DataSource> {
  const logger = new Logger('Database');
  if (options.migrate && (await ensureDatabase(options.url))) logger.log('created the database');
  const ds = createDataSource(options.url, { poolSize: options.poolSize, applicationName: options.applicationName });
  await ds.initialize();
  if (options.migrate) {
    await ds.query('SELECT pg_advisory_lock(hashtext($1))', ['gridline.migrations']);
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      if (applied.length > 0) logger.log(`applied migrations: ${applied.map((m) => m.name).join(', ')}`);
    } finally {
      await ds.query('SELECT pg_advisory_unlock(hashtext($1))', ['gridline.migrations']);
    }
  }
  return ds;
}

class DataSourceCloser implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [{ provide: DataSource, useFactory: () => openDatabase(options) }, DataSourceCloser, ...REPOSITORIES],
      exports: [DataSource, ...REPOSITORIES],
    };
  }
}
