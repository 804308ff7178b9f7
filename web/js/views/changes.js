// The changes list, mine or all, 50 at a time; the filters live in the
// address so that a filtered list can be shared.
import { api, h, field, session, setQuery, pager, changeHref, stateBadge, levelBadge, flagBadges, stateLabel, fmtWindow } from '../core.js';
import { serviceDatalist } from '../services.js';
import { placeErrors } from '../changeparts.js';

const STATES = ['draft', 'awaiting_approval', 'approved', 'rejected', 'in_progress', 'review', 'closed', 'cancelled'];
const KEYS = ['q', 'state', 'model', 'service', 'from', 'to'];
const LABELS = ['Search', 'State', 'Model', 'Service', 'Window from', 'Window to'];

// A local day (yyyy-mm-dd) as the UTC instant it starts, or (end) ends.
function dayBound(day, end) {
  const d = new Date(day + 'T00:00');
  if (end) d.setDate(d.getDate() + 1);
  return Number.isNaN(d.getTime()) ? day : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function row(c) {
  const n = c.conflict_count || 0;
  return h('tr', null,
    h('th', { scope: 'row' }, h('a', { href: changeHref(c.ref), text: c.ref })),
    h('td', { class: 'title-cell' }, h('strong', { text: c.title }), h('span', { class: 'small', text: c.model })),
    h('td', null, stateBadge(c.state)),
    h('td', null, levelBadge(c.level), ' ', flagBadges(c.flags)),
    h('td', { class: 'opt' }, (c.services || []).join(', ')),
    h('td', { class: 'when' }, fmtWindow(c.window)),
    h('td', { class: 'opt' }, n ? h('span', { class: 'badge conflicts', text: String(n) }) : '0'));
}

export async function render(view, params, q) {
  const mine = q.mine === '1';
  const c = {
    q: h('input', { type: 'search' }),
    state: h('select', null, h('option', { value: '', text: 'Any state' }), STATES.map((s) => h('option', { value: s, text: stateLabel(s) }))),
    model: h('select', null, h('option', { value: '', text: 'Any model' }), q.model ? h('option', { value: q.model, text: q.model }) : null),
    service: h('input', { type: 'search', autocomplete: 'off' }),
    from: h('input', { type: 'date' }),
    to: h('input', { type: 'date' }),
  };
  const tbody = h('tbody');
  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'changes', 'aria-label': mine ? 'My changes' : 'All changes' },
    h('thead', null, h('tr', null, ['Ref', 'Title', 'State', 'Risk', 'Services', 'Window', 'Conflicts']
      .map((t, i) => h('th', { scope: 'col', class: i === 4 || i === 6 ? 'opt' : null, text: t })))), tbody));
  const status = h('p', { class: 'visually-hidden', role: 'status' });
  const filters = () => Object.fromEntries(KEYS.map((k) => [k, c[k].value.trim()]).filter(([, v]) => v));
  const list = pager(tbody, (cursor) => {
    const f = filters();
    const p = new URLSearchParams({ limit: '50', view: 'rows', ...f });
    if (f.from) p.set('from', dayBound(f.from, false));
    if (f.to) p.set('to', dayBound(f.to, true));
    if (mine) p.set('requester', String(session.me.id));
    if (cursor) p.set('cursor', cursor);
    return api('GET', '/changes?' + p);
  }, row, { empty: 'No changes match.' });

  const reload = async () => {
    setQuery({ ...(mine ? { mine: '1' } : {}), ...filters() });
    const r = await list.reload();
    placeErrors(form, (r.problem && r.problem.errors) || [], () => true);
    if (r.ok) status.textContent = `${r.data.items.length}${r.data.next_cursor ? ' or more' : ''} changes`;
    else { tbody.replaceChildren(); list.none.hidden = false; }
  };
  let timer = null;
  const form = h('form', { class: 'filters card', role: 'search', 'aria-label': 'Filter changes' },
    KEYS.map((k, i) => {
      c[k].value = q[k] || '';
      return field(LABELS[i], c[k], { field: k });
    }), serviceDatalist(c.service));
  form.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(reload, 350); });
  form.addEventListener('submit', (e) => { e.preventDefault(); reload(); });
  const kept = Object.fromEntries(KEYS.filter((k) => q[k]).map((k) => [k, q[k]]));
  const tab = (label, on) => {
    const s = new URLSearchParams({ ...(label === 'My changes' ? { mine: '1' } : {}), ...kept }).toString();
    return h('a', { href: '#/changes' + (s ? '?' + s : ''), text: label, 'aria-current': on ? 'page' : null });
  };
  view.append(
    h('div', { class: 'head' }, h('h1', { text: 'Changes' }), h('a', { class: 'btn', href: '#/changes/new', text: 'New change' })),
    h('nav', { class: 'tabs', 'aria-label': 'Which changes' }, tab('My changes', mine), tab('All changes', !mine)),
    form, status, table, list.none, list.more);
  api('GET', '/models').then((r) => {
    if (!r.ok) return;
    c.model.replaceChildren(c.model.options[0], ...r.data.items.map((m) => h('option', { value: m.name, text: `${m.title || m.name} (${m.kind})` })));
    c.model.value = q.model || '';
  });
  await reload();
  return () => clearTimeout(timer);
}
