export * from './test-env';
export * from './processes';
export * from './runner-harness';
export * from './stack';
export * from './api-process';
export * from './stack-client';
export * from './lifecycle-harness';
export * from './redis-server';
