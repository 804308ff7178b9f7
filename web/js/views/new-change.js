// The change form: new (render) and edit (renderEdit). The server checks
// the fields as the user goes (?validate=only); its field errors appear next
// to the fields the user has touched, all of them after a submit attempt.
import {
  api, h, field, formError, showProblem, clearProblems, problemView, navigate, changeHref,
  toLocalInput, fromLocalInput, busy, stateLabel,
} from '../core.js';
import { servicePicker, placeErrors } from '../changeparts.js';

const OPTIONAL = new Set(['description', 'implementation_plan', 'backout_plan', 'test_plan', 'business_impact']);
const zone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'your local zone';

function controls(c) {
  const text = (tag, v, rows) => h(tag, { text: v || '', rows: rows || null });
  const impact = h('select', null, h('option', { value: '', text: 'Not stated' }),
    ['low', 'medium', 'high'].map((v) => h('option', { value: v, text: v })));
  impact.value = c.business_impact || '';
  return {
    title: h('input', { type: 'text', value: c.title || '', autocomplete: 'off' }),
    description: text('textarea', c.description, 4),
    model: h('select', null, c.model ? h('option', { value: c.model, text: c.model }) : null),
    start: h('input', { type: 'datetime-local', value: toLocalInput(c.window && c.window.start) }),
    end: h('input', { type: 'datetime-local', value: toLocalInput(c.window && c.window.end) }),
    business_impact: impact,
    implementation_plan: text('textarea', c.implementation_plan, 4),
    backout_plan: text('textarea', c.backout_plan, 3),
    test_plan: text('textarea', c.test_plan, 3),
  };
}

async function fillModels(select, current) {
  const r = await api('GET', '/models');
  if (!r.ok) return;
  select.replaceChildren(...r.data.items.map((m) => h('option', { value: m.name, text: `${m.title || m.name} — ${m.kind}` })));
  const names = r.data.items.map((m) => m.name);
  select.value = current && names.includes(current) ? current : (names.includes('normal') ? 'normal' : names[0] || '');
}

