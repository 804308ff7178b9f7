// The CAB agenda: changes awaiting approval by window; mine to decide marked.
import { api, h, changeHref, fmtWindow, fmtDay, levelBadge, flagBadges, notify, poll, busy, setQuery } from '../core.js';
import { decide } from '../sign.js';

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

export async function render(view, params, q) {
  const mine = h('input', { type: 'checkbox', name: 'mine', checked: q.mine === '1' });
  const mineBox = h('label', { class: 'check toggle', hidden: true }, mine, 'Awaiting my decision');
  const summary = h('p', { class: 'muted agenda-summary' });
  const live = h('p', { class: 'visually-hidden', role: 'status' });
  const list = h('div', { class: 'agenda' });
  const more = h('button', { type: 'button', class: 'secondary more', text: 'Show more', hidden: true });
  view.append(h('div', { class: 'head' }, h('div', null, h('h1', { text: 'CAB agenda' }), summary), mineBox), live, list, more);

  let items = null;
  let cursor = null;
  let etag = null;
  let queue = null; // ids awaiting me (null: unknown)
  let qtag = null;
  let deciding = false;
  let dirty = false; // changed during a decision

  const loadQueue = async () => {
    const r = await api('GET', '/me/queue?limit=200', { etag: qtag });
    if (r.status === 304) return false;
    const was = queue;
    qtag = r.ok ? r.etag : null;
    queue = r.ok ? r.data.items.map((c) => c.id) : null;
    return !same(was, queue);
  };

  const loadFirst = async () => {
    const r = await api('GET', '/cab/agenda?limit=50', { etag });
    if (r.status === 304) return false;
    if (!r.ok) { notify((r.problem && r.problem.title) || 'The agenda could not be loaded', 'bad'); return false; }
    etag = r.etag;
    if (items && same(r.data.items, items.slice(0, r.data.items.length))) return false;
    items = r.data.items;
    cursor = r.data.next_cursor;
    return true;
  };

  const awaits = (c) => queue && queue.includes(c.id);
  const draw = () => {
    mineBox.hidden = !queue;
    const shown = queue && mine.checked ? items.filter(awaits) : items;
    summary.textContent = `${items.length}${cursor ? '+' : ''} awaiting approval` + (queue ? ` · ${items.filter(awaits).length} awaiting your decision` : '');
    const days = new Map();
    for (const c of shown) {
      const day = c.window && c.window.start ? fmtDay(new Date(c.window.start)) : 'No window';
      days.set(day, (days.get(day) || []).concat(c));
    }
    list.replaceChildren(...[...days].map(([day, rows]) => h('section', { class: 'agenda-day' },
      h('h2', { text: day }), h('ul', { class: 'agenda-list' }, rows.map(item)))));
    if (!shown.length) list.append(h('p', { class: 'empty card', text: mine.checked && queue ? 'Nothing awaits your decision.' : 'Nothing awaits approval.' }));
    more.hidden = !cursor;
  };

  const item = (c) => {
    const me = awaits(c);
    const n = c.conflict_count || 0;
    const pair = (dt, dd) => h('div', null, h('dt', { text: dt }), h('dd', null, dd));
    return h('li', { class: ['agenda-item card', me && 'mine', c.kind === 'emergency' && 'emergency'], data: { ref: c.ref } },
      h('div', { class: 'agenda-main' },
        h('div', { class: 'row' }, h('a', { class: 'ref', href: changeHref(c.ref), text: c.ref }),
          h('span', { class: c.kind === 'emergency' ? 'badge kind-emergency' : 'badge', text: c.kind }), levelBadge(c.level),
          c.score != null ? h('span', { class: 'muted', text: `score ${c.score}` }) : null, flagBadges(c.flags),
          me ? h('span', { class: 'badge awaits', text: 'awaits you' }) : null),
        h('a', { class: 'agenda-title', id: `ag-${c.id}`, href: changeHref(c.ref), text: c.title }),
        h('dl', { class: 'agenda-meta' }, pair('Window', fmtWindow(c.window)),
          pair('Services', (c.services || []).map((s) => h('span', { class: 'svc', text: s }))),
          pair('Conflicts', n ? h('a', { class: 'hot', href: `#/conflicts?change=${c.ref}`, text: `${n} conflict${n === 1 ? '' : 's'}` }) : 'none'))),
      me ? h('div', { class: 'actions' }, quick(c, 'approve', 'Approve'), quick(c, 'reject', 'Reject')) : null);
  };

  const quick = (c, decision, text) => {
    const b = h('button', { type: 'button', class: decision === 'reject' ? 'secondary danger-text' : null, text, 'aria-describedby': `ag-${c.id}` });
    b.addEventListener('click', async () => {
      const r = await busy(b, () => api('GET', `/changes/${c.id}`));
      if (!r.ok) return notify((r.problem && r.problem.detail) || `${c.ref} could not be read`, 'bad');
      if (!(r.data.actions || []).includes(decision)) { notify(`You cannot ${decision} ${c.ref} now`, 'bad'); return refresh(true); }
      b.focus(); // busy() took it away; the dialog gives it back on closing
      deciding = true;
      let done;
      try { done = await decide(r.data, decision); } finally { deciding = false; }
      if (done) notify(`${decision === 'approve' ? 'Approved' : 'Rejected'} ${c.ref}`);
      if (done || dirty) await refresh(!!done);
      if (done) window.dispatchEvent(new Event('cabinet:queue'));
    });
    return b;
  };

  const refresh = async (force) => {
    if (force) { etag = null; qtag = null; items = null; }
    const changed = (await Promise.all([loadFirst(), loadQueue()])).some(Boolean) || dirty;
    dirty = deciding && changed;
    if (!changed || deciding || !items) return false;
    const at = list.contains(document.activeElement) && document.activeElement.closest('[data-ref]');
    draw();
    if (at) (list.querySelector(`[data-ref="${at.dataset.ref}"] a.ref`) || list.querySelector('a.ref') || view).focus({ preventScroll: true });
    return true;
  };

  mine.addEventListener('change', () => { setQuery({ mine: mine.checked ? '1' : '' }); draw(); });
  more.addEventListener('click', () => busy(more, async () => {
    const r = await api('GET', `/cab/agenda?limit=50&cursor=${encodeURIComponent(cursor)}`);
    if (!r.ok) return notify('More could not be loaded', 'bad');
    items = items.concat(r.data.items);
    cursor = r.data.next_cursor;
    draw();
  }));

  await refresh(true);
  return poll(async () => { if (await refresh(false)) live.textContent = `Agenda updated: ${items.length} changes`; }, 10000);
}
