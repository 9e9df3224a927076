import type { AlarmStates } from './alarm-states';
import type { DashboardWidget, LocalAlarm, LocalDashboard, WidgetMetric } from './dashboard-model';
import { type LocalMetrics, noSourceReason } from './local-metrics';
import { renderMarkdown } from './markdown';
import { type MetricIdentity, metricKey, parseStatistic, type Statistic } from './metric-store';

/** Pixels per row of CloudWatch's dashboard grid. */
export const ROW_PIXELS = 46;

/** CloudWatch's colours for lines without one, in order. */
const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

/** A line of a graph on the page, and how the server fills it. */
export interface PageLine {
  readonly label: string;
  readonly color: string;
  readonly axis: 'left' | 'right';
  /** Whether the local cloud has data for it. */
  readonly local: boolean;
}

/** A widget as the page draws it. */
export interface PageWidget extends Pick<DashboardWidget, 'type' | 'x' | 'y' | 'width' | 'height' | 'title'> {
  /** `<dashboard>-<index>`: the key of its data. */
  readonly id: string;
  /** A text widget's markdown, as HTML. */
  readonly html?: string;
  readonly view?: string;
  readonly lines: readonly PageLine[];
  /** The vega-lite spec of a graph with at least one local line; its data is the named source `points`. */
  readonly spec?: Record<string, unknown>;
  /** An alarm widget's alarms (ARNs). */
  readonly alarms: readonly string[];
  /** What the page says under the widget: lines without a local source, how lines are derived locally. */
  readonly missing: readonly string[];
  readonly notes: readonly string[];
}

/** Everything the page draws once; {@link PageData} fills it on every refresh. */
export interface PageModel {
  readonly dashboards: readonly {
    readonly name: string;
    readonly stackName: string;
    readonly error?: string;
    readonly widgets: readonly PageWidget[];
  }[];
  readonly alarms: readonly {
    readonly arn: string;
    readonly name: string;
    readonly kind: string;
    readonly description?: string;
  }[];
  readonly periodScale: number;
  readonly sampleSeconds: number;
  readonly windowMinutes: number;
  /** What the local cloud could not read of the app's monitoring. */
  readonly notices: readonly string[];
}

/** One line's values, one per period from `start`, `step` milliseconds apart; null where a period had no data. */
export interface LineData {
  readonly start: number;
  readonly step: number;
  readonly values: readonly (number | null)[];
}

/** What the page refreshes every few seconds. */
export interface PageData {
  readonly now: number;
  /** The start of the time axis. */
  readonly from: number;
  /** By widget ID, each local line's values (null for a line without a local source), in the widget's line order. */
  readonly widgets: Readonly<Record<string, readonly (LineData | null)[]>>;
  /** By alarm ARN, its state, why, and since when. */
  readonly alarms: Readonly<Record<string, { state: string; reason: string; since: number }>>;
}

/** How a line is filled: the metric and statistic, at the local period. */
interface LineQuery {
  readonly key: string;
  readonly statistic: Statistic;
  readonly periodMs: number;
}

/** The page's model and how to fill it from the local metrics. */
export class DashboardPage {
  /** What the page draws. */
  public readonly model: PageModel;
  private readonly queries = new Map<string, (LineQuery | undefined)[]>();

  constructor(
    dashboards: readonly LocalDashboard[],
    private readonly alarms: AlarmStates,
    private readonly metrics: LocalMetrics,
    private readonly options: {
      readonly periodScale: number;
      readonly sampleSeconds: number;
      readonly windowMinutes: number;
      readonly periodMs: (seconds: number) => number;
      readonly notices: readonly string[];
    },
  ) {
    this.model = {
      dashboards: dashboards.map((dashboard, index) => ({
        name: dashboard.name,
        stackName: dashboard.stackName,
        error: dashboard.error,
        widgets: dashboard.widgets.map((widget, position) => this.pageWidget(`${index}-${position}`, widget)),
      })),
      alarms: alarms.alarms.map((alarm: LocalAlarm) => ({
        arn: alarm.arn,
        name: alarm.name,
        kind: alarm.kind,
        description: alarm.description,
      })),
      periodScale: options.periodScale,
      sampleSeconds: options.sampleSeconds,
      windowMinutes: options.windowMinutes,
      notices: options.notices,
    };
  }

