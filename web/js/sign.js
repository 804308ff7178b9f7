// Signed decisions: the browser's Ed25519 keys (WebCrypto, private half
// non-extractable, kept in IndexedDB), the approval statement, the decision
// dialog and the re-verification of approvals.
import { api, h, session, field, formError, showProblem, clearProblems, busy } from './core.js';

const enc = new TextEncoder();
const ALG = { name: 'Ed25519' };

let probe = null;
// Resolves to whether this page may sign: a secure context whose WebCrypto
// makes Ed25519 keys. Probed once.
export function cryptoAvailable() {
  if (!probe) {
    probe = (async () => {
      if (!window.isSecureContext || !globalThis.crypto || !crypto.subtle) return false;
      try { await crypto.subtle.generateKey(ALG, false, ['sign', 'verify']); return true; } catch { return false; }
    })();
  }
  return probe;
}

export const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

// Now in UTC, whole seconds: YYYY-MM-DDTHH:MM:SSZ.
export function nowUtc() { return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'); }

// The exact statement a decision signs (no trailing newline).
export function statement(change, decision, signedAt) {
  return ['cabinet-approval-v1', change.ref, change.version, change.content_hash, decision, signedAt].join('\n');
}

/* ---- the key store ------------------------------------------------------ */

let dbp = null;
function db() {
  if (!dbp) {
    dbp = new Promise((resolve, reject) => {
      const rq = indexedDB.open('cabinet', 1);
      rq.onupgradeneeded = () => rq.result.createObjectStore('keys', { keyPath: 'id' });
      rq.onsuccess = () => resolve(rq.result);
      rq.onerror = () => { dbp = null; reject(rq.error); };
    });
  }
  return dbp;
}

async function store(mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const t = d.transaction('keys', mode);
    const rq = fn(t.objectStore('keys'));
    t.oncomplete = () => resolve(rq && rq.result);
    t.onerror = () => reject(t.error);
  });
}

// This user's key records held in this browser.
export async function localKeys() {
  const all = (await store('readonly', (s) => s.getAll())) || [];
  return all.filter((k) => session.me && k.user_id === session.me.id);
}

export function forgetKey(id) { return store('readwrite', (s) => s.delete(id)); }

// Every key the server lists for this user (revoked ones too), or null
// when the list cannot be read.
export async function serverKeys() {
  const mine = [];
  let cursor = null;
  do {
    const r = await api('GET', '/keys?limit=200' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
    if (!r.ok || !r.data) return null;
    for (const k of r.data.items) if (k.owner && session.me && k.owner.id === session.me.id) mine.push(k);
    cursor = r.data.next_cursor;
  } while (cursor);
  return mine;
}

// Local keys the server still lists as this user's and not revoked;
// records of revoked or unknown keys are dropped.
export async function usableKeys() {
  const [local, listed] = await Promise.all([localKeys(), serverKeys()]);
  if (!listed) return local;
  const active = new Map(listed.filter((k) => !k.revoked_at).map((k) => [k.id, k]));
  const out = [];
  for (const k of local) {
    if (active.has(k.id)) out.push({ ...k, label: active.get(k.id).label || k.label });
    else await forgetKey(k.id);
  }
  return out;
}

// Makes a key pair, registers its public half and keeps the pair here.
// Resolves to the api() result of POST /me/keys.
export async function generateKey(label) {
  const pair = await crypto.subtle.generateKey(ALG, false, ['sign', 'verify']);
  const publicKey = b64(await crypto.subtle.exportKey('raw', pair.publicKey));
  const r = await api('POST', '/me/keys', { body: { public_key: publicKey, label } });
  if (r.status === 201) {
    await store('readwrite', (s) => s.put({
      id: r.data.id, label: r.data.label, created_at: r.data.created_at, user_id: session.me.id,
      public_key: publicKey, key: pair,
    }));
  }
  return r;
}

// Revokes a key at the server and forgets it here.
export async function revokeKey(id) {
  const r = await api('DELETE', `/me/keys/${encodeURIComponent(id)}`);
  if (r.status === 204 || r.status === 404) await forgetKey(id);
  return r;
}

/* ---- dialogs ------------------------------------------------------------ */

let dlgSeq = 0;

// A modal dialog labelled by its heading; onClose runs once, after which
// focus goes back where it was. Returns { dialog, close }.
export function modal(title, content, onClose) {
  const back = document.activeElement;
  const id = `dlg${++dlgSeq}`;
  const dialog = h('dialog', { class: 'cab-dialog', 'aria-labelledby': id },
    h('h2', { id, text: title }), content);
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (onClose) onClose();
    if (back && back.isConnected && back.focus) back.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close: () => dialog.open && dialog.close() };
}

export function secureNotice() {
  return h('div', { class: 'callout warn', role: 'note' },
    h('strong', { text: 'Signing needs a secure context. ' }),
    'This browser offers no WebCrypto here because the page was not loaded over HTTPS. ',
    'Reach the server over https:// (or http://localhost) to make keys and sign decisions.');
}

const short = (hash) => (hash ? `${hash.slice(0, 12)}…${hash.slice(-6)}` : '—');

/* ---- deciding ----------------------------------------------------------- */

