import { IntrinsicResolver, LOCAL_ACCOUNT, LOCAL_REGION, type LocalResource } from '../intrinsics';
import type { ProvisionedStack } from '../provision';
import type { MetricIdentity } from './metric-store';

/** CloudWatch's default period of a dashboard metric without one, in seconds. */
const DEFAULT_PERIOD_SECONDS = 300;

/** One metric line of a graph, as the dashboard body gives it, with its dimensions resolved to local names. */
export interface WidgetMetric {
  /** The metric; undefined for a math expression. */
  readonly metric?: MetricIdentity;
  /** A metric math expression (`m1 + m2`), which the local cloud does not evaluate. */
  readonly expression?: string;
  /** The metric's `id` (for expressions). */
  readonly id?: string;
  /** The legend label: the `label` given, else the metric name (with the statistic when two lines share it). */
  readonly label: string;
  /** CloudWatch's statistic: `Sum`, `Maximum`, `p99`... */
  readonly stat: string;
  /** The period in the template, in seconds. */
  readonly periodSeconds: number;
  readonly yAxis: 'left' | 'right';
  /** False for a line only an expression uses. */
  readonly visible: boolean;
  readonly color?: string;
}

/** One widget of a dashboard, with its position on CloudWatch's grid of 24 columns. */
export interface DashboardWidget {
  /** `text`, `metric`, `alarm`, `log`... */
  readonly type: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly title?: string;
  /** A text widget's markdown. */
  readonly markdown?: string;
  /** A metric widget's view: `timeSeries`, `singleValue`, `bar`, `pie`, `gauge`. */
  readonly view?: string;
  readonly stacked?: boolean;
  readonly metrics: readonly WidgetMetric[];
  /** An alarm widget's alarms, or a metric widget's alarm annotations: ARNs. */
  readonly alarms: readonly string[];
  /** Horizontal annotations of a metric widget. */
  readonly horizontalAnnotations: readonly { readonly value: number; readonly label?: string }[];
  readonly leftAxisLabel?: string;
  readonly rightAxisLabel?: string;
}

/** A dashboard of the template, its body resolved to local names. */
export interface LocalDashboard {
  readonly stackName: string;
  readonly logicalId: string;
  /** `DashboardName`, else a name of the stack and logical ID. */
  readonly name: string;
  readonly widgets: readonly DashboardWidget[];
  /** Why the body could not be read, when it could not. */
  readonly error?: string;
}

/** A metric alarm of the template (`AWS::CloudWatch::Alarm`). */
export interface LocalMetricAlarm {
  readonly kind: 'metric';
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly description?: string;
  /** The metric; undefined for an alarm on metric math or an anomaly band, not evaluated locally. */
  readonly metric?: MetricIdentity;
  readonly stat: string;
  readonly periodSeconds: number;
  readonly threshold: number;
  readonly comparisonOperator: string;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  /** `missing` (the default), `notBreaching`, `breaching` or `ignore`. */
  readonly treatMissingData: string;
  /** Why it cannot be evaluated locally, when it cannot. */
  readonly unsupported?: string;
}

/** A composite alarm of the template (`AWS::CloudWatch::CompositeAlarm`): a rule over other alarms' states. */
export interface LocalCompositeAlarm {
  readonly kind: 'composite';
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly description?: string;
  /** The rule, resolved: `ALARM("arn:...") OR ALARM("name")`. */
  readonly rule: string;
  /** Why the rule cannot be resolved locally, when it cannot. */
  readonly unsupported?: string;
}

/** An alarm of the template. */
export type LocalAlarm = LocalMetricAlarm | LocalCompositeAlarm;

/** The local ARN of an alarm named `name`. */
export function alarmArn(name: string): string {
  return `arn:aws:cloudwatch:${LOCAL_REGION}:${LOCAL_ACCOUNT}:alarm:${name}`;
}

/** The local `Ref` of an event source mapping (its UUID on AWS): its own when the local cloud gave it one. */
export function mappingRef(stack: ProvisionedStack, logicalId: string): string {
  return stack.resources.get(logicalId)?.ref ?? `${stack.stack.stackName}-${logicalId}`;
}

