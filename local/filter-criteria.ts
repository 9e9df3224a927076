/**
 * Lambda's event filtering for an event source mapping (`FilterCriteria`), as AWS documents it: patterns ORed; each
 * a JSON object whose leaves are arrays of rules, ORed; fields of one object ANDed. SQS mappings filter on `body`,
 * Kinesis mappings on `data` (decoded), each parsed as JSON when it is a JSON object.
 *
 * No pattern-matching package on npm implements Lambda's rule syntax (EventBridge's matchers live in Java and in
 * services), so the rules are implemented here and tested against AWS's documented examples.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Pattern = { readonly [key: string]: unknown };

/** The most filters one mapping may have: 5 by default, 10 with a raised quota. */
const MAX_FILTERS = 10;

/** A pattern that is not valid filter syntax: the mapping would be refused by Lambda. */
export class InvalidFilterPatternError extends Error {
  constructor(pattern: string, reason: string) {
    super(`invalid filter pattern ${pattern}: ${reason}`);
    this.name = 'InvalidFilterPatternError';
  }
}

/** The `FilterCriteria` of an event source mapping, ready to test records against. */
export class FilterCriteria {
  /**
   * From a template's `FilterCriteria` property (`{ Filters: [{ Pattern: '...' }] }`) for a mapping of `source`;
   * none when absent.
   */
  public static fromTemplate(value: unknown, source: FilterSource): FilterCriteria | undefined {
    const filters = (value as { Filters?: { Pattern?: unknown }[] } | undefined)?.Filters;
    if (!filters || filters.length === 0) return undefined;
    return new FilterCriteria(
      filters.map((filter) => String(filter.Pattern)),
      source,
    );
  }

  private readonly patterns: Pattern[];
  private readonly payloadKey: 'body' | 'data';

  /** `source`: an SQS mapping filters on `body`, a Kinesis mapping on `data`; AWS refuses any other key. */
  constructor(patterns: readonly string[], source: FilterSource) {
    if (patterns.length > MAX_FILTERS) {
      throw new InvalidFilterPatternError(
        `(${patterns.length} filters)`,
        `a mapping takes at most ${MAX_FILTERS} filters (5 unless the quota was raised)`,
      );
    }
    this.payloadKey = source === 'sqs' ? 'body' : 'data';
    this.patterns = patterns.map((text) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new InvalidFilterPatternError(text, 'not JSON');
      }
      if (!isObject(parsed)) throw new InvalidFilterPatternError(text, 'not a JSON object');
      validateTopLevel(parsed, text, this.payloadKey);
      validate(parsed, text);
      return parsed;
    });
  }

  /** Whether an SQS message body passes: any pattern matches. */
  public matchesSqsBody(body: string): boolean {
    return this.matches(body);
  }

  /** Whether a Kinesis record's data passes: any pattern matches. */
  public matchesKinesisData(data: Uint8Array): boolean {
    return this.matches(Buffer.from(data).toString('utf8'));
  }

  /**
   * The payload is matched as JSON when it is a JSON object, else as its text: an object rule needs JSON, a list of
   * rules on the payload itself matches text. So a JSON payload against a rule on plain text, or plain text
   * against an object rule, does not match, as on AWS.
   */
  private matches(text: string): boolean {
    const payload = { [this.payloadKey]: parseJsonObject(text) ?? text };
    return this.patterns.some((pattern) => matchesObject(pattern, payload));
  }
}

/** The kind of event source a mapping reads. */
export type FilterSource = 'sqs' | 'kinesis';

/** SQS mappings filter on `body` only, Kinesis mappings on `data` only (at the top, or in each `$or` branch). */
function validateTopLevel(pattern: Pattern, text: string, payloadKey: string): void {
  for (const [key, value] of Object.entries(pattern)) {
    if (key === '$or' && Array.isArray(value)) {
      for (const branch of value) if (isObject(branch)) validateTopLevel(branch, text, payloadKey);
    } else if (key !== payloadKey) {
      throw new InvalidFilterPatternError(text, `this event source filters on '${payloadKey}' only, got '${key}'`);
    }
  }
}

function matchesObject(pattern: Pattern, value: unknown): boolean {
  // A nested pattern against an array of objects matches when any element does.
  if (Array.isArray(value)) return value.some((element) => matchesObject(pattern, element));
  return Object.entries(pattern).every(([key, rule]) => {
    if (key === '$or') return (rule as Pattern[]).some((alternative) => matchesObject(alternative, value));
    const present = isObject(value) && Object.hasOwn(value, key);
    const field = present ? (value as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(rule)) return matchesRules(rule, present, field);
    return present && matchesObject(rule as Pattern, field);
  });
}

