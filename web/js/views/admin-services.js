// Admin › Services: the map and dependency graphs.
import { api, h, svg, navigate, notify, field } from '../core.js';
import { head, link, td, tr, facts, table, addPage, edit, paged, danger, serviceMap, tierBadge, note, load } from './admin.js';

const href = (n) => '#/admin/services/' + encodeURIComponent(n);
const spec = () => [['title', 'Title'], ['tier', 'Tier', 'select', { options: [[1, 'Tier 1 · most critical'], [2, 'Tier 2'], [3, 'Tier 3'], [4, 'Tier 4 · least critical']] }],
  ['owner', 'Owner'], ['description', 'Description', 'area'],
  ['depends_on', 'Depends on', 'svc', { hint: 'Service names, separated by commas.' }]];
const links = (ns) => (ns.length ? ns.flatMap((n, i) => [i ? ', ' : '', link(href(n), n)]) : '—');

export function render(view, id) { return id ? detail(view, id) : list(view); }

async function list(view) {
  addPage(view, 'Services', 'service', [['name', 'Name', 'text', { hint: 'Lowercase letters, digits and -.' }], ...spec()], '/services',
    (r) => { notify(`Service ${r.data.name} created`); navigate('/admin/services/' + r.data.name); });
  const q = h('input', { type: 'search', placeholder: 'Name or title', autocomplete: 'off' });
  const t = table(['Name', 'Title?', 'Tier', 'Owner?', 'Depends on']);
  const map = api('GET', `/services?limit=${MAX + 1}`); // the map's own read, drawn below
  view.append(h('form', { class: 'filters', role: 'search', 'aria-label': 'Services', on: { submit: (ev) => ev.preventDefault() } }, field('Filter services', q)));
  const p = await paged(view, t, () => '/services' + (q.value.trim() ? '?q=' + encodeURIComponent(q.value.trim()) : ''),
    (s) => tr(link(href(s.name), s.name), td(s.title, 1), td(tierBadge(s.tier)), td(s.owner || '—', 1), td(links(s.depends_on))), 'No service matches.');
  let timer = null;
  q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(p.reload, 250); });
  const r = await map, all = r.ok ? r.data.items : [];
  view.append(h('h2', { text: 'Service map' }),
    r.ok && r.data.next_cursor ? note(`The map has more than ${MAX} services, too many to draw: each service's page draws its own dependencies.`, 'callout')
      : all.length ? graph('Dependency map of every service', all) : note('No services yet.', 'empty'));
  return () => clearTimeout(timer);
}

async function detail(view, name) {
  const enc = encodeURIComponent(name);
  const s = await load(view, 'services', '/services/' + enc, 'Service');
  if (!s) return;
  const [ir, map] = await Promise.all([api('GET', `/services/${enc}/impact`), serviceMap(true)]);
  const imp = ir.ok ? ir.data : { impact_set: [] }, n = imp.blast_radius;
  view.append(head(`Service: ${s.name}`, danger('Delete service', `Delete ${s.name}?`, 'Cabinet refuses while changes, freezes or services name it.',
    '/services/' + enc, `Service ${s.name} deleted`, '/admin/services')),
  facts([['Title', s.title], ['Tier', tierBadge(s.tier)], ['Owner', s.owner || '—'],
    ['Blast radius', `${n} service${n === 1 ? '' : 's'} (highest tier ${imp.max_tier})`]]));
  const by = new Map(map.items.map((x) => [x.name, x]).concat([[s.name, s]]));
  const set = [...new Set([...imp.impact_set.map((x) => x.name), s.name, ...s.depends_on])].map((x) => by.get(x) || { name: x, tier: '?', depends_on: [] });
  view.append(h('h2', { text: 'Dependencies' }), set.length > MAX ? note(`${set.length} services: too many to draw; the table lists them.`, 'callout')
    : set.length > 1 ? graph(`Dependency graph of ${s.name}`, set, s.name) : note('Nothing depends on it and it depends on nothing.', 'empty'));
  const t = table(['Service', 'Tier', 'Distance']);
  t.body.append(...imp.impact_set.map((x) => tr(link(href(x.name), x.name), td(tierBadge(x.tier)), td(x.depth ? `${x.depth} step${x.depth > 1 ? 's' : ''} away` : 'this service'))));
  view.append(h('h2', { text: 'Impact set: what a change to it touches' }), t.wrap,
    edit('Edit service', spec(), s, '/services/' + enc));
}