// The form for a change `c` (empty when new). `etag` is set when editing.
function changeForm(view, c, etag) {
  const editing = !!c.ref;
  const k = controls(c);
  const touched = new Set();
  let submitted = false;
  let timer = null;
  let seq = 0;
  let initial = null;
  const schedule = () => { clearTimeout(timer); timer = setTimeout(check, 500); };
  const picker = servicePicker(c.services, () => { touched.add('services'); schedule(); });

  const current = () => {
    const s = k.start.value;
    const e = k.end.value;
    return {
      title: k.title.value, description: k.description.value, model: k.model.value, services: picker.value(),
      window: s || e ? { start: fromLocalInput(s), end: fromLocalInput(e) } : null,
      business_impact: k.business_impact.value, implementation_plan: k.implementation_plan.value,
      backout_plan: k.backout_plan.value, test_plan: k.test_plan.value,
    };
  };
  const createBody = () => {
    const b = current();
    for (const key of Object.keys(b)) if (b[key] === '' && key !== 'title') delete b[key];
    if (!b.window) delete b.window;
    return b;
  };
  // A JSON merge patch of what differs from the form as loaded.
  const patchBody = () => {
    const now = current();
    const p = {};
    for (const [key, v] of Object.entries(now))
      if (JSON.stringify(v) !== JSON.stringify(initial[key])) p[key] = v === '' && OPTIONAL.has(key) ? null : v;
    return p;
  };
  const keep = (name) => {
    if (submitted) return true;
    const base = name.replace(/\[\d+\].*$/, '');
    return touched.has(base) || (base === 'window' && (touched.has('window.start') || touched.has('window.end')));
  };
  const errorsOf = (problem) => (problem.errors || []).map((e) => (e.field === 'window' ? { ...e, field: 'window.end' } : e));

  async function check() {
    clearTimeout(timer);
    const mine = ++seq;
    const body = editing ? patchBody() : createBody();
    if (editing && !Object.keys(body).length) { placeErrors(form, [], keep); return; }
    const r = editing
      ? await api('PATCH', `/changes/${encodeURIComponent(c.ref)}?validate=only`, { body, ifMatch: etag })
      : await api('POST', '/changes?validate=only', { body });
    if (mine !== seq) return;
    if (r.status === 200) placeErrors(form, [], keep);
    else if (r.status === 422 && r.problem) placeErrors(form, errorsOf(r.problem), keep);
    // any other answer: no live check this time
  }

  const save = h('button', { type: 'submit', text: editing ? 'Save changes' : 'Create draft' });
  const stale = h('div', { class: 'callout warn', role: 'alert', hidden: true });
  const form = h('form', { class: 'change-form', novalidate: true },
    h('section', { class: 'card' }, h('h2', { text: 'What' }),
      field('Title', k.title, { field: 'title' }),
      field('Description', k.description, { field: 'description' }),
      field('Model', k.model, { field: 'model', hint: 'Standard changes are pre-approved when assessed low risk; emergency ones need one ECAB approval.' }),
      picker.el),
    h('section', { class: 'card' }, h('h2', { text: 'When' }),
      h('div', { class: 'pair' },
        field('Window start', k.start, { field: 'window.start', hint: `Local time (${zone()})` }),
        field('Window end', k.end, { field: 'window.end', hint: `Local time (${zone()})` }))),
    h('section', { class: 'card' }, h('h2', { text: 'Impact and plans' }),
      field('Business impact', k.business_impact, { field: 'business_impact' }),
      field('Implementation plan', k.implementation_plan, { field: 'implementation_plan' }),
      field('Backout plan', k.backout_plan, { field: 'backout_plan', hint: 'Without one the risk score rises by 15.' }),
      field('Test plan', k.test_plan, { field: 'test_plan', hint: 'Without one the risk score rises by 10.' })),
    stale, formError(),
    h('div', { class: 'actions form-actions' }, save,
      h('a', { class: 'btn secondary', href: editing ? changeHref(c.ref) : '#/changes', text: 'Cancel' })));

  const nameOf = (el) => { const f = el.closest && el.closest('[data-field]'); return f ? f.dataset.field : null; };
  form.addEventListener('input', (ev) => { const n = nameOf(ev.target); if (n && n !== 'services') { touched.add(n); schedule(); } });
  form.addEventListener('change', (ev) => { const n = nameOf(ev.target); if (n && n !== 'services') { touched.add(n); schedule(); } });
  form.addEventListener('focusout', (ev) => {
    const n = nameOf(ev.target);
    if (n && !(n === 'services' && form.querySelector('.picker').contains(ev.relatedTarget))) { touched.add(n); check(); }
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitted = true;
    clearTimeout(timer);
    seq++;
    busy(save, async () => {
      clearProblems(form);
      stale.hidden = true;
      if (!editing) {
        const r = await api('POST', '/changes', { body: createBody() });
        if (r.status === 201 || r.status === 200) { navigate('/changes/' + encodeURIComponent(r.data.ref)); return; }
        showProblem(form, r.problem && { ...r.problem, errors: errorsOf(r.problem) });
        return;
      }
      const patch = patchBody();
      if (!Object.keys(patch).length) { navigate('/changes/' + encodeURIComponent(c.ref)); return; }
      const r = await api('PATCH', `/changes/${encodeURIComponent(c.ref)}`, { body: patch, ifMatch: etag });
      if (r.status === 200) { navigate('/changes/' + encodeURIComponent(c.ref)); return; }
      if (r.status === 412) {
        stale.replaceChildren(h('strong', { text: 'Someone else changed this change while you were editing it. ' }),
          'Reload it to see their version; your unsaved edits here will be lost. ',
          h('button', { type: 'button', class: 'secondary', text: 'Reload the change', on: { click: () => window.dispatchEvent(new Event('cabinet:navigate')) } }));
        stale.hidden = false;
        stale.querySelector('button').focus();
        return;
      }
      showProblem(form, r.problem && { ...r.problem, errors: errorsOf(r.problem) });
    });
  });

  view.append(...[
    h('div', { class: 'head' }, h('h1', { text: editing ? `Edit ${c.ref}` : 'New change' }),
      editing ? h('span', { class: 'muted', text: `version ${c.version} · ${stateLabel(c.state)}` }) : null),
    editing && c.state !== 'draft'
      ? h('p', { class: 'callout warn', text: 'Saving an edit voids the approvals given so far and sends the change back for approval.' }) : null,
    form].filter(Boolean));
  fillModels(k.model, c.model);
  initial = current();
  k.title.focus();
  return () => clearTimeout(timer);
}

export async function render(view) {
  return changeForm(view, {}, null);
}

export async function renderEdit(view, { ref }) {
  const r = await api('GET', `/changes/${encodeURIComponent(ref)}`);
  if (r.status === 404) return problemView(view, { title: 'No such change', detail: `There is no change ${ref}.` });
  if (!r.ok) return problemView(view, r.problem || { title: 'The change could not be loaded' });
  const c = r.data;
  if (!(c.actions || []).includes('edit')) {
    view.append(h('h1', { text: `Edit ${c.ref}` }),
      h('p', { class: 'callout', text: `You cannot edit this change now (it is ${stateLabel(c.state)}).` }),
      h('p', null, h('a', { href: changeHref(c.ref), text: `Back to ${c.ref}` })));
    return null;
  }
  return changeForm(view, c, r.etag);
}
