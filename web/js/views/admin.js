// Admin: a tab per section the caller's roles allow, each a module loaded
// when opened (admin-<section>.js); below, what the sections share.
import { api, h, hasRole, navigate, field, formError, showProblem, clearProblems, busy, copy, notify, pager, toLocalInput, fromLocalInput } from '../core.js';
import { serviceDatalist } from '../services.js';

// [section, label, admins only]
const SECTIONS = [['services', 'Services', 1], ['users', 'Users', 1], ['models', 'Models', 1], ['freezes', 'Freezes'],
  ['integrations', 'Integrations', 1], ['webhooks', 'Webhooks'], ['audit', 'Audit']];

export async function render(view, { section, id }, query) {
  const ok = SECTIONS.filter((s) => hasRole('admin') || (!s[2] && hasRole('manager')));
  const sec = SECTIONS.find((s) => s[0] === section);
  if (!section && ok[0]) return navigate('/admin/' + ok[0][0], true);
  if (ok[0]) view.append(h('nav', { class: 'tabs admin-tabs', 'aria-label': 'Admin sections' },
    ok.map(([s, t]) => h('a', { href: '#/admin/' + s, text: t, 'aria-current': s === section && 'page' }))));
  if (ok.includes(sec)) return (await import(`./admin-${section}.js`)).render(view, id, query);
  view.append(h('h1', { class: 'problem', text: sec ? `${sec[1]}: only for ${sec[2] ? 'admins' : 'managers and admins'}` : 'No such admin page' }));
}

export const note = (text, cls = 'muted') => h('p', { class: cls, text });
export const head = (title, ...b) => h('div', { class: 'head' }, h('h1', { text: title }), h('div', { class: 'row' }, b));
export const link = (href, text) => h('a', { href, text });
export const btn = (text, cls, click) => h('button', { type: 'button', class: cls, text, on: { click } });
export const td = (x, opt) => h('td', { class: opt && 'opt' }, x);
export const tr = (first, ...cells) => h('tr', null, h('th', { scope: 'row' }, first), cells);
export const facts = (pairs) => h('div', { class: 'card' }, h('dl', { class: 'facts' }, pairs.map(([k, v]) => [h('dt', { text: k }), h('dd', null, v)])));
export const badge = (cls, key, val, text) => h('span', { class: 'badge ' + cls, data: { [key]: val }, text });
export const tierBadge = (t) => badge('tier', 'tier', t, `Tier ${t}`);
export const onOff = (on, yes, no) => badge('on', 'on', on ? 'yes' : 'no', on ? yes : no);
export const failed = (r) => notify((r.problem && (r.problem.detail || r.problem.title)) || 'That did not work', 'bad');

// A detail page's record under a link back; null if none.
export async function load(view, sec, path, what) {
  const r = await api('GET', path);
  view.append(h('p', { class: 'crumb' }, link('#/admin/' + sec, '← All ' + sec)), r.ok ? '' : h('h1', { text: what + ' not found' }));
  return r.ok ? r.data : null;
}

// A table in its scrolling wrapper; a column 'x?' is hidden on phones.
export function table(cols, cls) {
  const body = h('tbody');
  return { body, wrap: h('div', { class: 'table-wrap ' + (cls || ''), tabindex: 0 }, h('table', null,
    h('thead', null, h('tr', null, cols.map((c) => h('th', { scope: 'col', class: c.endsWith('?') && 'opt', text: c.replace('?', '') })))), body)) };
}

// A paged endpoint (or a function giving it) into table t.
export async function paged(view, t, path, row, empty) {
  const p = pager(t.body, (c) => {
    const u = path.call ? path() : path;
    return api('GET', `${u}${u.includes('?') ? '&' : '?'}limit=50${c ? '&cursor=' + encodeURIComponent(c) : ''}`);
  }, row, { empty });
  view.append(t.wrap, p.none, p.more);
  await p.reload();
  return p;
}

// The whole service map, at most 20 pages of 200.
let svc = null;
export async function serviceMap(fresh) {
  if (svc && !fresh) return svc;
  const items = [];
  let c = null, i = 0, r;
  do {
    r = await api('GET', `/services?limit=200${c ? '&cursor=' + encodeURIComponent(c) : ''}`);
    items.push(...(r.ok ? r.data.items : []));
    c = r.ok && r.data.next_cursor;
  } while (c && ++i < 20);
  return (svc = { items });
}

const names = (s) => s.split(/[\s,]+/).filter(Boolean);

// Service names separated by commas, the last one suggested by the search.
export function servicesInput(value = []) {
  const el = h('input', { type: 'text', value: value.join(', '), autocomplete: 'off' });
  return { el, extra: serviceDatalist(el, true), value: () => names(el.value) };
}

