// Schedule: a week or month timeline of change windows, one lane per
// service, freezes shaded, conflicts marked; the same rows as a table; and
// the calendar feed link.
import {
  api, h, svg, field, formError, showProblem, clearProblems, fmtWindow, fmtTime, stateBadge, stateLabel,
  changeHref, setQuery, notify, busy, copy, loading,
} from '../core.js';
import { legend } from '../chart.js';

const PAGE = 200, MAX_PAGES = 5; // follow cursors to at most 1,000 changes
const STATES = ['awaiting_approval', 'approved', 'in_progress', 'review', 'closed', 'rejected', 'cancelled'];
const W = 1100, L = 150, HEAD = 44, BAND = 24, TRACK = 26, PAD = 6;
const day1 = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate());
const addDays = (d, n) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
const ymd = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const fmt = (o) => new Intl.DateTimeFormat(undefined, o);
const fDay = fmt({ day: 'numeric', month: 'short' }), fLong = fmt({ day: 'numeric', month: 'short', year: 'numeric' });
const fMonth = fmt({ month: 'long', year: 'numeric' }), fWk = fmt({ weekday: 'short' }), fWn = fmt({ weekday: 'narrow' });

function range(mode, anchor) {
  if (mode === 'month') {
    const from = new Date(anchor.getFullYear(), anchor.getMonth(), 1);
    return { from, to: new Date(from.getFullYear(), from.getMonth() + 1, 1), label: fMonth.format(from) };
  }
  const from = addDays(anchor, -((anchor.getDay() + 6) % 7));
  const to = addDays(from, 7);
  return { from, to, label: `Week of ${fDay.format(from)} – ${fLong.format(addDays(to, -1))}` };
}

function parseDate(s) {
  const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(s || '');
  const d = m ? new Date(+m[1], m[2] - 1, +m[3]) : new Date();
  return Number.isNaN(d.getTime()) ? day1(new Date()) : day1(d);
}

async function fetchAll(from, to, service) {
  const changes = [];
  let freezes = [], cursor = null;
  for (let i = 0; i < MAX_PAGES; i++) {
    const q = new URLSearchParams({ from: iso(from), to: iso(to), limit: PAGE });
    if (service) q.set('service', service);
    if (cursor) q.set('cursor', cursor);
    const r = await api('GET', '/schedule?' + q);
    if (!r.ok) return { problem: r.problem };
    changes.push(...r.data.changes);
    if (i === 0) freezes = r.data.freezes || [];
    cursor = r.data.next_cursor;
    if (!cursor) break;
  }
  return { changes, freezes, more: !!cursor };
}

function label(c) {
  const n = c.conflict_count;
  return `${c.ref} ${c.title}, ${stateLabel(c.state)}, ${fmtWindow(c.window)}${n ? `, ${n} conflict${n > 1 ? 's' : ''}` : ''}`;
}

