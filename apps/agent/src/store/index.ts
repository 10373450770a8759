export * from './store-item';
export * from './model-store.errors';
export * from './model-store';
