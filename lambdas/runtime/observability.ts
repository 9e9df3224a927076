import { Logger } from '@aws-lambda-powertools/logger';

/** What stands in a log line instead of a redacted value. */
export const REDACTED = '[redacted]';

/** Keys whose values are personal data and never reach a log line. */
const PERSONAL_KEYS = /e-?mail|phone|password|secret|token/i;
/** Email addresses inside any string that does reach a log line. */
const EMAIL_ADDRESS = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

/**
 * A JSON replacer that redacts personal data: the whole value of any key that names it (`customerEmail`, `phone`...,
 * objects and arrays included), and any email address inside other strings, such as an error message that quotes
 * a body.
 */
export function redactPersonalData(key: string, value: unknown): unknown {
  if (key && PERSONAL_KEYS.test(key) && value !== undefined && value !== null) return REDACTED;
  if (typeof value === 'string') return value.replace(EMAIL_ADDRESS, REDACTED);
  return value;
}

/** A Powertools logger (JSON, service name from the environment) that redacts personal data. */
export function createLogger(): Logger {
  return new Logger({ jsonReplacerFn: redactPersonalData });
}
