import { escapeHtml } from './markdown';
import { type PageModel, ROW_PIXELS } from './page-model';

/**
 * The dashboard page: the model inline, vega and vega-lite from `/assets/`, and a script that lays out every widget
 * on CloudWatch's 24-column grid, then fetches `data.json` every `sampleSeconds` and redraws. `missingCharts` names
 * what to install when the chart libraries cannot be served; the page still shows text, alarms and what is missing.
 */
export function renderPage(model: PageModel, missingCharts: string | undefined): string {
  // `</script>` inside the JSON would end the script element: escape every `<`.
  const json = JSON.stringify(model).replace(/</g, '\\u003c');
  const title = model.dashboards.map((dashboard) => dashboard.name).join(', ') || 'no dashboard';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)} · local cloud</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${STYLE}</style>
${missingCharts ? '' : '<script src="assets/vega.min.js"></script>\n<script src="assets/vega-lite.min.js"></script>'}
</head>
<body>
<header>
  <h1>${escapeHtml(title)}</h1>
  <p class="scale">Local cloud. Periods are scaled down ÷${model.periodScale}: the dashboard's 1-minute periods are
  ${60 / model.periodScale} s here, the alarms' 5-minute periods ${300 / model.periodScale} s. Sampled every
  ${model.sampleSeconds} s; the last ${model.windowMinutes} minutes are kept. <span id="status">loading…</span></p>
  ${missingCharts ? `<p class="banner">${escapeHtml(missingCharts)}</p>` : ''}
  ${model.notices.map((notice) => `<p class="banner">${escapeHtml(notice)}</p>`).join('')}
</header>
<main id="dashboards"></main>
<section id="alarm-list"><h2>Alarms</h2><ul class="alarms"></ul></section>
<script type="application/json" id="model">${json}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = `
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 "Amazon Ember", "Helvetica Neue", Arial, sans-serif; color: #16191f; background: #f2f3f3; }
header { padding: 10px 16px 4px; background: #fff; border-bottom: 1px solid #d5dbdb; }
header h1 { margin: 0; font-size: 18px; }
.scale { margin: 4px 0; color: #545b64; }
.banner { margin: 4px 0; padding: 6px 10px; background: #fff7e6; border: 1px solid #f5c26b; }
#status.stale { color: #d13212; font-weight: bold; }
main { padding: 8px 16px; }
.dashboard h2 { font-size: 15px; margin: 8px 0; }
.grid { display: grid; grid-template-columns: repeat(24, minmax(0, 1fr)); grid-auto-rows: ${ROW_PIXELS}px; gap: 6px; }
.widget { background: #fff; border: 1px solid #d5dbdb; border-radius: 2px; display: flex; flex-direction: column;
  overflow: hidden; min-width: 0; }
.widget-text { background: transparent; border: none; justify-content: flex-end; }
.widget-text h1, .widget-text h2, .widget-text h3 { margin: 0; font-size: 16px; }
.widget-text h1 { font-size: 18px; }
.widget-text p { margin: 2px 0; }
.widget > .title { font-weight: bold; padding: 6px 8px 2px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.chart { flex: 1; min-height: 0; padding: 0 4px; }
.missing, .no-data { color: #545b64; padding: 2px 8px; font-size: 12px; }
.missing { color: #8d6605; }
.widget.empty .missing { flex: 1; display: flex; align-items: center; justify-content: center; text-align: center; }
.notes { color: #687078; font-size: 11px; padding: 0 8px 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.single { display: flex; flex-wrap: wrap; gap: 16px; padding: 8px; flex: 1; align-items: center; }
.single .value { font-size: 28px; }
.single .label { color: #545b64; }
ul.alarms { list-style: none; margin: 0; padding: 4px 8px; overflow: auto; }
ul.alarms li { display: flex; gap: 6px; align-items: flex-start; padding: 2px 0; }
ul.alarms li .name { overflow-wrap: anywhere; font-size: 12px; }
.state { display: inline-block; min-width: 9.5em; text-align: center; font-size: 11px; font-weight: bold;
  padding: 1px 4px; border-radius: 2px; color: #fff; background: #879596; }
.state-OK { background: #1d8102; }
.state-ALARM { background: #d13212; }
.state-INSUFFICIENT_DATA { background: #879596; }
#alarm-list { margin: 8px 16px 24px; background: #fff; border: 1px solid #d5dbdb; }
#alarm-list h2 { font-size: 15px; margin: 0; padding: 8px; border-bottom: 1px solid #eaeded; }
#alarm-list li .reason { color: #545b64; white-space: normal; }
#alarm-list li { align-items: flex-start; white-space: normal; }
`;

