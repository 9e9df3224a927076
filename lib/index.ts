export * from './consumer-function';
export * from './idempotency-table';
export * from './monitoring/alarm-factory';
export * from './monitoring/metric-factory';
export * from './monitoring/pipeline-monitoring';
export * from './queue-consumer';
export * from './stream-consumer';
export { describeSeconds, PropsValidator } from './validation';
