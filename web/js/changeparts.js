// Shared by the change pages: the service picker, field errors placed without moving focus, dialogs.
import { h, field, formError, showProblem, clearProblems } from './core.js';
import { findServices } from './services.js';

// The services picker: a search box (labelled "Services", data-field
// "services"), matches as "Add <name>" buttons, chips with "Remove <name>".
// Enter adds the first match, arrows move, Escape hides the matches.
export function servicePicker(initial, onChange) {
  const chosen = [...(initial || [])];
  const input = h('input', { type: 'search', autocomplete: 'off', placeholder: 'Name or title' });
  const chips = h('ul', { class: 'tags', 'aria-label': 'Selected' });
  const matches = h('div', { class: 'matches', hidden: true });
  const said = h('p', { class: 'visually-hidden', role: 'status' });
  let seq = 0;
  let timer = null;
  const changed = (msg) => { said.textContent = msg; draw(); if (onChange) onChange(); };
  const add = (name) => {
    if (!chosen.includes(name)) chosen.push(name);
    input.value = '';
    matches.hidden = true;
    changed(`${name} added`);
    input.focus();
  };
  const remove = (i) => {
    changed(`${chosen.splice(i, 1)[0]} removed`);
    (chips.querySelectorAll('button')[Math.min(i, chosen.length - 1)] || input).focus();
  };
  function draw() {
    chips.replaceChildren(...chosen.map((name, i) => h('li', { class: 'chip' }, name,
      h('button', { type: 'button', class: 'link', 'aria-label': `Remove ${name}`, text: '×', on: { click: () => remove(i) } }))));
    chips.hidden = !chosen.length;
  }
  async function search() {
    const mine = ++seq;
    const found = (await findServices(input.value)).filter((s) => !chosen.includes(s.name));
    if (mine !== seq) return;
    matches.replaceChildren(...found.map((s) => h('button', { type: 'button', 'aria-label': `Add ${s.name}`, on: { click: () => add(s.name) } },
      h('strong', { text: s.name }), h('span', { class: 'muted', text: `${s.title} · tier ${s.tier}` }))));
    if (!found.length) matches.append(h('p', { class: 'muted', text: 'No service matches.' }));
    matches.hidden = false;
    said.textContent = `${found.length} matching services`;
  }
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 150); });
  input.addEventListener('focus', () => { if (matches.hidden) search(); });
  const el = field('Services', input, { field: 'services', hint: 'Enter adds the first match.' });
  el.classList.add('picker');
  input.before(chips);
  input.after(matches, said);
  el.addEventListener('keydown', async (ev) => {
    const all = [input, ...matches.querySelectorAll('button')];
    const i = all.indexOf(ev.target);
    const k = ev.key;
    if (i < 0) return;
    if (k === 'ArrowDown' || k === 'ArrowUp') {
      ev.preventDefault();
      (all[i + (k === 'ArrowUp' ? -1 : 1)] || all[i]).focus();
    } else if (k === 'Escape' && !matches.hidden) {
      ev.preventDefault();
      ev.stopPropagation();
      matches.hidden = true;
      input.focus();
    } else if (!i && k === 'Backspace' && !input.value && chosen.length) remove(chosen.length - 1);
    else if (!i && k === 'Enter') {
      ev.preventDefault();
      if (!input.value.trim()) return;
      clearTimeout(timer);
      await search();
      const b = matches.querySelector('button');
      if (b) b.click();
    }
  });
  el.addEventListener('focusout', (ev) => { if (!el.contains(ev.relatedTarget)) matches.hidden = true; });
  draw();
  return { el, value: () => [...chosen] };
}

// Field errors next to their controls, as showProblem but leaving focus
// alone; keep(field) says which to show.
export function placeErrors(form, errors, keep) {
  clearProblems(form);
  for (const e of errors) {
    const name = (e.field || '').replace(/\[\d+\].*$/, '');
    const el = keep(name) && form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    const slot = el && document.getElementById(el.id + '-error');
    if (!slot) continue;
    el.setAttribute('aria-invalid', 'true');
    el.setAttribute('aria-describedby', [...new Set([...(el.getAttribute('aria-describedby') || '').split(' '), slot.id])].join(' ').trim());
    slot.textContent = slot.textContent ? `${slot.textContent}; ${e.message}` : e.message;
    slot.hidden = false;
  }
}

// A modal form of fields [{name, label, hint, control}]. submit(values) gives
// an api() result: ok closes it, a problem shows in it. Resolves to the
// result, or null if dismissed.
export function dialogForm({ title, fields, submitLabel, danger, opener, submit }) {
  return new Promise((resolve) => {
    const head = h('h2', { id: `dlg${Date.now()}`, text: title });
    const go = h('button', { type: 'submit', class: danger ? 'danger' : null, text: submitLabel });
    const form = h('form', { novalidate: true }, head,
      fields.map((f) => field(f.label, f.control, { field: f.name, hint: f.hint })), formError(),
      h('div', { class: 'actions' }, go, h('button', { type: 'button', class: 'secondary', text: 'Back', on: { click: () => dlg.close() } })));
    const dlg = h('dialog', { 'aria-labelledby': head.id }, form);
    let result = null;
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      go.disabled = true;
      const r = await submit(Object.fromEntries(fields.map((f) => [f.name, f.control.value]))).finally(() => { go.disabled = false; });
      if (r.ok) { result = r; dlg.close(); } else showProblem(form, r.problem);
    });
    dlg.addEventListener('close', () => {
      dlg.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(result);
    });
    document.body.append(dlg);
    dlg.showModal();
    fields[0].control.focus();
  });
}

