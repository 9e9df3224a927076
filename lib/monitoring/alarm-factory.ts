import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { isResolvedNumber, PropsValidator } from '../validation';
import { isMetric } from './metric-factory';

/**
 * How an alarm decides and what it does, beyond its threshold: the parts every threshold object shares, as in
 * cdk-monitoring-constructs.
 */
export interface AlarmBehaviour {
  /**
   * How many periods the alarm evaluates. Valid range: 1 to 288 (with the 5-minute period, a day).
   *
   * @default 1 - for `maxFailedRecords`, 3
   */
  readonly evaluationPeriods?: number;
  /**
   * How many of those periods must breach. Valid range: 1 to `evaluationPeriods`.
   *
   * @default - every evaluated period; for `maxFailedRecords`, 2
   */
  readonly datapointsToAlarm?: number;
  /**
   * How a period without data counts.
   *
   * @default cloudwatch.TreatMissingData.NOT_BREACHING - no data is no message, no invocation or no lag
   */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
  /**
   * What the alarm does when it goes into ALARM and back to OK, instead of notifying the monitoring's `alarmTopic`.
   *
   * @default - the monitoring's `alarmTopic`, if it has one
   */
  readonly actions?: cloudwatch.IAlarmAction[];
  /**
   * A runbook for whoever is paged: written into the alarm's description.
   *
   * @default - none
   */
  readonly runbookUrl?: string;
}

/** A count an alarm must stay at or below, with how the alarm decides and acts. */
export interface CountThreshold extends AlarmBehaviour {
  /** Alarm above this count in a period. Valid range: 0 or more, a whole number. */
  readonly maxCount: number;
}

/** An age an alarm must stay at or below, with how the alarm decides and acts. */
export interface AgeThreshold extends AlarmBehaviour {
  /** Alarm above this age. */
  readonly maxAge: Duration;
}

/** Alarm thresholds of a queue consumer. */
export interface QueueAlarmThresholds {
  /**
   * Alarm when the oldest message in the queue is older than this: the consumer lags or is stuck.
   *
   * @default Duration.minutes(5)
   */
  readonly maxAgeOfOldestMessage?: Duration | AgeThreshold;
  /**
   * Alarm when the dead-letter queue holds more messages than this.
   *
   * @default 0 - any message in the dead-letter queue raises the alarm
   */
  readonly maxDeadLetterMessages?: number | CountThreshold;
  /**
   * Alarm when the consumer reports more failed records than this (the runtime kit's `FailedRecords`): records it
   * hands back for a retry. A batch with failed records returns normally, so the function's `Errors` alarm stays
   * quiet, and the dead-letter alarm fires only after every retry.
   *
   * @default { maxCount: 0, evaluationPeriods: 3, datapointsToAlarm: 2 } - failed records in 2 of 3 periods
   */
  readonly maxFailedRecords?: number | CountThreshold;
  /**
   * Alarm when the event source mapping drops more events than this (`DroppedEventCount`). Needs the mapping's
   * metrics, which the consumers turn on by default.
   *
   * @default 0
   */
  readonly maxDroppedEvents?: number | CountThreshold;
}

/** Alarm thresholds of a stream consumer. */
export interface StreamAlarmThresholds {
  /**
   * Alarm when a consumer's iterator age (the age of the last record it was sent) is above this.
   *
   * @default Duration.minutes(1)
   */
  readonly maxIteratorAge?: Duration | AgeThreshold;
  /**
   * Alarm when a consumer's failure queue holds more messages than this.
   *
   * @default 0 - any message in the failure queue raises the alarm
   */
  readonly maxFailureQueueMessages?: number | CountThreshold;
  /**
   * Alarm when the event source mapping writes more failed batches than this to the consumer's own failure bucket
   * (`failureBucket: true`; S3's `PutRequests` request metric). A bucket the app passes has no such alarm: it may
   * not publish request metrics; `maxOnFailureDestinationDeliveries` still watches the mapping's side.
   *
   * @default 0 - the first batch written raises the alarm
   */
  readonly maxFailureBucketWrites?: number | CountThreshold;
  /**
   * Alarm when the consumer reports more failed records than this (the runtime kit's `FailedRecords`): a batch that
   * is retried, hours before its records reach the failure queue.
   *
   * @default { maxCount: 0, evaluationPeriods: 3, datapointsToAlarm: 2 } - failed records in 2 of 3 periods
   */
  readonly maxFailedRecords?: number | CountThreshold;
  /**
   * Alarm when the event source mapping drops more events than this (`DroppedEventCount`): records past their
   * maximum age or retries. Needs the mapping's metrics, which the consumers turn on by default.
   *
   * @default 0
   */
  readonly maxDroppedEvents?: number | CountThreshold;
  /**
   * Alarm when the mapping sends more records than this to its on-failure destination, the failure queue or
   * bucket (`OnFailureDestinationDeliveredEventCount`). Needs the mapping's metrics.
   *
   * @default 0
   */
  readonly maxOnFailureDestinationDeliveries?: number | CountThreshold;
}

