import { describe, expect, test } from 'vitest';
import { FilterCriteria, InvalidFilterPatternError } from '../../local/filter-criteria';

/** A message body: JSON text of an object unless a string is given. */
const text = (body: unknown) => (typeof body === 'string' ? body : JSON.stringify(body));

const passes = (pattern: object, body: unknown) =>
  new FilterCriteria([JSON.stringify({ body: pattern })], 'sqs').matchesSqsBody(text(body));

describe('FilterCriteria: the comparison operators of Lambda event filtering, with the examples of its documentation', () => {
  test.each([
    // [operator, pattern on the body, a body it lets through, a body it filters out]
    ['Null: UserID is null', { UserID: [null] }, { UserID: null }, { UserID: 'u-1' }],
    ['Empty: LastName is empty', { LastName: [''] }, { LastName: '' }, { LastName: 'Doe' }],
    ['Equals: Name is "Alice"', { Name: ['Alice'] }, { Name: 'Alice' }, { Name: 'alice' }],
    [
      'Equals (ignore case): Name is "Alice"',
      { Name: [{ 'equals-ignore-case': 'alice' }] },
      { Name: 'ALICE' },
      { Name: 'Bob' },
    ],
    [
      'And: Location is "New York" and Day is "Monday"',
      { Location: ['New York'], Day: ['Monday'] },
      { Location: 'New York', Day: 'Monday' },
      { Location: 'New York', Day: 'Tuesday' },
    ],
    [
      'Or: PaymentType is "Credit" or "Debit"',
      { PaymentType: ['Credit', 'Debit'] },
      { PaymentType: 'Debit' },
      { PaymentType: 'Cash' },
    ],
    [
      'Or (multiple fields): Location is "New York", or Day is "Monday"',
      { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] },
      { Location: 'Paris', Day: 'Monday' },
      { Location: 'Paris', Day: 'Tuesday' },
    ],
    [
      'Not: Weather is anything but "Raining"',
      { Weather: [{ 'anything-but': ['Raining'] }] },
      { Weather: 'Sunny' },
      { Weather: 'Raining' },
    ],
    ['Numeric (equals): Price is 100', { Price: [{ numeric: ['=', 100] }] }, { Price: 100 }, { Price: 101 }],
    [
      'Numeric (range): Price is more than 10, and less than or equal to 20',
      { Price: [{ numeric: ['>', 10, '<=', 20] }] },
      { Price: 20 },
      { Price: 10 },
    ],
    ['Exists: ProductName exists', { ProductName: [{ exists: true }] }, { ProductName: 'p' }, { Other: 1 }],
    [
      'Does not exist: ProductName does not exist',
      { ProductName: [{ exists: false }] },
      { Other: 1 },
      { ProductName: 'p' },
    ],
    [
      'Begins with: Region is in the US',
      { Region: [{ prefix: 'us-' }] },
      { Region: 'us-east-1' },
      { Region: 'eu-west-1' },
    ],
    [
      'Ends with: FileName ends with a .png extension',
      { FileName: [{ suffix: '.png' }] },
      { FileName: 'cat.png' },
      { FileName: 'cat.jpg' },
    ],
  ])('%s', (_operator, pattern, through, filteredOut) => {
    expect(passes(pattern, through)).toBe(true);
    expect(passes(pattern, filteredOut)).toBe(false);
  });

  test('GIVEN the SQS example: RequestCode "BBBB", and RecordNumber greater than 9999 THEN each passes its records only', () => {
    const message = (RecordNumber: number, RequestCode: string) => ({
      RecordNumber,
      TimeStamp: 'yyyy-mm-ddThh:mm:ss',
      RequestCode,
    });
    expect(passes({ RequestCode: ['BBBB'] }, message(1234, 'BBBB'))).toBe(true);
    expect(passes({ RequestCode: ['BBBB'] }, message(1234, 'AAAA'))).toBe(false);
    expect(passes({ RecordNumber: [{ numeric: ['>', 9999] }] }, message(10000, 'AAAA'))).toBe(true);
    expect(passes({ RecordNumber: [{ numeric: ['>', 9999] }] }, message(1234, 'AAAA'))).toBe(false);
  });

  test('GIVEN the Kinesis example: order type "buy" THEN records are matched on their decoded data', () => {
    const filter = new FilterCriteria(['{ "data" : { "order" : { "type" : [ "buy" ] } } }'], 'kinesis');
    const data = (type: string) =>
      Buffer.from(JSON.stringify({ record: 12345, order: { type, stock: 'ANYCO', quantity: 1000 } }));

    expect(filter.matchesKinesisData(data('buy'))).toBe(true);
    expect(filter.matchesKinesisData(data('sell'))).toBe(false);
    expect(filter.matchesKinesisData(Buffer.from('not json'))).toBe(false);
  });

  test('GIVEN several filters THEN a record passes when any of them matches', () => {
    const filter = new FilterCriteria(
      ['{"body":{"type":["OrderPlaced"]}}', '{"body":{"priority":[{"numeric":[">=",5]}]}}'],
      'sqs',
    );

    expect(filter.matchesSqsBody(text({ type: 'OrderPlaced' }))).toBe(true);
    expect(filter.matchesSqsBody(text({ type: 'Other', priority: 7 }))).toBe(true);
    expect(filter.matchesSqsBody(text({ type: 'Other', priority: 1 }))).toBe(false);
  });

  test('GIVEN $or at the top, each branch on the body THEN the body is parsed for every branch', () => {
    const filter = new FilterCriteria(['{"$or":[{"body":{"type":["A"]}},{"body":{"type":["B"]}}]}'], 'sqs');

    expect(filter.matchesSqsBody(text({ type: 'B' }))).toBe(true);
    expect(filter.matchesSqsBody(text({ type: 'C' }))).toBe(false);
  });

  test('GIVEN a body that is not JSON THEN an object pattern on body filters it out, a string rule matches the text', () => {
    expect(passes({ type: ['OrderPlaced'] }, 'plain text')).toBe(false);
    const onText = new FilterCriteria(['{"body":[{"prefix":"plain"}]}'], 'sqs');
    expect(onText.matchesSqsBody('plain text')).toBe(true);
    // A JSON body against a rule on the body as text: no match, as on AWS.
    expect(onText.matchesSqsBody(text({ plain: true }))).toBe(false);
  });

  test('GIVEN an array field THEN a rule matches when any element matches', () => {
    expect(passes({ tags: ['blue'] }, { tags: ['red', 'blue'] })).toBe(true);
    expect(passes({ tags: ['green'] }, { tags: ['red', 'blue'] })).toBe(false);
    // An array of objects: a nested pattern matches when any object does.
    expect(passes({ items: { sku: ['A-1'] } }, { items: [{ sku: 'B-2' }, { sku: 'A-1' }] })).toBe(true);
    expect(passes({ items: { sku: ['C-3'] } }, { items: [{ sku: 'B-2' }, { sku: 'A-1' }] })).toBe(false);
  });

  test('fails on more filters than a mapping may have', () => {
    const eleven = Array.from({ length: 11 }, (_, n) => `{"body":{"n":[${n}]}}`);

    expect(() => new FilterCriteria(eleven, 'sqs')).toThrow(
      'invalid filter pattern (11 filters): a mapping takes at most 10 filters (5 unless the quota was raised)',
    );
  });

  test.each([
    ['not JSON', '{ body', 'not JSON'],
    ['a leaf that is not a list', '{"body":{"type":"OrderPlaced"}}', "'type' must hold a list of rules or an object"],
    ['an unknown rule', '{"body":{"type":[{"contains":"x"}]}}', 'unknown rule {"contains":"x"} under \'type\''],
    ['a malformed numeric rule', '{"body":{"n":[{"numeric":[">"]}]}}', "malformed numeric rule under 'n'"],
    [
      'a prefix that is not a string',
      '{"body":{"a":[{"prefix":1}]}}',
      "the prefix rule under 'a' takes a string, got 1",
    ],
    [
      'an exists that is not a boolean',
      '{"body":{"a":[{"exists":"yes"}]}}',
      `the exists rule under 'a' takes true or false, got "yes"`,
    ],
    // SQS mappings filter on the body only; AWS refuses the message metadata.
    [
      'a key other than body',
      '{"attributes":{"ApproximateReceiveCount":["1"]}}',
      "this event source filters on 'body' only, got 'attributes'",
    ],
  ])('fails on %s, naming the pattern and the reason', (_case, pattern, reason) => {
    expect(() => new FilterCriteria([pattern], 'sqs')).toThrow(InvalidFilterPatternError);
    expect(() => new FilterCriteria([pattern], 'sqs')).toThrow(`invalid filter pattern ${pattern}: ${reason}`);
  });

  test('fails on a Kinesis pattern on anything but data, such as the partition key', () => {
    expect(() => new FilterCriteria(['{"partitionKey":["k"]}'], 'kinesis')).toThrow(
      `invalid filter pattern {"partitionKey":["k"]}: this event source filters on 'data' only, got 'partitionKey'`,
    );
  });

  test('GIVEN a template FilterCriteria THEN it reads its patterns; none when absent', () => {
    expect(FilterCriteria.fromTemplate(undefined, 'sqs')).toBeUndefined();
    const filter = FilterCriteria.fromTemplate({ Filters: [{ Pattern: '{"body":{"a":[1]}}' }] }, 'sqs');
    expect(filter?.matchesSqsBody(text({ a: 1 }))).toBe(true);
  });
});
