export * from './job-lifecycle.service';
export * from './quota';