/** Alarm thresholds of a consumer function. */
export interface FunctionAlarmThresholds {
  /**
   * Alarm when the function reports more errors than this in one evaluation period.
   *
   * @default 0
   */
  readonly maxErrors?: number | CountThreshold;
  /**
   * Alarm when the function is throttled more often than this in one evaluation period.
   *
   * @default 0
   */
  readonly maxThrottles?: number | CountThreshold;
}

/** The default of `maxFailedRecords`: a retry now and then is what retries are for; failures that last are not. */
export const DEFAULT_FAILED_RECORDS_THRESHOLD: CountThreshold = {
  maxCount: 0,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
};

/** Properties of an {@link AlarmFactory}. */
export interface AlarmFactoryProps {
  /** Prefix of every alarm name, so alarms of one pipeline sort together. */
  readonly alarmNamePrefix: string;
  /**
   * A topic every alarm notifies when it goes into ALARM and back to OK.
   *
   * @default - no action
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The window each alarm evaluates.
   *
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
}

/**
 * Builds the kit's alarms with their thresholds and actions. It takes metrics and returns alarms: it knows
 * nothing of queues, streams or dashboards.
 */
export class AlarmFactory {
  constructor(
    private readonly scope: Construct,
    private readonly props: AlarmFactoryProps,
  ) {}

  /** Alarm when a dead-letter or failure queue holds more than `maxMessages` visible messages. */
  public deadLetterMessages(
    id: string,
    visibleMessages: cloudwatch.IMetric,
    maxMessages: number | CountThreshold = 0,
  ): cloudwatch.Alarm {
    return this.aboveCount(
      id,
      visibleMessages,
      maxMessages,
      cloudwatch.Stats.MAXIMUM,
      'messages are in a dead-letter queue',
    );
  }

  /** Alarm when the oldest message of a queue is older than `maxAge`. */
  public ageOfOldestMessage(
    id: string,
    ageSeconds: cloudwatch.IMetric,
    maxAge: Duration | AgeThreshold = Duration.minutes(5),
  ): cloudwatch.Alarm {
    const { age, behaviour } = ageOf(maxAge);
    return this.above(
      id,
      ageSeconds,
      age.toSeconds(),
      cloudwatch.Stats.MAXIMUM,
      'the oldest message is too old',
      behaviour,
    );
  }

  /** Alarm when a stream consumer's iterator age (milliseconds) is above `maxAge`. */
  public iteratorAge(
    id: string,
    iteratorAgeMs: cloudwatch.IMetric,
    maxAge: Duration | AgeThreshold = Duration.minutes(1),
  ): cloudwatch.Alarm {
    const { age, behaviour } = ageOf(maxAge);
    return this.above(
      id,
      iteratorAgeMs,
      age.toMilliseconds(),
      cloudwatch.Stats.MAXIMUM,
      'the consumer lags the stream',
      behaviour,
    );
  }

  /** Alarm when a function reports more than `maxErrors` errors. */
  public functionErrors(
    id: string,
    errors: cloudwatch.IMetric,
    maxErrors: number | CountThreshold = 0,
  ): cloudwatch.Alarm {
    return this.aboveCount(id, errors, maxErrors, cloudwatch.Stats.SUM, 'the function fails');
  }

  /** Alarm when a function is throttled more than `maxThrottles` times. */
  public functionThrottles(
    id: string,
    throttles: cloudwatch.IMetric,
    maxThrottles: number | CountThreshold = 0,
  ): cloudwatch.Alarm {
    return this.aboveCount(id, throttles, maxThrottles, cloudwatch.Stats.SUM, 'the function is throttled');
  }

  /** Alarm when more than `maxBatches` failed batches are written to a failure bucket. */
  public failureBucketWrites(
    id: string,
    batchesWritten: cloudwatch.IMetric,
    maxBatches: number | CountThreshold = 0,
  ): cloudwatch.Alarm {
    return this.aboveCount(
      id,
      batchesWritten,
      maxBatches,
      cloudwatch.Stats.SUM,
      'the event source mapping gave up on batches and wrote them to the failure bucket',
    );
  }

  /** Alarm when a consumer reports more than `maxFailed` failed records (the runtime kit's `FailedRecords`). */
  public failedRecords(
    id: string,
    failed: cloudwatch.IMetric,
    maxFailed: number | CountThreshold = DEFAULT_FAILED_RECORDS_THRESHOLD,
  ): cloudwatch.Alarm {
    return this.aboveCount(id, failed, maxFailed, cloudwatch.Stats.SUM, 'records keep failing and are being retried');
  }

  /** Alarm when an event source mapping drops more than `maxDropped` events (`DroppedEventCount`). */
  public droppedEvents(
    id: string,
    dropped: cloudwatch.IMetric,
    maxDropped: number | CountThreshold = 0,
  ): cloudwatch.Alarm {
    return this.aboveCount(id, dropped, maxDropped, cloudwatch.Stats.SUM, 'the event source mapping drops events');
  }

