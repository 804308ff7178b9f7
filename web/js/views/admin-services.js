// Admin › Services: the map, each service's page and its dependency graph.
import { api, h, svg, navigate, notify } from '../core.js';
import { head, back, link, td, tr, facts, table, fields, form, addHead, danger, serviceMap, forgetServices, tierBadge } from './admin.js';

const href = (n) => '#/admin/services/' + encodeURIComponent(n);
const spec = (all) => [['title', 'Title'],
  ['tier', 'Tier', 'select', { options: [1, 2, 3, 4].map((t) => [t, `Tier ${t}${t === 1 ? ' · most critical' : t === 4 ? ' · least critical' : ''}`]) }],
  ['owner', 'Owner', 'text', { hint: 'The team or person who answers for it.' }], ['description', 'Description', 'area'],
  ['depends_on', 'Depends on', 'svc', { all, hint: 'Service names, separated by commas.' }]];

export function render(view, id) { return id ? detail(view, id) : list(view); }

async function list(view) {
  const map = await serviceMap(true);
  const all = map.items || [];
  const f = fields([['name', 'Name', 'text', { hint: 'Lowercase letters, digits and -, e.g. payments-api.' }], ...spec(all.map((s) => s.name))]);
  addHead(view, 'Services', 'Add service', form('Add service', f.nodes, 'Create service', () => api('POST', '/services', { body: f.body() }),
    (r) => { forgetServices(); notify(`Service ${r.data.name} created`); navigate('/admin/services/' + r.data.name); }), f.first);
  if (!map.ok) return view.append(h('p', { class: 'callout bad', text: 'The service map could not be loaded.' }));

  const q = h('input', { type: 'search', autocomplete: 'off' });
  const count = h('p', { class: 'muted', role: 'status' });
  const t = table('Services', ['Name', 'Title?', 'Tier', 'Owner?', 'Depends on', 'Used by?']);
  const links = (ns) => (ns.length ? ns.flatMap((n, i) => [i ? ', ' : '', link(href(n), n)]) : '—');
  const show = () => {
    const w = q.value.trim().toLowerCase();
    const rows = all.filter((s) => [s.name, s.title, s.owner].some((x) => (x || '').toLowerCase().includes(w)));
    t.body.replaceChildren(...rows.map((s) => tr(link(href(s.name), s.name), td(s.title, 1), td(tierBadge(s.tier)), td(s.owner || '—', 1), td(links(s.depends_on)), td(links(s.dependents || []), 1))));
    count.textContent = w ? `${rows.length} of ${all.length} services match` : `${all.length} services`;
  };
  q.addEventListener('input', show);
  show();
  view.append(h('div', { class: 'filters' }, h('div', { class: 'field' }, h('label', { for: 'svc-q', text: 'Filter services' }), Object.assign(q, { id: 'svc-q', placeholder: 'Name, title or owner' }))), count, t.wrap,
    h('h2', { text: 'Service map' }));
  if (all.length > 60) view.append(h('p', { class: 'callout', text: `The map has ${all.length} services, too many to draw legibly (at most 60). Each service's page draws its own dependencies.` }));
  else if (all.length) view.append(overview(all));
}

// Layered by dependency depth: services that depend on nothing on the right.
function overview(all) {
  const by = new Map(all.map((s) => [s.name, s]));
  const depth = new Map();
  const visit = (n, stack) => {
    if (depth.has(n)) return depth.get(n);
    if (stack.has(n) || !by.has(n)) return 0;
    stack.add(n);
    const d = Math.max(-1, ...by.get(n).depends_on.map((m) => visit(m, stack))) + 1;
    stack.delete(n);
    depth.set(n, d);
    return d;
  };
  all.forEach((s) => visit(s.name, new Set()));
  const max = Math.max(...depth.values());
  const cols = Array.from({ length: max + 1 }, () => []);
  all.forEach((s) => cols[max - depth.get(s.name)].push(s));
  return graph('Dependency map of every service', cols, all.flatMap((s) => s.depends_on.filter((d) => by.has(d)).map((d) => [s.name, d])));
}

