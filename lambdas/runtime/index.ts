export * from './consumer';
export * from './effects';
export * from './errors';
