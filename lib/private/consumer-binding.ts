import { Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
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
  claimKeyPrefix(fn, idempotencyTable, keyPrefix);
  idempotencyTable.grantIdempotency(fn, { keyPrefix });
  deadLetterQueue.grantSendMessages(fn);
  fn.addEnvironment(CONSUMER_ENVIRONMENT.idempotencyTableName, idempotencyTable.tableName);
  fn.addEnvironment(CONSUMER_ENVIRONMENT.idempotencyKeyPrefix, keyPrefix);
  fn.addEnvironment(CONSUMER_ENVIRONMENT.deadLetterQueueUrl, deadLetterQueue.queueUrl);
  return keyPrefix;
}

/** The key prefixes bound so far in each app, by table: which consumer holds each. */
const claimedKeyPrefixes = new WeakMap<IConstruct, Map<string, string>>();

/**
 * Fails when another consumer of the app already writes under `keyPrefix` in the same table: the two would share
 * idempotency records, and one would skip the other's events as duplicates.
 */
function claimKeyPrefix(fn: lambda.Function, idempotencyTable: IIdempotencyTable, keyPrefix: string): void {
  const app = fn.node.root;
  const claimed = claimedKeyPrefixes.get(app) ?? new Map<string, string>();
  claimedKeyPrefixes.set(app, claimed);
  // The table's name as the template has it (a Ref, or the imported name), so two imports of one table match.
  const claim = JSON.stringify([Stack.of(idempotencyTable).resolve(idempotencyTable.tableName), keyPrefix]);
  const holder = claimed.get(claim);
  if (holder !== undefined) {
    throw new Error(
      `The consumer at '${fn.node.path}' has the service name of the consumer at '${holder}' ('${keyPrefix.slice(0, -1)}'), ` +
        'and both keep idempotency records in the same table: give one of them another serviceName',
    );
  }
  claimed.set(claim, fn.node.path);
}
