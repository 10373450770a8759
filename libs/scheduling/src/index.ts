export * from './rpc/agent-rpc';
export * from './rpc/prefixed-redis-transport';
export * from './routing/pick-replica';
export * from './placement/instance-types';
export * from './placement/node-match';
export * from './placement/node-labels';
export * from './placement/plan-deployment';
export * from './fairness/fair-queue';
