// Admin › Freezes (managers write, admins read).
import { navigate, notify, fmtWindow, hasRole } from '../core.js';
import { head, link, td, tr, facts, table, addPage, edit, paged, danger, badge, note, load } from './admin.js';

const kind = (hard) => badge('freeze', 'hard', hard ? 'yes' : 'no', hard ? 'hard' : 'soft');
const scope = (f) => f.services.join(', ') || 'all services';
const spec = () => [['name', 'Name'], ['window.start', 'Window start', 'dt'], ['window.end', 'Window end', 'dt'],
  ['services', 'Services', 'svc', { hint: 'Names separated by commas; none freezes every service.' }],
  ['hard', 'Kind', 'checks', { bool: 1, def: true, options: [[1, 'Hard freeze: approval of non-emergency changes is refused']], hint: 'A soft freeze only adds risk points and a warning.' }],
  ['reason', 'Reason', 'area']];
const only = () => note('Only managers add, change or lift freezes.', 'callout');

export function render(view, id) { return id ? detail(view, id) : list(view); }

async function list(view) {
  if (hasRole('manager')) addPage(view, 'Freezes', 'freeze', spec(), '/freezes', (r) => { notify(`Freeze “${r.data.name}” created`); navigate('/admin/freezes/' + r.data.id); });
  else view.append(head('Freezes'), only());
  await paged(view, table(['Name', 'Window', 'Services', 'Kind', 'Reason?']), '/freezes',
    (f) => tr(link('#/admin/freezes/' + f.id, f.name), td(fmtWindow(f.window)), td(scope(f)), td(kind(f.hard)), td(f.reason || '—', 1)), 'No freezes.');
}

async function detail(view, id) {
  const f = await load(view, 'freezes', '/freezes/' + encodeURIComponent(id), 'Freeze');
  if (!f) return;
  const path = '/freezes/' + f.id, may = hasRole('manager');
  view.append(head(`Freeze: ${f.name}`, may && danger('Delete freeze', `Delete “${f.name}”?`, 'The freeze is lifted at once.', path, 'Freeze deleted', '/admin/freezes')),
    facts([['Window', fmtWindow(f.window)], ['Services', scope(f)], ['Kind', kind(f.hard)], ['Reason', f.reason || '—'], ['Created by', f.created_by.name]]),
    may ? edit('Edit freeze', spec(), f, path) : only());
}
