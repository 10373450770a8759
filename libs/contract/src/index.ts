export * from './shape';
export * from './inference-request';
export * from './context-window';
export * from './job-errors';
export * from './job-events';
export * from './job-lifecycle';
export * from './job-payloads';
export * from './node-inventory';
