// Admin › Audit: the hash chain, its signed checkpoint, evidence bundles.
import { api, API, h, notify, busy, pager, fmtTime, hasRole, changeHref, field, formError, showProblem, clearProblems } from '../core.js';
import { head, link, td, tr, table, failed } from './admin.js';

export async function render(view) {
  const cp = h('section', { class: 'card', 'aria-labelledby': 'cp-title' });
  view.append(head('Audit'), h('p', { class: 'muted', text: 'Every write is an entry in a hash chain, and the server signs its head as a checkpoint: cabinet verify re-checks both.' }),
    h('div', { class: 'grid audit-top' }, cp, evidence()));
  await checkpoint(cp);
  const after = h('input', { type: 'number', min: 0, inputmode: 'numeric', value: 0 });
  const go = h('button', { type: 'submit', class: 'secondary', text: 'Show entries' });
  const latest = h('button', { type: 'button', class: 'secondary', text: 'Jump to the latest checkpoint' });
  const f = h('form', { class: 'filters audit-filters' }, field('Entries after seq', after), h('div', { class: 'row' }, go, latest));
  const t = table('Audit chain, oldest first', ['Seq', 'Time', 'Actor?', 'Action', 'Entity', 'Hash?']);
  const p = pager(t.body, (c) => api('GET', `/audit?limit=50&${c ? 'cursor=' + encodeURIComponent(c) : 'after=' + Math.max(0, Math.floor(after.value) || 0)}`), entry, { empty: 'No entries after that.' });
  f.addEventListener('submit', (ev) => { ev.preventDefault(); busy(go, p.reload); });
  latest.addEventListener('click', () => busy(latest, async () => {
    const r = await api('GET', '/audit/checkpoint');
    after.value = r.ok ? Math.max(0, r.data.seq - 10) : 0;
    await p.reload();
  }));
  view.append(h('h2', { text: 'Audit chain' }), f, t.wrap, p.none, p.more);
  await p.reload();
}

const ENTITY = { change: (id) => changeHref('CHG-' + id), service: (id) => '#/admin/services/' + encodeURIComponent(id), freeze: (id) => '#/admin/freezes/' + id,
  webhook: (id) => '#/admin/webhooks/' + id, model: (id) => '#/admin/models/' + encodeURIComponent(id),
  integration: (id) => hasRole('admin') && '#/admin/integrations/' + id, user: (id) => hasRole('admin') && '#/admin/users/' + id };

function entry(e) {
  const to = ENTITY[e.entity] && ENTITY[e.entity](e.entity_id);
  const what = e.entity === 'change' ? 'CHG-' + e.entity_id : `${e.entity} ${e.entity_id}`;
  return tr(String(e.seq), td(fmtTime(e.at)), td(h('code', { text: e.actor }), 1), td(h('code', { text: e.action })), td(to ? link(to, what) : what),
    td(h('code', { class: 'hash', title: e.hash, text: e.hash.slice(0, 12) + '…' }), 1));
}

async function checkpoint(box) {
  const [c, k] = await Promise.all([api('GET', '/audit/checkpoint'), api('GET', '/server-key')]);
  const sign = h('button', { type: 'button', class: 'secondary', text: 'Sign a checkpoint now' });
  sign.addEventListener('click', () => busy(sign, async () => {
    const r = await api('POST', '/audit/checkpoint');
    if (!r.ok) return failed(r);
    notify(r.status === 201 ? 'Checkpoint signed' : 'The latest checkpoint already covers the chain');
    await checkpoint(box);
  }));
  const dl = (pairs) => h('dl', { class: 'facts' }, pairs.map(([dt, dd, code]) => [h('dt', { text: dt }), h('dd', null, code ? h('code', { class: 'hash', text: dd }) : dd)]));
  box.replaceChildren(h('h2', { id: 'cp-title', text: 'Latest checkpoint' }),
    c.ok ? dl([['Seq', String(c.data.seq)], ['Hash', c.data.hash, 1], ['Signed at', fmtTime(c.data.signed_at)], ['Signature', c.data.signature, 1]])
      : h('p', { class: 'muted', text: 'No checkpoint signed yet.' }),
    h('h3', { text: 'Server key' }),
    k.ok ? dl([['Public key', k.data.public_key, 1], ['Algorithm', k.data.algorithm], ['Since', fmtTime(k.data.created_at)]]) : h('p', { class: 'muted', text: 'The server has no key yet.' }),
    h('div', { class: 'actions' }, sign));
}

// Saves GET /changes/{ref}/evidence byte for byte, for cabinet verify --bundle.
function evidence() {
  const ref = h('input', { type: 'text', placeholder: 'CHG-12', autocomplete: 'off', spellcheck: 'false' });
  const go = h('button', { type: 'submit', text: 'Download evidence' });
  const f = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'ev-title' }, h('h2', { id: 'ev-title', text: 'Evidence bundle' }),
    h('p', { class: 'muted' }, 'One JSON file: the change at each version, its assessment, signed approvals, conflicts, and its audit entries with their checkpoint. Check it offline with ',
      h('code', { text: 'cabinet verify --bundle FILE' }), '.'),
    field('Change', ref, { field: 'ref', hint: 'Its ref, e.g. CHG-12.' }), formError(), h('div', { class: 'actions' }, go));
  const bad = (title, message) => showProblem(f, { title, errors: [{ field: 'ref', message }] });
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(go, async () => {
      clearProblems(f);
      const v = ref.value.trim().toUpperCase();
      const name = /^\d+$/.test(v) ? 'CHG-' + v : v;
      if (!/^CHG-\d+$/.test(name)) return bad('Not a change ref', 'a change ref looks like CHG-12');
      const res = await fetch(`${API}/changes/${name}/evidence`, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).catch(() => null);
      if (!res || !res.ok) {
        const pr = res && (await res.json().catch(() => null));
        return bad((pr && pr.title) || 'Not downloaded', (pr && pr.detail) || 'the bundle could not be fetched');
      }
      const url = URL.createObjectURL(await res.blob());
      const a = h('a', { href: url, download: `${name}-evidence.json`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      notify(`Saved ${name}-evidence.json`);
    });
  });
  return f;
}
