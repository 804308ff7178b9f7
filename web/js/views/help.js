// Help: a short guide and FAQ, shown before login too (it needs only /config),
// and the HTTP API's operations, read from openapi.json only when asked for.
import { api, h, session } from '../core.js';
import { grid } from '../chart.js';

const b = (t) => h('strong', { text: t });
const c = (t) => h('code', { text: t });
const list = (tag, items) => h(tag, null, items.map((i) => h('li', null, ...[i].flat())));
const section = (title, ...body) => h('section', { class: 'card', 'aria-label': title }, h('h2', { text: title }), ...body);

const METHODS = ['get', 'put', 'post', 'patch', 'delete'];
const refName = (s) => (s && s.$ref ? s.$ref.split('/').pop() : null);

function deref(doc, obj) {
  for (let i = 0; obj && obj.$ref && i < 8; i++) obj = obj.$ref.split('/').slice(1).reduce((o, k) => (o || {})[k], doc);
  return obj || {};
}

// A schema in a few words: its component's name, else its type and enum.
function typeText(s) {
  if (!s) return '';
  if (s.$ref) return refName(s);
  if (s.oneOf) return s.oneOf.map(typeText).join(' | ');
  if (s.enum) return s.enum.map(String).join(' | ');
  const t = [s.type].flat().join(' | ');
  return s.items ? `${t} of ${typeText(s.items)}` : t;
}

const bodyText = (content) => Object.entries(content || {}).map(([type, m]) => `${type} ${typeText(m.schema)}`.trim()).join(', ') || 'no body';

function operation(doc, path, method, op) {
  const params = [...(doc.paths[path].parameters || []), ...(op.parameters || [])].map((p) => deref(doc, p));
  const req = op.requestBody ? deref(doc, op.requestBody) : null;
  return h('details', { class: 'api-op' },
    h('summary', null, h('span', { class: 'api-method', text: method.toUpperCase() }), ' ', c(path), ' ', h('span', { text: op.summary || '' })),
    op.description ? h('p', { text: op.description }) : null,
    params.length ? grid(`Parameters of ${method.toUpperCase()} ${path}`, ['Name', 'In', 'Type', 'Description'],
      params.map((p) => [p.name + (p.required ? ' (required)' : ''), p.in, typeText(p.schema), p.description || ''])) : null,
    req ? h('p', null, b(req.required ? 'Body: ' : 'Body (optional): '), bodyText(req.content)) : null,
    grid(`Responses of ${method.toUpperCase()} ${path}`, ['Status', 'Meaning', 'Body'],
      Object.entries(op.responses).map(([st, r]) => { const d = deref(doc, r); return [st, d.description || '', bodyText(d.content)]; })));
}

function operations(doc) {
  const byTag = new Map((doc.tags || []).map((t) => [t.name, { tag: t, ops: [] }]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) {
      if (!item[m]) continue;
      const name = (item[m].tags || ['other'])[0];
      if (!byTag.has(name)) byTag.set(name, { tag: { name }, ops: [] });
      byTag.get(name).ops.push(operation(doc, path, m, item[m]));
    }
  }
  return [...byTag.values()].filter((g) => g.ops.length).map(({ tag, ops }) =>
    h('section', { class: 'api-tag', 'aria-label': tag.name }, h('h3', { text: tag.name }), tag.description ? h('p', { class: 'muted', text: tag.description }) : null, ...ops));
}

function apiSection() {
  const holder = h('div', { class: 'api-ops', 'aria-live': 'polite' });
  let asked = false;
  const box = h('details', { class: 'api-all' }, h('summary', { text: 'Show every operation' }), holder);
  box.addEventListener('toggle', async () => {
    if (!box.open || asked) return;
    asked = true;
    holder.append(h('p', { class: 'muted', text: 'Loading…' }));
    const r = await api('GET', '/openapi.json');
    holder.replaceChildren(...(r.ok && r.data && r.data.paths ? operations(r.data)
      : [h('p', { text: 'The description could not be loaded; try the link above.' })]));
    if (!(r.ok && r.data)) asked = false;
  });
  return section('API',
    h('p', null, 'Everything this site does goes through its HTTP API, for scripts and pipelines too, with an API token from ', b('My tokens'),
      '. The contract is an OpenAPI 3.1 document: ', h('a', { href: '/api/v1/openapi.json', text: 'openapi.json' }), '.'),
    box);
}

