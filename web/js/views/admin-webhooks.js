// Admin › Webhooks: subscriptions to Cabinet's events, and their deliveries.
import { api, h, navigate, notify, busy, fmtTime } from '../core.js';
import { head, back, link, td, tr, table, fields, form, addHead, paged, danger, failed, secretPanel } from './admin.js';

const EVENTS = ['*', 'change.created', 'change.submitted', 'change.state_changed', 'change.approved', 'change.rejected',
  'change.conflict_detected', 'change.conflict_resolved', 'freeze.created'];
let revealed = null;

export function render(view, id) { return id ? detail(view, id) : list(view); }

async function list(view) {
  const f = fields([['url', 'URL', 'url', { hint: 'Where Cabinet posts, http:// or https://.' }],
    ['events', 'Events', 'checks', { options: EVENTS.map((e) => [e, e === '*' ? 'All events (*)' : e]) }],
    ['format', 'Format', 'select', { options: [['standard', 'Standard Webhooks (signed JSON)'], ['chat', 'Chat message (Slack, Mattermost, Teams)']] }]]);
  addHead(view, 'Webhooks', 'Add webhook', form('Add webhook', f.nodes, 'Create webhook', () => api('POST', '/webhooks', { body: f.body() }),
    (r) => { revealed = r.data; navigate('/admin/webhooks/' + r.data.id); }), f.first);
  view.append(h('p', { class: 'muted', text: 'Cabinet posts its events to these addresses, retrying with backoff for 24 hours.' }));
  const r = await api('GET', '/webhooks');
  if (!r.ok) return failed(r);
  const t = table('Webhooks', ['URL', 'Events?', 'Format', 'Created?']);
  t.body.append(...r.data.items.map((w) => tr(h('a', { href: '#/admin/webhooks/' + w.id, class: 'url', text: w.url }), td(w.events.join(', '), 1), td(w.format),
    td(`${fmtTime(w.created_at)} by ${w.created_by ? w.created_by.name : '—'}`, 1))));
  view.append(t.wrap, r.data.items.length ? '' : h('p', { class: 'empty', text: 'No webhooks yet.' }));
}

async function detail(view, id) {
  const r = await api('GET', '/webhooks');
  const w = r.ok && r.data.items.find((x) => String(x.id) === id);
  view.append(back('webhooks', 'All webhooks'));
  if (!w) return view.append(h('h1', { text: 'Webhook not found' }));
  const path = '/webhooks/' + w.id;
  const refresh = h('button', { type: 'button', class: 'secondary', text: 'Refresh' });
  view.append(head(`Webhook ${w.id}`, refresh, danger('Delete webhook', 'Delete this webhook?', `${w.url} gets no more events; pending deliveries are dropped.`, 'DELETE', path, 'Webhook deleted', '/admin/webhooks')),
    h('p', { class: 'url muted', text: `${w.url} · ${w.format} · ${w.events.join(', ')}` }));
  if (revealed && revealed.id === w.id) view.append(secretPanel('Signing secret', [['Secret', revealed.secret]],
    h('p', { text: 'The receiver checks each delivery’s webhook-signature header with it, as Standard Webhooks do.' })));
  revealed = null;
  view.append(h('h2', { text: 'Deliveries' }));
  const p = await paged(view, table('Deliveries', ['Event', 'State', 'Attempts', 'Next attempt?', 'Last error', 'Response?', 'Action']), path + '/deliveries', (d) => {
    const retry = h('button', { type: 'button', class: 'secondary', text: 'Retry' });
    retry.addEventListener('click', () => busy(retry, async () => {
      const x = await api('POST', `${path}/deliveries/${d.id}/retry`);
      if (!x.ok) return failed(x);
      notify('Delivery due again');
      await p.reload();
    }));
    return tr([d.type, h('br'), h('span', { class: 'muted', text: fmtTime(d.created_at) })], td(h('span', { class: 'badge delivery', data: { state: d.state }, text: d.state })),
      td(String(d.attempts)), td(d.state === 'pending' ? fmtTime(d.next_attempt_at) : d.delivered_at ? `delivered ${fmtTime(d.delivered_at)}` : '—', 1),
      td(d.last_error || '—'), td(d.last_status ? String(d.last_status) : '—', 1), td(retry));
  }, 'Nothing sent yet.');
  refresh.addEventListener('click', () => busy(refresh, () => p.reload()));
}