// Asks for a comment, signs the decision with a key held here and posts it.
// Resolves to the api() result on 201, or null when the user gave up.
export async function decide(change, decision) {
  const verb = decision === 'approve' ? 'Approve' : 'Reject';
  const [ok, keys] = await Promise.all([cryptoAvailable(), cryptoAvailable().then((c) => (c ? usableKeys() : []))]);
  return new Promise((resolve) => {
    let result = null;
    const cancel = h('button', { type: 'button', class: 'secondary', text: 'Cancel' });
    const facts = h('dl', { class: 'facts' },
      h('dt', { text: 'Change' }), h('dd', null, h('strong', { text: change.ref }), ' ', change.title || ''),
      h('dt', { text: 'Version' }), h('dd', { text: String(change.version) }),
      h('dt', { text: 'Content hash' }), h('dd', { class: 'mono', title: change.content_hash, text: short(change.content_hash) }));
    let body;
    if (!ok) body = [facts, secureNotice(), h('div', { class: 'actions' }, cancel)];
    else if (!keys.length) {
      body = [facts,
        h('div', { class: 'callout', role: 'note' },
          h('strong', { text: 'No signing key in this browser. ' }),
          'Decisions are signed with a key that lives in your browser. Make one under ',
          h('a', { href: '#/keys', text: 'My keys', on: { click: () => ui.close() } }), ', then come back.'),
        h('div', { class: 'actions' }, cancel)];
    } else body = decideForm(change, decision, keys, cancel, (r) => { result = r; ui.close(); });
    const ui = modal(`${verb} ${change.ref}`, body, () => resolve(result));
    ui.dialog.classList.add('decide');
    cancel.addEventListener('click', () => ui.close());
  });
}

function decideForm(change, decision, keys, cancel, done) {
  const reject = decision === 'reject';
  let signedAt = nowUtc();
  const pre = h('pre', { class: 'statement', text: statement(change, decision, signedAt) });
  const comment = h('textarea', { name: 'comment', rows: 3, required: reject, autofocus: true });
  const select = keys.length > 1
    ? h('select', { name: 'key_id' }, keys.map((k) => h('option', { value: k.id, text: `${k.label || 'Key'} (#${k.id})` })))
    : null;
  const submit = h('button', { type: 'submit', class: reject ? 'danger' : null, text: reject ? 'Sign and reject' : 'Sign and approve' });
  const form = h('form', { novalidate: true },
    h('p', { class: 'muted', text: 'You sign this statement with your key. The server and anyone reading the change can check it.' }),
    pre,
    select ? field('Signing key', select, { field: 'key_id' })
      : h('p', { class: 'muted' }, 'Signing with ', h('strong', { text: keys[0].label || 'your key' }), ` (#${keys[0].id}).`),
    field('Comment', comment, { field: 'comment', hint: reject ? 'Required: say why you reject it.' : 'Optional.' }),
    formError(),
    h('div', { class: 'actions' }, submit, cancel));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearProblems(form);
    if (reject && !comment.value.trim()) {
      showProblem(form, { title: 'A comment is required', errors: [{ field: 'comment', message: 'Say why you reject this change.' }] });
      return;
    }
    busy(submit, async () => {
      const key = select ? keys.find((k) => String(k.id) === select.value) : keys[0];
      signedAt = nowUtc();
      const text = statement(change, decision, signedAt);
      pre.textContent = text;
      let signature;
      try {
        signature = b64(await crypto.subtle.sign(ALG, key.key.privateKey, enc.encode(text)));
      } catch (err) {
        showProblem(form, { title: 'This browser could not sign', detail: String(err.message || err) });
        return;
      }
      const r = await api('POST', `/changes/${encodeURIComponent(change.id)}/approvals`, {
        body: { decision, comment: comment.value, key_id: key.id, signed_at: signedAt, signature, version: change.version, content_hash: change.content_hash },
      });
      if (r.status === 201) {
        window.dispatchEvent(new Event('cabinet:queue'));
        done(r);
      } else showProblem(form, r.problem || { title: `The decision was not recorded (${r.status})` });
    });
  });
  return form;
}

/* ---- verifying ---------------------------------------------------------- */

const verified = new Map();

// Whether an approval's statement is the one its own fields make and its
// signature verifies with its public key: true/false, null without WebCrypto.
// ref is the change's ref (approvals need not carry it).
export async function verifyApproval(a, ref) {
  if (!(await cryptoAvailable())) return null;
  const r = ref || a.ref || (a.change && a.change.ref) || String(a.statement || '').split('\n')[1];
  const memo = `${a.id}\n${a.signature}\n${r}`;
  if (!verified.has(memo)) verified.set(memo, check(a, r));
  return verified.get(memo);
}

async function check(a, ref) {
  if (!/^CHG-\d+$/.test(ref || '')) return false;
  if (a.statement !== statement({ ref, version: a.version, content_hash: a.content_hash }, a.decision, a.signed_at)) return false;
  try {
    const key = await crypto.subtle.importKey('raw', unb64(a.public_key), ALG, false, ['verify']);
    return await crypto.subtle.verify(ALG, key, unb64(a.signature), enc.encode(a.statement));
  } catch {
    return false;
  }
}