/**
 * Reads every dashboard and alarm of the synthesized app. Their bodies and dimensions are resolved with the stack's
 * resources as the local cloud made them, so a `QueueName` is the local queue's name, a `FunctionName` the local
 * function's, an `EventSourceMappingUUID` the mapping's local `Ref`; alarms get local names and ARNs. What still
 * cannot be resolved (an attribute of a resource the local cloud does not run) stays visible as `<Id.Attribute>`.
 */
export function readMonitoring(stacks: readonly ProvisionedStack[]): {
  dashboards: LocalDashboard[];
  alarms: LocalAlarm[];
  /** What could not be read locally, one line each. */
  notices: string[];
} {
  const dashboards: LocalDashboard[] = [];
  const alarms: LocalAlarm[] = [];
  const notices: string[] = [];
  for (const provisioned of stacks) {
    const { stackName, resources: template } = provisioned.stack;
    const identities = monitoringIdentities(provisioned);
    const resolver = new IntrinsicResolver(stackName, identities);
    const resolve = (value: unknown) => resolver.resolve(tolerant(value, identities));
    for (const [logicalId, resource] of Object.entries(template)) {
      const props = resource.Properties ?? {};
      const local = identities.get(logicalId) as LocalResource;
      if (resource.Type === 'AWS::CloudWatch::Dashboard') {
        let body: unknown;
        try {
          body = resolve(props.DashboardBody);
        } catch (error) {
          dashboards.push({ stackName, logicalId, name: local.ref, widgets: [], error: (error as Error).message });
          continue;
        }
        dashboards.push(readDashboard(stackName, logicalId, local.ref, body));
      } else if (resource.Type === 'AWS::CloudWatch::Alarm') {
        let resolved: Record<string, unknown>;
        try {
          resolved = resolve(props) as Record<string, unknown>;
        } catch (error) {
          resolved = { ...props, Metrics: undefined, unresolvable: (error as Error).message };
        }
        alarms.push(readMetricAlarm(stackName, logicalId, local, resolved));
      } else if (resource.Type === 'AWS::CloudWatch::CompositeAlarm') {
        let rule = '';
        let unsupported: string | undefined;
        try {
          rule = String(resolve(props.AlarmRule) ?? 'FALSE');
        } catch (error) {
          unsupported = `its rule cannot be resolved locally (${(error as Error).message})`;
          notices.push(`${logicalId}: ${unsupported}`);
        }
        alarms.push({
          kind: 'composite',
          stackName,
          logicalId,
          name: local.ref,
          arn: local.attributes.Arn,
          description: optionalString(props.AlarmDescription),
          rule,
          unsupported,
        });
      }
    }
  }
  return { dashboards, alarms, notices };
}

/**
 * The stack's local identities, with alarms named and given ARNs as CloudWatch does (their `AlarmName`), dashboards
 * named, and an event source mapping given a local `Ref` if the local cloud gave it none.
 */
function monitoringIdentities(provisioned: ProvisionedStack): Map<string, LocalResource> {
  const identities = new Map(provisioned.resources);
  const resolver = new IntrinsicResolver(provisioned.stack.stackName, identities);
  const nameOf = (value: unknown, logicalId: string) => {
    try {
      return value === undefined ? undefined : resolver.resolveString(value, logicalId);
    } catch {
      // A name built from what does not run locally: the alarm is named as CloudFormation names unnamed ones.
      return undefined;
    }
  };
  for (const [logicalId, resource] of Object.entries(provisioned.stack.resources)) {
    const props = resource.Properties ?? {};
    const generated = `${provisioned.stack.stackName}-${logicalId}`;
    switch (resource.Type) {
      case 'AWS::CloudWatch::Alarm':
      case 'AWS::CloudWatch::CompositeAlarm': {
        const name = nameOf(props.AlarmName, logicalId) ?? generated;
        identities.set(logicalId, { type: resource.Type, ref: name, attributes: { Arn: alarmArn(name) } });
        break;
      }
      case 'AWS::CloudWatch::Dashboard':
        identities.set(logicalId, {
          type: resource.Type,
          ref: nameOf(props.DashboardName, logicalId) ?? generated,
          attributes: {},
        });
        break;
      case 'AWS::Lambda::EventSourceMapping':
        if (identities.has(logicalId)) break;
        identities.set(logicalId, {
          type: resource.Type,
          ref: mappingRef(provisioned, logicalId),
          attributes: { Id: mappingRef(provisioned, logicalId) },
        });
        break;
      default:
        break;
    }
  }
  return identities;
}

