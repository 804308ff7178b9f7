// The changes list: mine or all, filtered (the filters live in the address
// so that a filtered list can be shared), 50 at a time.
import {
  api, h, field, session, query, setQuery, pager, changeHref, stateBadge, levelBadge,
  flagBadges, stateLabel,
} from '../core.js';
import { serviceDatalist, shortWindow } from '../changeparts.js';

const STATES = ['draft', 'awaiting_approval', 'approved', 'rejected', 'in_progress', 'review', 'closed', 'cancelled'];
const KEYS = ['state', 'model', 'service', 'from', 'to', 'q'];

// yyyy-mm-dd (a local day) as the RFC 3339 instant it starts, or ends.
function dayBound(day, end) {
  if (!day) return '';
  const d = new Date(day + 'T00:00');
  if (Number.isNaN(d.getTime())) return '';
  if (end) d.setDate(d.getDate() + 1);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function row(c) {
  const conflicts = (c.conflict_summary && c.conflict_summary.total) || 0;
  return h('tr', null,
    h('th', { scope: 'row' }, h('a', { href: changeHref(c.ref), text: c.ref })),
    h('td', { class: 'title-cell' }, h('a', { href: changeHref(c.ref), class: 'plain-link', text: c.title }),
      h('span', { class: 'muted sub', text: c.model })),
    h('td', null, stateBadge(c.state)),
    h('td', null, levelBadge(c.assessment && c.assessment.level), ' ', flagBadges(c.flags)),
    h('td', { class: 'opt' }, (c.services || []).join(', ') || '—'),
    h('td', { class: 'when' }, shortWindow(c.window)),
    h('td', { class: 'opt num' }, conflicts
      ? h('span', { class: 'badge conflict-count', text: String(conflicts), 'aria-label': `${conflicts} conflicts` })
      : h('span', { class: 'muted', text: '0' })));
}

export async function render(view, params, q) {
  const mine = q.mine === '1';
  const controls = {
    state: h('select', null, h('option', { value: '', text: 'Any state' }),
      STATES.map((s) => h('option', { value: s, text: stateLabel(s) }))),
    model: h('select', null, h('option', { value: '', text: 'Any model' })),
    service: h('input', { type: 'search', id: 'flt-service', autocomplete: 'off', placeholder: 'Any service' }),
    from: h('input', { type: 'date' }),
    to: h('input', { type: 'date' }),
    q: h('input', { type: 'search', placeholder: 'Title, description, reference' }),
  };
  for (const k of KEYS) controls[k].value = q[k] || '';

  const tab = (label, on, href) => h('a', { href, text: label, 'aria-current': on ? 'page' : null });
  const tbody = h('tbody');
  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'changes' },
    h('caption', { class: 'visually-hidden', text: mine ? 'My changes' : 'All changes' }),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', text: 'Ref' }), h('th', { scope: 'col', text: 'Title' }),
      h('th', { scope: 'col', text: 'State' }), h('th', { scope: 'col', text: 'Risk' }),
      h('th', { scope: 'col', class: 'opt', text: 'Services' }), h('th', { scope: 'col', text: 'Window' }),
      h('th', { scope: 'col', class: 'opt num', text: 'Conflicts' }))),
    tbody));
  const status = h('p', { class: 'visually-hidden', role: 'status' });

  const filters = () => {
    const f = {};
    for (const k of KEYS) if (controls[k].value.trim()) f[k] = controls[k].value.trim();
    return f;
  };
  const list = pager(tbody, (cursor) => {
    const f = filters();
    const p = new URLSearchParams({ limit: '50' });
    for (const k of ['state', 'model', 'service', 'q']) if (f[k]) p.set(k, f[k]);
    if (f.from) p.set('from', dayBound(f.from, false));
    if (f.to) p.set('to', dayBound(f.to, true));
    if (mine) p.set('requester', String(session.me.id));
    if (cursor) p.set('cursor', cursor);
    return api('GET', '/changes?' + p);
  }, row, { empty: mine ? 'You have not raised any changes that match.' : 'No changes match these filters.' });

  const reload = async () => {
    setQuery({ ...(mine ? { mine: '1' } : {}), ...filters() });
    table.setAttribute('aria-busy', 'true');
    const r = await list.reload();
    table.removeAttribute('aria-busy');
    if (r && r.ok) status.textContent = `${r.data.items.length}${r.data.next_cursor ? ' or more' : ''} changes`;
    else { tbody.replaceChildren(); list.none.hidden = false; status.textContent = ''; }
  };

  let timer = null;
  const later = () => { clearTimeout(timer); timer = setTimeout(reload, 350); };
  for (const k of KEYS) {
    const c = controls[k];
    c.addEventListener(c.tagName === 'SELECT' || c.type === 'date' ? 'change' : 'input', later);
  }
  const form = h('form', { class: 'filters card', role: 'search', 'aria-label': 'Filter changes', on: { submit: (e) => { e.preventDefault(); reload(); } } },
    field('Search', controls.q),
    field('State', controls.state),
    field('Model', controls.model),
    field('Service', controls.service),
    field('Window from', controls.from),
    field('Window to', controls.to),
    serviceDatalist(controls.service));
  const kept = Object.fromEntries(KEYS.filter((k) => q[k]).map((k) => [k, q[k]]));
  const base = (m) => {
    const s = new URLSearchParams({ ...(m ? { mine: '1' } : {}), ...kept }).toString();
    return '#/changes' + (s ? '?' + s : '');
  };

  view.append(
    h('div', { class: 'head' }, h('h1', { text: 'Changes' }),
      h('a', { class: 'btn', href: '#/changes/new', text: 'New change' })),
    h('nav', { class: 'tabs', 'aria-label': 'Which changes' },
      tab('My changes', mine, base(true)), tab('All changes', !mine, base(false))),
    form, status, table, list.none, list.more);

  api('GET', '/models').then((r) => {
    if (!r.ok) return;
    for (const m of r.data.items) controls.model.append(h('option', { value: m.name, text: `${m.title || m.name} (${m.kind})` }));
    controls.model.value = q.model || '';
  });
  await reload();
}
