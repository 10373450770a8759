import { DatabaseConfig, loadConfig } from '@gridline/common';
import { createDataSource } from './data-source';

/** Entry point for the TypeORM CLI: `typeorm -d dist/libs/db/src/typeorm-cli.data-source.js`. */
export default createDataSource(loadConfig(DatabaseConfig).DATABASE_URL, { applicationName: 'gridline-cli' });
