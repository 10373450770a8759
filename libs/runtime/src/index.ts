export * from './runner/runner-client';
export type * from './runner/runner-protocol';
export type * from './llama-rpc/rpc-worker-protocol';
export * from './llama-rpc/rpc-binaries';
export * from './llama-rpc/rpc-tunnel';
export * from './llama-rpc/rpc-worker-client';
export * from './llama-rpc/supervised-process';