// The SVG timeline: lanes (services) × days.
function timeline(days, from, to, changes, freezes, only) {
  const nd = days.length, cw = (W - L) / nd, t0 = from.getTime(), t1 = to.getTime();
  const x = (iso) => {
    const t = Math.min(Math.max(new Date(iso).getTime(), t0), t1);
    let i = 0;
    while (i < nd - 1 && days[i + 1].getTime() <= t) i++;
    const end = i + 1 < nd ? days[i + 1].getTime() : t1;
    return L + cw * (i + (t - days[i].getTime()) / (end - days[i].getTime()));
  };
  const names = only ? [only] : [...new Set([...changes.flatMap((c) => c.services), ...freezes.flatMap((f) => f.services)])].sort();
  const lanes = (names.length ? names : [null]).map((n) => ({ name: n, items: [], tracks: [] }));
  const seen = new Set();
  for (const c of [...changes].sort((a, b) => a.window.start.localeCompare(b.window.start))) {
    const x0 = x(c.window.start), x1 = Math.max(x(c.window.end), x0 + 4);
    const tw = (c.ref.length + (c.conflict_count ? 2 : 0)) * 7.4 + 10;
    for (const ln of lanes) {
      if (ln.name !== null && !c.services.includes(ln.name)) continue;
      const inside = x1 - x0 >= tw, reach = (inside ? x1 : x1 + tw) + 4;
      let k = ln.tracks.findIndex((e) => e <= x0);
      if (k < 0) k = ln.tracks.push(0) - 1;
      ln.tracks[k] = reach;
      ln.items.push({ c, x0, x1, k, inside, first: !seen.has(c.id) });
      seen.add(c.id);
    }
  }
  const top = HEAD + (freezes.length ? BAND : 0);
  let y = top;
  for (const ln of lanes) { ln.y = y; ln.h = Math.max(1, ln.tracks.length) * TRACK + PAD * 2; y += ln.h; }
  const H = y + 1;
  const el = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'tl', 'aria-labelledby': 'tl-title' },
    svg('title', { id: 'tl-title' }, 'Timeline of change windows by service'),
    svg('defs', null,
      svg('pattern', { id: 'hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
        svg('rect', { width: 3, height: 6, class: 'hatch' })),
      svg('pattern', { id: 'fzp', width: 10, height: 10, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(-45)' },
        svg('rect', { width: 4, height: 10, class: 'fzp' }))));
  const today = ymd(new Date());
  days.forEach((d, i) => {
    const dx = L + i * cw, we = d.getDay() === 0 || d.getDay() === 6;
    el.append(svg('rect', { x: dx, y: 0, width: cw, height: H, class: ['col', we && 'we', ymd(d) === today && 'today'].filter(Boolean).join(' ') }),
      svg('line', { x1: dx, x2: dx, y1: 0, y2: H, class: 'sep' }));
    const cls = ymd(d) === today ? 'dh today' : 'dh';
    el.append(svg('text', { x: dx + cw / 2, y: 18, 'text-anchor': 'middle', class: cls }, nd > 10 ? fWn.format(d) : fWk.format(d)),
      svg('text', { x: dx + cw / 2, y: 36, 'text-anchor': 'middle', class: cls + ' num' }, nd > 10 ? String(d.getDate()) : fDay.format(d)));
  });
  if (freezes.length) el.append(svg('text', { x: 10, y: HEAD + 16, class: 'lane-name muted' }, 'Freezes'));
  for (const f of freezes) {
    const x0 = x(f.window.start), wd = Math.max(x(f.window.end) - x0, 2);
    const cover = f.services.length ? lanes.filter((ln) => ln.name === null || f.services.includes(ln.name)) : lanes;
    const desc = `Freeze ${f.name}${f.hard ? '' : ' (soft)'}: ${fmtWindow(f.window)}, ${f.services.length ? f.services.join(', ') : 'all services'}`;
    for (const ln of cover) el.append(svg('rect', { x: x0, y: ln.y, width: wd, height: ln.h, class: f.hard ? 'fz' : 'fz soft' }, svg('title', null, desc)));
    el.append(svg('g', null, svg('title', null, desc),
      svg('rect', { x: x0, y: HEAD + 2, width: wd, height: BAND - 4, rx: 4, class: f.hard ? 'fzb' : 'fzb soft' }),
      svg('text', { x: x0 + 6, y: HEAD + 16, class: 'fzt' }, `❄ ${f.name}${f.hard ? '' : ' (soft)'}`)));
  }
  for (const ln of lanes) {
    el.append(svg('line', { x1: 0, x2: W, y1: ln.y, y2: ln.y, class: 'lane-sep' }),
      svg('text', { x: 10, y: ln.y + ln.h / 2 + 5, class: 'lane-name' }, (ln.name || 'All services').slice(0, 20), svg('title', null, ln.name || 'All services')));
    for (const it of ln.items) {
      const { c } = it, by = ln.y + PAD + it.k * TRACK, bw = it.x1 - it.x0, warn = c.conflict_count > 0;
      const a = svg('a', { href: changeHref(c.ref), class: `bar s-${c.state}${warn ? ' conflict' : ''}` });
      if (it.first) a.setAttribute('aria-label', label(c));
      else { a.setAttribute('tabindex', '-1'); a.setAttribute('aria-hidden', 'true'); }
      a.append(svg('title', null, label(c)), svg('rect', { x: it.x0, y: by, width: bw, height: TRACK - 6, rx: 4, class: 'b' }));
      if (warn) a.append(svg('rect', { x: it.x0, y: by, width: bw, height: TRACK - 6, rx: 4, class: 'hx' }));
      a.append(svg('text', { x: it.inside ? it.x0 + 5 : it.x1 + 4, y: by + 14, class: it.inside ? 'bt in' : 'bt' }, `${warn ? '⚠ ' : ''}${c.ref}`));
      el.append(a);
    }
  }
  const now = Date.now();
  if (now >= t0 && now < t1) {
    const nx = x(new Date(now).toISOString());
    el.append(svg('line', { x1: nx, x2: nx, y1: HEAD - 4, y2: H, class: 'now' }), svg('circle', { cx: nx, cy: HEAD - 4, r: 4, class: 'now-dot' }));
  }
  el.append(svg('line', { x1: 0, x2: W, y1: H - 1, y2: H - 1, class: 'lane-sep' }), svg('line', { x1: L, x2: L, y1: 0, y2: H, class: 'axis' }));
  return el;
}

