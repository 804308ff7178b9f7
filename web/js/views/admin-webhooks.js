// Admin › Webhooks: event subscriptions, deliveries.
import { api, h, navigate, busy, notify, fmtTime } from '../core.js';
import { head, td, tr, table, addPage, paged, danger, failed, secretPanel, badge, note, load, btn } from './admin.js';

const EVENTS = ['*', 'change.created', 'change.submitted', 'change.state_changed', 'change.approved', 'change.rejected',
  'change.conflict_detected', 'change.conflict_resolved', 'freeze.created'];
let revealed = null; // the secret of the subscription just made

export function render(view, id) { return id ? detail(view, id) : list(view); }

async function list(view) {
  addPage(view, 'Webhooks', 'webhook', [['url', 'URL', 'url', { hint: 'An http:// or https:// address.' }],
    ['events', 'Events', 'checks', { options: EVENTS.map((e) => [e, e === '*' ? 'All events (*)' : e]) }],
    ['format', 'Format', 'select', { options: [['standard', 'Standard Webhooks (signed JSON)'], ['chat', 'Chat message (Slack, Mattermost, Teams)']] }]], '/webhooks',
  (r) => { revealed = r.data; navigate('/admin/webhooks/' + r.data.id); });
  const r = await api('GET', '/webhooks'), t = table(['URL', 'Events?', 'Format']);
  t.body.append(...(r.ok ? r.data.items : []).map((w) => tr(h('a', { href: '#/admin/webhooks/' + w.id, class: 'url', text: w.url }),
    td(w.events.join(', '), 1), td(w.format))));
  view.append(t.wrap, t.body.children.length ? '' : note('No webhooks yet.', 'empty'));
}

async function detail(view, id) {
  const all = await load(view, 'webhooks', '/webhooks', 'Webhook');
  const w = all && all.items.find((x) => String(x.id) === id);
  if (!w) return all && view.append(h('h1', { text: 'Webhook not found' }));
  const path = '/webhooks/' + w.id;
  const refresh = btn('Refresh', 'secondary', () => busy(refresh, p.reload));
  view.append(head(`Webhook ${w.id}`, refresh, danger('Delete webhook', 'Delete this webhook?', `${w.url} gets no more events.`, path, 'Webhook deleted', '/admin/webhooks')),
    note(`${w.url} · ${w.format} · ${w.events}`, 'url muted'));
  if (revealed && revealed.id === w.id) view.append(secretPanel('Signing secret', [['Secret', revealed.secret]], note('Receivers check the webhook-signature header with it.', '')));
  revealed = null;
  view.append(h('h2', { text: 'Deliveries' }));
  const p = await paged(view, table(['Event', 'Attempts?', 'Next attempt?', 'Last error', 'Response?', 'Action']), path + '/deliveries', (d) => {
    const retry = btn('Retry', 'secondary', () => busy(retry, async () => {
      const x = await api('POST', `${path}/deliveries/${d.id}/retry`);
      if (!x.ok) return failed(x);
      notify('Delivery due again');
      await p.reload();
    }));
    return tr([d.type.replace('.', '.\u200b'), h('br'), badge('delivery', 'state', d.state, d.state), ' ', h('small', { class: 'muted', text: fmtTime(d.created_at) })], td(d.attempts, 1),
      td(d.state === 'pending' ? fmtTime(d.next_attempt_at) : d.delivered_at ? 'delivered ' + fmtTime(d.delivered_at) : '—', 1),
      td(d.last_error || '—'), td(d.last_status || '—', 1), td(retry));
  }, 'Nothing sent yet.');
}
