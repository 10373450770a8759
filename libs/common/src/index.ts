export * from './config/load-config';
export * from './config/config.module';
export * from './config/common-config';
export * from './errors/domain-error';
export * from './logging/logger-options';
export * from './redis/redis-keys';
export * from './database/ensure-database';
export * from './errors/startup-error';
