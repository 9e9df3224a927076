import { CfnParameter, RemovalPolicy, type Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, test } from 'vitest';
import { IDEMPOTENCY_ITEM_ACTIONS, IdempotencyTable } from '../../lib/idempotency-table';
import { createTestStack, snapshotTemplate } from '../helpers/template';

/** A plain function with inline code: granting needs no bundled consumer. */
function inlineFunction(stack: Stack, id = 'Fn'): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
  });
}

describe('IdempotencyTable with default props', () => {
  let table: IdempotencyTable;
  let template: Template;

  beforeAll(() => {
    // GIVEN
    const { stack } = createTestStack();

    // WHEN
    table = new IdempotencyTable(stack, 'Idempotency');
    template = Template.fromStack(stack);
  });

  test('THEN it creates exactly one table', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
  });

  test('THEN the partition key is `id` of type string, with no sort key', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    });
    expect(IdempotencyTable.PARTITION_KEY).toBe('id');
  });

  test('THEN time to live is on the `expiration` attribute', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
    expect(IdempotencyTable.TTL_ATTRIBUTE).toBe('expiration');
  });

  test('THEN billing is on demand', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      ProvisionedThroughput: Match.absent(),
    });
  });

  test('THEN point-in-time recovery is on for 35 days', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 35 },
    });
  });

  test('THEN the table is encrypted at rest with the AWS managed key', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, KMSMasterKeyId: Match.absent(), SSEType: Match.absent() },
    });
    template.resourceCountIs('AWS::KMS::Key', 0);
  });

  test('THEN the table is retained when it leaves the stack', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('THEN CloudFormation names the table', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: Match.absent() });
  });

  test('THEN tableName and tableArn refer to the table', () => {
    const stack = table.table.stack;
    const logicalId = stack.getLogicalId(table.table.node.defaultChild as never);
    expect(stack.resolve(table.tableName)).toEqual({ Ref: logicalId });
    expect(stack.resolve(table.tableArn)).toEqual({ 'Fn::GetAtt': [logicalId, 'Arn'] });
  });

  test('THEN it matches the snapshot', () => {
    expect(snapshotTemplate(template)).toMatchSnapshot();
  });
});

describe('IdempotencyTable props', () => {
  test('GIVEN removalPolicy DESTROY THEN the table is deleted with the stack', () => {
    // GIVEN
    const { stack } = createTestStack();

    // WHEN
    new IdempotencyTable(stack, 'Idempotency', { removalPolicy: RemovalPolicy.DESTROY });

    // THEN
    Template.fromStack(stack).hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
  });

  test('GIVEN a tableName THEN the table has that physical name', () => {
    // GIVEN
    const { stack } = createTestStack();

    // WHEN
    new IdempotencyTable(stack, 'Idempotency', { tableName: 'orders-idempotency' });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'orders-idempotency' });
  });

  test('GIVEN pointInTimeRecoveryDays THEN recovery keeps that many days', () => {
    // GIVEN
    const { stack } = createTestStack();

    // WHEN
    new IdempotencyTable(stack, 'Idempotency', { pointInTimeRecoveryDays: 7 });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 7 },
    });
  });

  test.each([1, 35])('GIVEN pointInTimeRecoveryDays %d at the edge of the range THEN it is accepted', (days) => {
    // GIVEN
    const { stack } = createTestStack();

    // WHEN
    new IdempotencyTable(stack, 'Idempotency', { pointInTimeRecoveryDays: days });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { RecoveryPeriodInDays: days },
    });
  });

  test('GIVEN an encryptionKey THEN the table is encrypted with that customer managed key', () => {
    // GIVEN
    const { stack } = createTestStack();
    const key = new kms.Key(stack, 'Key');

    // WHEN
    new IdempotencyTable(stack, 'Idempotency', { encryptionKey: key });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
      },
    });
  });

  // A Token pointInTimeRecoveryDays is skipped by the kit's validator, but aws-cdk-lib's own dynamodb.Table rejects
  // any unresolved recoveryPeriodInDays, so the Token case here is the table name.
  test('GIVEN a tableName Token THEN it passes through to the table', () => {
    // GIVEN
    const { stack } = createTestStack();
    const tableName = new CfnParameter(stack, 'TableName', { type: 'String' }).valueAsString;

    // WHEN
    const table = new IdempotencyTable(stack, 'Idempotency', { tableName, pointInTimeRecoveryDays: 7 });

    // THEN
    expect(Token.isUnresolved(table.table.tableName)).toBe(true);
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', { TableName: { Ref: 'TableName' } });
  });
});

