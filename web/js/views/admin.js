// Admin: a tab per section the caller's roles allow; each section is its own
// module (admin-<section>.js), loaded when opened. Below: what they share.
import { api, h, hasRole, navigate, field, formError, showProblem, clearProblems, busy, copy, notify, pager, toLocalInput, fromLocalInput } from '../core.js';

// [section, label, admins only]
const SECTIONS = [['services', 'Services', 1], ['users', 'Users', 1], ['models', 'Models', 1], ['freezes', 'Freezes'],
  ['integrations', 'Integrations', 1], ['webhooks', 'Webhooks'], ['audit', 'Audit']];

export async function render(view, params, query) {
  const ok = SECTIONS.filter((s) => hasRole('admin') || (!s[2] && hasRole('manager')));
  const sec = SECTIONS.find((s) => s[0] === params.section);
  if (!params.section && ok.length) return navigate('/admin/' + ok[0][0], true);
  if (ok.length) view.append(h('nav', { class: 'tabs admin-tabs', 'aria-label': 'Admin sections' },
    ok.map(([s, label]) => h('a', { href: '#/admin/' + s, text: label, 'aria-current': s === params.section ? 'page' : null }))));
  if (!sec || !ok.includes(sec)) {
    view.append(h('section', { class: 'problem' }, h('h1', { text: sec ? `${sec[1]} is not for your roles` : 'No such admin page' }),
      h('p', { text: sec ? `Only ${sec[2] ? 'admins' : 'managers and admins'} can open it.` : 'Pick a section above.' })));
    return;
  }
  return (await import(`./admin-${sec[0]}.js`)).render(view, params.id, query);
}

/* ---- page parts --------------------------------------------------------- */

