import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { ParameterFreeLogger } from './parameter-free.logger';

/** The one DataSource definition, used by the apps and by the TypeORM CLI. */
export function createDataSource(url: string, options: { poolSize?: number; applicationName?: string } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    uuidExtension: 'pgcrypto',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    synchronize: false,
    migrationsRun: false,
    // Failed and slow queries are logged by their SQL text, never their parameters.
    logging: ['error', 'warn'],
    logger: new ParameterFreeLogger(),
    maxQueryExecutionTime: 1000,
    extra: { max: options.poolSize ?? 10, application_name: options.applicationName ?? 'gridline' },
  });
}

