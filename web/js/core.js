// What every view shares: the API client, the session, DOM building,
// problem+json shown next to the fields at fault, formatting, polling.
// Views never build HTML from strings: text goes in through textContent.

export const API = '/api/v1';

export const session = { me: null, config: null, csrf: null };

// Calls the API. Resolves to { status, ok, data, etag, problem, headers }:
// data is the parsed JSON body (or null), problem the same when it is an
// RFC 9457 problem. A 401 on anything but the login itself sends the user
// to the login form and comes back here after.
export async function api(method, path, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  if (opts.ifMatch) headers['If-Match'] = opts.ifMatch;
  if (opts.etag) headers['If-None-Match'] = opts.etag;
  let res;
  try {
    res = await fetch(API + path, {
      method, headers, credentials: 'same-origin', cache: 'no-cache', signal: opts.signal,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    const problem = { title: 'Cabinet cannot be reached', detail: 'Check your connection and try again.', status: 0 };
    return { status: 0, ok: false, data: null, etag: null, problem, headers: new Headers() };
  }
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  if (res.status !== 204 && res.status !== 304 && type.includes('json')) data = await res.json().catch(() => null);
  const out = {
    status: res.status, ok: res.ok, data, etag: res.headers.get('ETag'), headers: res.headers,
    problem: type.includes('problem+json') ? data : (res.ok || res.status === 304 ? null : { title: res.statusText, status: res.status }),
  };
  if (res.status === 401 && path !== '/session' && !opts.quiet401) {
    session.me = null;
    session.csrf = null;
    window.dispatchEvent(new Event('cabinet:signed-out'));
    if (!location.hash.startsWith('#/login')) navigate('/login?next=' + encodeURIComponent(currentPath()));
  }
  return out;
}

// h('a', { href: '#/x', class: 'btn', on: { click: f }, data: { id: 1 } }, 'text', node, [more])
// Attribute values null/false are left out; true sets an empty attribute.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      else if (k === 'data') for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = dv;
      else if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
      else if (k === 'text') el.textContent = v;
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// SVG elements (charts, graphs, timelines).
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

export function hasRole(...roles) {
  const mine = (session.me && session.me.roles) || [];
  return roles.some((r) => mine.includes(r));
}

/* ---- routing ---------------------------------------------------------- */

export function currentPath() {
  return location.hash.startsWith('#/') ? location.hash.slice(1) : '/';
}

export function navigate(path, replace = false) {
  const url = '#' + path;
  if (replace) history.replaceState(null, '', url);
  else if (location.hash !== url) history.pushState(null, '', url);
  window.dispatchEvent(new Event('cabinet:navigate'));
}

// The query part of the current address as an object.
export function query() {
  const p = currentPath();
  const i = p.indexOf('?');
  return Object.fromEntries(new URLSearchParams(i < 0 ? '' : p.slice(i + 1)));
}

// Replaces the current address's query (for filters), without a new render.
export function setQuery(params) {
  const p = currentPath();
  const base = p.split('?')[0];
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== null && v !== undefined));
  history.replaceState(null, '', '#' + base + (q.toString() ? '?' + q : ''));
}

export function changeHref(ref) {
  return '#/changes/' + encodeURIComponent(ref);
}

export function setTitle(text) {
  document.title = text ? `${text} · ${(session.config && session.config.product) || 'Cabinet'}` : 'Cabinet';
}

/* ---- forms and problems ------------------------------------------------ */

let fieldSeq = 0;

// A labelled control: <div class="field"><label/>control<p hint/><p error/></div>.
// `field` is the API's name for it (e.g. "window.start", "services"), used
// to place the API's field errors; `control` is an input/select/textarea
// or a group element (then `label` becomes its aria-label).
export function field(label, control, { field: name, hint } = {}) {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  if (name) control.dataset.field = name;
  const described = [];
  const wrap = h('div', { class: 'field' });
  const isControl = /^(INPUT|SELECT|TEXTAREA)$/.test(control.tagName);
  if (isControl) wrap.append(h('label', { for: id, text: label }));
  else {
    wrap.append(h('span', { class: 'label', id: id + '-label', text: label }));
    control.setAttribute('aria-labelledby', id + '-label');
    if (!control.getAttribute('role')) control.setAttribute('role', 'group');
  }
  wrap.append(control);
  if (hint) {
    wrap.append(h('p', { class: 'hint', id: id + '-hint', text: hint }));
    described.push(id + '-hint');
  }
  const err = h('p', { class: 'field-error', id: id + '-error', hidden: true });
  wrap.append(err);
  if (described.length) control.setAttribute('aria-describedby', described.join(' '));
  return wrap;
}

export function clearProblems(form) {
  for (const el of form.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('.field-error')) { el.hidden = true; el.textContent = ''; }
  for (const el of form.querySelectorAll('.form-error')) { el.hidden = true; el.replaceChildren(); }
}

function controlFor(form, name) {
  const candidates = [name, name.replace(/\[\d+\]$/, ''), name.replace(/\[\d+\].*$/, ''), name.split('.')[0]];
  for (const c of candidates) {
    const el = form.querySelector(`[data-field="${CSS.escape(c)}"]`);
    if (el) return el;
  }
  return null;
}

