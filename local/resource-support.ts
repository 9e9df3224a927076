import { type AssemblyStack, constructPath, referencedLogicalId, type TemplateResource } from './assembly';
import { LocalCloudInputError } from './input-error';

/**
 * What the local cloud runs: queues, streams, tables, buckets (as failure destinations and for scripts), Node.js
 * functions and their SQS and Kinesis mappings.
 */
const RUN_LOCALLY = new Set([
  'AWS::SQS::Queue',
  'AWS::Kinesis::Stream',
  'AWS::DynamoDB::Table',
  'AWS::S3::Bucket',
  'AWS::Lambda::Function',
  'AWS::Lambda::EventSourceMapping',
]);

/**
 * What has no behaviour to run locally and is left aside: permissions, encryption, logs, alarms and dashboards,
 * metadata. With a notice where a user might expect it to do something.
 */
const INERT_LOCALLY: Readonly<Record<string, string | undefined>> = {
  'AWS::CDK::Metadata': undefined,
  'AWS::IAM::Role': undefined,
  'AWS::IAM::Policy': undefined,
  'AWS::IAM::ManagedPolicy': undefined,
  'AWS::KMS::Key': undefined,
  'AWS::KMS::Alias': undefined,
  'AWS::SQS::QueuePolicy': undefined,
  'AWS::SQS::QueueInlinePolicy': undefined,
  'AWS::S3::BucketPolicy': undefined,
  'AWS::Lambda::Permission': undefined,
  'AWS::Logs::LogGroup': undefined,
  'AWS::CloudWatch::Alarm': 'alarms are evaluated only on the dashboard of --serve, and their actions do nothing',
  'AWS::CloudWatch::CompositeAlarm':
    'alarms are evaluated only on the dashboard of --serve, and their actions do nothing',
  'AWS::CloudWatch::Dashboard': undefined,
  'AWS::SSM::Parameter': undefined,
  'AWS::Kinesis::StreamConsumer': undefined,
  'AWS::Lambda::Url': 'a function URL has no local HTTP endpoint; invoke the function instead',
  'AWS::Lambda::EventInvokeConfig': 'asynchronous invocation settings are not emulated',
  'AWS::Lambda::Version': undefined,
  'AWS::Lambda::Alias': undefined,
};

/** Something in the app the local cloud cannot run. */
export interface UnsupportedResource {
  readonly stackName: string;
  readonly logicalId: string;
  /** The construct path, or the logical ID. */
  readonly path: string;
  readonly type: string;
  /** Why, in a few words. */
  readonly why: string;
}

/** The app's resources the local cloud cannot run, and notices for those it leaves aside. */
export function checkSupport(stacks: readonly AssemblyStack[]): {
  unsupported: UnsupportedResource[];
  notices: string[];
} {
  const unsupported: UnsupportedResource[] = [];
  const notices = new Set<string>();
  for (const stack of stacks) {
    const refuse = (logicalId: string, resource: TemplateResource, why: string) =>
      unsupported.push({
        stackName: stack.stackName,
        logicalId,
        path: constructPath(logicalId, resource),
        type: resource.Type,
        why,
      });
    for (const [logicalId, resource] of Object.entries(stack.resources)) {
      const props = resource.Properties ?? {};
      if (resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource') {
        notices.add('Custom resources are not run locally (their functions are, as functions).');
        continue;
      }
      if (resource.Type in INERT_LOCALLY) {
        const notice = INERT_LOCALLY[resource.Type];
        if (notice) notices.add(`${resource.Type}: ${notice}.`);
        continue;
      }
      if (!RUN_LOCALLY.has(resource.Type)) {
        refuse(logicalId, resource, 'the local cloud cannot run this resource type');
        continue;
      }
      if (resource.Type === 'AWS::Lambda::Function') {
        const runtime = String(props.Runtime ?? '');
        if (props.PackageType === 'Image') refuse(logicalId, resource, 'a container image function');
        else if (!runtime.startsWith('nodejs'))
          refuse(logicalId, resource, `runtime ${runtime || 'unknown'}, not Node.js`);
        else if (typeof resource.Metadata?.['aws:asset:path'] !== 'string')
          refuse(logicalId, resource, 'inline code or code from a bucket, not a CDK asset');
      }
      if (resource.Type === 'AWS::Lambda::EventSourceMapping') {
        const sourceId = referencedLogicalId(props.EventSourceArn);
        const sourceType = sourceId ? stack.resources[sourceId]?.Type : undefined;
        if (
          sourceType !== 'AWS::SQS::Queue' &&
          sourceType !== 'AWS::Kinesis::Stream' &&
          sourceType !== 'AWS::Kinesis::StreamConsumer'
        ) {
          refuse(
            logicalId,
            resource,
            `an event source that is not a queue or stream of the app (${sourceType ?? 'outside the app'})`,
          );
        }
      }
    }
  }
  return { unsupported, notices: [...notices] };
}

/** The error for the resources the local cloud cannot run: the first named in full, the count of the rest. */
export function unsupportedError(unsupported: readonly UnsupportedResource[]): LocalCloudInputError {
  const [first] = unsupported;
  const more = unsupported.length > 1 ? ` (and ${unsupported.length - 1} more)` : '';
  return new LocalCloudInputError(
    `${first.path} (${first.type}): ${first.why}${more}. The local cloud runs SQS queues, Kinesis streams, DynamoDB ` +
      'tables, S3 buckets and Node.js functions with their event source mappings; --allow-unsupported starts without the rest',
  );
}
