// The change form, new (render) and edit (renderEdit). The server checks it
// as the user goes (?validate=only): errors show at the fields touched, or
// at all of them after a submit attempt.
import {
  api, h, field, formError, showProblem, clearProblems, problemView, navigate, changeHref,
  toLocalInput, fromLocalInput, busy, stateLabel,
} from '../core.js';
import { servicePicker, placeErrors } from '../changeparts.js';

const OPTIONAL = ['description', 'implementation_plan', 'backout_plan', 'test_plan', 'business_impact'];
const TEXTS = [['description', 'Description', 4], ['implementation_plan', 'Implementation plan', 4],
  ['backout_plan', 'Backout plan', 3, 'Adds 15 risk points when empty.'], ['test_plan', 'Test plan', 3, 'Adds 10 risk points when empty.']];

const WORDS = {
  'must be after window.start': 'must be after the window start',
  'is required: an RFC 3339 date-time': 'is required: a date and time',
  bad: 'is not a complete date and time',
};

// The form for change `c` ({} when new); `etag` when editing.
function changeForm(view, c, etag) {
  const editing = !!c.ref;
  const zone = `Local time (${Intl.DateTimeFormat().resolvedOptions().timeZone})`;
  const k = {
    title: h('input', { type: 'text', value: c.title || '', autocomplete: 'off' }),
    model: h('select', null, c.model ? h('option', { value: c.model, text: c.model }) : null),
    start: h('input', { type: 'datetime-local', value: toLocalInput(c.window && c.window.start) }),
    end: h('input', { type: 'datetime-local', value: toLocalInput(c.window && c.window.end) }),
    business_impact: h('select', null, ['', 'low', 'medium', 'high'].map((v) => h('option', { value: v, text: v || 'Not stated' }))),
  };
  for (const [name, , rows] of TEXTS) k[name] = h('textarea', { rows, text: c[name] || '' });
  k.business_impact.value = c.business_impact || '';
  const touched = new Set();
  let submitted = false;
  let timer = null;
  let seq = 0;
  const later = () => { clearTimeout(timer); timer = setTimeout(check, 500); };
  const picker = servicePicker(c.services, () => { touched.add('services'); later(); });

  const current = () => {
    const b = { title: k.title.value, model: k.model.value, services: picker.value() };
    for (const key of OPTIONAL) b[key] = k[key].value;
    // a time not filled in yet is left out, not sent as ""
    const w = Object.fromEntries([['start', k.start], ['end', k.end]].filter(([, el]) => el.value).map(([n, el]) => [n, fromLocalInput(el.value)]));
    b.window = w.start || w.end ? w : null;
    return b;
  };
  const initial = current();
  const createBody = () => Object.fromEntries(Object.entries(current()).filter(([key, v]) => key === 'title' || (v !== '' && v !== null)));
  // A JSON merge patch of what differs from the change as loaded.
  const patchBody = () => Object.fromEntries(Object.entries(current())
    .filter(([key, v]) => JSON.stringify(v) !== JSON.stringify(initial[key]))
    .map(([key, v]) => [key, v === '' && OPTIONAL.includes(key) ? null : v]));
  const body = () => (editing ? patchBody() : createBody());
  // Errors show at the fields touched; Window end's also once Window start
  // is touched, if it holds a time (ending before the start, say).
  const keep = (f) => submitted || touched.has(f) || (f === 'window.end' && touched.has('window.start') && !!k.end.value);
  // An error of the window as a whole is shown at Window end; the server's
  // fixed messages about times, in the form's words.
  const fix = (p) => p && { ...p, errors: (p.errors || []).map((e) => ({ ...e, field: e.field === 'window' ? 'window.end' : e.field,
    message: WORDS[e.message] || e.message.replace(/^is not an RFC 3339 date-time.*/, WORDS.bad) })) };
  const send = (b, validate) => (editing
    ? api('PATCH', `/changes/${encodeURIComponent(c.ref)}${validate}`, { body: b, ifMatch: etag })
    : api('POST', `/changes${validate}`, { body: b }));

  async function check() {
    clearTimeout(timer);
    const mine = ++seq;
    const b = body();
    const r = editing && !Object.keys(b).length ? { status: 200 } : await send(b, '?validate=only');
    if (mine !== seq) return;
    // any answer but 200 or 422: no live check this time
    if (r.status === 200 || (r.status === 422 && r.problem)) placeErrors(form, r.status === 200 ? [] : fix(r.problem).errors, keep);
  }

  const save = h('button', { type: 'submit', text: editing ? 'Save changes' : 'Create draft' });
  const stale = h('div', { class: 'callout warn', role: 'alert', hidden: true },
    'Someone else changed this change meanwhile. Reload it to see their version (your edits are lost). ',
    h('button', { type: 'button', class: 'secondary', text: 'Reload the change', on: { click: () => window.dispatchEvent(new Event('cabinet:navigate')) } }));
  const text = ([name, label, , hint]) => field(label, k[name], { field: name, hint });
  const form = h('form', { class: 'change-form', novalidate: true },
    h('section', { class: 'card' }, h('h2', { text: 'What' }),
      field('Title', k.title, { field: 'title' }), text(TEXTS[0]),
      field('Model', k.model, { field: 'model' }),
      picker.el),
    h('section', { class: 'card' }, h('h2', { text: 'When' }), h('div', { class: 'grid' },
      field('Window start', k.start, { field: 'window.start', hint: zone }),
      field('Window end', k.end, { field: 'window.end', hint: zone }))),
    h('section', { class: 'card' }, h('h2', { text: 'Impact and plans' }),
      field('Business impact', k.business_impact, { field: 'business_impact' }), TEXTS.slice(1).map(text)),
    stale, formError(),
    h('div', { class: 'actions' }, save, h('a', { class: 'btn secondary', href: editing ? changeHref(c.ref) : '#/changes', text: 'Cancel' })));

  const nameOf = (el) => { const f = el.closest('[data-field]'); return f && f.dataset.field !== 'services' ? f.dataset.field : null; };
  const touch = (ev) => { const n = nameOf(ev.target); if (n) { touched.add(n); later(); } };
  form.addEventListener('input', touch);
  form.addEventListener('change', touch);
  // Leaving a field checks it, unless it was only passed through: empty
  // and never typed in.
  form.addEventListener('focusout', (ev) => {
    const n = nameOf(ev.target) || (ev.target.dataset.field === 'services' && !picker.el.contains(ev.relatedTarget) ? 'services' : null);
    if (n && (touched.has(n) || (n !== 'services' && ev.target.value))) { touched.add(n); check(); }
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitted = true;
    clearTimeout(timer);
    seq++;
    busy(save, async () => {
      clearProblems(form);
      stale.hidden = true;
      const b = body();
      const r = editing && !Object.keys(b).length ? { ok: true, data: c } : await send(b, '');
      if (r.ok) navigate(changeHref(r.data.ref).slice(1));
      else if (r.status === 412) { stale.hidden = false; stale.querySelector('button').focus(); } else showProblem(form, fix(r.problem));
    });
  });

  view.append(h('h1', { text: editing ? `Edit ${c.ref}` : 'New change' }));
  if (editing && c.state !== 'draft') view.append(h('p', { class: 'callout warn', text: 'Saving voids its approvals so far.' }));
  view.append(form);
  api('GET', '/models').then((r) => {
    if (!r.ok) return;
    const names = r.data.items.map((m) => m.name);
    k.model.replaceChildren(...r.data.items.map((m) => h('option', { value: m.name, text: `${m.title || m.name} — ${m.kind}` })));
    k.model.value = names.includes(c.model) ? c.model : names.includes('normal') ? 'normal' : names[0];
  });
  k.title.focus();
  return () => clearTimeout(timer);
}

export async function render(view) {
  return changeForm(view, {}, null);
}

export async function renderEdit(view, { ref }) {
  const r = await api('GET', `/changes/${encodeURIComponent(ref)}`);
  if (!r.ok) return problemView(view, r.status === 404 ? { title: 'No such change', detail: `There is no change ${ref}.` } : r.problem || {});
  const c = r.data;
  if ((c.actions || []).includes('edit')) return changeForm(view, c, r.etag);
  view.append(h('h1', { text: `Edit ${c.ref}` }),
    h('p', { class: 'callout', text: `This change cannot be edited now: it is ${stateLabel(c.state)}.` }),
    h('a', { href: changeHref(c.ref), text: `Back to ${c.ref}` }));
  return null;
}
