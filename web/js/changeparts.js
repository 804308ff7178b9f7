// Parts the change pages share: the service map read page by page, the
// service picker, field errors placed without moving focus, and dialogs.
import { api, h, field, formError, showProblem } from './core.js';

// The service map, fetched 200 at a time and only as far as a search needs.
const services = { items: [], cursor: null, done: false, loading: null };

async function morePages() {
  if (services.done) return;
  if (!services.loading) {
    const c = services.cursor ? '&cursor=' + encodeURIComponent(services.cursor) : '';
    services.loading = api('GET', '/services?limit=200' + c).then((r) => {
      if (r.ok && r.data) {
        services.items.push(...r.data.items);
        services.cursor = r.data.next_cursor;
        services.done = !services.cursor;
      } else services.done = true;
    }).finally(() => { services.loading = null; });
  }
  await services.loading;
}

// Up to `want` services whose name or title contains text, reading further
// pages only while fewer than `want` have been found.
export async function findServices(text, want = 12) {
  const t = text.trim().toLowerCase();
  const hits = () => services.items.filter((s) => !t || s.name.includes(t) || (s.title || '').toLowerCase().includes(t));
  if (!services.items.length) await morePages();
  let found = hits();
  while (found.length < want && !services.done) { await morePages(); found = hits(); }
  return found.slice(0, want);
}

export function serviceTitle(name) {
  const s = services.items.find((x) => x.name === name);
  return s ? s.title : '';
}

// A datalist of services for a text filter, refilled as the user types.
export function serviceDatalist(input) {
  const list = h('datalist', { id: input.id ? input.id + '-list' : 'svc-list-' + Math.random().toString(36).slice(2) });
  input.setAttribute('list', list.id);
  const fill = async () => {
    const found = await findServices(input.value, 30);
    list.replaceChildren(...found.map((s) => h('option', { value: s.name, label: s.title || s.name })));
  };
  input.addEventListener('input', fill);
  fill();
  return list;
}

// The services picker: a search box (the labelled control, data-field
// "services"), the matches as buttons, the chosen services as chips.
// Enter adds the first match, arrow keys move through the matches,
// Backspace in an empty box removes the last chip.
export function servicePicker(initial, onChange) {
  const chosen = [...(initial || [])];
  const input = h('input', { type: 'search', autocomplete: 'off', placeholder: 'Search services by name or title' });
  const chips = h('ul', { class: 'chips', 'aria-label': 'Selected' });
  const matches = h('div', { class: 'matches', hidden: true });
  const status = h('p', { class: 'visually-hidden', role: 'status' });
  let seq = 0;
  let timer = null;

  const changed = () => { drawChips(); if (onChange) onChange(); };
  const add = (name) => {
    if (!chosen.includes(name)) chosen.push(name);
    input.value = '';
    matches.hidden = true;
    status.textContent = `${name} added`;
    changed();
    input.focus();
  };
  const remove = (name, i) => {
    chosen.splice(chosen.indexOf(name), 1);
    status.textContent = `${name} removed`;
    changed();
    const next = chips.querySelectorAll('button')[Math.min(i, chosen.length - 1)];
    (next || input).focus();
  };
  function drawChips() {
    chips.replaceChildren(...chosen.map((name, i) => h('li', { class: 'chip' },
      h('span', { text: name, title: serviceTitle(name) || null }),
      h('button', { type: 'button', class: 'link', 'aria-label': `Remove ${name}`, text: '×', on: { click: () => remove(name, i) } }))));
    chips.hidden = !chosen.length;
  }
  async function search() {
    const mine = ++seq;
    const found = (await findServices(input.value, 12)).filter((s) => !chosen.includes(s.name));
    if (mine !== seq) return;
    matches.replaceChildren(...found.map((s) => h('button', {
      type: 'button', class: 'match', 'aria-label': `Add ${s.name}`, on: { click: () => add(s.name), keydown: moveKey },
    }, h('strong', { text: s.name }), h('span', { class: 'muted', text: `${s.title || ''} · tier ${s.tier}` }))));
    if (!found.length) matches.append(h('p', { class: 'muted', text: 'No service matches.' }));
    matches.hidden = false;
    status.textContent = found.length ? `${found.length} matching services` : 'No service matches';
  }
  function moveKey(ev) {
    const all = [...matches.querySelectorAll('button')];
    const i = all.indexOf(ev.currentTarget);
    if (ev.key === 'ArrowDown') { ev.preventDefault(); (all[i + 1] || all[i]).focus(); }
    if (ev.key === 'ArrowUp') { ev.preventDefault(); (i > 0 ? all[i - 1] : input).focus(); }
    if (ev.key === 'Escape') { ev.preventDefault(); matches.hidden = true; input.focus(); }
  }
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 150); });
  input.addEventListener('focus', () => { if (matches.hidden) search(); });
  input.addEventListener('keydown', async (ev) => {
    if (ev.key === 'ArrowDown') { ev.preventDefault(); const b = matches.querySelector('button'); if (b) b.focus(); }
    if (ev.key === 'Escape' && !matches.hidden) { ev.preventDefault(); ev.stopPropagation(); matches.hidden = true; }
    if (ev.key === 'Backspace' && !input.value && chosen.length) remove(chosen[chosen.length - 1], chosen.length - 1);
    if (ev.key === 'Enter') {
      ev.preventDefault();
      if (!input.value.trim()) return;
      clearTimeout(timer);
      await search();
      const b = matches.querySelector('button');
      if (b) b.click();
    }
  });
  const wrap = field('Services', input, { field: 'services', hint: 'Type to search; Enter adds the first match.' });
  wrap.classList.add('picker');
  wrap.insertBefore(chips, input);
  input.after(matches, status);
  wrap.addEventListener('focusout', (ev) => { if (!wrap.contains(ev.relatedTarget)) matches.hidden = true; });
  drawChips();
  return { el: wrap, input, value: () => [...chosen] };
}