// Columns by dependency depth, foundations on the right.
const MAX = 60, NW = 176, NH = 44, GX = 72, GY = 16, P = 12;
function graph(label, nodes, here) {
  const by = new Map(nodes.map((s) => [s.name, s]));
  const deps = (s) => s.depends_on.filter((d) => by.has(d));
  const depth = new Map();
  const visit = (n, stack) => {
    if (depth.has(n) || stack.has(n)) return depth.get(n) || 0;
    stack.add(n);
    const d = Math.max(-1, ...deps(by.get(n)).map((m) => visit(m, stack))) + 1;
    stack.delete(n);
    depth.set(n, d);
    return d;
  };
  nodes.forEach((s) => visit(s.name, new Set()));
  const max = Math.max(...depth.values());
  const cols = Array.from({ length: max + 1 }, () => []);
  nodes.forEach((s) => cols[max - depth.get(s.name)].push(s));
  const pos = new Map();
  const W = P * 2 + cols.length * (NW + GX) - GX, H = P * 2 + Math.max(...cols.map((c) => c.length)) * (NH + GY) - GY;
  cols.forEach((c, i) => c.forEach((s, j) => pos.set(s.name, { x: P + i * (NW + GX), y: (H - c.length * (NH + GY) + GY) / 2 + j * (NH + GY), i })));
  const paths = nodes.flatMap((s) => deps(s).map((d) => {
    const p = pos.get(s.name), q = pos.get(d), fwd = q.i > p.i, same = q.i === p.i;
    const x1 = fwd || same ? p.x + NW : p.x, x2 = fwd ? q.x : q.x + NW, y1 = p.y + NH / 2, y2 = q.y + NH / 2, k = same ? 36 : (x2 - x1) / 2;
    return svg('path', { d: `M${x1} ${y1}C${x1 + k} ${y1} ${x2 - (same ? -36 : k)} ${y2} ${x2} ${y2}`, class: here === s.name || here === d ? 'edge hot' : 'edge', 'marker-end': 'url(#arrow)' });
  }));
  const cut = (t, n) => (t.length > n ? t.slice(0, n - 1) + '…' : t);
  const boxes = nodes.map((s) => {
    const { x, y } = pos.get(s.name), sub = `Tier ${s.tier}${s.title ? ' · ' + s.title : ''}`;
    const what = `${s.name}, tier ${s.tier}${s.title ? ', ' + s.title : ''}${s.name === here ? ' (this service)' : ''}`;
    return svg('a', { href: href(s.name), 'aria-label': what, class: s.name === here ? 'node here' : 'node', 'data-tier': s.tier },
      svg('rect', { x, y, width: NW, height: NH, rx: 7 }), svg('rect', { x, y, width: 6, height: NH, rx: 3, class: 'stripe' }),
      svg('text', { x: x + 14, y: y + 19, class: 'name' }, cut(s.name, 21)), svg('text', { x: x + 14, y: y + 35, class: 'sub' }, cut(sub, 27)));
  });
  return h('figure', { class: 'graph-box card' }, h('div', null, svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'group', 'aria-label': label, class: 'graph' },
    svg('defs', null, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' }, svg('path', { d: 'M0 0L10 5L0 10z' }))), paths, boxes)),
  h('figcaption', { class: 'legend' }, 'An arrow points from a service to one it depends on.', [1, 2, 3, 4].map((t) => h('span', { class: 'tier-key', data: { tier: t } }, h('i'), `Tier ${t}`))));
}
