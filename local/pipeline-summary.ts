import { CONSUMER_ENVIRONMENT } from '../contract';
import { type AssemblyStack, allReferencedLogicalIds, constructPath, referencedLogicalId } from './assembly';

/** One event source mapping of a synthesized stack, described for a person. */
export interface PipelineSummary {
  readonly stackName: string;
  /** `SQS queue` or `Kinesis stream` (with `(FIFO)` or the capacity mode). */
  readonly sourceKind: string;
  /** The source's construct path. */
  readonly source: string;
  /** The consumer's service name (`POWERTOOLS_SERVICE_NAME`), or its function's construct path. */
  readonly consumer: string;
  /** Batch size, window and the settings that decide retries. */
  readonly settings: string;
  /** Where records that fail for good end up. */
  readonly deadLetters: string;
  /** How many alarms watch the source, the consumer or its dead letters. */
  readonly alarms: number;
}

/** Summarizes every event source mapping of every stack: source, consumer, settings, dead letters and alarms. */
export function summarizePipelines(stacks: AssemblyStack[]): PipelineSummary[] {
  const summaries: PipelineSummary[] = [];
  for (const stack of stacks) {
    const resources = stack.resources;
    const alarmTargets = Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm')
      .map((alarm) => allReferencedLogicalIds(alarm.Properties?.Dimensions ?? alarm.Properties?.Metrics));
    const alarmsOn = (...logicalIds: (string | undefined)[]) =>
      alarmTargets.filter((targets) => logicalIds.some((id) => id && targets.has(id))).length;
    const pathOf = (logicalId: string | undefined) =>
      logicalId && resources[logicalId]
        ? constructPath(logicalId, resources[logicalId]).replace(`${stack.stackName}/`, '')
        : String(logicalId);

    for (const mapping of Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping')) {
      const props = mapping.Properties ?? {};
      const functionId = referencedLogicalId(props.FunctionName);
      const sourceId = referencedLogicalId(props.EventSourceArn);
      const fn = functionId ? resources[functionId] : undefined;
      const source = sourceId ? resources[sourceId] : undefined;
      const environment = (fn?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      const serviceName = environment?.[CONSUMER_ENVIRONMENT.serviceName];
      const window = props.MaximumBatchingWindowInSeconds ? `, window ${props.MaximumBatchingWindowInSeconds} s` : '';

      if (source?.Type === 'AWS::SQS::Queue') {
        const redrive = source.Properties?.RedrivePolicy as { deadLetterTargetArn?: unknown; maxReceiveCount?: number };
        const deadLetterId = referencedLogicalId(redrive?.deadLetterTargetArn);
        summaries.push({
          stackName: stack.stackName,
          sourceKind: source.Properties?.FifoQueue ? 'SQS queue (FIFO)' : 'SQS queue',
          source: pathOf(sourceId),
          consumer: typeof serviceName === 'string' ? serviceName : pathOf(functionId),
          settings: `batch ${props.BatchSize ?? 10}${window}, visibility ${source.Properties?.VisibilityTimeout ?? 30} s`,
          deadLetters: deadLetterId
            ? `${pathOf(deadLetterId)} after ${redrive.maxReceiveCount} receives`
            : 'none (no redrive policy)',
          alarms: alarmsOn(sourceId, functionId, deadLetterId),
        });
      } else {
        const onFailure = (props.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure;
        const failureId = referencedLogicalId(onFailure?.Destination);
        const mode = (source?.Properties?.StreamModeDetails as { StreamMode?: string } | undefined)?.StreamMode;
        summaries.push({
          stackName: stack.stackName,
          sourceKind: `Kinesis stream (${mode === 'ON_DEMAND' ? 'on-demand' : `${source?.Properties?.ShardCount ?? 1} shards`})`,
          source: pathOf(sourceId),
          consumer: typeof serviceName === 'string' ? serviceName : pathOf(functionId),
          settings:
            `batch ${props.BatchSize ?? 100}${window}, from ${props.StartingPosition}, ` +
            `retries ${props.MaximumRetryAttempts ?? 'unbounded'}, max age ${props.MaximumRecordAgeInSeconds ?? 'unbounded'} s, ` +
            `bisect ${props.BisectBatchOnFunctionError ? 'on' : 'off'}, parallel ${props.ParallelizationFactor ?? 1}`,
          deadLetters: failureId ? pathOf(failureId) : 'none (records are dropped after the retries)',
          alarms: alarmsOn(functionId, failureId),
        });
      }
    }
  }
  return summaries;
}
