// Admin › Audit: the chain, its checkpoint, evidence.
import { api, h, notify, busy, fmtTime, hasRole, changeHref, field } from '../core.js';
import { head, link, td, tr, table, paged, note, form } from './admin.js';

export async function render(view) {
  const [c, k] = await Promise.all([api('GET', '/audit/checkpoint'), api('GET', '/server-key')]);
  const dl = (pairs) => h('dl', { class: 'facts' }, pairs.map(([dt, dd, code]) => [h('dt', { text: dt }), h('dd', null, code ? h('code', { text: dd }) : dd)]));
  view.append(head('Audit'), h('div', { class: 'grid audit-top' }, h('section', { class: 'card' }, h('h2', { text: 'Latest checkpoint' }),
    c.ok ? dl([['Seq', String(c.data.seq)], ['Hash', c.data.hash, 1], ['Signed at', fmtTime(c.data.signed_at)], ['Signature', c.data.signature, 1]]) : note('None signed yet.'),
    h('h3', { text: 'Server key' }), k.ok ? dl([['Public key', k.data.public_key, 1], ['Algorithm', k.data.algorithm], ['Since', fmtTime(k.data.created_at)]]) : note('None yet.')), evidence()));
  const after = h('input', { type: 'number', min: 0, value: 0 });
  const go = h('button', { type: 'submit', class: 'secondary', text: 'Show entries' });
  const f = h('form', { class: 'filters audit-filters', on: { submit: (ev) => { ev.preventDefault(); busy(go, p.reload); } } }, field('Entries after seq', after), go);
  view.append(h('h2', { text: 'Audit chain' }), f);
  const p = await paged(view, table(['Seq', 'Time', 'Actor?', 'Action', 'Entity', 'Hash?']), () => '/audit?after=' + Math.max(0, after.value | 0), entry, 'No entries after that.');
}

function entry(e) {
  const id = e.entity_id, what = e.entity === 'change' ? 'CHG-' + id : `${e.entity} ${id}`;
  const href = e.entity === 'change' ? changeHref(what) : /^(service|model|integration|user)$/.test(e.entity) && hasRole('admin') || /^(freeze|webhook)$/.test(e.entity) ? `#/admin/${e.entity}s/${encodeURIComponent(id)}` : '';
  return tr(String(e.seq), td(h('time', { datetime: e.at, text: fmtTime(e.at) })), td(h('code', { text: e.actor }), 1), td(h('code', { text: e.action })), td(href ? link(href, what) : what),
    td(h('code', { title: e.hash, text: e.hash.slice(0, 12) + '…' }), 1));
}

// The evidence bundle saved as CHG-n-evidence.json.
function evidence() {
  const ref = h('input', { type: 'text', placeholder: 'CHG-12', autocomplete: 'off' });
  let name;
  return form('Evidence bundle', [h('p', { class: 'muted' }, 'A change’s versions, approvals, conflicts and audit entries in one JSON file. Check it offline with ',
    h('code', { text: 'cabinet verify --bundle FILE' }), '.'), field('Change', ref, { field: 'ref', hint: 'Its ref, e.g. CHG-12.' })], 'Download evidence', () => {
    name = ref.value.trim().toUpperCase().replace(/^(\d)/, 'CHG-$1');
    return /^CHG-\d+$/.test(name) ? api('GET', `/changes/${name}/evidence`) : { problem: { title: 'Not a change', errors: [{ field: 'ref', message: 'a change ref looks like CHG-12' }] } };
  }, (r) => {
    const a = h('a', { href: URL.createObjectURL(new Blob([JSON.stringify(r.data)], { type: 'application/json' })), download: `${name}-evidence.json` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    notify(`Saved ${name}-evidence.json`);
  });
}
