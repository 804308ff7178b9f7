// Schedule: a week or month timeline of change windows by service, freezes
// shaded, conflicts marked; the same rows as a table; the calendar feed link.
import { api, h, svg, field, formError, showProblem, clearProblems, fmtWindow, stateBadge, stateLabel, changeHref, setQuery, busy, loading } from '../core.js';
import { serviceDatalist } from '../services.js';
import { legend, grid } from '../chart.js';
import { shownOnce } from './me.js';

const PAGE = 200, PAGES = 5; // at most 1,000 changes
const W = 1100, L = 150, HEAD = 44, BAND = 24, TRACK = 26, PAD = 6;
const day = (d, n = 0) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
const ymd = (d) => [d.getFullYear(), d.getMonth() + 1, d.getDate()].map((n) => String(n).padStart(2, '0')).join('-');
const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const fmt = (o) => new Intl.DateTimeFormat(undefined, o).format;
const fDay = fmt({ day: 'numeric', month: 'short' }), fLong = fmt({ dateStyle: 'medium' });
const fMonth = fmt({ month: 'long', year: 'numeric' }), fWk = fmt({ weekday: 'short' }), fWn = fmt({ weekday: 'narrow' });
const line = (x1, y1, x2, y2, cls) => svg('line', { x1, y1, x2, y2, class: cls });
const text = (x, y, cls, t, anchor) => svg('text', { x, y, class: cls, 'text-anchor': anchor }, t);
const nConf = (n) => `${n} conflict${n > 1 ? 's' : ''}`;
const label = (c) => `${c.ref} ${c.title}, ${stateLabel(c.state)}, ${fmtWindow(c.window)}${c.conflict_count ? ', ' + nConf(c.conflict_count) : ''}`;

function range(mode, a) {
  const from = mode === 'month' ? new Date(a.getFullYear(), a.getMonth(), 1) : day(a, -((a.getDay() + 6) % 7));
  if (mode === 'month') return { from, to: new Date(a.getFullYear(), a.getMonth() + 1, 1), text: fMonth(from) };
  return { from, to: day(from, 7), text: `Week of ${fDay(from)} – ${fLong(day(from, 6))}` };
}

async function fetchAll(from, to, service) {
  const changes = [];
  let freezes = [], cursor = null;
  for (let i = 0; i < PAGES; i++) {
    const q = new URLSearchParams({ from: iso(from), to: iso(to), limit: PAGE });
    if (service) q.set('service', service);
    if (cursor) q.set('cursor', cursor);
    const r = await api('GET', '/schedule?' + q);
    if (!r.ok) return { problem: r.problem || {} };
    changes.push(...r.data.changes);
    if (i === 0) freezes = r.data.freezes || [];
    if (!(cursor = r.data.next_cursor)) break;
  }
  return { changes, freezes, more: !!cursor };
}