/** Replaces a `Ref` or `Fn::GetAtt` the local identities cannot answer by a visible placeholder. */
function tolerant(value: unknown, identities: ReadonlyMap<string, LocalResource>): unknown {
  if (Array.isArray(value)) return value.map((item) => tolerant(item, identities));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  if (entries.length === 1) {
    const [key, argument] = entries[0];
    if (key === 'Ref' && typeof argument === 'string' && !argument.startsWith('AWS::') && !identities.has(argument))
      return `<${argument}>`;
    if (key === 'Fn::GetAtt') {
      const [logicalId, attribute] = Array.isArray(argument) ? argument : String(argument).split('.');
      if (identities.get(String(logicalId))?.attributes[String(attribute)] === undefined)
        return `<${logicalId}.${attribute}>`;
    }
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, tolerant(item, identities)]));
}

function readDashboard(stackName: string, logicalId: string, name: string, body: unknown): LocalDashboard {
  let parsed: { widgets?: unknown[] };
  try {
    parsed = typeof body === 'string' ? JSON.parse(body) : (body as { widgets?: unknown[] });
  } catch (error) {
    return { stackName, logicalId, name, widgets: [], error: `its body is not JSON: ${(error as Error).message}` };
  }
  const widgets = (parsed?.widgets ?? []).map((widget) => readWidget(widget as RawWidget));
  return { stackName, logicalId, name, widgets: placeWidgets(widgets) };
}

interface RawWidget {
  type?: string;
  x?: number;
  y?: number;
  width?: number;
  height?: number;
  properties?: Record<string, unknown>;
}

type RawMetricRow = (string | Record<string, unknown>)[];

function readWidget(raw: RawWidget): DashboardWidget & { placed: boolean } {
  const props = raw.properties ?? {};
  const yAxis = props.yAxis as { left?: { label?: string }; right?: { label?: string } } | undefined;
  const annotations = props.annotations as
    | { alarms?: unknown[]; horizontal?: { value?: unknown; label?: string }[] }
    | undefined;
  const widgetStat = typeof props.stat === 'string' ? props.stat : 'Average';
  const widgetPeriod = typeof props.period === 'number' ? props.period : DEFAULT_PERIOD_SECONDS;
  const metrics = readMetricRows((props.metrics as RawMetricRow[] | undefined) ?? [], widgetStat, widgetPeriod);
  return {
    type: raw.type ?? 'metric',
    x: Number(raw.x ?? 0),
    y: Number(raw.y ?? 0),
    width: Number(raw.width ?? 6),
    height: Number(raw.height ?? 6),
    placed: raw.x !== undefined && raw.y !== undefined,
    title: optionalString(props.title),
    markdown: optionalString(props.markdown),
    view: optionalString(props.view) ?? 'timeSeries',
    stacked: props.stacked === true,
    metrics,
    alarms: [...((props.alarms as unknown[] | undefined) ?? []), ...(annotations?.alarms ?? [])].map(String),
    horizontalAnnotations: (annotations?.horizontal ?? [])
      .filter((annotation) => typeof annotation.value === 'number')
      .map((annotation) => ({ value: annotation.value as number, label: annotation.label })),
    leftAxisLabel: yAxis?.left?.label,
    rightAxisLabel: yAxis?.right?.label,
  };
}

/**
 * Reads a widget's metric rows: `[namespace, name, dimension, value, ..., { options }]`, with CloudWatch's
 * shorthands (`"."` repeats the value above, `"..."` every value above but those given after it), and expression
 * rows (`[{ expression, id, label }]`).
 */
