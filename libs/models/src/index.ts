export * from './gguf';
export * from './catalog/model-facts';