  /** The data of every widget and alarm at `now`, from `from`. */
  public data(now: number, from: number): PageData {
    const widgets: Record<string, (LineData | null)[]> = {};
    for (const [id, queries] of this.queries) {
      widgets[id] = queries.map((query) => {
        if (!query) return null;
        const { start, values } = this.metrics.store.periods(query.key, query.statistic, query.periodMs, from, now);
        return { start, step: query.periodMs, values };
      });
    }
    const alarms: Record<string, { state: string; reason: string; since: number }> = {};
    for (const alarm of this.alarms.alarms) alarms[alarm.arn] = this.alarms.status(alarm.arn);
    return { now, from, widgets, alarms };
  }

  private pageWidget(id: string, widget: DashboardWidget): PageWidget {
    const base = {
      id,
      type: widget.type,
      x: widget.x,
      y: widget.y,
      width: widget.width,
      height: widget.height,
      title: widget.title,
      view: widget.view,
    };
    if (widget.type === 'text') {
      return { ...base, html: renderMarkdown(widget.markdown ?? ''), lines: [], alarms: [], missing: [], notes: [] };
    }
    if (widget.type === 'alarm') {
      return { ...base, lines: [], alarms: widget.alarms, missing: [], notes: [] };
    }
    if (widget.type !== 'metric') {
      return {
        ...base,
        lines: [],
        alarms: [],
        missing: [`no local source for a widget of type ${widget.type}`],
        notes: [],
      };
    }
    // A graph of alarms (AlarmWidget) shows each alarm's metric, with its threshold.
    const rules = [...widget.horizontalAnnotations];
    const metrics: WidgetMetric[] = [...widget.metrics.filter((metric) => metric.visible)];
    for (const arn of widget.alarms) {
      const alarm = this.alarms.find(arn);
      if (alarm?.kind !== 'metric' || !alarm.metric) continue;
      metrics.push({
        metric: alarm.metric,
        label: alarm.metric.metricName,
        stat: alarm.stat,
        periodSeconds: alarm.periodSeconds,
        yAxis: 'left',
        visible: true,
      });
      rules.push({ value: alarm.threshold, label: alarm.name });
    }
    const missing: string[] = [];
    const notes = new Set<string>();
    const queries: (LineQuery | undefined)[] = [];
    const lines: PageLine[] = metrics.map((line, index) => {
      const color = line.color ?? PALETTE[index % PALETTE.length];
      const query = this.lineQuery(line, missing, notes);
      queries.push(query);
      return { label: line.label, color, axis: line.yAxis, local: query !== undefined };
    });
    if (widget.view !== 'timeSeries' && widget.view !== 'singleValue') {
      notes.add(`a ${widget.view} view is shown as a time series locally`);
    }
    this.queries.set(id, queries);
    const local = lines.filter((line) => line.local);
    return {
      ...base,
      lines,
      alarms: widget.alarms,
      missing,
      notes: [...notes],
      spec:
        local.length > 0 && widget.view !== 'singleValue'
          ? graphSpec(local, rules, widget.stacked === true, widget.leftAxisLabel, widget.rightAxisLabel)
          : undefined,
    };
  }

  private lineQuery(line: WidgetMetric, missing: string[], notes: Set<string>): LineQuery | undefined {
    if (line.expression !== undefined || !line.metric) {
      missing.push(`metric math is not evaluated locally: ${line.expression ?? ''}`);
      return undefined;
    }
    const metric: MetricIdentity = line.metric;
    const source = this.metrics.source(metric);
    if (!source.local) {
      missing.push(noSourceReason(metric));
      return undefined;
    }
    const statistic = parseStatistic(line.stat);
    if (!statistic) {
      missing.push(`the statistic ${line.stat} of ${metric.metricName} is not computed locally`);
      return undefined;
    }
    if (source.note) notes.add(`${metric.metricName}: ${source.note}`);
    return { key: metricKey(metric), statistic, periodMs: this.options.periodMs(line.periodSeconds) };
  }
}

