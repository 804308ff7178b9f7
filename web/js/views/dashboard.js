// Dashboard: the change report for the last 4, 12 or 26 weeks as tiles and
// hand-drawn SVG charts, each with the table of its numbers.
import { api, h, field, fmtDuration, stateLabel, setQuery, loading } from '../core.js';
import { vbars, hbars, legend, numbers } from '../chart.js';

const PERIODS = [4, 12, 26];
const DAY = 86400000;
const wkFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
const pct = (v) => (v === null || v === undefined ? '—' : `${Math.round(v * 1000) / 10}%`);
const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

// Mondays (UTC) of the last n weeks, oldest first, as YYYY-MM-DD.
function weeks(n, now) {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const monday = today - ((new Date(today).getUTCDay() + 6) % 7) * DAY;
  return Array.from({ length: n }, (_, i) => new Date(monday - (n - 1 - i) * 7 * DAY).toISOString().slice(0, 10));
}

function tile(label, value, note, cls) {
  return h('dl', { class: ['kpi', cls] }, h('dt', { text: label }), h('dd', null, value, note ? h('small', { text: note }) : null));
}

function chartCard(title, intro, ...body) {
  return h('section', { class: 'card', 'aria-label': title }, h('h2', { text: title }), intro ? h('p', { class: 'muted', text: intro }) : null, ...body);
}

function content(d, keys, width) {
  const byWeek = Object.fromEntries((d.weekly || []).map((w) => [w.week, w]));
  const rows = keys.map((k) => byWeek[k] || { week: k, created: 0, successful: 0, failed: 0, rolled_back: 0, emergency: 0 });
  const labels = keys.map((k) => wkFmt.format(new Date(k + 'T00:00:00Z')));
  const other = rows.map((w) => Math.max(0, w.created - w.successful - w.failed - w.rolled_back));
  const series = [
    { label: 'Successful', cls: 'o-ok', values: rows.map((w) => w.successful) },
    { label: 'Failed', cls: 'o-fail', values: rows.map((w) => w.failed) },
    { label: 'Rolled back', cls: 'o-rb', values: rows.map((w) => w.rolled_back) },
    { label: 'Other (open, cancelled or rejected)', cls: 'o-other', values: other },
  ];
  const sum = (k) => rows.reduce((a, w) => a + w[k], 0);
  const share = rows.map((w) => (w.created ? (100 * w.emergency) / w.created : 0));
  const total = d.total ?? Object.values(d.by_state || {}).reduce((a, b) => a + b, 0);
  const states = Object.entries(d.by_state || {}).sort((a, b) => b[1] - a[1]);
  const models = Object.entries(d.by_model || {}).sort((a, b) => b[1] - a[1]);
  const none = (n) => (n ? null : h('p', { class: 'empty', text: 'No changes in this period.' }));
  return [
    h('div', { class: 'kpis', role: 'group', 'aria-label': 'Key figures' },
      tile('Changes', String(total), 'raised in the period'),
      tile('Success rate', pct(d.success_rate), 'of completed changes', 'o-ok'),
      tile('Failure rate', pct(d.failure_rate), 'failed or rolled back', 'o-fail'),
      tile('Emergency share', pct(d.emergency_share), 'of all changes', 'o-em'),
      tile('Unauthorized', String(d.unauthorized ?? 0), 'made without approval', d.unauthorized ? 'o-fail' : 'o-other'),
      tile('Median lead time', fmtDuration(d.lead_time_median_s), 'submit → window start', 'o-model'),
      tile('Median approval turnaround', fmtDuration(d.approval_turnaround_median_s), 'submit → approved', 'o-model')),
    h('div', { class: 'charts' },
      chartCard('Changes per week by outcome', 'Changes raised each week (weeks start on Monday), stacked by how they ended.',
        legend(series),
        vbars({ labels, series, width, title: 'Changes per week by outcome',
          desc: `${sum('created')} changes over ${keys.length} weeks: ${sum('successful')} successful, ${sum('failed')} failed, ${sum('rolled_back')} rolled back, ${other.reduce((a, b) => a + b, 0)} other.` }),
        numbers('Changes per week by outcome', ['Week of', 'Raised', 'Successful', 'Failed', 'Rolled back', 'Other'],
          rows.map((w, i) => [labels[i], w.created, w.successful, w.failed, w.rolled_back, other[i]]))),
      chartCard('Emergency share per week', 'Emergency changes as a share of the changes raised each week.',
        vbars({ labels, width, int: false, fmt: (v) => `${Math.round(v)}%`, series: [{ label: 'Emergency share', cls: 'o-em', values: share }],
          title: 'Emergency share per week', desc: `Overall ${pct(d.emergency_share)}; highest week ${Math.round(Math.max(0, ...share))}%.` }),
        numbers('Emergency share per week', ['Week of', 'Emergency', 'Raised', 'Share'],
          rows.map((w, i) => [labels[i], w.emergency, w.created, `${Math.round(share[i])}%`]))),
      chartCard('Changes by state', 'Where the changes raised in the period are now.', none(states.length),
        states.length ? hbars({ width, title: 'Changes by state', desc: states.map(([s, n]) => `${stateLabel(s)} ${n}`).join(', '),
          items: states.map(([s, n]) => ({ label: stateLabel(s), value: n, cls: `s-${s}` })) }) : null,
        numbers('Changes by state', ['State', 'Changes'], states.map(([s, n]) => [stateLabel(s), n]))),
      chartCard('Changes by model', 'Standard, normal, emergency and any models an admin added.', none(models.length),
        models.length ? hbars({ width, title: 'Changes by model', desc: models.map(([m, n]) => `${m} ${n}`).join(', '),
          items: models.map(([m, n]) => ({ label: m, value: n, cls: 'o-model' })) }) : null,
        numbers('Changes by model', ['Model', 'Changes'], models.map(([m, n]) => [m, n])))),
  ];
}

export async function render(view, params, q) {
  let n = PERIODS.includes(Number(q.weeks)) ? Number(q.weeks) : 12;
  const sel = h('select', { name: 'weeks' }, PERIODS.map((p) => h('option', { value: p, text: `Last ${p} weeks`, selected: p === n })));
  const body = h('div');
  const range = h('p', { class: 'muted', 'aria-live': 'polite' });
  view.append(h('div', { class: 'head' }, h('h1', { text: 'Dashboard' }), h('div', { class: 'period' }, field('Period', sel))), range, body);
  let seq = 0;
  async function load() {
    const my = ++seq;
    setQuery({ weeks: n });
    body.replaceChildren(loading());
    const now = new Date();
    const keys = weeks(n, now);
    const r = await api('GET', `/reports/summary?from=${keys[0]}T00:00:00Z&to=${encodeURIComponent(iso(now))}`);
    if (my !== seq) return;
    if (!r.ok) {
      const p = r.problem || {};
      body.replaceChildren(h('p', { class: 'callout bad', role: 'alert' }, h('strong', { text: p.title || 'The report could not be loaded' }), p.detail ? ` ${p.detail}` : ''));
      return;
    }
    range.textContent = `From ${wkFmt.format(new Date(keys[0] + 'T00:00:00Z'))} to today (UTC weeks).`;
    // Drawn at the width a card will have, so that the text keeps its size.
    const width = Math.round(Math.min(640, Math.max(280, view.clientWidth < 800 ? view.clientWidth - 44 : view.clientWidth / 2 - 60)));
    body.replaceChildren(...content(r.data, keys, width));
  }
  sel.addEventListener('change', () => { n = Number(sel.value); load(); });
  await load();
}
