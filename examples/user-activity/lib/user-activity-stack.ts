import * as path from 'node:path';
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IdempotencyTable, PipelineMonitoring, QueueConsumer, StreamConsumer } from 'cdk-eda-kit';
import type { Construct } from 'constructs';

/** Properties of the {@link UserActivityStack}. */
export interface UserActivityStackProps extends StackProps {
  /**
   * The name of an existing idempotency table in the stack's account and region: partition key `id` (string),
   * time to live on `expiration`. The stack grants on it and never creates or deletes it.
   */
  readonly idempotencyTableName: string;
  /**
   * An SNS topic ARN that every alarm notifies.
   *
   * @default - alarms without actions
   */
  readonly alarmTopicArn?: string;
}

/** The handler entry of each function: the constructs bundle the TypeScript source with esbuild. */
const entry = (name: string) => path.join(__dirname, '..', 'lambdas', name, 'handler.ts');

/**
 * User activity: sign-ups go to a queue whose consumer queues one welcome email per user, and a clickstream goes to
 * a Kinesis stream whose sessionizer counts each session's page views, each click once. Both consumers keep their
 * idempotency records in one existing table, each under its own key prefix.
 */
export class UserActivityStack extends Stack {
  /** `sign-ups` queue -> welcome-email consumer. */
  public readonly signUps: QueueConsumer;
  /** Clickstream -> sessionizer. */
  public readonly clickstream: StreamConsumer;
  /** The dashboard and the default alarms. */
  public readonly monitoring: PipelineMonitoring;

  constructor(scope: Construct, id: string, props: UserActivityStackProps) {
    super(scope, id, props);
    const idempotencyTable = IdempotencyTable.fromTableName(this, 'Idempotency', props.idempotencyTableName);

    const table = (tableId: string, partitionKey: string) =>
      new dynamodb.Table(this, tableId, {
        partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      });
    // The outbox a mail sender reads: one welcome email per user.
    const welcomeEmails = table('WelcomeEmails', 'userId');
    const sessions = table('Sessions', 'sessionId');

    this.signUps = new QueueConsumer(this, 'SignUps', {
      idempotencyTable,
      functionProps: {
        entry: entry('welcome-email'),
        serviceName: 'welcome-email',
        timeout: Duration.seconds(20),
        environment: { WELCOME_EMAILS_TABLE_NAME: welcomeEmails.tableName },
      },
    });
    welcomeEmails.grant(this.signUps.function, 'dynamodb:PutItem');

    this.clickstream = new StreamConsumer(this, 'Clickstream', {
      idempotencyTable,
      consumers: {
        sessionizer: {
          functionProps: {
            entry: entry('sessionizer'),
            serviceName: 'sessionizer',
            environment: { SESSIONS_TABLE_NAME: sessions.tableName },
          },
          batchSize: 500,
          maxBatchingWindow: Duration.seconds(1),
        },
      },
    });
    sessions.grant(this.clickstream.consumer('sessionizer').function, 'dynamodb:UpdateItem');

    // With exactOptionalPropertyTypes an absent topic is an absent property, not `alarmTopic: undefined`.
    const alarmTopic = props.alarmTopicArn
      ? sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn)
      : undefined;
    this.monitoring = new PipelineMonitoring(this, 'Monitoring', alarmTopic ? { alarmTopic } : {})
      .monitorQueueConsumer(this.signUps)
      .monitorStreamConsumer(this.clickstream)
      .monitorIdempotencyTable(idempotencyTable);
  }
}