// Controls from [api field, label, type, options] filled from v; body() gives
// the request body (a dotted field nests).
export function fields(spec, v = {}) {
  const made = spec.map(([k, label, type = 'text', o = {}]) => {
    const val = k.split('.').reduce((x, p) => x && x[p], v);
    let c = { el: h('input', { type, value: val || '', autocomplete: { password: 'new-password', email: 'username' }[type] || 'off' }), value: () => (type === 'password' ? c.el.value : c.el.value.trim()) };
    if (type === 'select') c = { el: h('select', null, o.options.map(([x, t]) => h('option', { value: x, text: t, selected: String(val ?? o.def) === String(x) }))) };
    if (type === 'area') c = { el: h('textarea', { rows: 3, text: val || '' }) };
    if (type === 'svc') c = servicesInput(val);
    if (type === 'custom') c = o.c;
    if (type === 'dt') c = { el: h('input', { type: 'datetime-local', value: toLocalInput(val) }), value: () => fromLocalInput(c.el.value) };
    if (type === 'num') c = { el: h('input', { type: 'number', min: 0, value: val == null ? o.def : Math.round(val / o.scale) }), value: () => Math.round(c.el.value * o.scale) };
    if (type === 'checks') { // o.bool: one box, true or false
      const bs = o.options.map(([x, t]) => h('input', { type: 'checkbox', value: x, disabled: x === o.fixed, checked: o.bool ? val ?? o.def : (val || []).includes(x) || x === o.fixed}));
      c = { el: h('div', { class: 'checks' }, bs.map((b, i) => h('label', { class: 'check' }, b, o.options[i][1]))), value: () => (o.bool ? bs[0].checked : bs.filter((b) => b.checked && !b.disabled).map((b) => b.value)) };
    }
    return { k, c, o, node: [field(label, c.el, { field: k, hint: o.hint }), c.extra] };
  });
  return {
    nodes: made.map((m) => m.node),
    first: made[0].c.el,
    body() {
      const out = {};
      for (const { k, c, o } of made) {
        const ps = k.split('.'), x = c.value ? c.value() : c.el.value;
        if (x === '' && o.keep) continue; // an empty password leaves it as it is
        ps.slice(0, -1).reduce((o, p) => (o[p] = o[p] || {}), out)[ps.at(-1)] = c.el.tagName === 'SELECT' && /^\d+$/.test(x) ? +x : x;
      }
      return out;
    },
  };
}

// A form card: send() -> api result, then done() or the problem shown.
export function form(title, nodes, submitText, send, done) {
  const b = h('button', { type: 'submit', text: submitText });
  const f = h('form', { class: 'card', novalidate: true }, h('h2', { text: title }), nodes, formError(), h('div', { class: 'actions' }, b));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(b, async () => {
      clearProblems(f);
      const r = await send();
      if (r && r.ok) await done(r);
      else if (r) showProblem(f, r.problem);
    });
  });
  return f;
}

// A list's head with "Add <noun>" showing the form posting to path.
export function addPage(view, title, noun, spec, path, done) {
  const f = fields(spec);
  const add = form('Add ' + noun, f.nodes, 'Create ' + noun, () => api('POST', path, { body: f.body() }), done);
  const b = btn('Add ' + noun, '', () => { b.setAttribute('aria-expanded', !(add.hidden = !add.hidden)); if (!add.hidden) f.first.focus(); });
  b.setAttribute('aria-expanded', !(add.hidden = true));
  view.append(head(title, b), add);
}

// The form that PATCHes path with the fields of spec.
export function edit(title, spec, v, path) {
  const f = fields(spec, v);
  return form(title, f.nodes, 'Save changes', () => api('PATCH', path, { body: f.body() }), () => { notify('Saved'); navigate('/admin' + path, true); });
}

// Asks in a modal <dialog>; resolves true when the action is confirmed.
export const confirmDo = (title, text, action) => new Promise((resolve) => {
  const end = (x) => { d.remove(); resolve(x); };
  const no = btn('Keep it', 'secondary', () => end(false));
  const d = h('dialog', { 'aria-labelledby': 'confirm-title', on: { cancel: (ev) => { ev.preventDefault(); end(false); } } },
    h('h2', { id: 'confirm-title', text: title }), note(text, ''), h('div', { class: 'actions' }, no, btn(action, 'danger', () => end(true))));
  document.body.append(d);
  d.showModal();
  no.focus();
});

// A delete button: once confirmed, DELETE path, then go to `to`.
export function danger(text, ask, says, path, done, to) {
  const b = btn(text, 'danger', () => busy(b, async () => {
    if (!(await confirmDo(ask, says, text))) return;
    const r = await api('DELETE', path);
    if (!r.ok) return failed(r);
    notify(done);
    navigate(to);
  }));
  return b;
}

const copyBtn = (what, text) => h('button', { type: 'button', class: 'secondary', 'aria-label': 'Copy ' + what, text: 'Copy', on: { click: () => copy(text) } });

// Secrets shown once, each with a copy button.
export const secretPanel = (title, pairs, ...more) => h('section', { class: 'card secret', 'aria-labelledby': 'secret-title' }, h('h2', { id: 'secret-title', text: title }),
  h('p', { class: 'callout warn' }, h('strong', { text: 'Shown once. ' }), 'Copy it now: Cabinet cannot show it again.'),
  pairs.map(([label, value]) => h('div', { class: 'secret-row' }, h('span', { class: 'label', text: label }), h('code', { text: value }), copyBtn(label.toLowerCase(), value))), more);

export const snippet = (label, text) => h('div', { class: 'snippet' }, h('div', { class: 'row' }, h('h3', { text: label }), copyBtn(label, text)),
  h('pre', { tabindex: 0, 'aria-label': label }, h('code', { text })));
