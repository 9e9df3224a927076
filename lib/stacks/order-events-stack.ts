import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  ConsumerFunction,
  type ConsumerFunctionProps,
  IdempotencyTable,
  PipelineMonitoring,
  QueueConsumer,
  StreamConsumer,
} from 'cdk-eda-kit';
import type { Construct } from 'constructs';

/** Properties of the {@link OrderEventsStack}. */
export interface OrderEventsStackProps extends StackProps {
  /** The stage (`dev`, `prod`...): part of every resource's name in logs and alarms. */
  readonly stage: string;
  /**
   * An SNS topic ARN that every alarm notifies.
   *
   * @default - alarms without actions
   */
  readonly alarmTopicArn?: string;
}

const lambdasDir = path.join(__dirname, '..', '..', 'lambdas');
const entry = (name: string) => path.join(lambdasDir, name, 'handler.ts');

/**
 * The order workflow, one use case per consumer: an order API publishes `OrderPlaced` to the `orders` queue (order
 * processor), the `notifications` queue (notification sender) and the `order-events` stream (inventory updater,
 * audit-log writer, real-time analytics), with one dashboard and the default alarms.
 */
export class OrderEventsStack extends Stack {
  /** The order API function (producer). */
  public readonly orderApi: ConsumerFunction;
  /** The order API's URL; callers sign requests with SigV4 (IAM auth). */
  public readonly orderApiUrl: lambda.FunctionUrl;
  /** `orders` queue -> order processor. */
  public readonly orders: QueueConsumer;
  /** `notifications` queue -> notification sender. */
  public readonly notifications: QueueConsumer;
  /** `order-events` stream -> inventory updater, audit-log writer, analytics aggregator. */
  public readonly orderEvents: StreamConsumer;
  /** The pipeline's dashboard and alarms. */
  public readonly monitoring: PipelineMonitoring;

