// Admin › Models: change models, their kind and approval policy.
import { api, h, navigate, notify } from '../core.js';
import { head, back, link, td, tr, table, fields, form, addHead } from './admin.js';

const LEVELS = ['low', 'medium', 'high', 'critical'];
const QROLES = [['cab', 'CAB'], ['ecab', 'ECAB'], ['manager', 'Manager']];
const policyText = (p) => (p ? LEVELS.filter((l) => p[l]).map((l) => `${l}: ${p[l].map((q) => `${q.count} ${q.role}`).join(' + ')}`).join('; ') : 'default for its kind');

// Approvers per risk level and role; a level left empty keeps the kind's default.
function policy(p) {
  const cell = {};
  const el = h('div', { class: 'table-wrap policy' }, h('table', null, h('caption', { class: 'visually-hidden', text: 'Approvers needed per risk level' }),
    h('thead', null, h('tr', null, h('th', { scope: 'col', text: 'Risk level' }), QROLES.map(([, t]) => h('th', { scope: 'col', text: t })))),
    h('tbody', null, LEVELS.map((l) => h('tr', null, h('th', { scope: 'row', text: l }), QROLES.map(([r, t]) => {
      const q = p && p[l] && p[l].find((x) => x.role === r);
      return h('td', null, cell[l + r] = h('input', { type: 'number', min: 0, max: 20, inputmode: 'numeric', value: q ? q.count : '', placeholder: '0', 'aria-label': `${l} risk: ${t} approvers` }));
    }))))));
  const value = () => {
    const out = Object.fromEntries(LEVELS.map((l) => [l, QROLES.map(([role]) => ({ role, count: Number(cell[l + role].value) })).filter((q) => q.count > 0)]).filter(([, qs]) => qs.length));
    return Object.keys(out).length ? out : null;
  };
  return { el, value };
}

const spec = (m = {}) => [['title', 'Title'],
  ['kind', 'Kind', 'select', { options: ['standard', 'normal', 'emergency'].map((k) => [k, k]), hint: 'Standard: approved at submit when assessed low. Emergency: one ECAB approval, always reviewed.' }],
  ['description', 'Description', 'area'],
  ['policy', 'Approval policy', 'custom', { c: policy(m.policy), hint: 'Approvers needed at each risk level; an empty level keeps the default for the kind.' }]];

export function render(view, name) { return name ? detail(view, name) : list(view); }

async function list(view) {
  const f = fields([['name', 'Name', 'text', { hint: 'Lowercase letters, digits and -.' }], ...spec()]);
  addHead(view, 'Models', 'Add model', form('Add model', f.nodes, 'Create model', () => api('POST', '/models', { body: f.body() }),
    (r) => { notify(`Model ${r.data.name} created`); navigate('/admin/models/' + r.data.name); }), f.first);
  const r = await api('GET', '/models');
  if (!r.ok) return view.append(h('p', { class: 'callout bad', text: 'The models could not be loaded.' }));
  const t = table('Change models', ['Name', 'Title?', 'Kind', 'Approval policy?']);
  t.body.append(...r.data.items.map((m) => tr(link('#/admin/models/' + encodeURIComponent(m.name), m.name), td(m.title, 1),
    td(h('span', { class: 'badge kind', data: { kind: m.kind }, text: m.kind })), td(policyText(m.policy), 1))));
  view.append(t.wrap);
}

async function detail(view, name) {
  const path = '/models/' + encodeURIComponent(name);
  const r = await api('GET', path);
  view.append(back('models', 'All models'));
  if (!r.ok) return view.append(h('h1', { text: 'Model not found' }));
  const f = fields(spec(r.data), r.data);
  view.append(head(`Model: ${r.data.name}`), h('p', { class: 'muted', text: `Approval policy: ${policyText(r.data.policy)}.` }),
    form('Edit model', f.nodes, 'Save changes', () => api('PATCH', path, { body: f.body() }), () => { notify('Saved'); navigate('/admin' + path, true); }));
}
