#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { UserActivityStack } from '../lib/user-activity-stack';

const app = new App();
const alarmTopicArn: unknown = app.node.tryGetContext('alarmTopicArn');
new UserActivityStack(app, 'UserActivity', {
  idempotencyTableName: String(app.node.tryGetContext('idempotencyTableName') ?? 'user-activity-idempotency'),
  ...(typeof alarmTopicArn === 'string' ? { alarmTopicArn } : {}),
  description: 'cdk-eda-kit example: sign-ups to welcome emails, a clickstream to sessions',
});
// Every synth is checked; each acknowledged finding is written, with its reason, into the template.
Validations.of(app).addPlugins(
  new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }),
  new ServerlessChecks(app, { writeSuppressionsToCloudFormation: true }),
);
