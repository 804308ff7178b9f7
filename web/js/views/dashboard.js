// Dashboard: the report of the last 4, 12 or 26 weeks as key figures and
// hand-drawn SVG charts, each with the table of its numbers.
import { api, h, field, fmtDuration, stateLabel, setQuery, loading } from '../core.js';
import { vbars, hbars, legend, numbers } from '../chart.js';

const WEEK = 7 * 86400000;
const wk = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' }).format;
const pct = (v) => (v == null ? '—' : `${Math.round(v * 1000) / 10}%`);
const sum = (a) => a.reduce((x, y) => x + y, 0);

const tile = (label, value, note, cls) => h('dl', { class: ['kpi card', cls] }, h('dt', { text: label }), h('dd', null, value, h('small', { text: note })));
const card = (title, ...body) => h('section', { class: 'card', 'aria-label': title }, h('h2', { text: title }), ...body);

function bars(title, head, entries, cls, width) {
  if (!entries.length) return card(title, h('p', { class: 'empty', text: 'No changes in this period.' }));
  const desc = entries.map(([k, n]) => `${stateLabel(k)} ${n}`).join(', ');
  return card(title, hbars({ width, title, desc, items: entries.map(([k, n]) => ({ label: stateLabel(k), value: n, cls: cls(k) })) }),
    numbers(title, [head, 'Changes'], entries.map(([k, n]) => [stateLabel(k), n])));
}

function content(d, keys, width) {
  const got = Object.fromEntries((d.weekly || []).map((w) => [w.week, w]));
  const rows = keys.map((k) => got[k] || { created: 0, successful: 0, failed: 0, rolled_back: 0, emergency: 0 });
  const labels = keys.map((k) => wk(new Date(k)));
  const col = (k) => rows.map((w) => w[k]);
  const other = rows.map((w) => Math.max(0, w.created - w.successful - w.failed - w.rolled_back));
  const series = [{ label: 'Successful', cls: 'o-ok', values: col('successful') }, { label: 'Failed', cls: 'o-fail', values: col('failed') },
    { label: 'Rolled back', cls: 'o-rb', values: col('rolled_back') }, { label: 'Not completed', cls: 'o-other', values: other }];
  const share = rows.map((w) => (w.created ? (100 * w.emergency) / w.created : 0));
  const sorted = (o) => Object.entries(o || {}).sort((a, b) => b[1] - a[1]);
  const t1 = 'Changes per week by outcome', t2 = 'Emergency share per week';
  return [
    h('div', { class: 'kpis', role: 'group', 'aria-label': 'Key figures' },
      tile('Changes', String(d.total ?? sum(Object.values(d.by_state || {}))), 'raised'),
      tile('Success rate', pct(d.success_rate), 'of completed changes', 'o-ok'),
      tile('Failure rate', pct(d.failure_rate), 'failed or rolled back', 'o-fail'),
      tile('Emergency share', pct(d.emergency_share), 'of all changes', 'o-em'),
      tile('Unauthorized', String(d.unauthorized || 0), 'made without approval', d.unauthorized ? 'o-fail' : 'o-other'),
      tile('Median lead time', fmtDuration(d.lead_time_median_s), 'submit → window start', 'o-model'),
      tile('Median approval turnaround', fmtDuration(d.approval_turnaround_median_s), 'submit → approved', 'o-model')),
    h('div', { class: 'charts' },
      card(t1, legend(series),
        vbars({ labels, series, width, title: t1, desc: series.map((s) => `${s.label} ${sum(s.values)}`).join(', ') }),
        numbers(t1, ['Week of', 'Raised', ...series.map((s) => s.label)], rows.map((w, i) => [labels[i], w.created, w.successful, w.failed, w.rolled_back, other[i]]))),
      card(t2,
        vbars({ labels, width, int: false, fmt: (v) => `${Math.round(v)}%`, series: [{ label: 'Emergency', cls: 'o-em', values: share }],
          title: t2, desc: `${pct(d.emergency_share)} over the period` }),
        numbers(t2, ['Week of', 'Emergency', 'Raised', 'Share'], rows.map((w, i) => [labels[i], w.emergency, w.created, `${Math.round(share[i])}%`]))),
      bars('Changes by state', 'State', sorted(d.by_state), (s) => `s-${s}`, width),
      bars('Changes by model', 'Model', sorted(d.by_model), () => 'o-model', width)),
  ];
}

export async function render(view, params, q) {
  let n = [4, 12, 26].includes(+q.weeks) ? +q.weeks : 12;
  const sel = h('select', { name: 'weeks' }, [4, 12, 26].map((p) => h('option', { value: p, text: `Last ${p} weeks`, selected: p === n })));
  const body = h('div');
  view.append(h('div', { class: 'head' }, h('h1', { text: 'Dashboard' }), field('Period', sel)), body);
  let seq = 0;
  async function load() {
    const my = ++seq, now = new Date();
    setQuery({ weeks: n });
    body.replaceChildren(loading());
    // Weeks start on Monday, UTC, as the report's weekly rows do.
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    const monday = today - ((now.getUTCDay() + 6) % 7) * (WEEK / 7);
    const keys = Array.from({ length: n }, (_, i) => new Date(monday - (n - 1 - i) * WEEK).toISOString().slice(0, 10));
    const r = await api('GET', `/reports/summary?from=${keys[0]}T00:00:00Z&to=${now.toISOString().replace(/\.\d+Z$/, 'Z')}`);
    if (my !== seq) return;
    if (!r.ok) return body.replaceChildren(h('p', { class: 'callout bad', role: 'alert', text: (r.problem || {}).detail || 'The report could not be loaded.' }));
    // Drawn at a card's width, so text keeps its size.
    const w = view.clientWidth;
    body.replaceChildren(...content(r.data, keys, Math.round(Math.min(640, Math.max(280, w < 800 ? w - 44 : w / 2 - 60)))));
  }
  sel.addEventListener('change', () => { n = +sel.value; load(); });
  await load();
}