/** A field matches a list of rules when any rule matches it (any element, for an array field). */
function matchesRules(rules: readonly unknown[], present: boolean, field: unknown): boolean {
  return rules.some((rule) => {
    if (isObject(rule) && 'exists' in rule) return rule.exists === present;
    if (!present) return false;
    const values = Array.isArray(field) ? field : [field];
    return values.some((value) => matchesRule(rule, value));
  });
}

function matchesRule(rule: unknown, value: unknown): boolean {
  if (!isObject(rule)) return value === rule;
  if ('prefix' in rule) return typeof value === 'string' && value.startsWith(String(rule.prefix));
  if ('suffix' in rule) return typeof value === 'string' && value.endsWith(String(rule.suffix));
  if ('equals-ignore-case' in rule) {
    return typeof value === 'string' && value.toLowerCase() === String(rule['equals-ignore-case']).toLowerCase();
  }
  if ('numeric' in rule) return typeof value === 'number' && inNumericRange(rule.numeric as unknown[], value);
  if ('anything-but' in rule) {
    const excluded = rule['anything-but'];
    if (isObject(excluded)) return !matchesRule(excluded, value);
    return !(Array.isArray(excluded) ? excluded : [excluded]).includes(value as Json);
  }
  return false;
}

function inNumericRange(conditions: readonly unknown[], value: number): boolean {
  for (let i = 0; i < conditions.length; i += 2) {
    const bound = Number(conditions[i + 1]);
    const holds = {
      '=': value === bound,
      '<': value < bound,
      '<=': value <= bound,
      '>': value > bound,
      '>=': value >= bound,
    }[String(conditions[i])];
    if (!holds) return false;
  }
  return true;
}

const RULE_OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'numeric', 'anything-but', 'exists']);
const NUMERIC_OPERATORS = new Set(['=', '<', '<=', '>', '>=']);

/** Refuses what Lambda refuses: leaves that are not lists, unknown operators, malformed numeric conditions. */
function validate(pattern: Pattern, text: string): void {
  for (const [key, rule] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(rule) || rule.length < 2 || !rule.every(isObject)) {
        throw new InvalidFilterPatternError(text, '$or takes a list of two or more patterns');
      }
      for (const alternative of rule) validate(alternative as Pattern, text);
    } else if (Array.isArray(rule)) {
      for (const item of rule) {
        if (!isObject(item)) continue;
        const [operator, ...others] = Object.keys(item);
        if (!RULE_OPERATORS.has(operator) || others.length > 0) {
          throw new InvalidFilterPatternError(text, `unknown rule ${JSON.stringify(item)} under '${key}'`);
        }
        if (!operandFits(operator, item[operator])) {
          throw new InvalidFilterPatternError(
            text,
            `the ${operator} rule under '${key}' takes ${OPERAND_TYPES[operator]}, got ${JSON.stringify(item[operator])}`,
          );
        }
        const numeric = item.numeric;
        if (
          operator === 'numeric' &&
          (!Array.isArray(numeric) ||
            numeric.length % 2 !== 0 ||
            numeric.some((part, index) =>
              index % 2 === 0 ? !NUMERIC_OPERATORS.has(String(part)) : typeof part !== 'number',
            ))
        ) {
          throw new InvalidFilterPatternError(text, `malformed numeric rule under '${key}'`);
        }
      }
    } else if (isObject(rule)) {
      validate(rule, text);
    } else {
      throw new InvalidFilterPatternError(text, `'${key}' must hold a list of rules or an object`);
    }
  }
}

/** What each rule operator takes, as a message says it. */
const OPERAND_TYPES: Readonly<Record<string, string>> = {
  prefix: 'a string',
  suffix: 'a string',
  'equals-ignore-case': 'a string',
  exists: 'true or false',
  numeric: 'a list of comparisons and numbers',
  'anything-but': 'a string, a number, a list of them, or a prefix, suffix or equals-ignore-case rule',
};

function operandFits(operator: string, operand: unknown): boolean {
  const scalar = (value: unknown) => typeof value === 'string' || typeof value === 'number';
  switch (operator) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
      return typeof operand === 'string';
    case 'exists':
      return typeof operand === 'boolean';
    case 'anything-but':
      if (Array.isArray(operand)) return operand.length > 0 && operand.every(scalar);
      if (isObject(operand)) {
        const [inner, ...others] = Object.keys(operand);
        return (
          others.length === 0 &&
          ['prefix', 'suffix', 'equals-ignore-case'].includes(inner) &&
          typeof operand[inner] === 'string'
        );
      }
      return scalar(operand);
    default:
      return true;
  }
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(text);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
