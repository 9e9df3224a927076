export * from './consumer';
export * from './dead-letters';
export * from './effects';
export * from './errors';
export * from './keyed-batch-processor';
export * from './observability';
export * from './parse';
export * from './records';
