/**
 * CDK v2 constructs for event-driven pipelines on AWS: SQS and Kinesis consumers that are idempotent,
 * dead-lettered and monitored.
 *
 * @module
 */
export {
  CONSUMER_ENVIRONMENT,
  DEAD_LETTER_ATTRIBUTES,
  DEFAULT_METRICS_NAMESPACE,
  IDEMPOTENCY_TABLE_LAYOUT,
  idempotencyKeyPrefix,
  RECORD_METRIC_NAMES,
  SERVICE_DIMENSION,
} from '../contract';
export { CONSUMER_RUNTIME, ConsumerFunction, type ConsumerFunctionProps } from './consumer-function';
export {
  IDEMPOTENCY_ITEM_ACTIONS,
  type IdempotencyGrantOptions,
  IdempotencyTable,
  type IdempotencyTableAttributes,
  type IdempotencyTableProps,
  type IIdempotencyTable,
} from './idempotency-table';
export {
  type AgeThreshold,
  type AlarmBehaviour,
  type CountThreshold,
  DEFAULT_FAILED_RECORDS_THRESHOLD,
  type FunctionAlarmThresholds,
  type QueueAlarmThresholds,
  type StreamAlarmThresholds,
} from './monitoring/alarm-factory';
export {
  DEFAULT_METRIC_PERIOD,
  EVENT_SOURCE_MAPPING_DIMENSION,
  type EventSourceMappingMetrics,
  eventSourceMappingMetrics,
  type FailureBucketMetrics,
  type FunctionMetrics,
  failureBucketMetrics,
  functionMetrics,
  type QueueMetrics,
  queueMetrics,
  type RecordMetrics,
  recordMetrics,
  type StreamMetrics,
  streamMetrics,
  type TableMetrics,
  tableMetrics,
} from './monitoring/metric-factory';
export { PipelineMonitoring, type PipelineMonitoringProps } from './monitoring/pipeline-monitoring';
export type { BundlingOptions } from './private/esbuild-code';
export { FAILURE_BUCKET_METRICS_ID } from './private/failure-bucket';
export {
  DEAD_LETTER_RETENTION,
  type DeadLetterQueuePassThroughProps,
  QueueConsumer,
  type QueueConsumerProps,
  type QueuePassThroughProps,
  type SqsEventSourcePassThroughProps,
  type SqsProvisionedPollers,
} from './queue-consumer';
export {
  type KinesisEventSourcePassThroughProps,
  StreamConsumer,
  type StreamConsumerBinding,
  type StreamConsumerOptions,
  type StreamConsumerProps,
  type StreamPassThroughProps,
} from './stream-consumer';