// The SVG timeline: a lane per service (or only the filtered one) × a column per day.
function timeline(days, to, changes, freezes, only) {
  // Linear in time: a day is as wide as its hours (23 or 25 when clocks change).
  const t0 = +days[0], t1 = +to, x = (t) => L + ((W - L) * (Math.min(Math.max(+new Date(t), t0), t1) - t0)) / (t1 - t0);
  const names = only ? [only] : [...new Set([...changes, ...freezes].flatMap((c) => c.services))].sort();
  const lanes = (names.length ? names : [null]).map((name) => ({ name, items: [], tracks: [] }));
  const seen = new Set();
  for (const c of changes) { // rows come in window order: pack each lane's bars into tracks
    const x0 = x(c.window.start), x1 = Math.max(x(c.window.end), x0 + 4);
    const tw = (c.ref.length + (c.conflict_count ? 2 : 0)) * 7.4 + 10, inside = x1 - x0 >= tw;
    for (const ln of lanes) {
      if (ln.name !== null && !c.services.includes(ln.name)) continue;
      let k = ln.tracks.findIndex((e) => e <= x0);
      if (k < 0) k = ln.tracks.push(0) - 1;
      ln.tracks[k] = (inside ? x1 : x1 + tw) + 4;
      ln.items.push({ c, x0, x1, k, inside, first: !seen.has(c.id) });
      seen.add(c.id);
    }
  }
  let y = HEAD + (freezes.length ? BAND : 0);
  for (const ln of lanes) { ln.y = y; ln.h = Math.max(1, ln.tracks.length) * TRACK + PAD * 2; y += ln.h; }
  const H = y + 1, today = ymd(new Date());
  const pattern = (id, w, angle, cls) => svg('pattern', { id, width: w, height: w, patternUnits: 'userSpaceOnUse', patternTransform: `rotate(${angle})` },
    svg('rect', { width: w / 2, height: w, class: cls }));
  const el = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'tl', role: 'group', 'aria-labelledby': 'tl-title' },
    svg('title', { id: 'tl-title' }, 'Timeline of change windows'),
    svg('defs', null, pattern('hatch', 6, 45, 'hatch'), pattern('fzp', 10, -45, 'fzp')));
  days.forEach((d, i) => {
    const dx = x(d), cw = x(days[i + 1] || to) - dx, t = ymd(d) === today ? ' today' : '', wide = days.length < 10;
    el.append(svg('rect', { x: dx, y: 0, width: cw, height: H, class: `col${d.getDay() % 6 ? '' : ' we'}${t}` }),
      line(dx, 0, dx, H, 'sep'), text(dx + cw / 2, 18, 'dh' + t, wide ? fWk(d) : fWn(d), 'middle'),
      text(dx + cw / 2, 36, 'dh num' + t, wide ? fDay(d) : d.getDate(), 'middle'));
  });
  for (const f of freezes) {
    const x0 = x(f.window.start), wd = Math.max(x(f.window.end) - x0, 2), soft = f.hard ? '' : ' soft';
    const desc = `Freeze ${f.name}${soft}: ${fmtWindow(f.window)}, ${f.services.join(', ') || 'all services'}`;
    for (const ln of lanes.filter((l) => !f.services.length || l.name === null || f.services.includes(l.name)))
      el.append(svg('rect', { x: x0, y: ln.y, width: wd, height: ln.h, class: 'fz' + soft }, svg('title', null, desc)));
    el.append(svg('g', { class: soft, role: 'img', 'aria-label': desc }, svg('title', null, desc),
      svg('rect', { x: x0, y: HEAD + 2, width: wd, height: BAND - 4, rx: 4, class: 'fzb' }),
      text(x0 + 6, HEAD + 16, 'fzt', `❄ ${f.name}${soft && ' (soft)'}`)));
  }
  for (const ln of lanes) {
    el.append(line(0, ln.y, W, ln.y, 'sep'), text(10, ln.y + ln.h / 2 + 5, 'lane', ln.name || 'All services'));
    for (const { c, x0, x1, k, inside, first } of ln.items) {
      const by = ln.y + PAD + k * TRACK, warn = c.conflict_count > 0, box = { x: x0, y: by, width: x1 - x0, height: TRACK - 6, rx: 4 };
      // A change on several lanes is one keyboard stop: its first bar.
      el.append(svg('a', { href: changeHref(c.ref), class: `s-${c.state}${warn ? ' conflict' : ''}`, ...(first ? { 'aria-label': label(c) } : { tabindex: -1, 'aria-hidden': 'true' }) },
        svg('title', null, label(c)), svg('rect', { ...box, class: 'b' }), warn ? svg('rect', { ...box, class: 'hx' }) : null,
        text(inside ? x0 + 5 : x1 + 4, by + 14, inside ? 'bt in' : 'bt', `${warn ? '⚠ ' : ''}${c.ref}`)));
    }
  }
  const now = x(Date.now());
  if (now > L && now < W) el.append(line(now, HEAD - 6, now, H, 'now'));
  el.append(line(0, H - 1, W, H - 1, 'sep'), line(L, 0, L, H, 'axis'));
  return el;
}

const table = (changes) => grid('Changes in this range', ['Change', 'Title', 'State', 'Window', '?Services'], changes.map((c) => [
  h('a', { href: changeHref(c.ref), text: c.ref }), [c.title, c.conflict_count ? [' ', h('span', { class: 'badge conflict-badge', text: '⚠ ' + nConf(c.conflict_count) })] : null],
  stateBadge(c.state), fmtWindow(c.window), c.services.join(', ')]), 'sched');