export const head = (title, ...btns) => h('div', { class: 'head' }, h('h1', { text: title }), btns.length ? h('div', { class: 'row' }, btns) : null);
export const back = (sec, text) => h('p', { class: 'crumb' }, h('a', { href: '#/admin/' + sec, text: '← ' + text }));
export const link = (href, text) => h('a', { href, text });
export const td = (x, opt) => h('td', { class: opt ? 'opt' : null }, x);
export const tr = (first, ...cells) => h('tr', null, h('th', { scope: 'row' }, first), cells);
export const facts = (pairs) => h('div', { class: 'card' }, h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', { text: k }), h('dd', null, v)])));
export const tierBadge = (t) => h('span', { class: 'badge tier', data: { tier: t }, text: `Tier ${t}` });
export const onOff = (on, yes, no) => h('span', { class: 'badge', data: { on: on ? 'yes' : 'no' }, text: on ? yes : no });
export const failed = (r) => notify((r.problem && (r.problem.detail || r.problem.title)) || 'That did not work', 'bad');

// A table in its scrolling wrapper; a column named 'x?' is optional on phones.
export function table(caption, cols) {
  const body = h('tbody');
  const wrap = h('div', { class: 'table-wrap' }, h('table', null, h('caption', { class: 'visually-hidden', text: caption }),
    h('thead', null, h('tr', null, cols.map((c) => h('th', { scope: 'col', class: c.endsWith('?') ? 'opt' : null, text: c.replace('?', '') })))), body));
  return { wrap, body };
}

// A paged list endpoint into a table; appends it and loads the first page.
export async function paged(view, t, path, row, empty) {
  const p = pager(t.body, (c) => api('GET', `${path}${path.includes('?') ? '&' : '?'}limit=50${c ? '&cursor=' + encodeURIComponent(c) : ''}`), row, { empty });
  view.append(t.wrap, p.none, p.more);
  await p.reload();
  return p;
}

// Every item of a paged list endpoint (at most 20 pages of 200).
export async function allPages(path) {
  const items = [];
  let cursor = null, i = 0;
  do {
    const r = await api('GET', `${path}?limit=200${cursor ? '&cursor=' + encodeURIComponent(cursor) : ''}`);
    if (!r.ok) return { ok: false, problem: r.problem, items };
    items.push(...r.data.items);
    cursor = r.data.next_cursor;
  } while (cursor && ++i < 20);
  return { ok: true, items, truncated: !!cursor };
}

let svc = null;
export async function serviceMap(fresh) {
  if (!svc || fresh) svc = await allPages('/services');
  return svc;
}
export const serviceNames = async () => ((await serviceMap()).items || []).map((s) => s.name);
export const forgetServices = () => { svc = null; };

/* ---- forms -------------------------------------------------------------- */

const names = (s) => s.split(/[\s,]+/).filter(Boolean);
let seq = 0;

// Comma-separated service names, each suggested from the map as it is typed.
export function servicesInput(all, value = []) {
  const list = h('datalist', { id: `svc-${++seq}` });
  const el = h('input', { type: 'text', list: list.id, value: value.join(', '), autocomplete: 'off', spellcheck: 'false' });
  const fill = () => {
    const pre = el.value.includes(',') ? el.value.replace(/[^,]*$/, '') + ' ' : '';
    const have = names(el.value);
    list.replaceChildren(...all.filter((n) => !have.includes(n)).slice(0, 80).map((n) => h('option', { value: pre + n })));
  };
  el.addEventListener('input', fill);
  fill();
  return { el, extra: list, value: () => names(el.value) };
}

export function check(label, checked, props) {
  const box = h('input', { type: 'checkbox', checked, ...props });
  return { box, el: h('label', { class: 'check' }, box, label) };
}

// Labelled controls from a spec: [api field, label, type, {hint, options, all, scale, c}]
// with values from v; body() gives the request body (dotted fields nest).
export function fields(spec, v = {}) {
  const get = (k) => k.split('.').reduce((o, p) => (o == null ? o : o[p]), v);
  const made = spec.map(([k, label, type = 'text', o = {}]) => {
    const val = get(k);
    let c;
    if (type === 'select') c = { el: h('select', null, o.options.map(([x, t]) => h('option', { value: x, text: t, selected: String(val) === String(x) }))) };
    else if (type === 'area') c = { el: h('textarea', { rows: 3, text: val || '' }) };
    else if (type === 'svc') c = servicesInput(o.all, val || []);
    else if (type === 'check') { const b = check(o.text, val === undefined ? !!o.def : val); c = { el: b.box, wrap: b.el, value: () => b.box.checked }; }
    else if (type === 'checks') {
      const bs = o.options.map(([x, t]) => check(t, (val || []).includes(x) || x === o.fixed, { value: x, disabled: x === o.fixed }));
      c = { el: h('div', { class: 'checks' }, bs.map((b) => b.el)), value: () => bs.filter((b) => b.box.checked && !b.box.disabled).map((b) => b.box.value) };
    } else if (type === 'custom') c = o.c;
    else if (type === 'dt') c = { el: h('input', { type: 'datetime-local', value: toLocalInput(val) }), value: () => fromLocalInput(c.el.value) };
    else if (type === 'num') c = { el: h('input', { type: 'number', inputmode: 'numeric', min: 0, value: val == null ? o.def : Math.round(val / (o.scale || 1)) }), value: () => Math.round(Number(c.el.value) * (o.scale || 1)) };
    else c = { el: h('input', { type, value: val || '', autocomplete: type === 'password' ? 'new-password' : 'off' }) };
    let node;
    if (c.wrap) { c.el.dataset.field = k; c.el.id = `chk-${++seq}`; node = h('div', { class: 'field' }, c.wrap, o.hint ? h('p', { class: 'hint', text: o.hint }) : null, h('p', { class: 'field-error', id: c.el.id + '-error', hidden: true })); }
    else node = field(label, c.el, { field: k, hint: o.hint });
    return { k, type, c, nodes: [node, c.extra] };
  });
  return {
    nodes: made.map((m) => m.nodes),
    first: made[0].c.el,
    body() {
      const out = {};
      for (const { k, type, c } of made) {
        const parts = k.split('.');
        const at = parts.slice(0, -1).reduce((o, p) => (o[p] = o[p] || {}), out);
        at[parts.at(-1)] = c.value ? c.value() : (c.el.tagName === 'INPUT' && type !== 'password' ? c.el.value.trim() : type === 'select' && /^\d+$/.test(c.el.value) ? Number(c.el.value) : c.el.value);
      }
      return out;
    },
  };
}

// A form card: send(form) -> api result; done(result) on success, else the
// problem is shown next to the fields.
export function form(title, nodes, submitText, send, done) {
  const submit = h('button', { type: 'submit', text: submitText });
  const f = h('form', { class: 'card', novalidate: true }, title ? h('h2', { text: title }) : null, nodes, formError(), h('div', { class: 'actions' }, submit));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      clearProblems(f);
      const r = await send(f);
      if (r && r.ok) await done(r);
      else if (r) showProblem(f, r.problem);
    });
  });
  return f;
}

