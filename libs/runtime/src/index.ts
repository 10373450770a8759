export * from './runner/runner-client';
export type * from './runner/runner-protocol';