  constructor(scope: Construct, id: string, props: OrderEventsStackProps) {
    super(scope, id, props);
    // Keep data in production; let a development stack clean up after itself.
    const removalPolicy = props.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const functionDefaults = (name: string): ConsumerFunctionProps => ({
      entry: entry(name),
      serviceName: name,
      timeout: Duration.seconds(30),
      description: `${name} (${props.stage})`,
    });

    const idempotencyTable = new IdempotencyTable(this, 'Idempotency', { removalPolicy });
    const table = (tableId: string, partitionKey: string, sortKey?: dynamodb.Attribute) =>
      new dynamodb.Table(this, tableId, {
        partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey,
        // Only the pins (`pinFirst`) of the inventory and analytics tables carry it; other items never expire.
        timeToLiveAttribute: sortKey ? 'expiresAt' : undefined,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        removalPolicy,
      });
    const ordersTable = table('OrdersTable', 'orderId');
    const sentEmailsTable = table('SentEmailsTable', 'messageId');
    const inventoryTable = table('InventoryTable', 'sku', { name: 'slot', type: dynamodb.AttributeType.NUMBER });
    const auditLogTable = table('AuditLogTable', 'eventId');
    const analyticsTable = table('AnalyticsTable', 'minute', { name: 'slot', type: dynamodb.AttributeType.NUMBER });

    this.orders = new QueueConsumer(this, 'Orders', {
      functionProps: {
        ...functionDefaults('order-processor'),
        environment: { ORDERS_TABLE_NAME: ordersTable.tableName },
      },
      idempotencyTable,
    });
    ordersTable.grant(this.orders.function, 'dynamodb:PutItem');

    this.notifications = new QueueConsumer(this, 'Notifications', {
      functionProps: {
        ...functionDefaults('notification-sender'),
        environment: { SENT_EMAILS_TABLE_NAME: sentEmailsTable.tableName },
      },
      idempotencyTable,
    });
    sentEmailsTable.grant(this.notifications.function, 'dynamodb:PutItem');

    this.orderEvents = new StreamConsumer(this, 'OrderEvents', {
      idempotencyTable,
      removalPolicy,
      consumers: {
        'inventory-updater': {
          functionProps: {
            ...functionDefaults('inventory-updater'),
            environment: { INVENTORY_TABLE_NAME: inventoryTable.tableName },
          },
          // Reservations must be replayable whenever an operator gets to them, not only within the stream's 24 h:
          // batches the mapping gives up on are kept whole in S3.
          failureBucket: true,
        },
        'audit-log-writer': {
          functionProps: {
            ...functionDefaults('audit-log-writer'),
            environment: { AUDIT_LOG_TABLE_NAME: auditLogTable.tableName },
          },
        },
        'analytics-aggregator': {
          functionProps: {
            ...functionDefaults('analytics-aggregator'),
            environment: { ANALYTICS_TABLE_NAME: analyticsTable.tableName },
          },
        },
      },
    });
    inventoryTable.grant(
      this.orderEvents.consumer('inventory-updater').function,
      'dynamodb:UpdateItem',
      'dynamodb:PutItem',
      'dynamodb:GetItem',
    );
    auditLogTable.grant(this.orderEvents.consumer('audit-log-writer').function, 'dynamodb:PutItem');
    analyticsTable.grant(
      this.orderEvents.consumer('analytics-aggregator').function,
      'dynamodb:UpdateItem',
      'dynamodb:PutItem',
      'dynamodb:GetItem',
    );

    this.orderApi = new ConsumerFunction(this, 'OrderApi', {
      ...functionDefaults('order-api'),
      timeout: Duration.seconds(10),
      environment: {
        ORDERS_QUEUE_URL: this.orders.queue.queueUrl,
        NOTIFICATIONS_QUEUE_URL: this.notifications.queue.queueUrl,
        ORDER_EVENTS_STREAM_NAME: this.orderEvents.stream.streamName,
      },
    });
    this.orders.queue.grantSendMessages(this.orderApi.function);
    this.notifications.queue.grantSendMessages(this.orderApi.function);
    this.orderEvents.stream.grant(this.orderApi.function, 'kinesis:PutRecord', 'kinesis:PutRecords');
    this.orderApiUrl = this.orderApi.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    Validations.of(this.orderApi.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'The order API is invoked synchronously through its function URL: a failure is an HTTP 5xx to the caller, ' +
        'who retries with the same orderId. There is no asynchronous invocation to dead-letter.',
    });
    new CfnOutput(this, 'OrderApiUrl', {
      value: this.orderApiUrl.url,
      description: 'POST an order here, signed with SigV4 (service lambda)',
    });
    // What the end-to-end tests (and operators' scripts) find the pipeline by, on any target: the local cloud,
    // LocalStack or an AWS account (`cdk deploy --outputs-file`).
    const outputs: Record<string, [string, string]> = {
      OrderApiFunctionName: [this.orderApi.function.functionName, 'the order API, for Lambda Invoke'],
      OrdersQueueUrl: [this.orders.queue.queueUrl, 'orders queue (order processor)'],
      OrdersDeadLetterQueueUrl: [this.orders.deadLetterQueue.queueUrl, "the order processor's dead letters"],
      NotificationsQueueUrl: [this.notifications.queue.queueUrl, 'notifications queue (notification sender)'],
      NotificationsDeadLetterQueueUrl: [
        this.notifications.deadLetterQueue.queueUrl,
        "the notification sender's dead letters",
      ],
      OrderEventsStreamName: [this.orderEvents.stream.streamName, 'order-events stream'],
      InventoryUpdaterFailureQueueUrl: [
        this.orderEvents.consumer('inventory-updater').failureQueue.queueUrl,
        "the inventory updater's failure queue",
      ],
      InventoryUpdaterFailureBucketName: [
        (this.orderEvents.consumer('inventory-updater').failureBucket as s3.IBucket).bucketName,
        "the inventory updater's failure bucket: the batches its event source mapping gave up on, kept whole",
      ],
      AuditLogWriterFailureQueueUrl: [
        this.orderEvents.consumer('audit-log-writer').failureQueue.queueUrl,
        "the audit-log writer's failure queue",
      ],
      AnalyticsAggregatorFailureQueueUrl: [
        this.orderEvents.consumer('analytics-aggregator').failureQueue.queueUrl,
        "the analytics aggregator's failure queue",
      ],
      OrdersTableName: [ordersTable.tableName, 'orders, one item per order'],
      SentEmailsTableName: [sentEmailsTable.tableName, 'sent order confirmations'],
      InventoryTableName: [inventoryTable.tableName, 'reserved units by SKU'],
      AuditLogTableName: [auditLogTable.tableName, 'every order event'],
      AnalyticsTableName: [analyticsTable.tableName, 'orders and revenue by minute'],
    };
    for (const [id, [value, description]] of Object.entries(outputs)) new CfnOutput(this, id, { value, description });

    const alarmTopic = props.alarmTopicArn
      ? sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn)
      : undefined;
    this.monitoring = new PipelineMonitoring(this, 'Monitoring', { alarmTopic })
      .monitorQueueConsumer(this.orders)
      .monitorQueueConsumer(this.notifications)
      .monitorStreamConsumer(this.orderEvents)
      .monitorIdempotencyTable(idempotencyTable);
  }
}
