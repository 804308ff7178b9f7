// My keys: make a signing key in this browser, list and revoke my keys.
import { h, field, formError, showProblem, fmtTime, notify, busy } from '../core.js';
import { cryptoAvailable, secureNotice, serverKeys, localKeys, generateKey, revokeKey, forgetKey, modal } from '../sign.js';

function defaultLabel() {
  const ua = navigator.userAgent;
  const brand = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrome\//.test(ua) ? 'Chromium'
    : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const data = navigator.userAgentData;
  const platform = (data && data.platform) || navigator.platform || 'this device';
  return `${brand} on ${platform}`;
}

export async function render(view) {
  const ok = await cryptoAvailable();
  const label = h('input', { type: 'text', name: 'label', maxlength: 100, value: defaultLabel(), autocomplete: 'off' });
  const make = h('button', { type: 'submit', text: 'Generate a signing key', disabled: !ok });
  const form = h('form', { class: 'card keys-new', novalidate: true },
    h('h2', { text: 'New key' }),
    field('Key label', label, { field: 'label', hint: 'Name the browser or device, so you can tell your keys apart.' }),
    formError(), h('div', { class: 'actions' }, make));
  const tbody = h('tbody');
  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'keys' },
    h('caption', { class: 'visually-hidden', text: 'Your signing keys' }),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', text: 'Label' }), h('th', { scope: 'col', text: 'ID' }),
      h('th', { scope: 'col', class: 'opt', text: 'Public key' }), h('th', { scope: 'col', class: 'opt', text: 'Created' }),
      h('th', { scope: 'col', text: 'Status' }), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', text: 'Actions' })))),
    tbody));
  const none = h('p', { class: 'empty', text: 'You have no keys yet.', hidden: true });
  view.append(
    h('h1', { text: 'My keys' }),
    h('p', { class: 'lede', text: 'Your signing key signs every approval or rejection you give, so that anyone can later check that the decision was yours and exactly what it was about. Its private half is made by this browser, cannot be exported and never leaves it: Cabinet only keeps the public half.' }),
    ok ? null : secureNotice(),
    form, h('h2', { text: 'Your keys' }), table, none);

  const load = async () => {
    const [listed, local] = await Promise.all([serverKeys(), localKeys()]);
    if (!listed) { notify('Your keys could not be loaded', 'bad'); return; }
    const here = new Set(local.map((k) => k.id));
    for (const k of local) if (!listed.some((s) => s.id === k.id && !s.revoked_at)) await forgetKey(k.id);
    listed.sort((a, b) => (!a.revoked_at - !b.revoked_at) * -1 || b.id - a.id);
    tbody.replaceChildren(...listed.map((k) => row(k, here.has(k.id) && !k.revoked_at, load)));
    none.hidden = listed.length > 0;
    table.hidden = listed.length === 0;
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!ok) return;
    busy(make, async () => {
      let r;
      try { r = await generateKey(label.value.trim()); } catch (err) {
        showProblem(form, { title: 'This browser could not make a key', detail: String(err.message || err) });
        return;
      }
      if (r.status !== 201) { showProblem(form, r.problem); return; }
      showProblem(form, null);
      notify(`Key #${r.data.id} made and registered`);
      await load();
    });
  });
  await load();
}

function row(k, here, reload) {
  const status = k.revoked_at
    ? h('span', { class: 'badge key-revoked', text: `revoked ${fmtTime(k.revoked_at)}` })
    : h('span', { class: 'badge key-active', text: 'active' });
  const revoke = k.revoked_at ? null : h('button', { type: 'button', class: 'secondary danger-text', text: 'Revoke' });
  if (revoke) revoke.addEventListener('click', () => confirmRevoke(k, reload));
  return h('tr', { class: k.revoked_at ? 'revoked' : null, data: { key: k.id } },
    h('td', null, h('span', { class: 'key-label', text: k.label || 'Unnamed key' }),
      here ? h('span', { class: 'badge here', text: 'in this browser' }) : null),
    h('td', { class: 'mono', text: `#${k.id}` }),
    h('td', { class: 'opt mono key-pub', title: k.public_key, text: `${k.public_key.slice(0, 16)}…` }),
    h('td', { class: 'opt', text: fmtTime(k.created_at) }),
    h('td', null, status),
    h('td', { class: 'cell-actions' }, revoke));
}

function confirmRevoke(k, reload) {
  const yes = h('button', { type: 'submit', class: 'danger', text: 'Revoke key' });
  const no = h('button', { type: 'button', class: 'secondary', text: 'Cancel' });
  const form = h('form', { novalidate: true },
    h('p', null, 'You will no longer be able to sign with ', h('strong', { text: k.label || `key #${k.id}` }),
      '. Approvals already signed with it stay verifiable.'),
    formError(), h('div', { class: 'actions' }, yes, no));
  const ui = modal(`Revoke key #${k.id}?`, form);
  no.addEventListener('click', () => ui.close());
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(yes, async () => {
      const r = await revokeKey(k.id);
      if (r.status !== 204) { showProblem(form, r.problem); return; }
      ui.close();
      notify(`Key #${k.id} revoked`);
      await reload();
    });
  });
}
