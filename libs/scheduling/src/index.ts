export * from './rpc/agent-rpc';
export * from './rpc/prefixed-redis-transport';
export * from './routing/pick-replica';