export async function render(view) {
  const cfg = session.config || (await api('GET', '/config')).data || {};
  const who = cfg.support_contact;
  view.append(h('div', { class: 'help' }, h('h1', { text: `How ${cfg.product || 'Cabinet'} works` }),
    who ? h('p', { class: 'callout' }, 'Need help? Contact ', b(who), '.') : null,
    section('Raising a change',
      list('ol', [[b('Draft: '), 'New change, with the services, the window and the implementation, backout and test plans.'],
        [b('Submit for approval: '), 'the risk is assessed and the right approvers asked. An edit later voids earlier approvals.'],
        [b('Approvals: '), 'each approver signs a decision; one signed rejection rejects.'],
        [b('Start'), ' once approved, then ', b('Complete'), ' it: successful, failed or rolled back.'],
        [b('Review and close: '), 'a post-implementation review (PIR) follows an emergency, a failure, a rollback, high or critical risk or an unauthorized start; other changes close at once.']])),
    section('Which model to use', list('ul', [[b('Standard: '), 'routine, pre-approved work; approved at submit when assessed low risk, else handled as normal.'],
      [b('Normal: '), 'planned work, approved by the CAB first; submit 48 h or more before the window.'],
      [b('Emergency: '), 'must ship now to fix or prevent an incident; one ECAB approval, always reviewed.']])),
    section('What the risk score means',
      h('p', { text: 'Each factor that applies adds points and a reason. The impact set: the services touched and all that depend on them.' }),
      grid('Risk factors', ['Factor', 'Points'], [
        ['Most critical tier in the impact set: 1 / 2 / 3 / 4', '40 / 25 / 10 / 0'], ['Each service in the impact set', '2, at most 20'],
        ['Business impact: low / medium / high', '0 / 10 / 20'], ['No test plan', '10'], ['No backout plan', '15'],
        ['Normal change whose window starts within 48 h of submit', '10'], ['Each active change it conflicts with', '10, at most 20'],
        ['Window overlaps a freeze covering its impact set', '30'], ['20 % or more of the last 20 finished changes on these services failed or rolled back', '10']]),
      grid('Levels', ['Level', 'Score', 'Approvals (normal change)'], [['low', '< 25', '1 CAB member'], ['medium', '25–49', '2 CAB members'],
        ['high', '50–74', '3 CAB members'], ['critical', '75+', '3 CAB members and 1 manager']]),
      h('p', { text: 'Approvers are distinct people, never the owner. An emergency needs one ECAB member. A model may set its own policy.' })),
    section('How signing works',
      h('p', null, 'Generate a key in ', b('My keys'), ' first: your browser makes an Ed25519 key whose private half cannot be exported and never leaves it. A decision signs these lines:'),
      h('pre', { text: 'cabinet-approval-v1\n<ref, e.g. CHG-1042>\n<version you read>\n<content_hash: SHA-256 of the content, 64 hex>\n<approve | reject>\n<signed_at, e.g. 2026-11-22T10:00:00Z, within 5 min>' }),
      h('p', { text: 'Each approval shows its statement, signature and public key: anyone can verify it, offline too. Browsers sign only on secure pages: use HTTPS (plain http only on localhost or 127.0.0.1).' })),
    section('In an emergency', list('ol', [['Raise it with the ', b('emergency'), ' model and submit it; once an ECAB member approves, it may start.'],
      ['If it cannot wait, a manager starts it before approval, with a reason: it is flagged ', b('unauthorized'), ' until the ECAB approval comes.'],
      'It always ends in review (PIR).'])),
    section('Questions', h('div', { class: 'faq' },
      h('details', null, h('summary', { text: 'How does a pipeline wait for approval?' }),
        h('p', null, 'Use the change\'s gate URL: ', c('curl -f "$GATE_URL"'), ' succeeds only while it is approved or in progress, in its window and not frozen; else it fails with a reason. ',
          c('?wait=600'), ' (up to 900 s) waits for a yes: ', c('curl -f --retry 5 "$GATE_URL?wait=600"'), '.')),
      h('details', null, h('summary', { text: 'Can I see the schedule in my calendar?' }),
        h('p', { text: '"Create a feed link" on the Schedule page (or a feed token in My tokens) gives an iCalendar link: pending changes tentative, approved ones confirmed, freezes too. It is shown once; revoke the token to stop it.' })),
      h('details', null, h('summary', { text: 'Which e-mails does Cabinet send me?' }),
        h('p', null, 'When the server has e-mail set up: CAB members hear when a change awaits an approval their role counts for, and owners hear of each decision on their change and of each conflict or freeze that touches it. Switch each kind off on your ', b('Notifications'), ' page.')))),
    apiSection()));
}
