/**
 * Lambda's event filtering for an event source mapping (`FilterCriteria`), as AWS documents it: up to ten patterns,
 * ORed; each a JSON object whose leaves are arrays of rules, ORed; fields of one object ANDed. SQS patterns apply to
 * the record (`body` parsed as JSON when the pattern gives it an object); Kinesis patterns to `data`, decoded.
 *
 * No pattern-matching package on npm implements Lambda's rule syntax (EventBridge's matchers live in Java and in
 * services), so the rules are implemented here and tested against AWS's documented examples.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Pattern = { readonly [key: string]: unknown };

/** A pattern that is not valid filter syntax: the mapping would be refused by Lambda. */
export class InvalidFilterPatternError extends Error {
  constructor(pattern: string, reason: string) {
    super(`invalid filter pattern ${pattern}: ${reason}`);
    this.name = 'InvalidFilterPatternError';
  }
}

/** The `FilterCriteria` of an event source mapping, ready to test records against. */
export class FilterCriteria {
  /** From a template's `FilterCriteria` property (`{ Filters: [{ Pattern: '...' }] }`); none when absent. */
  public static fromTemplate(value: unknown): FilterCriteria | undefined {
    const filters = (value as { Filters?: { Pattern?: unknown }[] } | undefined)?.Filters;
    if (!filters || filters.length === 0) return undefined;
    return new FilterCriteria(filters.map((filter) => String(filter.Pattern)));
  }

  private readonly patterns: Pattern[];

  constructor(patterns: readonly string[]) {
    this.patterns = patterns.map((text) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new InvalidFilterPatternError(text, 'not JSON');
      }
      if (!isObject(parsed)) throw new InvalidFilterPatternError(text, 'not a JSON object');
      validate(parsed, text);
      return parsed;
    });
  }

  /** Whether an SQS record (as the function would receive it) passes: any pattern matches. */
  public matchesSqsRecord(record: { readonly body: string }): boolean {
    return this.patterns.some((pattern) =>
      matchesPayload(pattern, record as Record<string, unknown>, 'body', record.body),
    );
  }

  /** Whether a Kinesis record's data passes: any pattern matches. Kinesis filters only on `data`. */
  public matchesKinesisData(data: Uint8Array): boolean {
    const text = Buffer.from(data).toString('utf8');
    return this.patterns.some((pattern) => matchesPayload(pattern, { data: text }, 'data', text));
  }
}

/**
 * Matches a pattern against a record whose `payloadKey` (SQS `body`, Kinesis `data`) holds text: an object rule on
 * it needs the text to be a JSON object; a list of rules on it matches the text itself. A JSON payload against a
 * plain-string rule, or plain text against an object rule, does not match.
 */
function matchesPayload(pattern: Pattern, record: Record<string, unknown>, payloadKey: string, text: string): boolean {
  const payloadRule = pattern[payloadKey];
  if (payloadRule === undefined || Array.isArray(payloadRule)) {
    if (Array.isArray(payloadRule) && parseJsonObject(text) !== undefined) return false;
    return matchesObject(pattern, record);
  }
  const parsed = parseJsonObject(text);
  if (parsed === undefined) return false;
  return matchesObject(pattern, { ...record, [payloadKey]: parsed });
}

function matchesObject(pattern: Pattern, value: unknown): boolean {
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
