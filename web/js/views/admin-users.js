// Admin › Users: accounts and their roles.
import { h, api, busy, navigate, notify, fmtTime } from '../core.js';
import { head, link, td, tr, table, addPage, edit, paged, onOff, badge, note, load, btn, failed } from './admin.js';

const roles = (hint) => ['roles', 'Roles', 'checks', { fixed: 'requester', hint,
  options: [['requester', 'Requester'], ['cab', 'CAB'], ['ecab', 'ECAB'], ['manager', 'Manager'], ['admin', 'Admin']] }];

export function render(view, id) { return id ? detail(view, id) : list(view); }

async function list(view) {
  addPage(view, 'Users', 'user', [['email', 'E-mail address', 'email'], ['name', 'Name'], ['password', 'Password', 'password', { hint: 'At least 10 characters.' }], roles('Every account may raise changes.')], '/users',
    (r) => { notify(`Account for ${r.data.name} created`); navigate('/admin/users/' + r.data.id); });
  await paged(view, table(['Name', 'E-mail?', 'Roles', 'Status']), '/users', (u) => tr(link('#/admin/users/' + u.id, u.name), td(u.email, 1),
    td(u.roles.filter((r) => r !== 'requester').map((r) => [badge('role', 'role', r, r), ' '])), td(onOff(!u.disabled, 'active', 'disabled'))), 'No accounts.');
}

async function detail(view, id) {
  const u = await load(view, 'users', '/users/' + encodeURIComponent(id), 'User');
  if (!u) return;
  const path = '/users/' + u.id;
  view.append(head(`User: ${u.name}`, onOff(!u.disabled, 'active', 'disabled')), note(`${u.email} · account since ${fmtTime(u.created_at)}`),
    account(u, path), logins(u, path));
}

// Repeated failed logins slow each client address down; clearing them lets
// the owner try again at once, from anywhere.
function logins(u, path) {
  const clear = btn('Clear failed logins', 'secondary', () => busy(clear, async () => {
    const r = await api('POST', path + '/unlock');
    if (!r.ok) return failed(r);
    notify(r.data.cleared ? `${r.data.cleared} failed login${r.data.cleared === 1 ? '' : 's'} cleared: ${u.name} may sign in again at once` : 'No failed logins to clear');
  }));
  return h('section', { 'aria-labelledby': 'logins-h' }, h('h2', { id: 'logins-h', text: 'Failed logins' }),
    note('After five failed logins from one address, each further attempt from it must wait longer, up to 15 minutes. Clearing them ends the wait for every address.'), clear);
}

// The account form; its hidden user name tells password managers whose
// password this is.
function account(u, path) {
  const f = edit('Account', [['name', 'Name'], roles(),
    ['disabled', 'Status', 'checks', { bool: 1, options: [[1, 'Disabled: cannot log in']] }],
    ['password', 'New password', 'password', { keep: 1, hint: 'At least 10 characters; leave it empty to keep the password.' }]], u, path);
  f.prepend(h('input', { type: 'email', name: 'username', autocomplete: 'username', value: u.email, readonly: true, hidden: true }));
  return f;
}
