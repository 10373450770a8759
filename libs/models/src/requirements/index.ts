export * from './memory-requirements';
export * from './gpu-split';
export * from './memory-override';
