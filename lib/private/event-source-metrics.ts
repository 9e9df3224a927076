import * as lambda from 'aws-cdk-lib/aws-lambda';

/** What the consumers ask of their event source mappings by default: Lambda's event count metrics. */
export const EVENT_COUNT_METRICS: lambda.MetricsConfig = { metrics: [lambda.MetricType.EVENT_COUNT] };

/** Whether a mapping's props ask for the event count metrics (compared by value: the app may hold another copy). */
export function hasEventCountMetrics(props: { readonly metricsConfig?: lambda.MetricsConfig }): boolean {
  return (props.metricsConfig?.metrics ?? []).some(
    (metric) => String(metric) === String(lambda.MetricType.EVENT_COUNT),
  );
}