async function detail(view, name) {
  const enc = encodeURIComponent(name);
  const [sr, ir, map] = await Promise.all([api('GET', '/services/' + enc), api('GET', `/services/${enc}/impact`), serviceMap(true)]);
  view.append(back('services', 'All services'));
  if (!sr.ok) return view.append(h('h1', { text: 'Service not found' }));
  const s = sr.data, all = map.items || [], imp = ir.ok ? ir.data : { impact_set: [] };
  view.append(head(`Service: ${s.name}`, danger('Delete service', `Delete ${s.name}?`, 'It leaves the map for good. Cabinet refuses while changes, freezes or other services name it.',
    'DELETE', '/services/' + enc, `Service ${s.name} deleted`, '/admin/services')));
  view.append(facts([['Title', s.title], ['Tier', tierBadge(s.tier)], ['Owner', s.owner || '—'], s.description && ['Description', s.description],
    ['Blast radius', `${imp.blast_radius} service${imp.blast_radius === 1 ? '' : 's'} (highest tier ${imp.max_tier})`]]));

  // what depends on it (by distance) to the left, what it depends on to the right
  const by = new Map(all.map((x) => [x.name, x]).concat([[s.name, s]]));
  const down = imp.impact_set.filter((x) => x.depth > 0);
  const shown = down.length > 40 ? down.filter((x) => x.depth === 1) : down;
  const D = Math.max(0, ...shown.map((x) => x.depth));
  const cols = Array.from({ length: D + 2 }, () => []);
  shown.forEach((x) => cols[D - x.depth].push(x));
  cols[D].push(s);
  s.depends_on.forEach((d) => cols[D + 1].push(by.get(d) || { name: d, tier: '?' }));
  const inGraph = new Set(cols.flat().map((x) => x.name));
  const edges = [...shown, s].flatMap((x) => ((by.get(x.name) || {}).depends_on || []).filter((d) => inGraph.has(d)).map((d) => [x.name, d]));
  view.append(h('h2', { text: 'Dependencies' }), inGraph.size > 1 ? graph(`Dependency graph of ${s.name}`, cols.filter((c) => c.length), edges, s.name)
    : h('p', { class: 'empty', text: 'Nothing depends on it and it depends on nothing.' }));
  if (shown.length < down.length) view.append(h('p', { class: 'callout', text: `${down.length} services depend on it: the graph shows the ${shown.length} that do directly, the table all.` }));

  const t = table('Impact set', ['Service', 'Tier', 'Distance']);
  t.body.append(...imp.impact_set.map((x) => tr(link(href(x.name), x.name), td(tierBadge(x.tier)), td(x.depth ? `${x.depth} step${x.depth > 1 ? 's' : ''} away` : 'this service'))));
  view.append(h('h2', { text: 'Impact set' }), h('p', { class: 'muted', text: 'A change to it touches these: the service and everything that depends on it.' }), t.wrap);
  const f = fields(spec(all.map((x) => x.name).filter((n) => n !== s.name)), s);
  view.append(form('Edit service', f.nodes, 'Save changes', () => api('PATCH', '/services/' + enc, { body: f.body() }),
    () => { forgetServices(); notify('Saved'); navigate('/admin/services/' + enc, true); }));
}

// Columns of nodes, left to right; an edge [a, b] means a depends on b.
const NW = 176, NH = 44, GX = 72, GY = 16, P = 12;
function graph(label, cols, edges, here) {
  const pos = new Map();
  const W = P * 2 + cols.length * (NW + GX) - GX;
  const H = P * 2 + Math.max(...cols.map((c) => c.length)) * (NH + GY) - GY;
  cols.forEach((c, i) => c.forEach((n, j) => pos.set(n.name, { x: P + i * (NW + GX), y: (H - c.length * (NH + GY) + GY) / 2 + j * (NH + GY), i })));
  const paths = edges.map(([a, b]) => {
    const p = pos.get(a), q = pos.get(b);
    const fwd = q.i > p.i, same = q.i === p.i;
    const x1 = fwd || same ? p.x + NW : p.x, x2 = fwd ? q.x : q.x + NW, y1 = p.y + NH / 2, y2 = q.y + NH / 2;
    const k = same ? 36 : (x2 - x1) / 2;
    return svg('path', { d: `M${x1} ${y1}C${x1 + k} ${y1} ${x2 - (same ? -36 : k)} ${y2} ${x2} ${y2}`, class: here && (a === here || b === here) ? 'edge hot' : 'edge', 'marker-end': 'url(#arrow)' });
  });
  const cut = (t, n) => (t.length > n ? t.slice(0, n - 1) + '…' : t);
  const nodes = cols.flat().map((n) => {
    const { x, y } = pos.get(n.name);
    const what = `${n.name}, tier ${n.tier}${n.title ? ', ' + n.title : ''}${n.name === here ? ' (this service)' : ''}`;
    return svg('a', { href: href(n.name), 'aria-label': what, class: n.name === here ? 'node here' : 'node', 'data-tier': n.tier }, svg('title', null, what),
      svg('rect', { x, y, width: NW, height: NH, rx: 7 }), svg('rect', { x, y, width: 6, height: NH, rx: 3, class: 'stripe' }),
      svg('text', { x: x + 14, y: y + 19, class: 'name' }, cut(n.name, 21)), svg('text', { x: x + 14, y: y + 35, class: 'sub' }, cut(`Tier ${n.tier}${n.title ? ' · ' + n.title : ''}`, 27)));
  });
  return h('figure', { class: 'graph-box card' }, h('div', { class: 'graph-scroll' },
    svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'group', 'aria-label': label, class: 'graph' },
      svg('defs', null, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' }, svg('path', { d: 'M0 0L10 5L0 10z' }))), paths, nodes)),
  h('figcaption', { class: 'legend' }, 'An arrow points from a service to one it depends on.',
    [1, 2, 3, 4].map((t) => h('span', { class: 'key', data: { tier: t } }, h('span', { class: 'swatch' }), `Tier ${t}`))));
}
