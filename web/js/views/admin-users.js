// Admin › Users: accounts and their roles.
import { api, h, navigate, notify, fmtTime, session } from '../core.js';
import { head, back, link, td, tr, table, fields, form, addHead, paged, onOff } from './admin.js';

const roles = (hint) => ['roles', 'Roles', 'checks', { fixed: 'requester', hint,
  options: [['requester', 'Requester'], ['cab', 'CAB'], ['ecab', 'ECAB'], ['manager', 'Manager'], ['admin', 'Admin']] }];

export function render(view, id) { return id ? detail(view, id) : list(view); }

function list(view) {
  const f = fields([['email', 'E-mail address', 'email'], ['name', 'Name'],
    ['password', 'Password', 'password', { hint: 'At least 10 characters; they can change it after logging in.' }], roles('Every account may raise changes.')]);
  addHead(view, 'Users', 'Add user', form('Add user', f.nodes, 'Create user', () => api('POST', '/users', { body: f.body() }),
    (r) => { notify(`Account for ${r.data.name} created`); navigate('/admin/users/' + r.data.id); }), f.first);
  const t = table('Users', ['Name', 'E-mail?', 'Roles', 'Status', 'Since?']);
  return paged(view, t, '/users', (u) => tr(link('#/admin/users/' + u.id, u.name), td(u.email, 1),
    td(h('span', { class: 'row' }, u.roles.filter((r) => r !== 'requester').map((r) => h('span', { class: 'badge role', text: r })))),
    td(onOff(!u.disabled, 'active', 'disabled')), td(fmtTime(u.created_at), 1)), 'No accounts.').then(() => {});
}

async function detail(view, id) {
  const r = await api('GET', '/users/' + encodeURIComponent(id));
  view.append(back('users', 'All users'));
  if (!r.ok) return view.append(h('h1', { text: 'User not found' }));
  const u = r.data, path = '/users/' + u.id;
  view.append(head(`User: ${u.name}`, onOff(!u.disabled, 'active', 'disabled')), h('p', { class: 'muted', text: `${u.email} · account since ${fmtTime(u.created_at)}` }));
  const self = session.me && session.me.id === u.id;
  const f = fields([['name', 'Name'], roles(self ? 'You cannot take the admin role from yourself.' : null),
    ['disabled', '', 'check', { text: 'Account disabled: cannot log in' }]], u);
  view.append(form('Account', f.nodes, 'Save changes', () => api('PATCH', path, { body: f.body() }), () => { notify('Saved'); navigate('/admin/users/' + u.id, true); }));
  const pw = fields([['password', 'New password', 'password', { hint: 'At least 10 characters.' }]]);
  view.append(form('Set password', pw.nodes, 'Set password', () => api('PATCH', path, { body: pw.body() }), () => { pw.first.value = ''; notify('Password set'); }));
}