// Shows an API problem in a form: each errors[] entry next to its control
// (aria-invalid, the message linked by aria-describedby), the rest in the
// form's .form-error box. Focuses the first control at fault. Returns the
// number of field errors placed.
export function showProblem(form, problem) {
  clearProblems(form);
  if (!problem) return 0;
  const box = form.querySelector('.form-error');
  const loose = [];
  let placed = 0;
  let first = null;
  for (const e of problem.errors || []) {
    const el = controlFor(form, e.field || '');
    if (!el) { loose.push(`${e.field}: ${e.message}`); continue; }
    const err = document.getElementById(el.id + '-error');
    el.setAttribute('aria-invalid', 'true');
    const ids = new Set((el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean));
    ids.add(el.id + '-error');
    el.setAttribute('aria-describedby', [...ids].join(' '));
    if (err) {
      err.textContent = err.textContent ? `${err.textContent}; ${e.message}` : e.message;
      err.hidden = false;
    }
    first = first || el;
    placed++;
  }
  if (box && (loose.length || !placed)) {
    box.append(h('strong', { text: problem.title || 'That did not work' }));
    if (problem.detail) box.append(' ', problem.detail);
    if (loose.length) box.append(h('ul', null, loose.map((t) => h('li', { text: t }))));
    box.hidden = false;
  }
  if (first && first.focus) first.focus();
  else if (box && !box.hidden) box.focus();
  return placed;
}

// The error box a form shows problems in (put it above the buttons).
export function formError() {
  return h('div', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true });
}

// A problem shown in place of a view (404, 403, unreachable).
export function problemView(view, problem) {
  const contact = session.config && session.config.support_contact;
  view.replaceChildren(h('section', { class: 'problem' },
    h('h1', { text: problem.title || 'Something went wrong' }),
    problem.detail ? h('p', { text: problem.detail }) : null,
    contact ? h('p', null, 'If this persists, contact ', h('strong', { text: contact }), '.') : null,
    h('p', null, h('a', { href: '#/changes', text: 'Back to changes' }))));
}

/* ---- formatting -------------------------------------------------------- */

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateFmt.format(d);
}

export function fmtDay(d) { return dayFmt.format(d); }

// A window in few words: the end's date is left out when it is the start's.
export function fmtWindow(w) {
  if (!w || !w.start) return 'No window';
  return `${fmtTime(w.start)} – ${fmtTime(w.end)}`.replace(/^(.*), (.*?) – \1, /, '$1, $2 – ');
}

export function fmtDuration(s) {
  if (s === null || s === undefined) return '—';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const hrs = m / 60;
  if (hrs < 48) return `${hrs.toFixed(hrs < 10 ? 1 : 0)} h`;
  return `${(hrs / 24).toFixed(1)} days`;
}

// Local date-time input value (YYYY-MM-DDTHH:MM) <-> RFC 3339 UTC.
export function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function stateLabel(state) { return (state || '').replace(/_/g, ' '); }

export function stateBadge(state) {
  return h('span', { class: 'badge state', data: { state }, text: stateLabel(state) });
}

export function levelBadge(level) {
  if (!level) return h('span', { class: 'badge level', text: 'not assessed' });
  return h('span', { class: 'badge level', data: { level }, text: level });
}

export function flagBadges(flags) {
  return (flags || []).map((f) => h('span', { class: 'badge flag', data: { flag: f }, text: f }));
}

/* ---- notices, polling, busy buttons ------------------------------------ */

let noticeTimer = null;

// A short message in the live region under the header.
export function notify(message, kind = 'info') {
  const box = document.getElementById('notice');
  box.replaceChildren(h('p', { class: kind, text: message }));
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => box.replaceChildren(), 6000);
}

// Runs fn every ms while the page is visible; returns a function that stops
// it. Views return that from render() so leaving the page stops it.
export function poll(fn, ms) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    if (!document.hidden) { try { await fn(); } catch (e) { /* next tick retries */ } }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  timer = setTimeout(tick, ms);
  const wake = () => { if (!document.hidden && !stopped) { clearTimeout(timer); tick(); } };
  document.addEventListener('visibilitychange', wake);
  return () => { stopped = true; clearTimeout(timer); document.removeEventListener('visibilitychange', wake); };
}

// Disables a button while an async action runs; returns its result.
export async function busy(button, fn) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try { return await fn(); } finally { button.disabled = false; button.removeAttribute('aria-busy'); }
}

export function loading() {
  return h('p', { class: 'loading', role: 'status', text: 'Loading…' });
}

// "Show more" paging of a list endpoint: fetchPage(cursor) -> api result with
// {items, next_cursor}; renderItem(item) -> node appended to `list`.
export function pager(list, fetchPage, renderItem, { empty = 'Nothing here yet.' } = {}) {
  const more = h('button', { type: 'button', class: 'secondary more', text: 'Show more', hidden: true });
  const none = h('p', { class: 'empty', text: empty, hidden: true });
  let cursor = null;
  let seq = 0;
  const load = async (first) => {
    const mine = first ? ++seq : seq;
    const r = await fetchPage(first ? null : cursor);
    if (mine !== seq) return r; // a newer first page is on its way
    if (!r.ok) { notify((r.problem && r.problem.title) || 'Could not load the list', 'bad'); return r; }
    if (first) list.replaceChildren();
    for (const it of r.data.items) list.append(renderItem(it));
    cursor = r.data.next_cursor;
    more.hidden = !cursor;
    none.hidden = list.children.length > 0;
    return r;
  };
  more.addEventListener('click', () => busy(more, () => load(false)));
  return { more, none, reload: () => load(true) };
}

// Copies text to the clipboard, with a notice.
export async function copy(text) {
  try { await navigator.clipboard.writeText(text); notify('Copied'); } catch { notify('Select the text and copy it', 'bad'); }
}
