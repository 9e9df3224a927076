import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { RECORD_METRIC_NAMES, SERVICE_DIMENSION } from '../../contract';

/**
 * Whether `metric` is a single metric (with `with()`), not a math expression. Duck-typed, not `instanceof`: the app
 * may load another copy of aws-cdk-lib than the kit.
 */
export function isMetric(metric: cloudwatch.IMetric): metric is cloudwatch.Metric {
  return typeof (metric as Partial<cloudwatch.Metric>).with === 'function' && 'metricName' in metric;
}

/** The period of every metric the kit builds unless a caller says otherwise. */
export const DEFAULT_METRIC_PERIOD = Duration.minutes(1);

const sum = (period: Duration) => ({ statistic: cloudwatch.Stats.SUM, period });
const max = (period: Duration) => ({ statistic: cloudwatch.Stats.MAXIMUM, period });

/** Metrics of an SQS queue, named after the official CloudWatch metrics. */
export interface QueueMetrics {
  /** `ApproximateNumberOfMessagesVisible`, maximum: the backlog. */
  readonly visibleMessages: cloudwatch.IMetric;
  /** `ApproximateAgeOfOldestMessage`, maximum, in seconds: how far the consumer lags. */
  readonly ageOfOldestMessage: cloudwatch.IMetric;
  /** `NumberOfMessagesSent`, sum. */
  readonly sent: cloudwatch.IMetric;
  /** `NumberOfMessagesReceived`, sum. */
  readonly received: cloudwatch.IMetric;
  /** `NumberOfMessagesDeleted`, sum: messages handled. */
  readonly deleted: cloudwatch.IMetric;
}

/** Builds the metrics of a queue. Only builds: no alarm, no widget. */
export function queueMetrics(queue: sqs.IQueue, period = DEFAULT_METRIC_PERIOD): QueueMetrics {
  return {
    visibleMessages: queue.metricApproximateNumberOfMessagesVisible(max(period)),
    ageOfOldestMessage: queue.metricApproximateAgeOfOldestMessage(max(period)),
    sent: queue.metricNumberOfMessagesSent(sum(period)),
    received: queue.metricNumberOfMessagesReceived(sum(period)),
    deleted: queue.metricNumberOfMessagesDeleted(sum(period)),
  };
}

/** Metrics of a stream consumer's failure bucket, where the event source mapping writes whole failed batches. */
export interface FailureBucketMetrics {
  /**
   * `PutRequests` of the bucket's request metrics (`FilterId` `FailedBatches`), sum: failed batches written. Only
   * a bucket that publishes these request metrics has it (the kit's own failure buckets do).
   */
  readonly batchesWritten: cloudwatch.IMetric;
  /** `NumberOfObjects`, average: failed batches kept, not yet replayed or expired. S3 reports it once a day. */
  readonly objects: cloudwatch.IMetric;
}

/** Builds the metrics of a failure bucket. */
export function failureBucketMetrics(
  bucket: s3.IBucket,
  filterId: string,
  period = DEFAULT_METRIC_PERIOD,
): FailureBucketMetrics {
  return {
    batchesWritten: new cloudwatch.Metric({
      namespace: 'AWS/S3',
      metricName: 'PutRequests',
      dimensionsMap: { BucketName: bucket.bucketName, FilterId: filterId },
      ...sum(period),
    }),
    objects: new cloudwatch.Metric({
      namespace: 'AWS/S3',
      metricName: 'NumberOfObjects',
      dimensionsMap: { BucketName: bucket.bucketName, StorageType: 'AllStorageTypes' },
      statistic: cloudwatch.Stats.AVERAGE,
      period: Duration.days(1),
    }),
  };
}

