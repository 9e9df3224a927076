import type { LocalAlarm, LocalCompositeAlarm, LocalMetricAlarm } from './dashboard-model';
import { type LocalMetrics, noSourceReason } from './local-metrics';
import { metricKey, parseStatistic } from './metric-store';

/** An alarm's state, as CloudWatch names them. */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** Where an alarm stands, and why. */
export interface AlarmStatus {
  readonly state: AlarmState;
  /** Why, in CloudWatch's manner: the datapoints against the threshold, or the alarms a rule found in ALARM. */
  readonly reason: string;
  /** Since when (epoch milliseconds) it has been in this state. */
  readonly since: number;
}

/** A composite alarm's rule, parsed. */
type Rule =
  | { readonly kind: 'state'; readonly state: AlarmState; readonly alarm: string }
  | { readonly kind: 'and' | 'or'; readonly left: Rule; readonly right: Rule }
  | { readonly kind: 'not'; readonly operand: Rule }
  | { readonly kind: 'constant'; readonly value: boolean };

/** Thrown for an alarm rule that is not CloudWatch's syntax; the message says where. */
export class AlarmRuleSyntaxError extends Error {
  constructor(rule: string, why: string) {
    super(`cannot read the alarm rule '${rule}': ${why}`);
    this.name = 'AlarmRuleSyntaxError';
  }
}

const COMPARISONS: Readonly<Record<string, [(value: number, threshold: number) => boolean, string]>> = {
  GreaterThanThreshold: [(value, threshold) => value > threshold, 'greater than'],
  GreaterThanOrEqualToThreshold: [(value, threshold) => value >= threshold, 'greater than or equal to'],
  LessThanThreshold: [(value, threshold) => value < threshold, 'less than'],
  LessThanOrEqualToThreshold: [(value, threshold) => value <= threshold, 'less than or equal to'],
};

/**
 * Evaluates every alarm of the app by its own rule over the local metrics: a metric alarm takes its statistic over
 * its last `EvaluationPeriods` periods (each scaled down by `periodScale`, and ending at the evaluation, not aligned
 * to the clock), counts the breaching ones against `DatapointsToAlarm`, and treats periods without data as its
 * `TreatMissingData` says; a composite alarm evaluates its `AlarmRule` over the other alarms' states.
 */
export class AlarmStates {
  private readonly statuses = new Map<string, AlarmStatus>();
  private readonly rules = new Map<string, Rule | Error>();

  constructor(
    /** The app's alarms. */
    public readonly alarms: readonly LocalAlarm[],
    private readonly metrics: LocalMetrics,
    /** How a template period maps to a local one: `seconds * 1000 / scale` milliseconds, at least `minPeriodMs`. */
    private readonly periodMs: (seconds: number) => number,
  ) {
    for (const alarm of alarms) {
      if (alarm.kind !== 'composite') continue;
      try {
        if (alarm.unsupported) throw new Error(alarm.unsupported);
        this.rules.set(alarm.arn, parseRule(alarm.rule));
      } catch (error) {
        this.rules.set(alarm.arn, error as Error);
      }
    }
  }

  /** The alarm with this ARN or name. */
  public find(ref: string): LocalAlarm | undefined {
    return this.alarms.find((alarm) => alarm.arn === ref || alarm.name === ref);
  }

  /** The alarm's status at the last evaluation: INSUFFICIENT_DATA before the first, as a new alarm on AWS. */
  public status(arn: string): AlarmStatus {
    return this.statuses.get(arn) ?? { state: 'INSUFFICIENT_DATA', reason: 'not evaluated yet', since: 0 };
  }

