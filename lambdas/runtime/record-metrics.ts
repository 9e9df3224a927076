import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { RECORD_METRIC_NAMES } from '../../contract';

/**
 * The business metrics of a consumer (EMF, names from the contract): one count per record by what became of it,
 * and the age of each record applied. Stored per record, published once per batch.
 */
export class RecordMetrics {
  constructor(private readonly metrics: Metrics) {}

  /** A record whose effect was applied now, `arrivedAtMs` (epoch ms) after it reached its queue or stream. */
  public processed(arrivedAtMs: number): void {
    this.count(RECORD_METRIC_NAMES.processed);
    this.metrics.addMetric(RECORD_METRIC_NAMES.recordAge, MetricUnit.Milliseconds, Date.now() - arrivedAtMs);
  }

  /** A record whose effect was applied before, or whose dead letter was sent before. */
  public duplicate(): void {
    this.count(RECORD_METRIC_NAMES.duplicate);
  }

  /** A record that can never succeed, sent to the dead-letter queue now. */
  public invalid(): void {
    this.count(RECORD_METRIC_NAMES.invalid);
  }

  /** A record reported failed in the batch response: the platform retries it. */
  public failed(): void {
    this.count(RECORD_METRIC_NAMES.failed);
  }

  /** Publishes what the batch stored. */
  public publish(): void {
    this.metrics.publishStoredMetrics();
  }

  private count(metricName: string): void {
    this.metrics.addMetric(metricName, MetricUnit.Count, 1);
  }
}