/** Metrics of a Kinesis data stream. */
export interface StreamMetrics {
  /** `IncomingRecords`, sum. */
  readonly incomingRecords: cloudwatch.IMetric;
  /** `IncomingBytes`, sum. */
  readonly incomingBytes: cloudwatch.IMetric;
  /** `GetRecords.IteratorAgeMilliseconds`, maximum: how far the slowest reader lags. */
  readonly iteratorAge: cloudwatch.IMetric;
  /** `ReadProvisionedThroughputExceeded`, sum. */
  readonly readThroughputExceeded: cloudwatch.IMetric;
  /** `WriteProvisionedThroughputExceeded`, sum. */
  readonly writeThroughputExceeded: cloudwatch.IMetric;
}

/** Builds the metrics of a stream. */
export function streamMetrics(stream: kinesis.IStream, period = DEFAULT_METRIC_PERIOD): StreamMetrics {
  return {
    incomingRecords: stream.metricIncomingRecords(sum(period)),
    incomingBytes: stream.metricIncomingBytes(sum(period)),
    iteratorAge: stream.metricGetRecordsIteratorAgeMilliseconds(max(period)),
    readThroughputExceeded: stream.metricReadProvisionedThroughputExceeded(sum(period)),
    writeThroughputExceeded: stream.metricWriteProvisionedThroughputExceeded(sum(period)),
  };
}

/** Metrics of a Lambda function. */
export interface FunctionMetrics {
  /** `Invocations`, sum. */
  readonly invocations: cloudwatch.IMetric;
  /** `Errors`, sum: invocations that failed as a whole (failed records in a batch response are not errors). */
  readonly errors: cloudwatch.IMetric;
  /** `Throttles`, sum. */
  readonly throttles: cloudwatch.IMetric;
  /** `Duration`, p50, in milliseconds. */
  readonly durationP50: cloudwatch.IMetric;
  /** `Duration`, p99, in milliseconds. */
  readonly durationP99: cloudwatch.IMetric;
  /** `ConcurrentExecutions`, maximum. */
  readonly concurrentExecutions: cloudwatch.IMetric;
  /** Age of the last record of each batch when a stream event source invoked the function. */
  readonly iteratorAge: cloudwatch.IMetric;
}

/** Builds the metrics of a function. */
export function functionMetrics(fn: lambda.IFunction, period = DEFAULT_METRIC_PERIOD): FunctionMetrics {
  return {
    invocations: fn.metricInvocations(sum(period)),
    errors: fn.metricErrors(sum(period)),
    throttles: fn.metricThrottles(sum(period)),
    durationP50: fn.metricDuration({ statistic: cloudwatch.Stats.p(50), period }),
    durationP99: fn.metricDuration({ statistic: cloudwatch.Stats.p(99), period }),
    concurrentExecutions: fn.metric('ConcurrentExecutions', max(period)),
    iteratorAge: fn.metric('IteratorAge', max(period)),
  };
}

/** The runtime kit's business metrics of one consumer. */
export interface RecordMetrics {
  /** `ProcessedRecords`, sum: records whose effect was applied. */
  readonly processed: cloudwatch.IMetric;
  /** `DuplicateRecords`, sum: records skipped as already applied. */
  readonly duplicate: cloudwatch.IMetric;
  /** `InvalidRecords`, sum: records sent to the dead-letter queue. */
  readonly invalid: cloudwatch.IMetric;
  /** `FailedRecords`, sum: records reported failed, retried by the platform. */
  readonly failed: cloudwatch.IMetric;
  /** `RecordAge`, p50, in milliseconds: from arrival to effect. */
  readonly recordAgeP50: cloudwatch.IMetric;
  /** `RecordAge`, p99, in milliseconds: from arrival to effect. */
  readonly recordAgeP99: cloudwatch.IMetric;
}