function table(changes) {
  const td = (lab, ...kids) => h('td', { data: { label: lab } }, h('div', null, ...kids));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'stack' },
    h('caption', { class: 'visually-hidden', text: 'Changes in this range' }),
    h('thead', null, h('tr', null, ['Change', 'Title', 'State', 'Window', 'Services'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', null, changes.map((c) => h('tr', null,
      td('Change', h('a', { href: changeHref(c.ref), text: c.ref })),
      td('Title', c.title, c.conflict_count ? [' ', h('span', { class: 'badge conflict-badge', text: `⚠ ${c.conflict_count} conflict${c.conflict_count > 1 ? 's' : ''}` })] : null),
      td('State', stateBadge(c.state)), td('Window', fmtWindow(c.window)), td('Services', c.services.join(', ')))))));
}

function freezeList(freezes) {
  return h('ul', { class: 'plain freezes' }, freezes.map((f) => h('li', null,
    h('strong', { text: `❄ ${f.name}` }), ' ', h('span', { class: 'badge', text: f.hard ? 'hard freeze' : 'soft freeze' }),
    h('div', { class: 'muted', text: `${fmtWindow(f.window)} · ${f.services.length ? f.services.join(', ') : 'All services'}` }),
    f.reason ? h('div', { text: f.reason }) : null)));
}

function feedPanel() {
  const out = h('div', { class: 'feed-out', hidden: true });
  const btn = h('button', { type: 'button', text: 'Create a feed link' });
  const err = formError();
  const panel = h('section', { class: 'card feed', 'aria-labelledby': 'feed-h' },
    h('h2', { id: 'feed-h', text: 'Subscribe in your calendar' }),
    h('p', null, 'Cabinet publishes this schedule as an iCalendar feed (.ics) that Outlook, Google Calendar and Apple Calendar can subscribe to: changes awaiting approval appear as tentative, approved or in-progress ones as confirmed, cancelled ones are withdrawn, and freezes are included.'),
    h('p', { class: 'muted' }, 'The link carries a personal token with the "feed" scope, which can read the feed and nothing else. Revoke it any time in ', h('a', { href: '#/me/tokens', text: 'My tokens' }), '.'),
    err, btn, out);
  btn.addEventListener('click', () => busy(btn, async () => {
    clearProblems(panel);
    const r = await api('POST', '/tokens', { body: { name: 'Calendar feed', scope: 'feed' } });
    if (r.status !== 201 && r.status !== 200) { showProblem(panel, r.problem); return; }
    const url = `${location.origin}/api/v1/schedule.ics?token=${encodeURIComponent(r.data.token)}`;
    const input = h('input', { type: 'text', readonly: true, value: url, class: 'mono' });
    out.replaceChildren(
      h('p', { class: 'callout warn' }, h('strong', { text: 'Shown once. ' }), 'Copy this link now: Cabinet keeps only a hash of its token and cannot show it again.'),
      field('Calendar feed link', input),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', text: 'Copy link', on: { click: () => copy(url) } }),
        h('a', { class: 'btn secondary', href: '#/me/tokens', text: 'My tokens' })));
    out.hidden = false;
    input.focus();
    input.select();
  }));
  return panel;
}

