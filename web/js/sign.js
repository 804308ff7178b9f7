// Signed decisions: WebCrypto Ed25519 keys (private half non-extractable,
// kept in IndexedDB), the decision dialog, re-verifying approvals.
import { api, h, session, field, formError, showProblem, clearProblems, busy } from './core.js';

const enc = new TextEncoder();
const ALG = { name: 'Ed25519' };

let probe = null;
// Resolves to whether this page can sign (secure context, Ed25519).
export function cryptoAvailable() {
  return (probe = probe || (async () => {
    if (!window.isSecureContext || !globalThis.crypto || !crypto.subtle) return false;
    try { await crypto.subtle.generateKey(ALG, false, ['sign', 'verify']); return true; } catch { return false; }
  })());
}

const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

// YYYY-MM-DDTHH:MM:SSZ, now.
export const nowUtc = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

// The statement a decision signs.
export function statement(change, decision, signedAt) {
  return ['cabinet-approval-v1', change.ref, change.version, change.content_hash, decision, signedAt].join('\n');
}

// The key store: IndexedDB "cabinet", store "keys".

let dbp = null;
const db = () => (dbp = dbp || new Promise((resolve, reject) => {
  const rq = indexedDB.open('cabinet', 1);
  rq.onupgradeneeded = () => rq.result.createObjectStore('keys', { keyPath: 'id' });
  rq.onsuccess = () => resolve(rq.result);
  rq.onerror = () => { dbp = null; reject(rq.error); };
}));

async function store(mode, fn) {
  const t = (await db()).transaction('keys', mode);
  const rq = fn(t.objectStore('keys'));
  return new Promise((resolve, reject) => { t.oncomplete = () => resolve(rq.result); t.onerror = () => reject(t.error); });
}

export const forgetKey = (id) => store('readwrite', (s) => s.delete(id));

// {listed: my keys at the server (null: unreadable), usable: records held
// here of active ones}; drops the other records.
export async function myKeys() {
  const me = session.me.id;
  const local = (await store('readonly', (s) => s.getAll())).filter((k) => k.user_id === me);
  let listed = [];
  for (let c = ''; listed && c != null;) {
    const r = await api('GET', '/keys?limit=200' + (c ? '&cursor=' + encodeURIComponent(c) : ''));
    if (r.ok) { listed.push(...r.data.items.filter((k) => k.owner && k.owner.id === me)); c = r.data.next_cursor; } else listed = null;
  }
  if (!listed) return { listed, usable: local };
  const active = new Set(listed.filter((k) => !k.revoked_at).map((k) => k.id));
  for (const k of local) if (!active.has(k.id)) await forgetKey(k.id);
  return { listed, usable: local.filter((k) => active.has(k.id)) };
}

// Makes a pair, registers its public half, keeps it: api() of POST /me/keys.
export async function generateKey(label) {
  const pair = await crypto.subtle.generateKey(ALG, false, ['sign', 'verify']);
  const publicKey = b64(await crypto.subtle.exportKey('raw', pair.publicKey));
  const r = await api('POST', '/me/keys', { body: { public_key: publicKey, label } });
  if (r.status === 201) {
    const { id, label: l, created_at } = r.data;
    await store('readwrite', (s) => s.put({ id, label: l, created_at, user_id: session.me.id, key: pair }));
  }
  return r;
}

export async function revokeKey(id) {
  const r = await api('DELETE', `/me/keys/${encodeURIComponent(id)}`);
  if (r.status === 204 || r.status === 404) await forgetKey(id);
  return r;
}

let seq = 0;

// A modal <dialog> labelled by its heading; closing removes it, runs
// onClose, returns focus.
export function modal(title, content, onClose) {
  const back = document.activeElement;
  const id = `dlg${++seq}`;
  const dialog = h('dialog', { class: 'cab-dialog', 'aria-labelledby': id }, h('h2', { id, text: title }), content);
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (onClose) onClose();
    if (back && back.isConnected) back.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close: () => dialog.open && dialog.close() };
}

// A modal form, submit and Cancel: act(form) resolving truthy closes it.
export function formDialog(title, submitText, children, act, { danger, onClose } = {}) {
  const yes = h('button', { type: 'submit', class: danger ? 'danger' : null, text: submitText });
  const no = h('button', { type: 'button', class: 'secondary', text: 'Cancel' });
  const form = h('form', { novalidate: true }, children, formError(), h('div', { class: 'actions' }, act ? yes : null, no));
  const ui = modal(title, form, onClose);
  no.addEventListener('click', ui.close);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearProblems(form);
    if (act) busy(yes, async () => { if (await act(form)) ui.close(); });
  });
  return ui;
}