/** The page's script: plain browser JavaScript, no build step; vega and vega-lite are globals when served. */
const SCRIPT = `
(() => {
  const model = JSON.parse(document.getElementById('model').textContent);
  const charts = typeof vega !== 'undefined' && typeof vegaLite !== 'undefined';
  const widgets = new Map();
  const alarmItems = [];
  const visible = new Set();
  // Resolved once the observer has said which widgets are in view: the first data waits for it.
  let seen;
  const observed = new Promise((resolve) => { seen = resolve; });
  const observer = 'IntersectionObserver' in window ? new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const id = entry.target.dataset.widget;
      if (entry.isIntersecting) { visible.add(id); redraw(widgets.get(id)); } else visible.delete(id);
    }
    seen();
  }) : undefined;
  if (!observer) seen();

  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const alarmName = (arn) => (model.alarms.find((alarm) => alarm.arn === arn) || { name: arn.split(':').pop() }).name;
  const alarmItem = (arn, withReason) => {
    const item = el('li');
    item.dataset.alarm = arn;
    item.dataset.alarmName = alarmName(arn);
    item.dataset.alarmState = 'INSUFFICIENT_DATA';
    const badge = el('span', 'state state-INSUFFICIENT_DATA', 'INSUFFICIENT_DATA');
    const text = el('span', 'name', alarmName(arn));
    item.append(badge, text);
    const reason = withReason ? el('div', 'reason') : undefined;
    if (reason) { const column = el('div'); column.append(text, reason); item.append(column); }
    alarmItems.push({ item, badge, reason, arn });
    return item;
  };

  const root = document.getElementById('dashboards');
  for (const dashboard of model.dashboards) {
    const section = el('section', 'dashboard');
    if (model.dashboards.length > 1) section.append(el('h2', '', dashboard.name + ' (' + dashboard.stackName + ')'));
    if (dashboard.error) section.append(el('p', 'banner', 'This dashboard cannot be read locally: ' + dashboard.error));
    const grid = el('div', 'grid');
    for (const widget of dashboard.widgets) {
      const box = el('div', 'widget widget-' + widget.type);
      box.dataset.widget = widget.id;
      box.dataset.type = widget.type;
      box.dataset.local = String(widget.lines.some((line) => line.local));
      box.dataset.points = '0';
      box.style.gridColumn = (widget.x + 1) + ' / span ' + widget.width;
      box.style.gridRow = (widget.y + 1) + ' / span ' + widget.height;
      if (widget.title) box.append(el('div', 'title', widget.title));
      const state = { widget, box };
      if (widget.type === 'text') {
        const body = el('div', 'text');
        body.innerHTML = widget.html;
        box.append(body);
      } else if (widget.type === 'alarm') {
        const list = el('ul', 'alarms');
        for (const arn of widget.alarms) list.append(alarmItem(arn, false));
        box.append(list);
      } else {
        if (widget.spec && charts) {
          // The graph is compiled and drawn when it first comes into view: a page of many loads fast.
          state.chart = el('div', 'chart');
          box.append(state.chart);
        } else if (widget.view === 'singleValue' && widget.lines.some((line) => line.local)) {
          state.single = el('div', 'single');
          box.append(state.single);
        } else if (widget.spec) {
          box.append(el('div', 'no-data', 'the charts need vega and vega-lite (see above)'));
        }
        if (!widget.lines.some((line) => line.local)) box.classList.add('empty');
        for (const missing of widget.missing) box.append(el('div', 'missing', missing));
        if (widget.notes.length) {
          const notes = el('div', 'notes', 'Locally: ' + widget.notes.join('; '));
          notes.title = widget.notes.join('\\n');
          box.append(notes);
        }
      }
      widgets.set(widget.id, state);
      grid.append(box);
      if (observer) observer.observe(box); else visible.add(widget.id);
    }
    section.append(grid);
    root.append(section);
  }
  const list = document.querySelector('#alarm-list ul');
  for (const alarm of model.alarms) list.append(alarmItem(alarm.arn, true));
  if (model.alarms.length === 0) list.append(el('li', '', 'The app has no alarms.'));
  // Milliseconds from navigation to the laid-out page, and to the first data drawn: the page's load time.
  document.body.dataset.builtMs = String(Math.round(performance.now()));

  let latest;
  function redraw(state) {
    if (!state || !latest || state.drawn === latest.now) return;
    const lines = latest.widgets[state.widget.id];
    if (!lines) return;
    state.drawn = latest.now;
    if (state.chart && !state.view) {
      state.view = new vega.View(vega.parse(vegaLite.compile(state.widget.spec).spec), {
        renderer: 'canvas', container: state.chart, hover: true,
      });
    }
    if (state.view) {
      const rows = state.rows;
      // The first period may start before the window does: the axis starts with it.
      const xmin = rows.reduce((first, row) => Math.min(first, row.t), latest.from);
      state.view.signal('xmin', xmin).signal('xmax', latest.now)
        .change('points', vega.changeset().remove(() => true).insert(rows)).runAsync();
    } else if (state.single) {
      state.single.replaceChildren(...state.widget.lines.flatMap((line, index) => {
        const values = lines[index] ? lines[index].values.filter((value) => value !== null) : [];
        if (!line.local) return [];
        const cell = el('div');
        cell.append(el('div', 'value', values.length ? String(+values[values.length - 1].toFixed(2)) : '–'),
          el('div', 'label', line.label));
        return [cell];
      }));
    }
  }

  function apply(data) {
    latest = data;
    for (const state of widgets.values()) {
      const lines = data.widgets[state.widget.id];
      if (!lines) continue;
      const rows = [];
      lines.forEach((series, index) => {
        if (!series) return;
        const line = state.widget.lines[index];
        series.values.forEach((value, period) => {
          if (value !== null) rows.push({ t: series.start + period * series.step, v: value, line: line.label, axis: line.axis });
        });
      });
      state.rows = rows;
      state.box.dataset.points = String(rows.length);
      // Only the graphs in view are drawn; the others when they come into view.
      if (visible.has(state.widget.id)) redraw(state);
    }
    for (const { item, badge, reason, arn } of alarmItems) {
      const status = data.alarms[arn] || { state: 'INSUFFICIENT_DATA', reason: 'not an alarm of the app' };
      item.dataset.alarmState = status.state;
      item.title = status.reason;
      badge.className = 'state state-' + status.state;
      badge.textContent = status.state;
      if (reason) reason.textContent = status.reason;
    }
  }

  const status = document.getElementById('status');
  async function refresh() {
    try {
      const response = await fetch('data.json', { cache: 'no-store' });
      if (!response.ok) throw new Error('HTTP ' + response.status);
      const data = await response.json();
      await observed;
      apply(data);
      if (!document.body.dataset.firstDataMs) {
        await Promise.all([...widgets.values()].filter((state) => state.view).map((state) => state.view.runAsync()));
        document.body.dataset.firstDataMs = String(Math.round(performance.now()));
      }
      status.className = '';
      status.textContent = 'Updated ' + new Date(latest.now).toLocaleTimeString() + '.';
      document.body.dataset.updated = String(latest.now);
    } catch (error) {
      status.className = 'stale';
      status.textContent = 'Not updated: the local cloud does not answer (' + error.message + ').';
    }
    setTimeout(refresh, model.sampleSeconds * 1000);
  }
  refresh();
})();
`;
