/**
 * The runtime kit: what a handler author uses to turn event handlers into idempotent SQS and Kinesis batch
 * consumers. Everything else in this folder is internal and may change without notice.
 *
 * Importing it has no side effects: consumers create their clients when `createQueueConsumer` or
 * `createStreamConsumer` is called, and the effect helpers on their first write.
 *
 * @module
 */

export { CONSUMER_ENVIRONMENT, DEAD_LETTER_ATTRIBUTES, RECORD_METRIC_NAMES } from '../../contract';
export { createQueueConsumer, createStreamConsumer, type QueueBatchHandler, type StreamBatchHandler } from './consumer';
export { type ConsumerOptions, requireEnv } from './consumer-config';
export {
  type AddOnceOptions,
  type ApplyIfNewerOptions,
  addOnce,
  applyIfNewer,
  type EffectOptions,
  markerSlot,
  type PinFirstOptions,
  pinFirst,
  putIfAbsent,
} from './effects';
export {
  InvalidJsonError,
  MissingIdempotencyKeyError,
  OversizeRecordError,
  PermanentError,
  SchemaViolationError,
  UnknownEventTypeError,
} from './errors';
export { defineEventHandler, type EventHandler, type IdempotencyKeyField, type RecordContext } from './event-handler';
export { createLogger, redactPersonalData } from './observability';
export type { RecordSource } from './records';