function feedPanel() {
  const out = h('div');
  const btn = h('button', { type: 'button', text: 'Create a feed link' });
  const panel = h('section', { class: 'card feed', 'aria-labelledby': 'feed-h' },
    h('h2', { id: 'feed-h', text: 'Subscribe in your calendar' }),
    h('p', null, 'Calendar apps can subscribe to this schedule as an iCalendar feed (pending changes tentative, approved ones confirmed, and freezes). The link holds a token that reads the feed and nothing else; revoke it in ', h('a', { href: '#/me/tokens', text: 'My tokens' }), '.'),
    formError(), btn, out);
  btn.addEventListener('click', () => busy(btn, async () => {
    clearProblems(panel);
    const r = await api('POST', '/tokens', { body: { name: 'Calendar feed', scope: 'feed' } });
    if (!r.ok) { showProblem(panel, r.problem); return; }
    const url = `${location.origin}/api/v1/schedule.ics?token=${encodeURIComponent(r.data.token)}`;
    out.replaceChildren(...shownOnce('Calendar feed link', url, 'the link'), h('a', { href: '#/me/tokens', text: 'My tokens' }));
  }));
  return panel;
}

export async function render(view, params, q) {
  const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(q.date || '');
  const st = { mode: q.view === 'month' ? 'month' : 'week', at: m ? new Date(+m[1], m[2] - 1, +m[3]) : day(new Date()), service: q.service || '' };
  if (Number.isNaN(st.at.getTime())) st.at = day(new Date());
  const btn = (text, click) => h('button', { type: 'button', class: 'secondary', text, on: { click } });
  const modes = ['week', 'month'].map((md) => btn(md[0].toUpperCase() + md.slice(1), () => { st.mode = md; load(); }));
  const move = (n) => () => {
    const a = st.at;
    st.at = n === 0 ? day(new Date()) : st.mode === 'month' ? new Date(a.getFullYear(), a.getMonth() + n, 1) : day(a, 7 * n);
    load();
  };
  const svc = h('input', { type: 'text', name: 'service', autocomplete: 'off', value: st.service, placeholder: 'All services' });
  const list = serviceDatalist(svc);
  const filter = h('form', { class: 'sched-filter', role: 'search', 'aria-label': 'Schedule filter' },
    field('Service', svc, { field: 'service' }), list, h('button', { type: 'submit', class: 'secondary', text: 'Filter' }), formError());
  filter.addEventListener('submit', (ev) => { ev.preventDefault(); st.service = svc.value.trim(); load(); });
  const title = h('h2', { class: 'range', 'aria-live': 'polite' });
  const note = h('div'), box = h('div', { class: 'tl-box', role: 'region', 'aria-label': 'Timeline', tabindex: '0' }), below = h('div');
  const keys = [...['awaiting_approval', 'approved', 'in_progress', 'review', 'closed', 'rejected', 'cancelled'].map((s) => ({ label: stateLabel(s), cls: `s-${s}` })), { label: '⚠ conflict', cls: 'k-conflict' }, { label: '❄ freeze', cls: 'k-freeze' }];
  view.append(h('h1', { text: 'Schedule' }),
    h('div', { class: 'card sched-bar' },
      h('div', { class: 'row' }, h('div', { class: 'seg', role: 'group', 'aria-label': 'Range' }, modes),
        h('div', { class: 'row', role: 'group', 'aria-label': 'Move' }, btn('Previous', move(-1)), btn('Today', move(0)), btn('Next', move(1)))),
      filter),
    title, note, h('div', { class: 'card' }, legend(keys), box), below, feedPanel());

  let seq = 0;
  async function load() {
    const my = ++seq, { from, to, text } = range(st.mode, st.at);
    setQuery({ view: st.mode, date: ymd(st.at), service: st.service });
    modes.forEach((b) => b.setAttribute('aria-pressed', String(b.textContent.toLowerCase() === st.mode)));
    title.textContent = text + (st.service ? ` · ${st.service}` : '');
    box.replaceChildren(loading());
    const r = await fetchAll(from, to, st.service);
    if (my !== seq) return;
    clearProblems(filter);
    if (r.problem) { showProblem(filter, r.problem); box.replaceChildren(); return below.replaceChildren(); }
    const days = [];
    for (let d = from; d < to; d = day(d, 1)) days.push(d);
    note.replaceChildren(r.more ? h('p', { class: 'callout warn', text: `Only the first ${PAGE * PAGES} changes are shown: filter by service.` }) : '');
    box.replaceChildren(r.changes.length || r.freezes.length ? timeline(days, to, r.changes, r.freezes, st.service)
      : h('p', { class: 'empty', text: 'No changes or freezes in this range.' }));
    below.replaceChildren(...(r.changes.length ? [h('h2', { text: `Changes in this range (${r.changes.length}${r.more ? '+' : ''})` }), table(r.changes)] : []));
  }
  await load();
}
