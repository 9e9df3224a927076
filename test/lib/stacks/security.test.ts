import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, test } from 'vitest';
import { buildReferenceApp } from '../../../lib/stacks/reference-app';
import { allReferencedLogicalIds } from '../../../local/assembly';

type Resources = Record<string, { Type: string; Properties: any }>;

/**
 * What each function may touch, by the logical-ID prefix of the resources: its own source, its own targets,
 * its own dead-letter or failure queue, the idempotency table, its own log group. Nothing else.
 */
const ALLOWED: Record<string, string[]> = {
  'order-processor': [
    'OrdersQueue',
    'OrdersDeadLetterQueue',
    'IdempotencyTable',
    'OrdersTable',
    'OrdersConsumerLogGroup',
  ],
  'notification-sender': [
    'NotificationsQueue',
    'NotificationsDeadLetterQueue',
    'IdempotencyTable',
    'SentEmailsTable',
    'NotificationsConsumerLogGroup',
  ],
  'inventory-updater': [
    'OrderEventsStream',
    'OrderEventsinventoryupdaterFailureQueue',
    'OrderEventsinventoryupdaterFailureBucket',
    'IdempotencyTable',
    'InventoryTable',
    'OrderEventsinventoryupdaterConsumerLogGroup',
  ],
  'audit-log-writer': [
    'OrderEventsStream',
    'OrderEventsauditlogwriterFailureQueue',
    'IdempotencyTable',
    'AuditLogTable',
    'OrderEventsauditlogwriterConsumerLogGroup',
  ],
  'analytics-aggregator': [
    'OrderEventsStream',
    'OrderEventsanalyticsaggregatorFailureQueue',
    'IdempotencyTable',
    'AnalyticsTable',
    'OrderEventsanalyticsaggregatorConsumerLogGroup',
  ],
  'order-api': ['OrdersQueue', 'NotificationsQueue', 'OrderEventsStream', 'OrderApiLogGroup'],
};

/** Resources where AWS offers no narrower scope than "*". None is needed by the reference app. */
const STAR_RESOURCE_EXCEPTIONS: string[] = [];

/** Actions that consume a source: only the function's own source may appear with them. */
const CONSUME = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'kinesis:GetRecords', 'kinesis:GetShardIterator'];

let resources: Resources;
const statementsByFunction = new Map<string, any[]>();

beforeAll(() => {
  const app = new App({ builtinCloudFormationValidation: false });
  resources = Template.fromStack(buildReferenceApp(app).orderEvents).toJSON().Resources;
  const functionByRole = new Map<string, string>();
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const roleId = resource.Properties.Role['Fn::GetAtt'][0];
    functionByRole.set(roleId, resource.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME);
  }
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    for (const role of resource.Properties.Roles) {
      const fn = functionByRole.get(role.Ref) as string;
      statementsByFunction.set(fn, [
        ...(statementsByFunction.get(fn) ?? []),
        ...resource.Properties.PolicyDocument.Statement,
      ]);
    }
  }
});

describe('least privilege, over every synthesized IAM policy', () => {
  test('every function has a policy, and only the functions have roles', () => {
    expect([...statementsByFunction.keys()].sort()).toEqual(Object.keys(ALLOWED).sort());
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role')).toHaveLength(6);
    expect(
      Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role' && r.Properties.ManagedPolicyArns),
    ).toEqual([]);
  });

  test.each(Object.keys(ALLOWED))('%s: no "*" action, and no "*" resource beyond the listed exceptions', (fn) => {
    for (const statement of statementsByFunction.get(fn) ?? []) {
      expect([statement.Action].flat().filter((action: string) => action.includes('*'))).toEqual([]);
      const stars = [statement.Resource].flat().filter((resource: unknown) => resource === '*');
      expect(stars.length === 0 || STAR_RESOURCE_EXCEPTIONS.includes([statement.Action].flat().join(','))).toBe(true);
    }
  });

  test.each(Object.keys(ALLOWED))('%s: touches only its own source, targets, dead letters and log group', (fn) => {
    const touched = new Set<string>();
    for (const statement of statementsByFunction.get(fn) ?? []) {
      for (const id of allReferencedLogicalIds(statement.Resource)) touched.add(id);
    }
    const outside = [...touched].filter((id) => !ALLOWED[fn].some((prefix) => id.startsWith(prefix)));
    expect(outside).toEqual([]);
  });

  test.each(Object.keys(ALLOWED))('%s: consumes only its own source', (fn) => {
    const consumed = new Set<string>();
    for (const statement of statementsByFunction.get(fn) ?? []) {
      if ([statement.Action].flat().some((action: string) => CONSUME.includes(action))) {
        for (const id of allReferencedLogicalIds(statement.Resource)) consumed.add(id);
      }
    }
    const source = ALLOWED[fn][0];
    expect([...consumed].every((id) => id.startsWith(source))).toBe(true);
    if (fn === 'order-api') expect(consumed.size).toBe(0);
    else expect(consumed.size).toBe(1);
  });

  test.each(Object.keys(ALLOWED).filter((fn) => fn !== 'order-api'))(
    '%s: reaches only its own idempotency records',
    (fn) => {
      const idempotency = (statementsByFunction.get(fn) ?? []).filter((statement) =>
        [...allReferencedLogicalIds(statement.Resource)].some((id) => id.startsWith('IdempotencyTable')),
      );
      expect(idempotency).toHaveLength(1);
      expect(idempotency[0].Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${fn}.*`] } });
    },
  );
});

describe('encryption and transport', () => {
  test('every queue, dead-letter and failure queue is encrypted at rest and refuses requests without TLS', () => {
    const queues = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SQS::Queue');
    expect(queues).toHaveLength(7);
    for (const [id, queue] of queues) {
      expect(queue.Properties.SqsManagedSseEnabled === true || queue.Properties.KmsMasterKeyId !== undefined, id).toBe(
        true,
      );
      const policy = Object.values(resources).find(
        (r) => r.Type === 'AWS::SQS::QueuePolicy' && JSON.stringify(r.Properties.Queues).includes(id),
      );
      expect(policy?.Properties.PolicyDocument.Statement, id).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      );
    }
  });

  test('the stream is encrypted with KMS, and every table at rest', () => {
    for (const stream of Object.values(resources).filter((r) => r.Type === 'AWS::Kinesis::Stream')) {
      expect(stream.Properties.StreamEncryption).toEqual({ EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' });
    }
    const tables = Object.values(resources).filter((r) => r.Type === 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(6);
    for (const table of tables) expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
  });

  test('the order API requires IAM (SigV4) auth', () => {
    const urls = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Url');
    expect(urls.map((url) => url.Properties.AuthType)).toEqual(['AWS_IAM']);
    expect(
      Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Permission' && r.Properties.Principal === '*'),
    ).toEqual([]);
  });

  test('no function carries a secret in its environment', () => {
    for (const fn of Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function')) {
      for (const [name, value] of Object.entries(fn.Properties.Environment.Variables)) {
        expect(/secret|password|token|api_?key|private/i.test(name), name).toBe(false);
        if (typeof value === 'string') expect(/AKIA[0-9A-Z]{16}|-----BEGIN/.test(value), name).toBe(false);
      }
    }
  });
});