/**
 * A vega-lite spec of a graph: one line per metric over time (an area per metric when stacked), a right axis for
 * the lines CloudWatch puts there, and horizontal rules (thresholds, annotations). Its data is the named source
 * `points` (`{ t, v, line, axis }`); the time axis runs from the signal `xmin` to `xmax`.
 */
function graphSpec(
  lines: readonly PageLine[],
  rules: readonly { value: number; label?: string }[],
  stacked: boolean,
  leftLabel: string | undefined,
  rightLabel: string | undefined,
): Record<string, unknown> {
  const color = {
    field: 'line',
    type: 'nominal',
    scale: { domain: lines.map((line) => line.label), range: lines.map((line) => line.color) },
    legend: {
      orient: 'bottom',
      title: null,
      labelLimit: 150,
      symbolType: 'stroke',
      ...(lines.length > 2 ? { columns: 2 } : {}),
    },
  };
  const x = {
    field: 't',
    type: 'temporal',
    title: null,
    axis: { format: '%H:%M:%S', labelOverlap: true, grid: false, tickCount: 4 },
    scale: { domainMin: { expr: 'xmin' }, domainMax: { expr: 'xmax' } },
  };
  const layer = (axis: 'left' | 'right', title: string | undefined) => ({
    transform: [{ filter: `datum.axis === '${axis}'` }],
    mark: stacked
      ? { type: 'area', opacity: 0.7, line: true }
      : { type: 'line', strokeWidth: 1.5, point: { filled: true, size: 10 } },
    encoding: {
      x,
      y: {
        field: 'v',
        type: 'quantitative',
        title: title ?? null,
        axis: { orient: axis, tickCount: 4, grid: axis === 'left' },
        ...(stacked ? { stack: 'zero' } : { stack: null }),
      },
      color,
      tooltip: [
        { field: 'line', type: 'nominal', title: 'metric' },
        { field: 't', type: 'temporal', format: '%H:%M:%S', title: 'period' },
        { field: 'v', type: 'quantitative', format: ',.4~f', title: 'value' },
      ],
    },
  });
  // A line of zeros still gets an axis from 0 to 1, as on CloudWatch: an invisible rule at 1 widens the domain.
  const atLeastOne = { mark: { type: 'rule', opacity: 0 }, encoding: { y: { datum: 1, type: 'quantitative' } } };
  // The rules share the left axis; a right axis has a scale of its own.
  const left = {
    layer: [
      layer('left', leftLabel),
      atLeastOne,
      ...rules.map((rule) => ({
        data: { values: [{ value: rule.value, label: rule.label ?? '' }] },
        mark: { type: 'rule', color: '#d62728', strokeDash: [4, 3] },
        encoding: { y: { field: 'value', type: 'quantitative' }, tooltip: [{ field: 'label' }, { field: 'value' }] },
      })),
    ],
  };
  const right = lines.some((line) => line.axis === 'right')
    ? { layer: [layer('right', rightLabel), atLeastOne] }
    : undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 'container',
    height: 'container',
    autosize: { type: 'fit', contains: 'padding' },
    // Room on the right for the last time label.
    padding: { left: 4, top: 4, bottom: 4, right: 16 },
    params: [
      { name: 'xmin', value: 0 },
      { name: 'xmax', value: 1 },
    ],
    data: { name: 'points' },
    ...(right ? { layer: [left, right], resolve: { scale: { y: 'independent' } } } : left),
    config: {
      view: { stroke: null },
      axis: { labelFontSize: 10, titleFontSize: 10, labelColor: '#545b64', domainColor: '#aab7b8' },
      legend: { labelFontSize: 10 },
    },
  };
}
