// Conflicts: overlapping changes and freezes, direct ones first, with the
// acknowledgement (a note saying why the overlap is acceptable).
import { api, h, field, formError, showProblem, changeHref, fmtTime, stateBadge, notify, busy, setQuery } from '../core.js';
import { modal } from '../sign.js';

const rank = (k) => (k.kind === 'freeze' ? 2 : k.overlap === 'direct' ? 0 : 1);
const win = (w) => (w && w.start ? `${fmtTime(w.start)} – ${fmtTime(w.end)}` : 'No window');

export async function render(view, params, q) {
  const ref = q.change && /^CHG-\d+$/i.test(q.change) ? q.change.toUpperCase() : '';
  const kind = h('select', { name: 'kind' },
    h('option', { value: '', text: 'All conflicts' }), h('option', { value: 'change', text: 'Between changes' }),
    h('option', { value: 'freeze', text: 'With a freeze' }));
  kind.value = ['change', 'freeze'].includes(q.kind) ? q.kind : '';
  const all = h('input', { type: 'checkbox', name: 'all', checked: q.all === '1' });
  const list = h('ul', { class: 'conflicts' });
  const more = h('button', { type: 'button', class: 'secondary more', text: 'Show more', hidden: true });
  const status = h('p', { class: 'muted', role: 'status' });
  view.append(
    h('div', { class: 'head' },
      h('h1', { text: ref ? `Conflicts of ${ref}` : 'Conflicts' }),
      ref ? h('a', { href: '#/conflicts', text: 'All conflicts' }) : null),
    h('p', { class: 'lede', text: 'Changes conflict when their windows overlap and their impact sets meet, or when a freeze covers what they touch. Direct overlaps come first. Managers and the owners of either change may acknowledge one with a note.' }),
    h('div', { class: 'filters conflict-filters' },
      h('div', { class: 'field' }, h('label', { for: 'cf-kind', text: 'Kind' }), Object.assign(kind, { id: 'cf-kind' })),
      h('label', { class: 'check' }, all, 'Include acknowledged and resolved')),
    status, list, more);

  const changes = new Map();
  const changeDoc = (r) => {
    if (!changes.has(r)) changes.set(r, api('GET', `/changes/${encodeURIComponent(r)}`).then((x) => (x.ok ? x.data : null)));
    return changes.get(r);
  };
  let freezes = null;
  const freezeDocs = async () => {
    if (!freezes) {
      freezes = new Map();
      let cursor = null;
      do {
        const r = await api('GET', '/freezes' + (cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''));
        if (!r.ok) break;
        for (const f of r.data.items) freezes.set(f.id, f);
        cursor = r.data.next_cursor;
      } while (cursor);
    }
    return freezes;
  };

  let items = [];
  let cursor = null;
  let fallback = false; // the server does not filter by change/kind yet

  const url = (next) => {
    const p = new URLSearchParams({ limit: '50' });
    if (!all.checked) p.set('open', 'true');
    if (next) p.set('cursor', next);
    if (fallback) return (ref ? `/changes/${encodeURIComponent(ref)}/conflicts?` : '/conflicts?') + p;
    if (ref) p.set('change', ref);
    if (kind.value) p.set('kind', kind.value);
    return '/conflicts?' + p;
  };

  const page = async (next) => {
    let r = await api('GET', url(next));
    if (r.status === 400 && !fallback && (ref || kind.value) && r.problem && (r.problem.errors || []).some((e) => e.field === 'change' || e.field === 'kind')) {
      fallback = true;
      r = await api('GET', url(next));
    }
    if (!r.ok) { notify((r.problem && (r.problem.detail || r.problem.title)) || 'Conflicts could not be loaded', 'bad'); return false; }
    const keep = (k) => (all.checked || k.state === 'open') && (!kind.value || k.kind === kind.value);
    const got = r.data.items.filter(keep);
    await Promise.all([freezeDocs(), ...got.flatMap((k) => (k.changes || []).map(changeDoc))]);
    for (const k of got) k.docs = await Promise.all((k.changes || []).map(changeDoc));
    items = items.concat(got);
    cursor = r.data.next_cursor;
    return true;
  };

  const load = async () => {
    items = [];
    cursor = null;
    status.textContent = 'Loading…';
    if (!(await page(null))) { status.textContent = ''; return; }
    while (!items.length && cursor) if (!(await page(cursor))) break;
    draw();
  };

  const start = (k) => (k.docs[0] && k.docs[0].window && k.docs[0].window.start) || '';
  const draw = () => {
    items.sort((a, b) => rank(a) - rank(b) || start(a).localeCompare(start(b)) || a.id - b.id);
    list.replaceChildren(...items.map((k) => card(k)));
    const n = items.length;
    status.textContent = n ? `${n}${cursor ? '+' : ''} conflict${n === 1 ? '' : 's'}${all.checked ? '' : ' open'}` : '';
    if (!n) list.append(h('li', { class: 'empty card' }, h('strong', { text: all.checked ? 'No conflicts.' : 'No open conflicts.' }),
      h('p', { text: 'Nothing scheduled overlaps what another change or a freeze touches.' })));
    more.hidden = !cursor;
  };

  const side = (r, doc) => h('div', { class: 'conflict-side' },
    h('a', { class: 'ref', href: changeHref(r), text: r }),
    doc ? h('span', { class: 'conflict-title', text: doc.title }) : null,
    doc ? h('span', { class: 'muted', text: win(doc.window) }) : null,
    doc ? stateBadge(doc.state) : null);

  const card = (k) => {
    const f = k.kind === 'freeze' && k.with ? k.with : null;
    const fz = f && freezes && freezes.get(f.freeze);
    const what = k.kind === 'freeze' ? 'freeze' : k.overlap === 'direct' ? 'direct overlap' : 'shared downstream';
    const other = f
      ? h('div', { class: 'conflict-side freeze' },
        h('span', { class: 'ref', text: `Freeze: ${f.name}` }),
        h('span', { class: 'muted', text: fz ? win(fz.window) : '' }),
        h('span', { class: ['badge', f.hard ? 'freeze-hard' : 'freeze-soft'], text: f.hard ? 'hard freeze' : 'soft freeze' }))
      : side(k.changes[1], k.docs[1]);
    const ack = k.state === 'open' ? h('button', { type: 'button', class: 'secondary', text: 'Acknowledge' }) : null;
    if (ack) ack.addEventListener('click', () => acknowledge(k, load));
    const services = k.services || [];
    return h('li', { class: ['card conflict', `rank-${rank(k)}`], data: { conflict: k.id, state: k.state } },
      h('div', { class: 'row conflict-top' },
        h('span', { class: ['badge', `overlap-${k.kind === 'freeze' ? 'freeze' : k.overlap}`], text: what }),
        h('span', { class: ['badge', `cstate-${k.state}`], text: k.state }),
        h('span', { class: 'muted mono', text: `#${k.id}` }),
        h('span', { class: 'muted conflict-when', text: `detected ${fmtTime(k.detected_at)}` })),
      h('div', { class: 'conflict-pair' }, side(k.changes[0], k.docs[0]),
        h('span', { class: 'conflict-vs', 'aria-hidden': 'true', text: '⇄' }), other),
      services.length ? h('p', { class: 'conflict-services' }, h('span', { class: 'muted', text: 'Overlap on ' }),
        services.map((s) => h('span', { class: 'svc', text: s }))) : null,
      k.state === 'acknowledged' ? h('p', { class: 'conflict-note' },
        h('strong', { text: `Acknowledged by ${(k.acknowledged_by && k.acknowledged_by.name) || 'someone'}` }),
        ` ${fmtTime(k.acknowledged_at)}: `, k.note || '') : null,
      k.state === 'resolved' ? h('p', { class: 'muted', text: `Resolved ${fmtTime(k.resolved_at)}` }) : null,
      ack ? h('div', { class: 'actions' }, ack) : null);
  };

  const refilter = () => {
    setQuery({ change: ref, kind: kind.value, all: all.checked ? '1' : '' });
    load();
  };
  kind.addEventListener('change', refilter);
  all.addEventListener('change', refilter);
  more.addEventListener('click', () => busy(more, async () => { if (await page(cursor)) draw(); }));
  await load();
}

