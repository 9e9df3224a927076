import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { OrderEventsStack } from './order-events-stack';

/** The reference app's stacks, built into `app`. */
export interface ReferenceApp {
  readonly orderEvents: OrderEventsStack;
}

/**
 * Builds the reference app: the stage comes from context (`-c stage=dev`, the default in cdk.json), and the stacks
 * stay environment-agnostic unless `-c account=...` and `-c region=...` are given. cdk-nag's AwsSolutions and
 * Serverless packs check every synth, and each acknowledged finding is written into the template's metadata.
 */
export function buildReferenceApp(app: App): ReferenceApp {
  const stage = String(app.node.tryGetContext('stage') ?? 'dev');
  const account = app.node.tryGetContext('account');
  const region = app.node.tryGetContext('region');
  const orderEvents = new OrderEventsStack(app, `EdaKit-${stage}-OrderEvents`, {
    stage,
    env: account || region ? { account, region } : undefined,
    alarmTopicArn: app.node.tryGetContext('alarmTopicArn'),
    description: `cdk-eda-kit reference app (${stage}): order events over SQS and Kinesis`,
  });
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }),
    new ServerlessChecks(app, { writeSuppressionsToCloudFormation: true }),
  );
  return { orderEvents };
}
