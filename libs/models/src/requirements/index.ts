export * from './memory-requirements';
export * from './gpu-split';
