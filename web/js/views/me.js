// The signed-in user's own pages: activity, API tokens, password, notifications.
import { grid, row } from '../chart.js';
import { api, h, field, formError, showProblem, clearProblems, problemView, fmtTime, stateLabel, changeHref, pager, notify, busy, copy, session } from '../core.js';

// An audit entry's data in words.
function summary(d) {
  const out = [];
  if (d.title) out.push(`“${d.title}”`);
  if (d.from && d.to) out.push(`${stateLabel(d.from)} → ${stateLabel(d.to)}`);
  if (d.decision) out.push(`${d.decision === 'approve' ? 'approved' : 'rejected'} version ${d.version}`);
  if (d.outcome) out.push(`outcome ${stateLabel(d.outcome)}`);
  for (const k of ['reason', 'review', 'notes', 'body', 'note', 'label', 'name', 'email', 'url']) if (typeof d[k] === 'string' && d[k]) out.push(d[k]);
  const s = out.join(' · ');
  return s.length > 200 ? s.slice(0, 199) + '…' : s;
}

function entity(e) {
  if (e.entity === 'change') { const ref = (e.data && e.data.ref) || `CHG-${e.entity_id}`; return h('a', { href: changeHref(ref), text: ref }); }
  return `${e.entity} ${e.entity_id || ''}`;
}

export async function renderActivity(view) {
  const table = grid('My activity', ['Time', '?Action', 'Entity', 'Summary'], [], 'activity');
  const pg = pager(table.lastChild.lastChild, (cur) => api('GET', '/me/activity?limit=50' + (cur ? `&cursor=${encodeURIComponent(cur)}` : '')),
    (e) => row([h('time', { datetime: e.at, text: fmtTime(e.at) }), h('code', { text: e.action }), entity(e), summary(e.data || {})], [0, 1]), { empty: 'No activity yet.' });
  view.append(h('h1', { text: 'My activity' }), table, pg.none, pg.more);
  await pg.reload();
}

// Shows a token (or a link holding one) once, with a copy button.
export function shownOnce(label, value, what) {
  const input = h('input', { type: 'text', readonly: true, value, class: 'mono' });
  setTimeout(() => input.select());
  return [h('p', { class: 'callout warn' }, h('strong', { text: 'Shown once. ' }), `Copy ${what} now: Cabinet keeps only a hash of it.`),
    field(label, input), h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', text: `Copy ${what}`, on: { click: () => copy(value) } }))];
}

export async function renderTokens(view) {
  const table = grid('Your tokens', ['Name', 'Scope', '?Created', '?Last used', 'Revoke'], []), body = table.lastChild.lastChild;
  const item = (t) => {
    const revoke = async () => {
      if (!confirm(`Revoke “${t.name}”? Whatever uses it loses access at once.`)) return;
      const r = await api('DELETE', `/tokens/${t.id}`);
      if (r.ok || r.status === 404) { tr.remove(); pg.none.hidden = body.children.length > 0; notify(`Token “${t.name}” revoked`); }
      else notify((r.problem || {}).title || 'Not revoked', 'bad');
    };
    const tr = row([h('span', { id: `tok-${t.id}`, text: t.name }), h('span', { class: 'badge', text: t.scope }), fmtTime(t.created_at),
      t.last_used_at ? fmtTime(t.last_used_at) : 'never', h('button', { type: 'button', class: 'secondary', text: 'Revoke', 'aria-describedby': `tok-${t.id}`, on: { click: revoke } })], [0, 0, 1, 1]);
    return tr;
  };
  const pg = pager(body, (cur) => api('GET', '/tokens' + (cur ? `?cursor=${encodeURIComponent(cur)}` : '')), item, { empty: 'You have no tokens.' });
  const name = h('input', { type: 'text', name: 'name', maxlength: 100, autocomplete: 'off' });
  const scope = h('select', { name: 'scope' }, h('option', { value: 'full', text: 'full' }), h('option', { value: 'feed', text: 'feed' }));
  const submit = h('button', { type: 'submit', text: 'Create token' });
  const out = h('div');
  const form = h('form', { class: 'card token-card', novalidate: true, 'aria-labelledby': 'tok-new' }, h('h2', { id: 'tok-new', text: 'Create a token' }),
    h('div', { class: 'token-form' }, field('Token name', name, { field: 'name', hint: 'e.g. "Deploy pipeline"' }),
      field('Scope', scope, { field: 'scope', hint: 'full: the API as you (Authorization: Bearer <token>). feed: only the calendar feed.' })),
    formError(), submit, out);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      clearProblems(form);
      const r = await api('POST', '/tokens', { body: { name: name.value.trim(), scope: scope.value } });
      if (!r.ok) { showProblem(form, r.problem); return; }
      out.replaceChildren(...shownOnce('New token', r.data.token, 'the token'));
      name.value = '';
      await pg.reload();
    });
  });
  view.append(h('h1', { text: 'My tokens' }),
    form, h('h2', { text: 'Your tokens' }), table,
    pg.none, pg.more);
  await pg.reload();
}