function acknowledge(k, reload) {
  const note = h('textarea', { name: 'note', rows: 3, required: true, autofocus: true });
  const yes = h('button', { type: 'submit', text: 'Acknowledge conflict' });
  const no = h('button', { type: 'button', class: 'secondary', text: 'Cancel' });
  const between = k.kind === 'freeze' ? `${k.changes[0]} and the freeze ${(k.with && k.with.name) || ''}` : k.changes.join(' and ');
  const form = h('form', { novalidate: true },
    h('p', { text: `Say why the overlap of ${between} is acceptable. The note is kept in both changes' history.` }),
    field('Note', note, { field: 'note' }), formError(), h('div', { class: 'actions' }, yes, no));
  const ui = modal(`Acknowledge conflict #${k.id}`, form);
  no.addEventListener('click', () => ui.close());
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!note.value.trim()) {
      showProblem(form, { title: 'A note is required', errors: [{ field: 'note', message: 'Say why this conflict is acceptable.' }] });
      return;
    }
    busy(yes, async () => {
      const r = await api('POST', `/conflicts/${encodeURIComponent(k.id)}/acknowledge`, { body: { note: note.value } });
      if (r.status !== 200) { showProblem(form, r.problem); return; }
      ui.close();
      notify(`Conflict #${k.id} acknowledged`);
      await reload();
    });
  });
}