  /**
   * Alarm when an event source mapping sends more than `maxDelivered` records to its on-failure destination
   * (`OnFailureDestinationDeliveredEventCount`).
   */
  public onFailureDestinationDeliveries(
    id: string,
    delivered: cloudwatch.IMetric,
    maxDelivered: number | CountThreshold = 0,
  ): cloudwatch.Alarm {
    return this.aboveCount(
      id,
      delivered,
      maxDelivered,
      cloudwatch.Stats.SUM,
      'records were given up on and sent to the failure queue',
    );
  }

  private aboveCount(
    id: string,
    metric: cloudwatch.IMetric,
    threshold: number | CountThreshold,
    statistic: string,
    why: string,
  ): cloudwatch.Alarm {
    const { count, behaviour } = countOf(threshold);
    return this.above(id, metric, count, statistic, why, behaviour);
  }

  private above(
    id: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    statistic: string,
    why: string,
    behaviour: AlarmBehaviour = {},
  ): cloudwatch.Alarm {
    const alarmName = `${this.props.alarmNamePrefix}-${id}`;
    const evaluationPeriods = behaviour.evaluationPeriods ?? 1;
    const runbook = behaviour.runbookUrl ? ` Runbook: ${behaviour.runbookUrl}` : '';
    const alarm = new cloudwatch.Alarm(this.scope, id, {
      alarmName,
      alarmDescription: `${alarmName}: ${why} (above ${threshold}).${runbook}`,
      metric: withStatistic(metric, statistic, this.props.period ?? Duration.minutes(5)),
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods,
      datapointsToAlarm: behaviour.datapointsToAlarm,
      // No data means no messages, no invocations or no lag: not a failure.
      treatMissingData: behaviour.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const alarmActions =
      behaviour.actions ?? (this.props.alarmTopic ? [new actions.SnsAction(this.props.alarmTopic)] : []);
    if (alarmActions.length > 0) {
      alarm.addAlarmAction(...alarmActions);
      alarm.addOkAction(...alarmActions);
    }
    return alarm;
  }
}

/** A count threshold as its value and the rest. */
export function countOf(threshold: number | CountThreshold): { count: number; behaviour: AlarmBehaviour } {
  return typeof threshold === 'number'
    ? { count: threshold, behaviour: {} }
    : { count: threshold.maxCount, behaviour: threshold };
}

/** An age threshold as its value and the rest. */
export function ageOf(threshold: Duration | AgeThreshold): { age: Duration; behaviour: AlarmBehaviour } {
  return 'maxAge' in threshold ? { age: threshold.maxAge, behaviour: threshold } : { age: threshold, behaviour: {} };
}

/** Fails synth on a negative or fractional count, an age out of range, or evaluation settings out of range. */
export function validateThresholds(
  scope: Construct,
  thresholds: QueueAlarmThresholds & StreamAlarmThresholds & FunctionAlarmThresholds,
): void {
  const validator = new PropsValidator();
  const counts = [
    'maxDeadLetterMessages',
    'maxFailureQueueMessages',
    'maxFailureBucketWrites',
    'maxErrors',
    'maxThrottles',
    'maxFailedRecords',
    'maxDroppedEvents',
    'maxOnFailureDestinationDeliveries',
  ] as const;
  for (const prop of counts) {
    const threshold = thresholds[prop];
    if (threshold === undefined) continue;
    const { count, behaviour } = countOf(threshold);
    validator.integerAtLeast(typeof threshold === 'number' ? prop : `${prop}.maxCount`, count, 0);
    validateBehaviour(validator, prop, behaviour);
  }
  const ages = [
    ['maxAgeOfOldestMessage', 14 * 86_400],
    ['maxIteratorAge', 7 * 86_400],
  ] as const;
  for (const [prop, maxSeconds] of ages) {
    const threshold = thresholds[prop];
    if (threshold === undefined) continue;
    const { age, behaviour } = ageOf(threshold);
    validator.durationInRange('maxAge' in threshold ? `${prop}.maxAge` : prop, age, 1, maxSeconds);
    validateBehaviour(validator, prop, behaviour);
  }
  validator.throwIfInvalid(scope, 'PipelineMonitoring');
}

function validateBehaviour(validator: PropsValidator, prop: string, behaviour: AlarmBehaviour): void {
  validator.integerInRange(`${prop}.evaluationPeriods`, behaviour.evaluationPeriods, 1, 288);
  const periods = behaviour.evaluationPeriods ?? 1;
  validator.integerInRange(
    `${prop}.datapointsToAlarm`,
    behaviour.datapointsToAlarm,
    1,
    isResolvedNumber(periods) ? periods : 288,
  );
}

function withStatistic(metric: cloudwatch.IMetric, statistic: string, period: Duration): cloudwatch.IMetric {
  return isMetric(metric) ? metric.with({ statistic, period }) : metric;
}
