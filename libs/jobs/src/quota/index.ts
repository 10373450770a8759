export * from './quota.types';
export * from './quota.gate';
export * from './rate-limit-headers';
export { QUOTA_KEY_SLACK_MS } from './quota.scripts';
export * from './quota-policies';
