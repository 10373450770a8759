export * from './job-lifecycle.service';