export async function render(view, params, q) {
  const st = { mode: q.view === 'month' ? 'month' : 'week', anchor: parseDate(q.date), service: q.service || '' };
  const modeBtns = ['Week', 'Month'].map((t) => h('button', { type: 'button', class: 'secondary', text: t, on: { click: () => { st.mode = t.toLowerCase(); load(); } } }));
  const move = (n) => () => {
    const a = st.anchor;
    st.anchor = n === 0 ? day1(new Date()) : st.mode === 'month' ? new Date(a.getFullYear(), a.getMonth() + n, 1) : addDays(a, 7 * n);
    load();
  };
  const svc = h('input', { type: 'text', name: 'service', list: 'sched-services', autocomplete: 'off', value: st.service, placeholder: 'All services' });
  const list = h('datalist', { id: 'sched-services' });
  const clear = h('button', { type: 'button', class: 'secondary', text: 'Clear', hidden: !st.service, on: { click: () => { svc.value = ''; st.service = ''; load(); } } });
  const filter = h('form', { class: 'sched-filter', role: 'search', 'aria-label': 'Filter by service' },
    field('Service', svc, { field: 'service' }), list, h('button', { type: 'submit', class: 'secondary', text: 'Filter' }), clear, formError());
  filter.addEventListener('submit', (ev) => { ev.preventDefault(); st.service = svc.value.trim(); load(); });
  const title = h('h2', { class: 'range', 'aria-live': 'polite' });
  const note = h('div');
  const box = h('div', { class: 'tl-box', role: 'region', 'aria-label': 'Timeline', tabindex: '0' });
  const below = h('div');
  const keys = [...STATES.map((s) => ({ label: stateLabel(s), cls: `s-${s}` })), { label: '⚠ conflict', cls: 'k-conflict' }, { label: '❄ freeze', cls: 'k-freeze' }];
  view.append(
    h('div', { class: 'head' }, h('h1', { text: 'Schedule' })),
    h('div', { class: 'card sched-bar' },
      h('div', { class: 'row' },
        h('div', { class: 'seg', role: 'group', 'aria-label': 'Range' }, modeBtns),
        h('div', { class: 'row', role: 'group', 'aria-label': 'Move' },
          h('button', { type: 'button', class: 'secondary', text: 'Previous', on: { click: move(-1) } }),
          h('button', { type: 'button', class: 'secondary', text: 'Today', on: { click: move(0) } }),
          h('button', { type: 'button', class: 'secondary', text: 'Next', on: { click: move(1) } }))),
      filter),
    title, note, h('div', { class: 'card tl-card' }, legend(keys), box), below, feedPanel());

  api('GET', '/services?limit=200').then((r) => {
    if (r.ok) list.replaceChildren(...r.data.items.map((s) => h('option', { value: s.name, label: s.title || s.name })));
  });

  let seq = 0;
  async function load() {
    const my = ++seq;
    const { from, to, label: text } = range(st.mode, st.anchor);
    setQuery({ view: st.mode, date: ymd(st.anchor), service: st.service });
    modeBtns.forEach((b) => b.setAttribute('aria-pressed', String(b.textContent.toLowerCase() === st.mode)));
    clear.hidden = !st.service;
    title.textContent = text + (st.service ? ` · ${st.service}` : '');
    box.replaceChildren(loading());
    const r = await fetchAll(from, to, st.service);
    if (my !== seq) return;
    clearProblems(filter);
    if (r.problem) {
      box.replaceChildren(h('p', { class: 'empty', text: 'The schedule could not be loaded.' }));
      below.replaceChildren();
      if (!showProblem(filter, r.problem)) notify(r.problem.title || 'The schedule could not be loaded', 'bad');
      return;
    }
    const days = [];
    for (let d = from; d < to; d = addDays(d, 1)) days.push(d);
    note.replaceChildren(r.more ? h('p', { class: 'callout warn', text: `Showing the first ${(PAGE * MAX_PAGES).toLocaleString()} changes in this range; there are more. Filter by service or pick a shorter range to see them all.` }) : '');
    box.replaceChildren(r.changes.length || r.freezes.length
      ? timeline(days, from, to, r.changes, r.freezes, st.service)
      : h('p', { class: 'empty', text: `No changes or freezes between ${fmtTime(iso(from))} and ${fmtTime(iso(to))}.` }));
    below.replaceChildren(
      h('h2', { text: `Changes in this range (${r.changes.length}${r.more ? '+' : ''})` }),
      r.changes.length ? table(r.changes) : h('p', { class: 'empty', text: 'No scheduled changes in this range.' }),
      ...(r.freezes.length ? [h('h2', { text: 'Freezes' }), h('div', { class: 'card' }, freezeList(r.freezes))] : []));
  }
  await load();
}
