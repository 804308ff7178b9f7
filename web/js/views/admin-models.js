// Admin › Models and their approval policies.
import { api, h, navigate, notify } from '../core.js';
import { head, link, td, tr, table, addPage, edit, badge, note, load } from './admin.js';

const LEVELS = ['low', 'medium', 'high', 'critical'];
const ROLES = [['cab', 'CAB'], ['ecab', 'ECAB'], ['manager', 'Manager']];
const said = (p) => (p ? LEVELS.filter((l) => p[l]).map((l) => `${l}: ${p[l].map((q) => `${q.count} ${q.role}`).join(' + ')}`).join('; ') : 'default for its kind');

// How many approvers of each role a risk level needs.
function policy(p = {}) {
  const cell = {}, t = table(['Risk level', 'CAB', 'ECAB', 'Manager'], 'policy');
  t.body.append(...LEVELS.map((l) => tr(l, ROLES.map(([r, n]) => td(cell[l + r] = h('input', { type: 'number', min: 0, max: 20, placeholder: '0',
    'aria-label': `${l} risk: ${n} approvers`, value: ((p && p[l] || []).find((q) => q.role === r) || {}).count || '' }))))));
  const value = () => {
    const out = Object.fromEntries(LEVELS.map((l) => [l, ROLES.map(([role]) => ({ role, count: +cell[l + role].value })).filter((q) => q.count > 0)]).filter(([, qs]) => qs.length));
    return Object.keys(out).length ? out : null;
  };
  return { el: t.wrap, value };
}

const spec = (m = {}) => [['title', 'Title'],
  ['kind', 'Kind', 'select', { options: ['standard', 'normal', 'emergency'].map((k) => [k, k]) }],
  ['description', 'Description', 'area'],
  ['policy', 'Approval policy', 'custom', { c: policy(m.policy), hint: 'Approvers each risk level needs; an empty level keeps the default for the kind.' }]];

export function render(view, name) { return name ? detail(view, name) : list(view); }

async function list(view) {
  addPage(view, 'Models', 'model', [['name', 'Name', 'text', { hint: 'Lowercase letters, digits and -.' }], ...spec()], '/models',
    (r) => { notify(`Model ${r.data.name} created`); navigate('/admin/models/' + r.data.name); });
  const r = await api('GET', '/models');
  const t = table(['Name', 'Title?', 'Kind', 'Approval policy?']);
  t.body.append(...(r.ok ? r.data.items : []).map((m) => tr(link('#/admin/models/' + m.name, m.name), td(m.title, 1), td(badge('kind', 'kind', m.kind, m.kind)), td(said(m.policy), 1))));
  view.append(t.wrap);
}

async function detail(view, name) {
  const path = '/models/' + encodeURIComponent(name);
  const m = await load(view, 'models', path, 'Model');
  if (!m) return;
  view.append(head(`Model: ${m.name}`), edit('Edit model', spec(m), m, path));
}