/** Builds the business metrics the runtime kit emits for the consumer with `serviceName` in `namespace`. */
export function recordMetrics(namespace: string, serviceName: string, period = DEFAULT_METRIC_PERIOD): RecordMetrics {
  const metric = (metricName: string, statistic: string) =>
    new cloudwatch.Metric({
      namespace,
      metricName,
      dimensionsMap: { [SERVICE_DIMENSION]: serviceName },
      statistic,
      period,
    });
  return {
    processed: metric(RECORD_METRIC_NAMES.processed, cloudwatch.Stats.SUM),
    duplicate: metric(RECORD_METRIC_NAMES.duplicate, cloudwatch.Stats.SUM),
    invalid: metric(RECORD_METRIC_NAMES.invalid, cloudwatch.Stats.SUM),
    failed: metric(RECORD_METRIC_NAMES.failed, cloudwatch.Stats.SUM),
    recordAgeP50: metric(RECORD_METRIC_NAMES.recordAge, cloudwatch.Stats.p(50)),
    recordAgeP99: metric(RECORD_METRIC_NAMES.recordAge, cloudwatch.Stats.p(99)),
  };
}

/**
 * Lambda's metrics of one event source mapping, published when its `metricsConfig` asks for `EventCount`: the
 * funnel from the source to the function and on to the failure destination.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html#event-source-mapping-metrics
 */
export interface EventSourceMappingMetrics {
  /** `PolledEventCount`, sum: events the mapping read from the source. */
  readonly polled: cloudwatch.IMetric;
  /** `FilteredOutEventCount`, sum: events no filter matched. */
  readonly filteredOut: cloudwatch.IMetric;
  /** `InvokedEventCount`, sum: events the function was invoked with. */
  readonly invoked: cloudwatch.IMetric;
  /** `FailedInvokeEventCount`, sum: events of invocations that failed. */
  readonly failedInvoke: cloudwatch.IMetric;
  /** `DroppedEventCount`, sum: events dropped (past their age or retries) without an on-failure destination. */
  readonly dropped: cloudwatch.IMetric;
  /** `OnFailureDestinationDeliveredEventCount`, sum: events sent to the on-failure destination. */
  readonly onFailureDestinationDelivered: cloudwatch.IMetric;
  /** `DeletedEventCount`, sum: SQS messages the mapping deleted once handled. */
  readonly deleted: cloudwatch.IMetric;
}

/** The dimension Lambda publishes event source mapping metrics under. */
export const EVENT_SOURCE_MAPPING_DIMENSION = 'EventSourceMappingUUID';

/** Builds the metrics of the event source mapping `mappingId` (its UUID: the `Ref` of the mapping). */
export function eventSourceMappingMetrics(
  mappingId: string,
  period = DEFAULT_METRIC_PERIOD,
): EventSourceMappingMetrics {
  const metric = (metricName: string) =>
    new cloudwatch.Metric({
      namespace: 'AWS/Lambda',
      metricName,
      dimensionsMap: { [EVENT_SOURCE_MAPPING_DIMENSION]: mappingId },
      ...sum(period),
    });
  return {
    polled: metric('PolledEventCount'),
    filteredOut: metric('FilteredOutEventCount'),
    invoked: metric('InvokedEventCount'),
    failedInvoke: metric('FailedInvokeEventCount'),
    dropped: metric('DroppedEventCount'),
    onFailureDestinationDelivered: metric('OnFailureDestinationDeliveredEventCount'),
    deleted: metric('DeletedEventCount'),
  };
}

/** Metrics of a DynamoDB table. */
export interface TableMetrics {
  /** `ReadThrottleEvents`, sum. */
  readonly readThrottleEvents: cloudwatch.IMetric;
  /** `WriteThrottleEvents`, sum. */
  readonly writeThrottleEvents: cloudwatch.IMetric;
}

/** Builds the throttle metrics of a table. */
export function tableMetrics(table: dynamodb.ITable, period = DEFAULT_METRIC_PERIOD): TableMetrics {
  return {
    readThrottleEvents: table.metric('ReadThrottleEvents', sum(period)),
    writeThrottleEvents: table.metric('WriteThrottleEvents', sum(period)),
  };
}
