// The service search (GET /services?q=) for pickers and service-name
// fields, so that no page reads the whole service map to suggest names.
import { api, h } from './core.js';

let lists = 0;

// Each distinct text's answer, kept for a minute.
const found = new Map();

// Up to `want` services whose name or title contains `text`.
export async function findServices(text, want = 12) {
  const key = `${want}:${text.trim().toLowerCase()}`;
  const had = found.get(key);
  if (!had || Date.now() - had.at > 60000) {
    const p = new URLSearchParams({ limit: String(want) });
    if (text.trim()) p.set('q', text.trim());
    found.set(key, { at: Date.now(), hits: api('GET', '/services?' + p).then((r) => (r.ok ? r.data.items : [])) });
  }
  const hits = await found.get(key).hits;
  if (!hits.length) found.delete(key);
  return hits;
}

// A <datalist> of services for a text input, refilled from the search as
// the user types. multi: the input holds names separated by commas, and
// the last one is completed.
export function serviceDatalist(input, multi = false) {
  const list = h('datalist', { id: `svc-list-${++lists}` });
  input.setAttribute('list', list.id);
  let seq = 0;
  let timer = null;
  const fill = async () => {
    const mine = ++seq;
    const v = input.value;
    const head = multi ? v.replace(/[^,]*$/, '') : '';
    const taken = head.split(/[\s,]+/);
    const hits = await findServices(v.slice(head.length), 30);
    if (mine !== seq) return;
    list.replaceChildren(...hits.filter((s) => !taken.includes(s.name))
      .map((s) => h('option', { value: head + (head ? ' ' : '') + s.name, label: s.title })));
  };
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(fill, 150); });
  fill();
  return list;
}
