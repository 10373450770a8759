export * from './gguf.types';
export * from './gguf-writer';
export * from './gguf-reader';
export * from './tiny-llama';
export * from './header-only-presets';
export * from './seeded-random';
