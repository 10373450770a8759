export * from './gguf';
export * from './catalog/model-facts';
export * from './catalog/model-source';