// Field errors of a problem placed next to their controls, like showProblem
// but without moving focus or opening the form's error box: for checks run
// while the user types. `keep(field)` says which errors to show.
export function placeErrors(form, errors, keep) {
  for (const el of form.querySelectorAll('[data-field]')) {
    el.removeAttribute('aria-invalid');
    const slot = document.getElementById(el.id + '-error');
    if (slot) { slot.hidden = true; slot.textContent = ''; }
  }
  for (const e of errors || []) {
    if (!keep(e.field || '')) continue;
    const name = e.field || '';
    const el = form.querySelector(`[data-field="${CSS.escape(name)}"]`) ||
      form.querySelector(`[data-field="${CSS.escape(name.replace(/\[\d+\].*$/, ''))}"]`);
    const slot = el && document.getElementById(el.id + '-error');
    if (!slot) continue;
    el.setAttribute('aria-invalid', 'true');
    const ids = new Set((el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean));
    ids.add(slot.id);
    el.setAttribute('aria-describedby', [...ids].join(' '));
    slot.textContent = slot.textContent ? `${slot.textContent}; ${e.message}` : e.message;
    slot.hidden = false;
  }
}

// A modal form: fields [{name, label, control}], a submit button; submit(values)
// resolves to an api() result: ok closes the dialog, a problem is shown in it.
// Resolves to the result, or null when dismissed. Focus returns to `opener`.
export function dialogForm({ title, intro, fields, submitLabel, danger, opener, submit }) {
  return new Promise((resolve) => {
    const heading = h('h2', { id: 'dlg-' + Date.now(), text: title });
    const go = h('button', { type: 'submit', class: danger ? 'danger' : null, text: submitLabel });
    const form = h('form', { method: 'dialog', novalidate: true },
      heading, intro ? h('p', { class: 'muted', text: intro }) : null,
      fields.map((f) => field(f.label, f.control, { field: f.name, hint: f.hint })),
      formError(),
      h('div', { class: 'actions' }, go,
        h('button', { type: 'button', class: 'secondary', text: 'Back', on: { click: () => dlg.close() } })));
    const dlg = h('dialog', { class: 'change-dialog', 'aria-labelledby': heading.id }, form);
    let result = null;
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      go.disabled = true;
      try {
        const values = Object.fromEntries(fields.map((f) => [f.name, f.control.value]));
        const r = await submit(values);
        if (r && r.ok) { result = r; dlg.close(); } else if (r) showProblem(form, r.problem);
      } finally { go.disabled = false; }
    });
    dlg.addEventListener('close', () => {
      dlg.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(result);
    });
    document.body.append(dlg);
    dlg.showModal();
    const first = fields[0] && fields[0].control;
    if (first) first.focus();
  });
}

// A window in few words: "5 Dec 2026, 07:00 – 09:00" when it fits one day.
const dayF = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const timeF = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
export function shortWindow(w) {
  if (!w || !w.start) return 'No window';
  const s = new Date(w.start);
  const e = new Date(w.end);
  if (Number.isNaN(s.getTime()) || Number.isNaN(e.getTime())) return `${w.start} – ${w.end}`;
  const d1 = dayF.format(s);
  const d2 = dayF.format(e);
  return d1 === d2 ? `${d1}, ${timeF.format(s)} – ${timeF.format(e)}` : `${d1}, ${timeF.format(s)} – ${d2}, ${timeF.format(e)}`;
}