// The list page's head with an "Add …" button that shows the form under it.
export function addHead(view, title, addText, f, focus) {
  const b = h('button', { type: 'button', text: addText, 'aria-expanded': 'false' });
  f.hidden = true;
  b.addEventListener('click', () => { f.hidden = !f.hidden; b.setAttribute('aria-expanded', String(!f.hidden)); if (!f.hidden) focus.focus(); });
  view.append(head(title, b), f);
}

// Asks in a modal <dialog> before a destructive action; resolves true if confirmed.
export function confirmDo(title, text, action) {
  return new Promise((resolve) => {
    const yes = h('button', { type: 'button', class: 'danger', text: action });
    const no = h('button', { type: 'button', class: 'secondary', text: 'Keep it' });
    const d = h('dialog', { 'aria-labelledby': 'confirm-title' }, h('h2', { id: 'confirm-title', text: title }), h('p', { text }), h('div', { class: 'actions' }, no, yes));
    const end = (x) => { d.close(); d.remove(); resolve(x); };
    yes.addEventListener('click', () => end(true));
    no.addEventListener('click', () => end(false));
    d.addEventListener('cancel', (ev) => { ev.preventDefault(); end(false); });
    document.body.append(d);
    d.showModal();
    no.focus();
  });
}

// A button that, once confirmed, sends method path, then goes to `to`.
export function danger(text, ask, says, method, path, done, to) {
  const b = h('button', { type: 'button', class: 'danger', text });
  b.addEventListener('click', () => busy(b, async () => {
    if (!(await confirmDo(ask, says, text))) return;
    const r = await api(method, path);
    if (!r.ok) return failed(r);
    notify(done);
    navigate(to);
  }));
  return b;
}

// Secrets the server shows once: a warning, each value with a copy button.
export function secretPanel(title, pairs, ...more) {
  return h('section', { class: 'card secret', 'aria-labelledby': 'secret-title' }, h('h2', { id: 'secret-title', text: title }),
    h('p', { class: 'callout warn' }, h('strong', { text: 'Shown once. ' }), 'Copy it now: Cabinet cannot show it again.'),
    pairs.map(([label, value]) => h('div', { class: 'secret-row' }, h('span', { class: 'label', text: label }), h('code', { class: 'secret-value', text: value }),
      h('button', { type: 'button', class: 'secondary', 'aria-label': `Copy ${label.toLowerCase()}`, text: 'Copy', on: { click: () => copy(value) } }))), more);
}

export const snippet = (label, text) => h('div', { class: 'snippet' }, h('div', { class: 'row' }, h('h3', { text: label }),
  h('button', { type: 'button', class: 'secondary', 'aria-label': `Copy ${label}`, text: 'Copy', on: { click: () => copy(text) } })),
h('pre', { tabindex: '0', 'aria-label': label }, h('code', { text })));
