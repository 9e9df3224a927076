import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { PropsValidator } from '../validation';
import { isMetric } from './metric-factory';

/** Alarm thresholds of a queue consumer. */
export interface QueueAlarmThresholds {
  /**
   * Alarm when the oldest message in the queue is older than this: the consumer lags or is stuck.
   *
   * @default Duration.minutes(5)
   */
  readonly maxAgeOfOldestMessage?: Duration;
  /**
   * Alarm when the dead-letter queue holds more messages than this.
   *
   * @default 0 - any message in the dead-letter queue raises the alarm
   */
  readonly maxDeadLetterMessages?: number;
}

/** Alarm thresholds of a stream consumer. */
export interface StreamAlarmThresholds {
  /**
   * Alarm when a consumer's iterator age (the age of the last record it was sent) is above this.
   *
   * @default Duration.minutes(1)
   */
  readonly maxIteratorAge?: Duration;
  /**
   * Alarm when a consumer's failure queue holds more messages than this.
   *
   * @default 0 - any message in the failure queue raises the alarm
   */
  readonly maxFailureQueueMessages?: number;
}

/** Alarm thresholds of a consumer function. */
export interface FunctionAlarmThresholds {
  /**
   * Alarm when the function reports more errors than this in one evaluation period.
   *
   * @default 0
   */
  readonly maxErrors?: number;
  /**
   * Alarm when the function is throttled more often than this in one evaluation period.
   *
   * @default 0
   */
  readonly maxThrottles?: number;
}

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
  public deadLetterMessages(id: string, visibleMessages: cloudwatch.IMetric, maxMessages = 0): cloudwatch.Alarm {
    return this.above(
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
    maxAge = Duration.minutes(5),
  ): cloudwatch.Alarm {
    return this.above(id, ageSeconds, maxAge.toSeconds(), cloudwatch.Stats.MAXIMUM, 'the oldest message is too old');
  }

  /** Alarm when a stream consumer's iterator age (milliseconds) is above `maxAge`. */
  public iteratorAge(id: string, iteratorAgeMs: cloudwatch.IMetric, maxAge = Duration.minutes(1)): cloudwatch.Alarm {
    return this.above(
      id,
      iteratorAgeMs,
      maxAge.toMilliseconds(),
      cloudwatch.Stats.MAXIMUM,
      'the consumer lags the stream',
    );
  }

  /** Alarm when a function reports more than `maxErrors` errors. */
  public functionErrors(id: string, errors: cloudwatch.IMetric, maxErrors = 0): cloudwatch.Alarm {
    return this.above(id, errors, maxErrors, cloudwatch.Stats.SUM, 'the function fails');
  }

  /** Alarm when a function is throttled more than `maxThrottles` times. */
  public functionThrottles(id: string, throttles: cloudwatch.IMetric, maxThrottles = 0): cloudwatch.Alarm {
    return this.above(id, throttles, maxThrottles, cloudwatch.Stats.SUM, 'the function is throttled');
  }

  private above(
    id: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    statistic: string,
    why: string,
  ): cloudwatch.Alarm {
    const alarmName = `${this.props.alarmNamePrefix}-${id}`;
    const alarm = new cloudwatch.Alarm(this.scope, id, {
      alarmName,
      alarmDescription: `${alarmName}: ${why} (above ${threshold}).`,
      metric: withStatistic(metric, statistic, this.props.period ?? Duration.minutes(5)),
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No data means no messages, no invocations or no lag: not a failure.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.props.alarmTopic) {
      const action = new actions.SnsAction(this.props.alarmTopic);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    return alarm;
  }
}

/** Fails synth on a negative or fractional count threshold. */
export function validateThresholds(
  scope: Construct,
  thresholds: QueueAlarmThresholds & StreamAlarmThresholds & FunctionAlarmThresholds,
): void {
  new PropsValidator()
    .integerAtLeast('maxDeadLetterMessages', thresholds.maxDeadLetterMessages, 0)
    .integerAtLeast('maxFailureQueueMessages', thresholds.maxFailureQueueMessages, 0)
    .integerAtLeast('maxErrors', thresholds.maxErrors, 0)
    .integerAtLeast('maxThrottles', thresholds.maxThrottles, 0)
    .durationInRange('maxAgeOfOldestMessage', thresholds.maxAgeOfOldestMessage, 1, 14 * 86_400)
    .durationInRange('maxIteratorAge', thresholds.maxIteratorAge, 1, 7 * 86_400)
    .throwIfInvalid(scope, 'PipelineMonitoring');
}

function withStatistic(metric: cloudwatch.IMetric, statistic: string, period: Duration): cloudwatch.IMetric {
  return isMetric(metric) ? metric.with({ statistic, period }) : metric;
}
