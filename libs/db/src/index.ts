export * from './entities';
export * from './data-source';
export * from './database.module';
export * from './repositories/identity.repository';
export * from './repositories/job.repository';
export * from './repositories/model.repository';
export * from './repositories/node.repository';
