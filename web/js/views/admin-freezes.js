// Admin › Freezes: windows in which changes wait. Managers write; admins read.
import { api, h, navigate, notify, fmtWindow, hasRole } from '../core.js';
import { head, back, link, td, tr, facts, table, fields, form, addHead, paged, danger, serviceNames } from './admin.js';

const kind = (hard) => h('span', { class: 'badge freeze', data: { hard: hard ? 'yes' : 'no' }, text: hard ? 'hard' : 'soft' });
const scope = (f) => (f.services.length ? f.services.join(', ') : 'all services');
const spec = (all) => [['name', 'Name'], ['window.start', 'Window start', 'dt'], ['window.end', 'Window end', 'dt'],
  ['services', 'Services', 'svc', { all, hint: 'Names separated by commas; empty freezes every service.' }],
  ['hard', '', 'check', { def: true, text: 'Hard freeze: approval of non-emergency changes is refused', hint: 'A soft freeze only adds risk points and a warning.' }],
  ['reason', 'Reason', 'area']];

export function render(view, id) { return id ? detail(view, id) : list(view); }

async function list(view) {
  if (hasRole('manager')) {
    const f = fields(spec(await serviceNames()));
    addHead(view, 'Freezes', 'Add freeze', form('Add freeze', f.nodes, 'Create freeze', () => api('POST', '/freezes', { body: f.body() }),
      (r) => { notify(`Freeze “${r.data.name}” created`); navigate('/admin/freezes/' + r.data.id); }), f.first);
  } else view.append(head('Freezes'), h('p', { class: 'callout', text: 'Only managers add, change or lift freezes.' }));
  const t = table('Freezes', ['Name', 'Window', 'Services', 'Kind', 'Reason?']);
  await paged(view, t, '/freezes', (f) => tr(link('#/admin/freezes/' + f.id, f.name), td(fmtWindow(f.window)), td(scope(f)), td(kind(f.hard)), td(f.reason || '—', 1)), 'No freezes.');
}

async function detail(view, id) {
  const r = await api('GET', '/freezes/' + encodeURIComponent(id));
  view.append(back('freezes', 'All freezes'));
  if (!r.ok) return view.append(h('h1', { text: 'Freeze not found' }));
  const f = r.data, path = '/freezes/' + f.id, may = hasRole('manager');
  view.append(head(`Freeze: ${f.name}`, may ? danger('Delete freeze', `Delete “${f.name}”?`, 'The freeze is lifted at once.', 'DELETE', path, 'Freeze deleted', '/admin/freezes') : ''),
    facts([['Window', fmtWindow(f.window)], ['Services', scope(f)], ['Kind', kind(f.hard)], ['Reason', f.reason || '—'], ['Created by', f.created_by ? f.created_by.name : '—']]));
  if (!may) return;
  const ff = fields(spec(await serviceNames()), f);
  view.append(form('Edit freeze', ff.nodes, 'Save changes', () => api('PATCH', path, { body: ff.body() }), () => { notify('Saved'); navigate('/admin' + path, true); }));
}