  /** Evaluates every alarm at `now`: the metric alarms first, then the composite ones over their states. */
  public evaluate(now: number): void {
    for (const alarm of this.alarms) {
      if (alarm.kind === 'metric') this.set(alarm.arn, this.evaluateMetricAlarm(alarm, now), now);
    }
    const done = new Set<string>();
    const visit = (alarm: LocalCompositeAlarm, path: readonly string[]) => {
      if (done.has(alarm.arn)) return;
      for (const ref of referencedAlarms(this.rules.get(alarm.arn))) {
        const referenced = this.find(ref);
        if (referenced?.kind === 'composite' && !path.includes(referenced.arn))
          visit(referenced, [...path, referenced.arn]);
      }
      this.set(alarm.arn, this.evaluateComposite(alarm), now);
      done.add(alarm.arn);
    };
    for (const alarm of this.alarms) if (alarm.kind === 'composite') visit(alarm, [alarm.arn]);
  }

  private set(arn: string, next: Omit<AlarmStatus, 'since'>, now: number): void {
    const previous = this.statuses.get(arn);
    this.statuses.set(arn, { ...next, since: previous && previous.state === next.state ? previous.since : now });
  }

  private evaluateMetricAlarm(alarm: LocalMetricAlarm, now: number): Omit<AlarmStatus, 'since'> {
    const insufficient = (reason: string) => ({ state: 'INSUFFICIENT_DATA' as const, reason });
    if (alarm.unsupported || !alarm.metric) return insufficient(alarm.unsupported ?? 'no metric');
    const statistic = parseStatistic(alarm.stat);
    if (!statistic) return insufficient(`the statistic ${alarm.stat} is not computed locally`);
    const comparison = COMPARISONS[alarm.comparisonOperator];
    if (!comparison) return insufficient(`${alarm.comparisonOperator} is not evaluated locally`);
    const [compare, words] = comparison;

    const periodMs = this.periodMs(alarm.periodSeconds);
    const key = metricKey(alarm.metric);
    const values: (number | undefined)[] = [];
    for (let period = alarm.evaluationPeriods - 1; period >= 0; period--) {
      const to = now - period * periodMs;
      values.push(this.metrics.store.statistic(key, statistic, to - periodMs, to));
    }
    const treat = alarm.treatMissingData;
    let breaching = 0;
    let present = 0;
    for (const value of values) {
      if (value === undefined) {
        if (treat === 'breaching') breaching++;
        if (treat === 'breaching' || treat === 'notBreaching') present++;
        continue;
      }
      present++;
      if (compare(value, alarm.threshold)) breaching++;
    }
    const source = this.metrics.source(alarm.metric);
    const shown = values.map((value) => (value === undefined ? 'no data' : round(value))).join(', ');
    const detail =
      `${breaching} of the last ${values.length} datapoints (periods of ${periodMs / 1000} s) ${words} ` +
      `the threshold (${alarm.threshold}): [${shown}]` +
      (source.local ? '' : `; ${noSourceReason(alarm.metric)}, missing data treated as ${treat}`);
    if (breaching >= alarm.datapointsToAlarm) return { state: 'ALARM', reason: `Threshold crossed: ${detail}` };
    if (present === 0) {
      if (treat === 'ignore') {
        const previous = this.status(alarm.arn);
        return { state: previous.state, reason: `no data, ignored: ${previous.reason}` };
      }
      return insufficient(`no data: ${detail}`);
    }
    return { state: 'OK', reason: detail };
  }

  private evaluateComposite(alarm: LocalCompositeAlarm): Omit<AlarmStatus, 'since'> {
    const rule = this.rules.get(alarm.arn);
    if (!rule || rule instanceof Error) return { state: 'INSUFFICIENT_DATA', reason: rule?.message ?? 'no rule' };
    const missing = referencedAlarms(rule).filter((ref) => !this.find(ref));
    if (missing.length > 0)
      return {
        state: 'INSUFFICIENT_DATA',
        reason: `its rule names alarms that are not in the app: ${missing.join(', ')}`,
      };
    if (!this.holds(rule)) return { state: 'OK', reason: 'its rule is false' };
    const inAlarm = referencedAlarms(rule)
      .map((ref) => this.find(ref) as LocalAlarm)
      .filter((referenced) => this.status(referenced.arn).state === 'ALARM')
      .map((referenced) => referenced.name);
    return { state: 'ALARM', reason: `its rule is true${inAlarm.length ? `; in ALARM: ${inAlarm.join(', ')}` : ''}` };
  }

