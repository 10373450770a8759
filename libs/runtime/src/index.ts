export * from './runner/runner-client';
export type * from './runner/runner-protocol';
export * from './llama-rpc/rpc-binaries';
export * from './llama-rpc/rpc-tunnel';
