// My keys: make a signing key here; list and revoke mine.
import { h, field, formError, showProblem, fmtTime, notify, busy } from '../core.js';
import { cryptoAvailable, secureNotice, myKeys, generateKey, revokeKey, formDialog, fail } from '../sign.js';

function defaultLabel() {
  const b = (navigator.userAgent.match(/Firefox|Chrome|Safari/) || ['Browser'])[0].replace('Chrome', 'Chromium');
  return `${b} on ${(navigator.userAgentData || navigator).platform || 'this device'}`;
}

export async function render(view) {
  const ok = await cryptoAvailable();
  const label = h('input', { type: 'text', name: 'label', maxlength: 100, value: defaultLabel() });
  const make = h('button', { type: 'submit', text: 'Generate a signing key', disabled: !ok });
  const form = h('form', { class: 'card keys-new', novalidate: true }, h('h2', { text: 'New key' }),
    field('Key label', label, { field: 'label', hint: 'To tell your keys apart.' }),
    formError(), h('div', { class: 'actions' }, make));
  const th = (text, cls) => h('th', { scope: 'col', class: cls, text });
  const tbody = h('tbody');
  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'keys' },
    h('caption', { class: 'visually-hidden', text: 'Your signing keys' }),
    h('thead', null, h('tr', null, th('Key'), th('Public key', 'opt'), th('Created', 'opt'), th('Status'),
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', text: 'Actions' })))), tbody));
  const none = h('p', { class: 'empty', text: 'You have no keys yet.', hidden: true });
  view.append(...[h('h1', { text: 'My keys' }),
    h('p', { class: 'lede', text: 'Your key signs each approval or rejection you give, so anyone can check later that it was yours and what it was about. Its private half is made by this browser, cannot be exported and never leaves it.' }),
    ok ? null : secureNotice(), form, h('h2', { text: 'Your keys' }), table, none].filter(Boolean));

  const load = async () => {
    const { listed, usable } = await myKeys();
    if (!listed) return notify('Your keys could not be loaded', 'bad');
    const here = new Set(usable.map((k) => k.id));
    listed.sort((a, b) => !a.revoked_at - !b.revoked_at || a.id - b.id).reverse();
    tbody.replaceChildren(...listed.map((k) => row(k, here.has(k.id), load)));
    none.hidden = listed.length > 0;
    table.hidden = !none.hidden;
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (ok) busy(make, async () => {
      let r;
      try { r = await generateKey(label.value.trim()); } catch (err) {
        return fail(form, { title: 'This browser could not make a key', detail: String(err) });
      }
      if (r.status !== 201) return fail(form, r.problem);
      showProblem(form, null);
      notify(`Key #${r.data.id} made and registered`);
      return load();
    });
  });
  await load();
}

function row(k, here, reload) {
  const revoke = k.revoked_at ? null : h('button', { type: 'button', class: 'secondary danger-text', text: 'Revoke' });
  if (revoke) revoke.addEventListener('click', () => formDialog(`Revoke key #${k.id}?`, 'Revoke key',
    h('p', null, 'You can no longer sign with ', h('strong', { text: k.label || `key #${k.id}` }), '; approvals it signed stay verifiable.'),
    async (form) => {
      const r = await revokeKey(k.id);
      if (r.status !== 204) return fail(form, r.problem);
      notify(`Key #${k.id} revoked`);
      reload();
      return true;
    }, { danger: true }));
  return h('tr', { class: k.revoked_at ? 'revoked' : null, data: { key: k.id } },
    h('td', null, h('span', { class: 'key-label', text: k.label || 'Unnamed key' }), h('span', { class: 'muted mono', text: ` #${k.id}` }),
      here ? h('span', { class: 'badge here', text: 'in this browser' }) : null),
    h('td', { class: 'opt mono', title: k.public_key, text: `${k.public_key.slice(0, 16)}…` }),
    h('td', { class: 'opt', text: fmtTime(k.created_at) }),
    h('td', null, h('span', { class: k.revoked_at ? 'badge' : 'badge key-active', text: k.revoked_at ? `revoked ${fmtTime(k.revoked_at)}` : 'active' })),
    h('td', { class: 'cell-actions' }, revoke));
}