export const fail = (form, problem) => { showProblem(form, problem || { title: 'That did not work' }); return false; };
export const need = (form, field, message) => fail(form, { title: 'Missing', errors: [{ field, message }] });

export function secureNotice() {
  return h('div', { class: 'callout warn', role: 'note' }, h('strong', { text: 'Signing needs a secure context. ' }),
    'This page was not loaded over HTTPS, so the browser offers no WebCrypto: reach the server over https:// (or http://localhost) to make keys and sign.');
}

// Asks for a comment, signs with a key held here, posts the decision:
// resolves to the api() result on 201, null if the user gave up.
export async function decide(change, decision) {
  const reject = decision === 'reject';
  const ok = await cryptoAvailable();
  const keys = ok ? (await myKeys()).usable : [];
  const hash = change.content_hash || '';
  const facts = h('p', null, h('strong', { text: change.title }), h('br'), `Version ${change.version} · content hash `,
    h('span', { class: 'mono', title: hash, text: `${hash.slice(0, 12)}…${hash.slice(-6)}` }));
  const title = `${reject ? 'Reject' : 'Approve'} ${change.ref}`;
  return new Promise((resolve) => {
    let result = null;
    const onClose = () => resolve(result);
    if (!ok || !keys.length) {
      const link = h('a', { href: '#/keys', text: 'My keys' });
      const ui = formDialog(title, '', [facts, ok ? h('div', { class: 'callout', role: 'note' },
        h('strong', { text: 'No signing key in this browser. ' }),
        'Decisions are signed with a key kept by your browser: make one in ', link, '.') : secureNotice()], null, { onClose });
      link.addEventListener('click', ui.close);
      return;
    }
    const pre = h('pre', { class: 'statement', text: statement(change, decision, nowUtc()) });
    const comment = h('textarea', { name: 'comment', rows: 3, required: reject, autofocus: true });
    const select = keys.length > 1 ? h('select', { name: 'key_id' }, keys.map((k) => h('option', { value: k.id, text: `${k.label || 'Key'} (#${k.id})` }))) : null;
    const children = [facts,
      h('p', { class: 'muted', text: 'You sign this statement; anyone can check it later.' }), pre,
      select ? field('Signing key', select, { field: 'key_id' })
        : h('p', { class: 'muted' }, 'Signing with ', h('strong', { text: keys[0].label || 'your key' }), ` (#${keys[0].id}).`),
      field('Comment', comment, { field: 'comment', hint: reject ? 'Required: say why.' : null })];
    const act = async (form) => {
      if (reject && !comment.value.trim()) return need(form, 'comment', 'Say why you reject this change.');
      const key = select ? keys.find((k) => String(k.id) === select.value) : keys[0];
      const signedAt = nowUtc();
      pre.textContent = statement(change, decision, signedAt);
      let signature;
      try { signature = b64(await crypto.subtle.sign(ALG, key.key.privateKey, enc.encode(pre.textContent))); } catch (err) {
        return fail(form, { title: 'This browser could not sign', detail: String(err) });
      }
      const r = await api('POST', `/changes/${encodeURIComponent(change.id)}/approvals`, {
        body: { decision, comment: comment.value, key_id: key.id, signed_at: signedAt, signature, version: change.version, content_hash: change.content_hash },
      });
      if (r.status !== 201) return fail(form, r.problem);
      window.dispatchEvent(new Event('cabinet:queue'));
      return (result = r);
    };
    formDialog(title, reject ? 'Sign and reject' : 'Sign and approve', children, act, { danger: reject, onClose });
  });
}

const verified = new Map();

// true when a.statement is the one a's fields (and ref, its change's) make
// and a.signature verifies it with a.public_key; false if not; null without
// WebCrypto. Cached.
export async function verifyApproval(a, ref) {
  if (!(await cryptoAvailable())) return null;
  const r = ref || a.ref || String(a.statement).split('\n')[1];
  const memo = `${a.id}\n${a.signature}\n${r}`;
  if (!verified.has(memo)) verified.set(memo, check(a, r));
  return verified.get(memo);
}

async function check(a, ref) {
  if (!/^CHG-\d+$/.test(ref || '') || a.statement !== statement({ ref, version: a.version, content_hash: a.content_hash }, a.decision, a.signed_at)) return false;
  try {
    const key = await crypto.subtle.importKey('raw', unb64(a.public_key), ALG, false, ['verify']);
    return await crypto.subtle.verify(ALG, key, unb64(a.signature), enc.encode(a.statement));
  } catch {
    return false;
  }
}
