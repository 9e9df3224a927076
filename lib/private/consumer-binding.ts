import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { CONSUMER_ENVIRONMENT, idempotencyKeyPrefix } from '../../contract';
import type { IIdempotencyTable } from '../idempotency-table';

/**
 * Wires a consumer function to what the runtime kit reads: its idempotency table, the key prefix it may write
 * under and its dead-letter queue. The key prefix is computed once here and used for both the environment and the
 * IAM condition, so the keys the runtime writes are always the keys the policy allows. Returns the key prefix.
 */
export function bindConsumer(
  fn: lambda.Function,
  serviceName: string,
  idempotencyTable: IIdempotencyTable,
  deadLetterQueue: sqs.IQueue,
): string {
  const keyPrefix = idempotencyKeyPrefix(serviceName);
  idempotencyTable.grantIdempotency(fn, { keyPrefix });
  deadLetterQueue.grantSendMessages(fn);
  fn.addEnvironment(CONSUMER_ENVIRONMENT.idempotencyTableName, idempotencyTable.tableName);
  fn.addEnvironment(CONSUMER_ENVIRONMENT.idempotencyKeyPrefix, keyPrefix);
  fn.addEnvironment(CONSUMER_ENVIRONMENT.deadLetterQueueUrl, deadLetterQueue.queueUrl);
  return keyPrefix;
}
