import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CONSUMER_ENVIRONMENT, DEFAULT_METRICS_NAMESPACE } from '../contract';
import { type BundlingOptions, esbuildCode } from './private/esbuild-code';
import { PropsValidator } from './validation';

export type { BundlingOptions } from './private/esbuild-code';

/**
 * What a service name may hold. It starts every idempotency key of the consumer (`<service name>.`) and the IAM
 * condition on them (`<service name>.*`): without a dot of its own, no consumer's prefix can start another's.
 */
const SERVICE_NAME = /^[A-Za-z0-9_-]{1,128}$/;

/** The newest Node.js runtime that aws-cdk-lib offers; a test keeps this in step with the library. */
export const CONSUMER_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Properties of the Lambda function a {@link ConsumerFunction} creates. */
export interface ConsumerFunctionProps {
  /** Path to the handler's TypeScript or JavaScript entry file. */
  readonly entry: string;

  /**
   * The exported name of the handler in `entry`.
   *
   * @default 'handler'
   */
  readonly handler?: string;

  /**
   * The function timeout. Valid range: 1 second to 15 minutes. A queue's visibility timeout is derived from it.
   *
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;

  /**
   * Memory in MiB. Valid range: 128 to 10,240.
   *
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * How long the function's own log group keeps its logs.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Concurrent executions reserved for the function. Valid range: 0 to the account's concurrency quota.
   *
   * @default - no reservation: the function uses the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * Extra environment variables. The kit's own variables (service name, metrics namespace, table and queue
   * names) are set after these and win.
   *
   * @default - none
   */
  readonly environment?: Record<string, string>;

  /**
   * The service name in logs and the dimension of the business metrics (`POWERTOOLS_SERVICE_NAME`), and the start
   * of every idempotency key of a consumer. Valid: 1 to 128 of the characters a-z A-Z 0-9 _ -; unique among the
   * consumers that share an idempotency table.
   *
   * @default - the construct ID of the consumer
   */
  readonly serviceName?: string;

  /**
   * The CloudWatch namespace of the business metrics (`POWERTOOLS_METRICS_NAMESPACE`).
   *
   * @default 'EdaKit'
   */
  readonly metricsNamespace?: string;

  /**
   * AWS X-Ray tracing. Active tracing needs `xray:PutTraceSegments` on `*`, which AWS offers no narrower scope for.
   *
   * @default lambda.Tracing.DISABLED
   */
  readonly tracing?: lambda.Tracing;

  /**
   * How the entry is bundled by the local esbuild.
   *
   * @default - minified, no source map, `@aws-sdk/*` and `@smithy/*` external (the runtime provides them)
   */
  readonly bundling?: BundlingOptions;

  /**
   * A description of the function.
   *
   * @default - none
   */
  readonly description?: string;
}

/**
 * A Node.js Lambda function set up for consuming events: ARM64, the newest Node.js runtime, its own log group
 * with a retention, its own role with only the log permissions it needs (no managed policy), bundled with the
 * local esbuild with the AWS SDK left to the runtime, and the Powertools environment the runtime kit reads.
 */
export class ConsumerFunction extends Construct {
  /** The Lambda function. */
  public readonly function: nodejs.NodejsFunction;
  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The function's execution role. */
  public readonly role: iam.Role;
  /** The service name in logs and business metrics. */
  public readonly serviceName: string;
  /** The CloudWatch namespace of the business metrics. */
  public readonly metricsNamespace: string;
  /** The function timeout. */
  public readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: ConsumerFunctionProps) {
    super(scope, id);
    const serviceName = props.serviceName ?? scope.node.id;
    new PropsValidator()
      .durationInRange('timeout', props.timeout, 1, 900)
      .integerInRange('memorySize', props.memorySize, 128, 10_240)
      .integerAtLeast('reservedConcurrentExecutions', props.reservedConcurrentExecutions, 0)
      .check(
        !Token.isUnresolved(serviceName) && !SERVICE_NAME.test(serviceName),
        `serviceName must be 1 to 128 of the characters a-z A-Z 0-9 _ -, got '${serviceName}'` +
          `${props.serviceName === undefined ? ' (the default: the construct ID of the consumer)' : ''}: it starts ` +
          "every idempotency key and the IAM grant on them, where '.', '*' or '?' could reach another consumer's keys",
      )
      .throwIfInvalid(this, 'ConsumerFunction');

    this.timeout = props.timeout ?? Duration.seconds(30);
    this.serviceName = serviceName;
    this.metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    // An explicit role instead of AWSLambdaBasicExecutionRole: that managed policy allows writing to every
    // log group in the account; this one allows only the function's own.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${Stack.of(this).stackName}/${this.serviceName}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: `index.${props.handler ?? 'handler'}`,
      runtime: CONSUMER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      timeout: this.timeout,
      memorySize: props.memorySize ?? 256,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logGroup: this.logGroup,
      role: this.role,
      tracing: props.tracing ?? lambda.Tracing.DISABLED,
      description: props.description,
      environment: {
        ...props.environment,
        [CONSUMER_ENVIRONMENT.serviceName]: this.serviceName,
        [CONSUMER_ENVIRONMENT.metricsNamespace]: this.metricsNamespace,
      },
      code: esbuildCode(props.entry, CONSUMER_RUNTIME, props.bundling),
    });
    // The role must hold its log permissions before the function is created, or the first logs can be lost.
    this.function.node.addDependency(this.role);

    if ((props.tracing ?? lambda.Tracing.DISABLED) !== lambda.Tracing.ACTIVE) {
      Validations.of(this.function).acknowledge({
        id: 'Serverless-LambdaTracing',
        reason:
          'X-Ray tracing is opt-in (ConsumerFunctionProps.tracing): it is billed per trace and needs ' +
          'xray:PutTraceSegments on "*". Every log line carries the correlation ID and the record identity, and ' +
          'the runtime emits EMF metrics per record.',
      });
    }
  }
}