describe('IdempotencyTable validation', () => {
  test.each([0, 36, 1.5])('fails when pointInTimeRecoveryDays is %d', (days) => {
    // GIVEN
    const { stack } = createTestStack();

    // WHEN / THEN
    expect(() => new IdempotencyTable(stack, 'Idempotency', { pointInTimeRecoveryDays: days })).toThrow(
      `IdempotencyTable at 'TestStack/Idempotency' has invalid props:\n  - pointInTimeRecoveryDays must be an integer from 1 to 35, got ${days}`,
    );
  });
});

describe('IdempotencyTable.grantIdempotency', () => {
  let template: Template;
  let tableLogicalId: string;

  beforeAll(() => {
    // GIVEN
    const { stack } = createTestStack();
    const table = new IdempotencyTable(stack, 'Idempotency');
    const fn = inlineFunction(stack);
    tableLogicalId = stack.getLogicalId(table.table.node.defaultChild as never);

    // WHEN
    table.grantIdempotency(fn);
    template = Template.fromStack(stack);
  });

  test('THEN the function may do exactly the item actions Powertools performs, on the table only', () => {
    template.resourceCountIs('AWS::IAM::Policy', 1);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
            Resource: { 'Fn::GetAtt': [tableLogicalId, 'Arn'] },
          },
        ],
      },
    });
    expect(IDEMPOTENCY_ITEM_ACTIONS).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    ]);
  });

  test('THEN no statement allows a wildcard or a table-level action', () => {
    const json = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(json).not.toMatch(/dynamodb:\*|dynamodb:Scan|dynamodb:Query|dynamodb:BatchWriteItem|kms:/);
  });

  test('THEN it only grants: the function environment is left as it was', () => {
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(fn.Properties.Environment).toBeUndefined();
  });
});

describe('IdempotencyTable.grantIdempotency with a key prefix, to any grantee', () => {
  test('GIVEN a role WHEN granted with keyPrefix THEN the role may touch only the keys that start with it', () => {
    // GIVEN
    const { stack } = createTestStack();
    const table = new IdempotencyTable(stack, 'Idempotency');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

    // WHEN
    table.grantIdempotency(role, { keyPrefix: 'orders.' });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(role.node.defaultChild as never) }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: [...IDEMPOTENCY_ITEM_ACTIONS],
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['orders.*'] } },
          }),
        ],
      },
    });
  });
});

describe('IdempotencyTable.fromTableName / fromTableArn', () => {
  test('GIVEN an existing table by name WHEN granted THEN the grant names its ARN in this stack and creates no table', () => {
    // GIVEN
    const { stack } = createTestStack();
    const table = IdempotencyTable.fromTableName(stack, 'Existing', 'shared-idempotency');
    const fn = inlineFunction(stack);

    // WHEN
    table.grantIdempotency(fn, { keyPrefix: 'audit.' });

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    expect(stack.resolve(table.tableName)).toBe('shared-idempotency');
    const json = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(json).toContain(':table/shared-idempotency');
    expect(json).toContain('audit.*');
  });

  test('GIVEN an existing table by ARN with its key WHEN granted THEN the grant names the ARN and the key', () => {
    // GIVEN
    const { stack } = createTestStack();
    const key = new kms.Key(stack, 'Key');
    const arn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/shared-idempotency';
    const table = IdempotencyTable.fromTableAttributes(stack, 'Existing', { tableArn: arn, encryptionKey: key });
    const fn = inlineFunction(stack);

    // WHEN
    table.grantIdempotency(fn);

    // THEN
    expect(IdempotencyTable.fromTableArn(stack, 'ByArn', arn).tableName).toBe('shared-idempotency');
    const json = JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    expect(json).toContain(arn);
    expect(json).toContain('kms:Decrypt');
  });

  test.each([
    [{}, 'neither'],
    [{ tableName: 'a', tableArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/a' }, 'both'],
  ])('fails when given %j: exactly one of tableName and tableArn', (attributes, which) => {
    // GIVEN
    const { stack } = createTestStack();

    // WHEN / THEN
    expect(() => IdempotencyTable.fromTableAttributes(stack, 'Existing', attributes)).toThrow(
      `IdempotencyTable.fromTableAttributes at 'TestStack/Existing' needs exactly one of tableName and tableArn, got ${which}`,
    );
  });
});

describe('IdempotencyTable.grantIdempotency with a customer managed key', () => {
  test('GIVEN an encryptionKey WHEN granted THEN the function may also use the key', () => {
    // GIVEN
    const { stack } = createTestStack();
    const key = new kms.Key(stack, 'Key');
    const table = new IdempotencyTable(stack, 'Idempotency', { encryptionKey: key });
    const fn = inlineFunction(stack);

    // WHEN
    const grant = table.grantIdempotency(fn);

    // THEN
    expect(grant.success).toBe(true);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: Match.arrayWith(['kms:Decrypt', 'kms:Encrypt']),
            Resource: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
          }),
        ]),
      },
    });
  });
});
