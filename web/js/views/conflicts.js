// Conflicts, direct ones first, and their acknowledgement.
import { api, h, field, changeHref, fmtTime, stateBadge, notify, busy, setQuery } from '../core.js';
import { formDialog, fail, need } from '../sign.js';

const rank = (k) => (k.kind === 'freeze' ? 2 : k.overlap === 'direct' ? 0 : 1);
const win = (w) => (w && w.start ? `${fmtTime(w.start)} – ${fmtTime(w.end)}` : 'No window');
const span = (cls, text) => h('span', { class: cls, text });

export async function render(view, params, q) {
  const ref = /^CHG-\d+$/i.test(q.change || '') ? q.change.toUpperCase() : '';
  const kind = h('select', { name: 'kind', id: 'cf-kind' }, [['', 'All'], ['change', 'Between changes'], ['freeze', 'With a freeze']]
    .map(([value, text]) => h('option', { value, text })));
  kind.value = ['change', 'freeze'].includes(q.kind) ? q.kind : '';
  const all = h('input', { type: 'checkbox', name: 'all', checked: q.all === '1' });
  const list = h('ul', { class: 'conflicts' });
  const more = h('button', { type: 'button', class: 'secondary more', text: 'Show more', hidden: true });
  const status = h('p', { class: 'muted', role: 'status' });
  view.append(
    h('div', { class: 'head' }, h('h1', { text: ref ? `Conflicts of ${ref}` : 'Conflicts' }), ref ? h('a', { href: '#/conflicts', text: 'All conflicts' }) : ''),
    h('p', { class: 'lede', text: 'Windows that overlap where impact sets meet, or under a freeze. Managers and either change’s owner may acknowledge one.' }),
    h('div', { class: 'filters conflict-filters' }, h('div', { class: 'field' }, h('label', { for: 'cf-kind', text: 'Kind' }), kind),
      h('label', { class: 'check' }, all, 'Include acknowledged and resolved')),
    status, list, more);

  let items = [];
  let cursor = null;
  let err = '';
  const page = async (next) => {
    const p = new URLSearchParams({ limit: '50' });
    if (!all.checked) p.set('open', 'true');
    if (ref) p.set('change', ref);
    if (kind.value) p.set('kind', kind.value);
    if (next) p.set('cursor', next);
    const r = await api('GET', '/conflicts?' + p);
    if (!r.ok) { err = `Conflicts could not be loaded: ${(r.problem || {}).detail || r.status}`; return false; }
    const got = r.data.items.filter((k) => all.checked || k.state === 'open'); // open=true keeps acknowledged ones
    for (const k of got) k.docs = k.parties || [];
    items = items.concat(got);
    cursor = r.data.next_cursor;
    return true;
  };

  const load = async () => {
    items = [];
    cursor = err = null;
    status.textContent = 'Loading…';
    if (await page(null)) while (!items.length && cursor && await page(cursor));
    draw();
  };

  const start = (k) => (k.docs[0] && k.docs[0].window && k.docs[0].window.start) || '';
  const draw = () => {
    items.sort((a, b) => rank(a) - rank(b) || start(a).localeCompare(start(b)) || a.id - b.id);
    const n = items.length;
    list.replaceChildren(...(n ? items.map(card) : [h('li', { class: 'empty card', text: err || (all.checked ? 'No conflicts.' : 'No open conflicts.') })]));
    status.textContent = n ? `${n}${cursor ? '+' : ''} conflict${n === 1 ? '' : 's'}${all.checked ? '' : ' open'}` : '';
    more.hidden = !cursor;
  };

  const side = (r, d) => h('div', { class: 'conflict-side' }, h('a', { class: 'ref', href: changeHref(r), text: r }),
    d ? [h('strong', { text: d.title }), span('muted', win(d.window)), stateBadge(d.state)] : null);

  const card = (k) => {
    const f = k.kind === 'freeze' && k.with;
    const ack = k.state === 'open' && h('button', { type: 'button', class: 'secondary', text: 'Acknowledge' });
    if (ack) ack.addEventListener('click', () => acknowledge(k, load));
    const over = k.kind === 'freeze' ? 'freeze' : k.overlap;
    return h('li', { class: `card conflict rank-${rank(k)}`, data: { conflict: k.id, state: k.state } },
      h('div', { class: 'row' }, span(`badge overlap-${over}`, { direct: 'direct overlap', shared: 'shared downstream' }[over] || over),
        span(`badge cstate-${k.state}`, k.state), span('muted mono', `#${k.id}`), span('muted conflict-when', `detected ${fmtTime(k.detected_at)}`)),
      h('div', { class: 'conflict-pair' }, side(k.changes[0], k.docs[0]), h('span', { class: 'conflict-vs', 'aria-hidden': 'true', text: '⇄' }),
        f ? h('div', { class: 'conflict-side freeze' }, span('ref', `Freeze: ${f.name}`), span('muted', f.window ? win(f.window) : ''),
          span(`badge ${f.hard ? 'hard' : ''}`, f.hard ? 'hard freeze' : 'soft freeze')) : side(k.changes[1], k.docs[1])),
      k.services && k.services.length ? h('p', null, span('muted', 'Overlap on '), k.services.map((s) => span('svc', s))) : null,
      k.state === 'acknowledged' ? h('p', { class: 'note' }, h('strong', { text: `Acknowledged by ${(k.acknowledged_by || {}).name || 'someone'}` }),
        ` ${fmtTime(k.acknowledged_at)}: ${k.note || ''}`) : null,
      ack ? h('div', { class: 'actions' }, ack) : null);
  };

  const refilter = () => { setQuery({ change: ref, kind: kind.value, all: all.checked ? '1' : '' }); load(); };
  kind.addEventListener('change', refilter);
  all.addEventListener('change', refilter);
  more.addEventListener('click', () => busy(more, async () => { if (await page(cursor)) draw(); }));
  await load();
}

function acknowledge(k, reload) {
  const note = h('textarea', { name: 'note', rows: 3, required: true, autofocus: true });
  const what = k.kind === 'freeze' ? `${k.changes[0]} with the freeze ${(k.with || {}).name}` : k.changes.join(' and ');
  formDialog(`Acknowledge conflict #${k.id}`, 'Acknowledge conflict', [
    h('p', { text: `Say why the overlap of ${what} is acceptable.` }),
    field('Note', note, { field: 'note' })], async (form) => {
    if (!note.value.trim()) return need(form, 'note', 'Say why this conflict is acceptable.');
    const r = await api('POST', `/conflicts/${k.id}/acknowledge`, { body: { note: note.value } });
    if (r.status !== 200) return fail(form, r.problem);
    notify(`Conflict #${k.id} acknowledged`);
    reload();
    return true;
  });
}