  private holds(rule: Rule): boolean {
    switch (rule.kind) {
      case 'constant':
        return rule.value;
      case 'not':
        return !this.holds(rule.operand);
      case 'and':
        return this.holds(rule.left) && this.holds(rule.right);
      case 'or':
        return this.holds(rule.left) || this.holds(rule.right);
      case 'state': {
        const alarm = this.find(rule.alarm);
        return alarm !== undefined && this.status(alarm.arn).state === rule.state;
      }
    }
  }
}

function round(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

function referencedAlarms(rule: Rule | Error | undefined): string[] {
  if (!rule || rule instanceof Error) return [];
  switch (rule.kind) {
    case 'state':
      return [rule.alarm];
    case 'not':
      return referencedAlarms(rule.operand);
    case 'and':
    case 'or':
      return [...referencedAlarms(rule.left), ...referencedAlarms(rule.right)];
    case 'constant':
      return [];
  }
}

/**
 * Parses a composite alarm's rule: `ALARM(name)`, `OK(name)`, `INSUFFICIENT_DATA(name)` (a name or ARN, quoted or
 * not), `TRUE`, `FALSE`, `NOT`, `AND`, `OR` and parentheses; AND binds tighter than OR, as in CloudWatch.
 */
export function parseRule(text: string): Rule {
  let at = 0;
  const skipSpace = () => {
    while (at < text.length && /\s/.test(text[at])) at++;
  };
  const fail = (why: string): never => {
    throw new AlarmRuleSyntaxError(text, `${why} at character ${at + 1}`);
  };
  const word = () => {
    skipSpace();
    const match = /^[A-Z_]+/.exec(text.slice(at));
    return match?.[0];
  };
  const expect = (char: string) => {
    skipSpace();
    if (text[at] !== char) fail(`expected '${char}'`);
    at++;
  };
  const argument = (): string => {
    skipSpace();
    if (text[at] === '"' || text[at] === "'") {
      const quote = text[at];
      const end = text.indexOf(quote, at + 1);
      if (end < 0) fail('an unterminated string');
      const value = text.slice(at + 1, end);
      at = end + 1;
      return value;
    }
    const end = text.indexOf(')', at);
    if (end < 0) fail("expected ')'");
    const value = text.slice(at, end).trim();
    at = end;
    return value;
  };
  const primary = (): Rule => {
    skipSpace();
    if (text[at] === '(') {
      at++;
      const inner = or();
      expect(')');
      return inner;
    }
    const keyword = word();
    if (keyword === undefined) return fail('expected ALARM, OK, INSUFFICIENT_DATA, TRUE, FALSE, NOT or (');
    at += keyword.length;
    switch (keyword) {
      case 'TRUE':
      case 'FALSE':
        return { kind: 'constant', value: keyword === 'TRUE' };
      case 'NOT':
        return { kind: 'not', operand: primary() };
      case 'ALARM':
      case 'OK':
      case 'INSUFFICIENT_DATA': {
        expect('(');
        const alarm = argument();
        expect(')');
        return { kind: 'state', state: keyword, alarm };
      }
      default:
        return fail(`unexpected ${keyword}`);
    }
  };
  const and = (): Rule => {
    let left = primary();
    while (word() === 'AND') {
      at += 3;
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };
  const or = (): Rule => {
    let left = and();
    while (word() === 'OR') {
      at += 2;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const rule = or();
  skipSpace();
  if (at < text.length) fail(`unexpected '${text.slice(at, at + 10)}'`);
  return rule;
}
