// The CAB agenda: every change awaiting approval, by window, marking those
// that await my decision, with approve/reject at hand. Polls every 10 s.
import { api, h, changeHref, fmtTime, fmtDay, levelBadge, flagBadges, notify, poll, busy, query, setQuery } from '../core.js';
import { decide } from '../sign.js';

export async function render(view, params, q) {
  const mine = h('input', { type: 'checkbox', name: 'mine', checked: q.mine === '1' });
  const mineBox = h('label', { class: 'check toggle', hidden: true }, mine, 'Awaiting my decision');
  const summary = h('p', { class: 'muted agenda-summary' });
  const live = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const list = h('div', { class: 'agenda' });
  const more = h('button', { type: 'button', class: 'secondary more', text: 'Show more', hidden: true });
  view.append(
    h('div', { class: 'head' }, h('div', null, h('h1', { text: 'CAB agenda' }), summary), mineBox),
    live, list, more);

  let items = [];
  let cursor = null;
  let etag = null;
  let fresh = true;
  let queue = null; // Set of change ids awaiting me, or null when unknown
  let qtag = null;
  let deciding = false;

  const loadQueue = async () => {
    const r = await api('GET', '/me/queue?limit=200', { etag: qtag });
    if (r.status === 304) return false;
    if (!r.ok || !r.data) { const was = queue !== null; queue = null; return was; }
    qtag = r.etag;
    const next = new Set(r.data.items.map((c) => c.id));
    const same = queue && next.size === queue.size && [...next].every((id) => queue.has(id));
    queue = next;
    return !same;
  };

  const loadFirst = async () => {
    const r = await api('GET', '/cab/agenda?limit=50', { etag });
    if (r.status === 304) return false;
    if (!r.ok) { notify((r.problem && r.problem.title) || 'The agenda could not be loaded', 'bad'); return false; }
    const changed = fresh || JSON.stringify(r.data.items) !== JSON.stringify(items.slice(0, r.data.items.length));
    etag = r.etag;
    fresh = false;
    if (!changed) return false;
    items = r.data.items;
    cursor = r.data.next_cursor;
    return true;
  };

  const draw = () => {
    mineBox.hidden = queue === null;
    const shown = queue && mine.checked ? items.filter((c) => queue.has(c.id)) : items;
    const awaiting = queue ? items.filter((c) => queue.has(c.id)).length : 0;
    summary.textContent = `${items.length}${cursor ? '+' : ''} awaiting approval` + (queue ? ` · ${awaiting} awaiting your decision` : '');
    const days = new Map();
    for (const c of shown) {
      const key = c.window && c.window.start ? fmtDay(new Date(c.window.start)) : 'No window';
      if (!days.has(key)) days.set(key, []);
      days.get(key).push(c);
    }
    list.replaceChildren(...[...days].map(([day, rows]) => h('section', { class: 'agenda-day' },
      h('h2', { text: day }), h('ul', { class: 'agenda-list' }, rows.map((c) => item(c, queue && queue.has(c.id)))))));
    if (!shown.length) {
      list.append(h('div', { class: 'empty card agenda-empty' },
        h('strong', { text: mine.checked && queue ? 'Nothing awaits your decision.' : 'Nothing awaits approval.' }),
        h('p', { text: 'Changes appear here once they are submitted for approval.' })));
    }
    more.hidden = !cursor;
  };

  const item = (c, me) => {
    const conflicts = c.conflict_count || 0;
    const actions = me ? h('div', { class: 'actions agenda-actions' },
      quick(c, 'approve', 'Approve'), quick(c, 'reject', 'Reject')) : null;
    return h('li', { class: ['agenda-item card', me && 'mine', c.kind === 'emergency' && 'emergency'], data: { ref: c.ref } },
      h('div', { class: 'agenda-main' },
        h('div', { class: 'row agenda-top' },
          h('a', { class: 'ref', href: changeHref(c.ref), text: c.ref }),
          c.kind === 'emergency' ? h('span', { class: 'badge kind-emergency', text: 'emergency' })
            : h('span', { class: 'badge kind', text: c.kind }),
          levelBadge(c.level),
          c.score !== undefined && c.score !== null ? h('span', { class: 'muted score', text: `score ${c.score}` }) : null,
          flagBadges(c.flags),
          me ? h('span', { class: 'badge awaits', text: 'awaits you' }) : null),
        h('a', { class: 'agenda-title', href: changeHref(c.ref), text: c.title }),
        h('dl', { class: 'agenda-meta' },
          h('div', null, h('dt', { text: 'Window' }), h('dd', { text: c.window && c.window.start ? `${fmtTime(c.window.start)} – ${fmtTime(c.window.end)}` : 'No window' })),
          h('div', null, h('dt', { text: 'Services' }), h('dd', null, (c.services || []).map((s) => h('span', { class: 'svc', text: s })))),
          h('div', null, h('dt', { text: 'Conflicts' }), h('dd', null, conflicts > 0
            ? h('a', { class: 'conflict-count hot', href: `#/conflicts?change=${encodeURIComponent(c.ref)}`, text: `${conflicts} conflict${conflicts === 1 ? '' : 's'}` })
            : h('span', { class: 'conflict-count', text: 'none' }))))),
      actions);
  };

  const quick = (c, decision, text) => {
    const b = h('button', { type: 'button', class: decision === 'reject' ? 'secondary danger-text' : null, text });
    b.addEventListener('click', () => busy(b, async () => {
      const r = await api('GET', `/changes/${encodeURIComponent(c.id)}`);
      if (!r.ok) { notify((r.problem && r.problem.detail) || `${c.ref} could not be read`, 'bad'); return; }
      if (!(r.data.actions || []).includes(decision)) { notify(`You cannot ${decision} ${c.ref} now`, 'bad'); await refresh(true); return; }
      deciding = true;
      let done;
      try { done = await decide(r.data, decision); } finally { deciding = false; }
      if (done) {
        notify(`${decision === 'approve' ? 'Approved' : 'Rejected'} ${c.ref}`);
        await refresh(true);
        window.dispatchEvent(new Event('cabinet:queue'));
      }
    }));
    return b;
  };

  const refresh = async (force) => {
    if (force) { etag = null; qtag = null; fresh = true; }
    const [a, b] = await Promise.all([loadFirst(), loadQueue()]);
    if ((a || b) && !deciding) {
      const focusRef = document.activeElement && document.activeElement.closest && document.activeElement.closest('[data-ref]');
      draw();
      if (focusRef) {
        const again = list.querySelector(`[data-ref="${CSS.escape(focusRef.dataset.ref)}"] a.ref`);
        if (again && !force) again.focus({ preventScroll: true });
      }
      return true;
    }
    return false;
  };

  mine.addEventListener('change', () => { setQuery({ ...query(), mine: mine.checked ? '1' : '' }); draw(); });
  more.addEventListener('click', () => busy(more, async () => {
    const r = await api('GET', `/cab/agenda?limit=50&cursor=${encodeURIComponent(cursor)}`);
    if (!r.ok) { notify('More could not be loaded', 'bad'); return; }
    items = items.concat(r.data.items);
    cursor = r.data.next_cursor;
    draw();
  }));

  await refresh(true);
  return poll(async () => {
    if (await refresh(false)) live.textContent = `Agenda updated: ${items.length} awaiting approval.`;
  }, 10000);
}
