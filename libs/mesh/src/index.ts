export * from './endpoint-spec';
export * from './endpoint-failure';
export * from './endpoint-client';
export * from './openai-wire';
export * from './sse';
export * from './health';
