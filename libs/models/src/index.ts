export * from './gguf';
export * from './catalog/model-facts';
export * from './catalog/model-source';
export * from './catalog/model-shape';
export * from './requirements';