function setError(control, msg) {
  const err = document.getElementById(control.id + '-error');
  err.textContent = msg;
  err.hidden = !msg;
  if (msg) control.setAttribute('aria-invalid', 'true'); else control.removeAttribute('aria-invalid');
  control.setAttribute('aria-describedby', err.id);
}

export async function renderPassword(view) {
  const pw = (name, autocomplete) => h('input', { type: 'password', name, autocomplete });
  const cur = pw('current_password', 'current-password'), next = pw('password', 'new-password'), again = pw('password_repeat', 'new-password');
  const submit = h('button', { type: 'submit', text: 'Change password' });
  // the account's name for password managers (and no browser warning)
  const user = h('input', { type: 'email', name: 'username', autocomplete: 'username', value: session.me.email, readonly: true, hidden: true });
  const form = h('form', { class: 'card', novalidate: true }, user,
    field('Current password', cur, { field: 'current_password' }),
    field('New password', next, { field: 'password' }),
    field('Repeat new password', again, { field: 'password_repeat' }), formError(), submit);
  const differ = () => again.value !== next.value;
  const check = () => setError(again, again.value && differ() ? 'The two new passwords do not match.' : '');
  again.addEventListener('input', check);
  next.addEventListener('input', () => again.value && check());
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearProblems(form);
    if (differ()) { setError(again, 'The two new passwords do not match.'); again.focus(); return; }
    busy(submit, async () => {
      const r = await api('POST', '/me/password', { body: { current_password: cur.value, password: next.value } });
      if (r.status !== 204) { showProblem(form, r.problem); return; }
      const done = h('div', { class: 'card', role: 'status', tabindex: '-1' },
        h('p', null, h('strong', { text: 'Your password was changed. ' }), 'Your other sessions were signed out; this one stays signed in.'),
        h('a', { href: '#/changes', text: 'Back to changes' }));
      form.replaceWith(done);
      done.focus();
    });
  });
  view.append(h('div', { class: 'narrow' }, h('h1', { text: 'Change password' }), form));
  cur.focus();
}

// Which e-mail notifications the user gets, each kind a checkbox.
const MAIL_KINDS = [
  ['awaiting_approval', 'A change awaits my approval', 'When a change is submitted, or sent back for approval, and its approval policy counts your role.'],
  ['decision', 'A decision on my change', 'Each signed approval or rejection of a change you raised, with its comment.'],
  ['conflict', 'A conflict or a freeze touches my change', 'A schedule conflict with another change, or a freeze your change falls in.'],
];

export async function renderNotifications(view) {
  const r = await api('GET', '/me/notifications');
  if (!r.ok) return problemView(view, r.problem || {});
  const boxes = MAIL_KINDS.map(([k, label, hint]) => {
    const box = h('input', { type: 'checkbox', name: k, id: `mail-${k}`, checked: r.data.kinds[k], 'aria-describedby': `mail-${k}-hint` });
    return { k, box, node: h('div', { class: 'field', 'data-field': `kinds.${k}` }, h('label', { class: 'check', for: box.id }, box, label), h('p', { class: 'hint', id: `mail-${k}-hint`, text: hint })) };
  });
  const submit = h('button', { type: 'submit', text: 'Save' });
  const form = h('form', { class: 'card', novalidate: true },
    h('fieldset', null, h('legend', { text: `E-mail me at ${r.data.email} when…` }), boxes.map((b) => b.node)),
    formError(), submit);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      clearProblems(form);
      const kinds = Object.fromEntries(boxes.map((b) => [b.k, b.box.checked]));
      const s = await api('PATCH', '/me/notifications', { body: { kinds } });
      if (!s.ok) { showProblem(form, s.problem); return; }
      for (const b of boxes) b.box.checked = s.data.kinds[b.k];
      notify('Your e-mail notifications were saved');
    });
  });
  view.append(h('div', { class: 'narrow' }, h('h1', { text: 'Notifications' }),
    r.data.sending ? null : h('p', { class: 'callout warn', role: 'note' }, 'This server sends no e-mail yet: its operator has not set it up. Your choices are kept for when it does.'),
    form));
}
