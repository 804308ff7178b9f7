// The signed-in user's own pages: activity, API tokens, password.
import { api, session, h, field, formError, showProblem, clearProblems, fmtTime, stateLabel, changeHref, pager, notify, busy, copy } from '../core.js';

// Cells and headers: a leading '?' marks an optional column, hidden on phones.
const td = (opt, ...kids) => h('td', { class: opt ? 'opt' : null }, ...kids);
const table = (caption, cols, body, cls) => h('div', { class: 'table-wrap' }, h('table', { class: cls },
  h('caption', { class: 'visually-hidden', text: caption }),
  h('thead', null, h('tr', null, cols.map((t) => h('th', { scope: 'col', class: t[0] === '?' && 'opt' }, t.replace('?', ''))))), body));

// An audit entry's data in words: the title, the move, the decision, the texts given.
function summary(d) {
  const out = [];
  if (d.title) out.push(`“${d.title}”`);
  if (d.from && d.to) out.push(`${stateLabel(d.from)} → ${stateLabel(d.to)}`);
  if (d.decision) out.push(`${d.decision === 'approve' ? 'approved' : 'rejected'} version ${d.version}`);
  if (d.outcome) out.push(`outcome ${stateLabel(d.outcome)}`);
  if (d.flags && d.flags.length) out.push(`flagged ${d.flags.join(', ')}`);
  for (const k of ['reason', 'review', 'notes', 'body', 'note', 'label', 'name', 'email', 'url']) if (typeof d[k] === 'string' && d[k]) out.push(d[k]);
  const s = out.join(' · ');
  return s.length > 200 ? s.slice(0, 199) + '…' : s || '—';
}

function entity(e) {
  if (e.entity === 'change') { const ref = (e.data && e.data.ref) || `CHG-${e.entity_id}`; return h('a', { href: changeHref(ref), text: ref }); }
  if (e.entity === 'user' && String(session.me && session.me.id) === String(e.entity_id)) return 'your account';
  return `${e.entity} ${e.entity_id || ''}`;
}

export async function renderActivity(view) {
  const body = h('tbody');
  const pg = pager(body, (cur) => api('GET', '/me/activity?limit=50' + (cur ? `&cursor=${encodeURIComponent(cur)}` : '')), (e) => h('tr', null,
    td(0, h('time', { datetime: e.at, text: fmtTime(e.at) })), td(1, h('code', { text: e.action })),
    td(0, entity(e)), td(0, summary(e.data || {}))), { empty: 'No activity yet.' });
  view.append(h('h1', { text: 'My activity' }), h('p', { class: 'muted', text: 'What you did, newest first, from the audit trail.' }),
    table('My activity', ['Time', '?Action', 'Entity', 'Summary'], body, 'activity'), pg.none, pg.more);
  await pg.reload();
}

// Shows a token (or a link holding one) once, with a copy button.
export function shownOnce(label, value, what) {
  const input = h('input', { type: 'text', readonly: true, value, class: 'mono' });
  setTimeout(() => input.select());
  return [h('p', { class: 'callout warn' }, h('strong', { text: 'Shown once. ' }), `Copy ${what} now: Cabinet keeps only a hash of the token and cannot show it again.`),
    field(label, input), h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', text: `Copy ${what}`, on: { click: () => copy(value) } }))];
}

export async function renderTokens(view) {
  const body = h('tbody');
  const row = (t) => {
    const tr = h('tr');
    const revoke = async () => {
      if (!confirm(`Revoke “${t.name}”? It stops working at once, for any script or calendar that uses it.`)) return;
      const r = await api('DELETE', `/tokens/${t.id}`);
      if (r.ok || r.status === 404) { tr.remove(); pg.none.hidden = body.children.length > 0; notify(`Token “${t.name}” revoked`); }
      else notify((r.problem && r.problem.title) || 'The token could not be revoked', 'bad');
    };
    tr.append(td(0, h('strong', { id: `tok-${t.id}`, text: t.name })), td(0, h('span', { class: 'badge', text: t.scope })),
      td(1, fmtTime(t.created_at)), td(1, t.last_used_at ? fmtTime(t.last_used_at) : 'never'),
      td(0, h('button', { type: 'button', class: 'secondary', text: 'Revoke', 'aria-describedby': `tok-${t.id}`, on: { click: revoke } })));
    return tr;
  };
  const pg = pager(body, (cur) => api('GET', '/tokens' + (cur ? `?cursor=${encodeURIComponent(cur)}` : '')), row, { empty: 'You have no tokens.' });
  const name = h('input', { type: 'text', name: 'name', maxlength: 100, autocomplete: 'off' });
  const scope = h('select', { name: 'scope' }, h('option', { value: 'full', text: 'full' }), h('option', { value: 'feed', text: 'feed' }));
  const submit = h('button', { type: 'submit', text: 'Create token' });
  const out = h('div');
  const form = h('form', { class: 'card token-card', novalidate: true, 'aria-labelledby': 'tok-new' }, h('h2', { id: 'tok-new', text: 'Create a token' }),
    h('div', { class: 'token-form' }, field('Token name', name, { field: 'name', hint: 'What it is for, e.g. "Deploy pipeline".' }),
      field('Scope', scope, { field: 'scope', hint: 'full: the API as you, sent as "Authorization: Bearer <token>". feed: the calendar feed (schedule.ics?token=) and nothing else.' })),
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
  view.append(h('h1', { text: 'My tokens' }), h('p', { class: 'muted', text: 'Personal tokens let scripts, pipelines and calendar apps act for you. Revoke any you no longer use.' }),
    form, h('h2', { text: 'Your tokens' }), table('Your tokens', ['Name', 'Scope', '?Created', '?Last used', 'Revoke'], body),
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
  const form = h('form', { class: 'card', novalidate: true },
    field('Current password', cur, { field: 'current_password' }),
    field('New password', next, { field: 'password', hint: 'A long passphrase you use nowhere else.' }),
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
