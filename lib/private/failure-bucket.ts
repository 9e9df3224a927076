import { CfnElement, Duration, type RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { FAILURE_BUCKET_METRICS_FILTER } from '../../contract';

/** The id of the request metrics the kit's failure buckets publish (`FilterId` of `AWS/S3` request metrics). */
export const FAILURE_BUCKET_METRICS_ID = FAILURE_BUCKET_METRICS_FILTER;

/**
 * A consumer's own failure bucket: encrypted (with the stream's key when it has one, as the bucket holds the
 * stream's data), TLS only, no public access, objects owned by the bucket, and failed batches expiring after
 * `retention`. It publishes request metrics so that the first batch written raises an alarm within minutes; S3's
 * storage metrics come once a day.
 */
export function newFailureBucket(
  scope: Construct,
  id: string,
  options: { retention: Duration; encryptionKey?: kms.IKey; removalPolicy: RemovalPolicy },
): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    ...(options.encryptionKey
      ? { encryption: s3.BucketEncryption.KMS, encryptionKey: options.encryptionKey, bucketKeyEnabled: true }
      : { encryption: s3.BucketEncryption.S3_MANAGED }),
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [{ expiration: options.retention, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    metrics: [{ id: FAILURE_BUCKET_METRICS_ID }],
    removalPolicy: options.removalPolicy,
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      'Only the event source mapping writes here (the function role may put and list, nothing else); request ' +
      'metrics count every batch written, and an alarm fires on the first one. Access logs would add a second ' +
      'bucket per consumer for no record the metrics and CloudTrail do not already keep.',
  });
  return bucket;
}

/** Where Lambda writes failed batches in an on-failure bucket: `aws/lambda/<mapping ID>/<shard ID>/...`. */
export const FAILURE_OBJECT_PREFIX = 'aws/lambda/';

/**
 * The on-failure destination of a stream's event source mapping as an S3 bucket, with the permissions Lambda asks
 * for and no more: `s3:PutObject` on the keys Lambda writes, `s3:ListBucket` on the bucket, and
 * `kms:GenerateDataKey` on the bucket's key when it has one. `S3OnFailureDestination` of aws-cdk-lib grants read
 * and write, deletes included.
 */
export class S3FailureDestination implements lambda.IEventSourceDlq {
  constructor(private readonly bucket: s3.IBucket) {}

  public bind(_target: lambda.IEventSourceMapping, targetHandler: lambda.IFunction): lambda.DlqDestinationConfig {
    const objects = this.bucket.arnForObjects(`${FAILURE_OBJECT_PREFIX}*`);
    targetHandler.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [objects] }));
    targetHandler.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
    this.bucket.encryptionKey?.grant(targetHandler, 'kms:GenerateDataKey');
    const finding = objectsFinding(this.bucket);
    if (finding) {
      Validations.of(targetHandler.role ?? targetHandler).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[${finding}]`,
        reason:
          "Lambda names each failed batch's object itself (aws/lambda/<mapping>/<shard>/<date>-<uuid>): the " +
          'function may put objects under that prefix of its failure bucket, and read or delete none.',
      });
    }
    return { destination: this.bucket.bucketArn };
  }
}

/** How cdk-nag names the object wildcard of the grant, when the bucket's name or logical ID is known at synth. */
function objectsFinding(bucket: s3.IBucket): string | undefined {
  const resource = bucket.node.defaultChild;
  if (resource instanceof CfnElement) {
    return `Resource::<${Stack.of(bucket).getLogicalId(resource)}.Arn>/${FAILURE_OBJECT_PREFIX}*`;
  }
  if (Token.isUnresolved(bucket.bucketName)) return undefined;
  return `Resource::arn:<AWS::Partition>:s3:::${bucket.bucketName}/${FAILURE_OBJECT_PREFIX}*`;
}