function readMetricRows(rows: readonly RawMetricRow[], widgetStat: string, widgetPeriod: number): WidgetMetric[] {
  const read: WidgetMetric[] = [];
  let previous: string[] = [];
  for (const row of rows) {
    const last = row[row.length - 1];
    const options = (typeof last === 'object' && last !== null ? last : {}) as Record<string, unknown>;
    const values = row.filter((item): item is string => typeof item === 'string');
    const common = {
      id: optionalString(options.id),
      stat: optionalString(options.stat) ?? widgetStat,
      periodSeconds: typeof options.period === 'number' ? options.period : widgetPeriod,
      yAxis: options.yAxis === 'right' ? ('right' as const) : ('left' as const),
      visible: options.visible !== false,
      color: optionalString(options.color),
    };
    if (typeof options.expression === 'string') {
      read.push({ ...common, expression: options.expression, label: optionalString(options.label) ?? common.id ?? '' });
      continue;
    }
    const expanded: string[] = [];
    for (const [index, value] of values.entries()) {
      if (value === '...')
        expanded.push(...previous.slice(expanded.length, previous.length - (values.length - index - 1)));
      else if (value === '.') expanded.push(previous[expanded.length] ?? '');
      else expanded.push(value);
    }
    previous = expanded;
    const [namespace = '', metricName = '', ...pairs] = expanded;
    const dimensions: Record<string, string> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) dimensions[pairs[i]] = pairs[i + 1];
    read.push({
      ...common,
      metric: { namespace, metricName, dimensions },
      label: optionalString(options.label) ?? metricName,
    });
  }
  // Lines that would share a label (Duration p50 and p99) are told apart by their statistic, as CloudWatch does.
  return read.map((metric) =>
    read.filter((other) => other.label === metric.label).length > 1
      ? { ...metric, label: `${metric.label} ${metric.stat}` }
      : metric,
  );
}

/**
 * Widgets without a position flow as on CloudWatch: left to right, then down, after the widgets above them.
 * (CDK always gives positions; a hand-written body may not.)
 */
function placeWidgets(widgets: readonly (DashboardWidget & { placed: boolean })[]): DashboardWidget[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return widgets.map(({ placed, ...widget }) => {
    if (placed) {
      rowHeight = widget.y === y ? Math.max(rowHeight, widget.height) : widget.height;
      x = widget.x + widget.width;
      y = widget.y;
      return widget;
    }
    if (x + widget.width > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const at = { ...widget, x, y };
    x += widget.width;
    rowHeight = Math.max(rowHeight, widget.height);
    return at;
  });
}

function readMetricAlarm(
  stackName: string,
  logicalId: string,
  local: LocalResource,
  props: Record<string, unknown>,
): LocalMetricAlarm {
  const evaluationPeriods = Number(props.EvaluationPeriods ?? 1);
  const base = {
    kind: 'metric' as const,
    stackName,
    logicalId,
    name: local.ref,
    arn: local.attributes.Arn,
    description: optionalString(props.AlarmDescription),
    stat: String(props.ExtendedStatistic ?? props.Statistic ?? 'Average'),
    periodSeconds: Number(props.Period ?? 60),
    threshold: Number(props.Threshold ?? 0),
    comparisonOperator: String(props.ComparisonOperator ?? 'GreaterThanThreshold'),
    evaluationPeriods,
    datapointsToAlarm: Number(props.DatapointsToAlarm ?? evaluationPeriods),
    treatMissingData: String(props.TreatMissingData ?? 'missing'),
  };
  if (typeof props.unresolvable === 'string')
    return { ...base, unsupported: `its properties cannot be resolved locally (${props.unresolvable})` };
  if (props.Metrics !== undefined) return { ...base, unsupported: 'an alarm on metric math is not evaluated locally' };
  if (props.ThresholdMetricId !== undefined)
    return { ...base, unsupported: 'an anomaly detection alarm is not evaluated locally' };
  const dimensions = Object.fromEntries(
    ((props.Dimensions as { Name: string; Value: unknown }[] | undefined) ?? []).map((dimension) => [
      dimension.Name,
      String(dimension.Value),
    ]),
  );
  return {
    ...base,
    metric: { namespace: String(props.Namespace ?? ''), metricName: String(props.MetricName ?? ''), dimensions },
  };
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
