// Help: a short guide and FAQ, shown before login too (it needs only /config).
import { api, h, session, stateBadge } from '../core.js';

const p = (...k) => h('p', null, ...k);
const c = (t) => h('code', { text: t });
const li = (...k) => h('li', null, ...k);
const faq = (q, ...a) => h('details', null, h('summary', { text: q }), ...a);

function table(caption, head, rows) {
  return h('div', { class: 'table-wrap' }, h('table', null, h('caption', { class: 'visually-hidden', text: caption }),
    h('thead', null, h('tr', null, head.map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((v) => h('td', { text: v })))))));
}

function section(id, title, ...body) {
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id, text: title }), ...body);
}

function contact(text) {
  if (/^\S+@\S+\.\S+$/.test(text)) return h('a', { href: `mailto:${text}`, text });
  if (/^https?:\/\/\S+$/.test(text)) return h('a', { href: text, text, rel: 'noopener' });
  return h('strong', { text });
}

export async function render(view) {
  let cfg = session.config;
  if (!cfg) { const r = await api('GET', '/config'); cfg = r.data || {}; }
  const product = cfg.product || 'Cabinet';
  const support = cfg.support_contact;
  const statement = ['cabinet-approval-v1', 'CHG-1042', '3', '<content_hash: 64 lowercase hex>', 'approve', '2026-11-22T10:00:00Z'].join('\n');
  view.append(h('div', { class: 'help' },
    h('h1', { text: `How ${product} works` }),
    support
      ? h('p', { class: 'callout support' }, 'Need help? Contact ', contact(support), '.')
      : null,
    p(`${product} is where changes to live services are raised, assessed for risk, approved with signatures nobody can forge, scheduled and reviewed.`),

    section('h-raise', 'Raising a change',
      h('ol', { class: 'flow', 'aria-label': 'Life of a change' },
        ['draft', 'awaiting_approval', 'approved', 'in_progress', 'review', 'closed'].map((s) => li(stateBadge(s)))),
      h('ol', null,
        li(h('strong', { text: 'Draft. ' }), 'Choose New change, fill in the title, the services it touches, its window and the plans (implementation, backout, test), and create the draft. You can edit it freely.'),
        li(h('strong', { text: 'Submit for approval. ' }), 'Cabinet assesses its risk and asks the right approvers. A standard change assessed low risk is approved at once.'),
        li(h('strong', { text: 'Approvals. ' }), 'Approvers sign their decision. One signed rejection rejects the change. Editing it later voids earlier approvals and sends it back for approval.'),
        li(h('strong', { text: 'Start ' }), 'when approved, then ', h('strong', { text: 'Complete' }), ' with the outcome: successful, failed or rolled back.'),
        li(h('strong', { text: 'Review and close. ' }), 'A post-implementation review (PIR) is needed when the change was an emergency, failed, was rolled back, was assessed high or critical, or was made without authorisation; write the review and close it. Otherwise it closes on completion.')),
      p('A draft, or a change awaiting approval or approved, can be cancelled with a reason.')),

    section('h-models', 'Which model to use',
      h('dl', { class: 'facts' },
        h('dt', null, h('strong', { text: 'Standard' })), h('dd', { text: 'Routine, pre-approved work. Approved at submit when assessed low risk; otherwise handled like a normal change.' }),
        h('dt', null, h('strong', { text: 'Normal' })), h('dd', { text: 'Anything else planned: assessed and approved by the CAB before it starts. Submit at least 48 hours before the window to avoid lead-time points.' }),
        h('dt', null, h('strong', { text: 'Emergency' })), h('dd', { text: 'Must ship now to fix or prevent an incident: one ECAB approval, always reviewed afterwards.' }))),

    section('h-risk', 'What the risk score means',
      p('Each factor that applies adds points and a reason you can read on the change. The impact set is the services touched plus every service that depends on them.'),
      table('Risk factors', ['Factor', 'Points'], [
        ['Most critical tier in the impact set: 1 / 2 / 3 / 4', '40 / 25 / 10 / 0'],
        ['Blast radius: per service in the impact set', '2 each, at most 20'],
        ['Declared business impact: low / medium / high', '0 / 10 / 20'],
        ['No test plan', '10'], ['No backout plan', '15'],
        ['Normal change whose window starts less than 48 h after submit', '10'],
        ['Each other active change that conflicts with it', '10, at most 20'],
        ['Window overlaps a freeze covering its impact set', '30'],
        ['20 % or more of the last 20 finished changes on these services failed or were rolled back', '10'],
      ]),
      h('h3', { text: 'Levels and approvals needed' }),
      table('Risk levels', ['Level', 'Score', 'Approvals (normal change)'], [
        ['low', 'under 25', '1 CAB member'], ['medium', '25–49', '2 CAB members'], ['high', '50–74', '3 CAB members'],
        ['critical', '75 and over', '3 CAB members and 1 manager (four people)'],
      ]),
      p('Approvers are distinct people with the CAB role and never the change\'s owner. An emergency needs one ECAB approval. A model may set its own policy.')),

    section('h-sign', 'How signing works',
      p('Before your first decision, open My keys and generate a signing key. Your browser makes an Ed25519 key that cannot be exported: the private half never leaves this browser; Cabinet stores only the public half. Each decision signs this statement:'),
      h('pre', { text: statement }),
      p('That is the change, the version you read, the SHA-256 hash of its content, your decision and the time (within 5 minutes of the server\'s clock). Every approval is shown with its statement, signature and public key, so anyone can check it again, offline too; keys stay listed after revocation. Browsers give signing only to secure pages: use Cabinet over HTTPS (http://localhost and http://127.0.0.1 are the only plain-HTTP exceptions).')),

    section('h-emergency', 'In an emergency',
      h('ol', null,
        li('Raise the change with the ', h('strong', { text: 'emergency' }), ' model and submit it.'),
        li('One ECAB member approves it; it can start as soon as it is approved.'),
        li('If it cannot wait, a manager can start it before approval, giving a reason. It is flagged ', h('strong', { text: 'unauthorized' }), ' until its ECAB approval arrives.'),
        li('Every emergency ends in review: write the post-implementation review, then close it.'))),

    section('h-faq', 'Questions',
      h('div', { class: 'faq' },
        faq('How does a pipeline wait for approval?',
          p('Each change has a gate URL (on the change page). ', c('curl -f "$GATE_URL"'), ' succeeds only while the change is approved or in progress, its window is open and no hard freeze covers it; otherwise it fails with a reason such as awaiting_approval, window_not_open or frozen.'),
          p('Add ', c('?wait=600'), ' (up to 900 seconds) to wait for the answer to turn positive instead of failing at once: ', c('curl -f --retry 5 "$GATE_URL?wait=600"'), '. Deployments reported to Cabinet without approval are flagged unauthorized.')),
        faq('Can I see the schedule in my calendar?',
          p('Yes. On the Schedule page choose "Create a feed link" (or create a token with the feed scope in My tokens) and subscribe to the link in your calendar app. It lists changes awaiting approval as tentative, approved or in-progress ones as confirmed, cancelled ones as cancelled, and freezes. The link is shown once; revoke the token to stop it.')),
        faq('What is a conflict?',
          p('Two active changes conflict when their windows overlap and their impact sets share a service; a change conflicts with a freeze whose window overlaps it and which covers a service of its impact set. Conflicts add risk points and are shown on both changes and on the Schedule.')),
        faq('What does a freeze do?',
          p('A hard freeze refuses approval of non-emergency changes whose window overlaps it until the window moves or a manager lifts it; a soft freeze adds risk points and a warning.')),
        faq('Why did my approvals disappear?',
          p('Approvals are bound to a version. Editing a change after submitting it voids the approvals given to earlier versions and sends it back for approval.')))),
    support ? null : h('p', { class: 'muted', text: 'Ask your Cabinet administrator if something here does not match what you see.' })));
}
