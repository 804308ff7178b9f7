// The change page: every field, the risk with its reasons and impact set,
// conflicts, signed approvals (re-verified here), timeline and comments,
// and the actions the server says the user may take now. Polls every 5 s.
import {
  api, h, field, formError, showProblem, clearProblems, problemView, changeHref, fmtTime, fmtWindow,
  stateBadge, levelBadge, flagBadges, stateLabel, notify, poll, busy, copy, setTitle,
} from '../core.js';
import { decide, verifyApproval } from '../sign.js';
import { dialogForm, shortWindow } from '../changeparts.js';

const enc = encodeURIComponent;
const LABELS = {
  submit: 'Submit for approval', edit: 'Edit', start: 'Start', complete: 'Complete', close: 'Close',
  cancel: 'Cancel change', approve: 'Approve', reject: 'Reject',
};
const TEXT_FIELDS = [['description', 'Description'], ['implementation_plan', 'Implementation plan'],
  ['backout_plan', 'Backout plan'], ['test_plan', 'Test plan']];

const card = (title, ...body) => h('section', { class: 'card', 'aria-label': title }, h('h2', { text: title }), ...body);
const verified = new Map(); // approval id + signature -> true/false/null

function verifyBadge(a) {
  const badge = h('span', { class: 'badge checking', text: 'checking…' });
  const key = a.id + ':' + a.signature;
  const show = (ok) => {
    if (ok === true) { badge.className = 'badge verified'; badge.textContent = 'verified'; }
    else if (ok === false) { badge.className = 'badge unverified'; badge.textContent = 'not verified'; }
    else { badge.className = 'badge neutral'; badge.textContent = 'cannot check here'; badge.title = 'This browser cannot check Ed25519 signatures (it needs HTTPS and WebCrypto).'; }
  };
  if (verified.has(key)) show(verified.get(key));
  else Promise.resolve().then(() => verifyApproval(a)).catch(() => null)
    .then((ok) => { verified.set(key, ok); show(ok); });
  return badge;
}

function approvalItem(a) {
  const yes = a.decision === 'approve';
  return h('li', { class: ['approval', a.valid ? null : 'void'] },
    h('div', { class: 'row' },
      h('strong', { class: 'approver', text: (a.approver && a.approver.name) || 'Unknown' }),
      h('span', { class: 'badge decision', data: { decision: a.decision }, text: yes ? 'approved' : 'rejected' }),
      verifyBadge(a),
      h('span', { class: 'muted', text: a.valid ? 'counts' : `does not count (version ${a.version})` })),
    a.comment ? h('p', { class: 'said', text: a.comment }) : null,
    h('p', { class: 'muted small' },
      `Signed ${fmtTime(a.signed_at)} · key #${a.key_id} · version ${a.version} · `,
      h('span', { class: 'mono', text: (a.content_hash || '').slice(0, 12), title: a.content_hash })));
}

function conflictItem(x) {
  const what = x.kind === 'freeze' && x.freeze
    ? h('span', null, 'Freeze ', h('strong', { text: x.freeze.name }))
    : h('span', null, h('a', { href: changeHref(x.other.ref), text: x.other.ref }), ' ', x.other.title);
  return h('li', { class: 'conflict' }, what, ' ',
    x.overlap ? h('span', { class: 'badge overlap', data: { overlap: x.overlap }, text: x.overlap }) : null, ' ',
    h('span', { class: 'badge', data: { cstate: x.state }, text: x.state }));
}

// Who an audit actor is, from the people this page already knows.
function actorName(actor, c, people) {
  if (actor === 'system') return 'Cabinet';
  const [kind, id] = String(actor).split(':');
  if (kind === 'user') return people.get(Number(id)) || `user #${id}`;
  return `${kind} #${id}`;
}

function describe(e) {
  const d = e.data || {};
  const act = e.action.replace(/^change\./, '');
  if (act === 'created') return `created it (version ${d.version || 1})`;
  if (act === 'updated') return `edited it${d.version ? ` (now version ${d.version})` : ''}`;
  if (act === 'assessed') return `assessed it: score ${d.score}, ${d.level}, ${d.needed} approval${d.needed === 1 ? '' : 's'} needed`;
  if (act === 'commented') return 'commented';
  if (act === 'decided') return `${d.decision === 'reject' ? 'rejected' : 'approved'} version ${d.version || ''}`.trim();
  if (act.startsWith('conflict_')) return `conflict ${act.slice(9)}${d.other_ref ? ` with ${d.other_ref}` : ''}`;
  if (d.from && d.to) return `${act.replace(/_/g, ' ')}: ${stateLabel(d.from)} → ${stateLabel(d.to)}`;
  return act.replace(/[._]/g, ' ');
}

export async function render(view, { ref }) {
  const first = await api('GET', `/changes/${enc(ref)}`);
  if (first.status === 404) { problemView(view, { status: 404, title: 'No such change', detail: `There is no change ${ref}.` }); return null; }
  if (!first.ok) { problemView(view, first.problem || { title: 'The change could not be loaded' }); return null; }
  const st = { c: first.data, etag: first.etag, impact: null, impactKey: '', comments: [], timeline: [] };
  const path = () => `/changes/${st.c.id}`;
  const people = new Map();

  const top = h('div');
  const main = h('div', { class: 'main-col' });
  const side = h('div', { class: 'side-col' });
  const problems = h('div', { role: 'alert', class: 'action-problem' });
  const commentList = h('ul', { class: 'plain comments', 'aria-label': 'Comments' });
  const commentBox = h('textarea', { rows: 3 });
  const postBtn = h('button', { type: 'submit', text: 'Post comment' });
  const commentForm = h('form', { class: 'comment-form', novalidate: true },
    field('Add a comment', commentBox, { field: 'body' }), formError(), h('div', { class: 'actions' }, postBtn));
  const timelineList = h('ol', { class: 'timeline', 'aria-label': 'Timeline' });
  const comments = card('Discussion', commentList, commentForm);
  const timeline = card('Timeline', timelineList);
  view.append(top, problems, h('div', { class: 'change-cols' }, main, side, h('div', { class: 'talk' }, comments, timeline)));

  const learn = (c) => {
    if (c.requester) people.set(c.requester.id, c.requester.name);
    for (const a of c.approvals || []) if (a.approver) people.set(a.approver.id, a.approver.name);
    for (const m of st.comments) if (m.author) people.set(m.author.id, m.author.name);
  };

  const showFailure = (r) => {
    const p = r.problem || { title: 'That did not work' };
    problems.replaceChildren(h('div', { class: 'callout bad' }, h('strong', { text: p.title || 'That did not work' }),
      p.detail ? ' ' + p.detail : '',
      p.errors && p.errors.length ? h('ul', null, p.errors.map((e) => h('li', { text: `${e.field}: ${e.message}` }))) : null,
      r.status === 412 ? h('p', { text: 'Someone else changed this change meanwhile; the page now shows their version.' }) : null));
    if (r.status === 412) refresh(true);
  };
  const applied = (r, message) => {
    if (r.status === 200 && r.data && r.data.ref) {
      st.c = r.data;
      st.etag = r.etag || st.etag;
      problems.replaceChildren();
      draw();
      loadTimeline();
      notify(message || 'Done');
      return true;
    }
    return false;
  };
  const post = (action, body) => api('POST', `${path()}/${action}`, { body, ifMatch: st.etag });

  const textArea = () => h('textarea', { rows: 4 });
  async function act(action, button) {
    problems.replaceChildren();
    const c = st.c;
    const viaDialog = (opts) => dialogForm({ ...opts, opener: button }).then((r) => {
      if (r) applied(r, opts.done);
      const again = top.querySelector(`[data-action="${action}"]`);
      if (again) again.focus();
    });
    if (action === 'submit') {
      const r = await busy(button, () => post('submit'));
      if (!applied(r, `Submitted: ${stateLabel(r.data && r.data.state)}`)) showFailure(r);
    } else if (action === 'start' && c.state === 'awaiting_approval') {
      await viaDialog({
        title: `Start ${c.ref} before approval`, submitLabel: 'Start now', danger: true, done: 'Started',
        intro: 'It is flagged unauthorized until its ECAB approval arrives. Say why it cannot wait.',
        fields: [{ name: 'reason', label: 'Reason', control: textArea() }],
        submit: (v) => post('start', { retrospective: true, reason: v.reason }),
      });
    } else if (action === 'start') {
      const r = await busy(button, () => post('start'));
      if (!applied(r, 'Started')) showFailure(r);
    } else if (action === 'complete') {
      const outcome = h('select', null, [['successful', 'successful'], ['failed', 'failed'], ['rolled_back', 'rolled back']]
        .map(([v, t]) => h('option', { value: v, text: t })));
      await viaDialog({
        title: `Complete ${c.ref}`, submitLabel: 'Complete change', done: 'Completed',
        fields: [{ name: 'outcome', label: 'Outcome', control: outcome }, { name: 'notes', label: 'Notes', control: textArea() }],
        submit: (v) => post('complete', v.notes ? v : { outcome: v.outcome }),
      });
    } else if (action === 'close') {
      await viaDialog({
        title: `Close ${c.ref}`, submitLabel: 'Close change', done: 'Closed',
        intro: 'The post-implementation review: what happened, what was learnt.',
        fields: [{ name: 'review', label: 'Review', control: textArea() }],
        submit: (v) => post('close', v),
      });
    } else if (action === 'cancel') {
      await viaDialog({
        title: `Cancel ${c.ref}`, submitLabel: 'Cancel change', danger: true, done: 'Cancelled',
        fields: [{ name: 'reason', label: 'Reason', control: textArea() }],
        submit: (v) => post('cancel', v.reason ? v : {}),
      });
    } else if (action === 'approve' || action === 'reject') {
      const r = await decide(c, action);
      if (r && !r.ok && r.problem) showFailure(r);
      if (r) { await refresh(true); window.dispatchEvent(new Event('cabinet:queue')); }
      const again = top.querySelector(`[data-action="${action}"]`);
      (again || top.querySelector('h1')).focus();
    }
  }

  function actionBar(c) {
    const bar = h('div', { class: 'actions change-actions' });
    for (const a of c.actions || []) {
      if (!LABELS[a]) continue;
      if (a === 'edit') { bar.append(h('a', { class: 'btn secondary', href: `#/changes/${enc(c.ref)}/edit`, data: { action: a }, text: LABELS[a] })); continue; }
      const cls = a === 'cancel' || a === 'reject' ? 'secondary danger-outline' : (a === 'approve' || a === 'submit' || a === 'start' ? null : 'secondary');
      const b = h('button', { type: 'button', class: cls, data: { action: a }, text: LABELS[a] });
      b.addEventListener('click', () => act(a, b));
      bar.append(b);
    }
    return bar.children.length ? bar : null;
  }

  function header(c) {
    const ra = c.required_approvals;
    return h('header', { class: 'change-head' },
      h('p', { class: 'crumbs' }, h('a', { href: '#/changes', text: 'Changes' }), ' / ', c.ref),
      h('h1', { tabindex: '-1' }, h('span', { class: 'ref', text: c.ref }), ` · ${c.title}`),
      h('div', { class: 'row badges' }, stateBadge(c.state),
        h('span', { class: 'badge kind', data: { kind: c.kind }, text: c.model === c.kind ? c.kind : `${c.model} (${c.kind})` }),
        levelBadge(c.assessment && c.assessment.level), flagBadges(c.flags),
        c.outcome ? h('span', { class: 'badge outcome', data: { outcome: c.outcome }, text: `outcome: ${stateLabel(c.outcome)}` }) : null,
        ra && c.state === 'awaiting_approval' ? h('span', { class: 'muted', text: `${ra.have} of ${ra.needed} approvals` }) : null),
      h('p', { class: 'when' }, h('strong', { text: shortWindow(c.window) }),
        h('span', { class: 'muted', text: ` · raised by ${c.requester ? c.requester.name : 'unknown'} · version ${c.version}` })),
      actionBar(c));
  }

  function details(c) {
    const blocks = TEXT_FIELDS.map(([k, label]) => h('div', { class: 'text-block' }, h('h3', { text: label }),
      c[k] ? h('p', { class: 'prose', text: c[k] }) : h('p', { class: 'muted', text: k === 'description' ? 'No description.' : 'None given.' })));
    return card('Details', blocks[0],
      h('dl', { class: 'facts' },
        h('dt', { text: 'Services' }), h('dd', null, (c.services || []).length
          ? h('ul', { class: 'tags' }, c.services.map((s) => h('li', { text: s }))) : 'None'),
        h('dt', { text: 'Business impact' }), h('dd', { text: c.business_impact || 'not stated' }),
        h('dt', { text: 'Window' }), h('dd', { text: fmtWindow(c.window) }),
        h('dt', { text: 'Requester' }), h('dd', null, c.requester ? [c.requester.name, h('span', { class: 'muted small email', text: c.requester.email })] : '—'),
        h('dt', { text: 'Model' }), h('dd', { text: c.model === c.kind ? c.model : `${c.model} (${c.kind})` }),
        h('dt', { text: 'Source' }), h('dd', { text: c.source + (c.external_ref ? ` · ${c.external_ref}` : '') }),
        h('dt', { text: 'Created' }), h('dd', { text: fmtTime(c.created_at) }),
        h('dt', { text: 'Updated' }), h('dd', { text: fmtTime(c.updated_at) })),
      blocks.slice(1));
  }

  function risk(c) {
    const a = c.assessment;
    if (!a) return card('Risk', h('p', { class: 'muted', text: 'Not assessed yet: submitting the change assesses it.' }), impactBlock(c, null));
    return card('Risk',
      h('div', { class: 'score row' }, h('span', { class: 'big', text: String(a.score) }), h('span', { class: 'muted', text: 'points' }), levelBadge(a.level)),
      a.reasons && a.reasons.length
        ? h('ul', { class: 'plain reasons', 'aria-label': 'Reasons' }, a.reasons.map((x) => h('li', null,
          h('span', { class: 'pts', text: `+${x.points}` }), ' ', x.detail)))
        : h('p', { class: 'muted', text: 'No risk factor applies.' }),
      h('p', { class: 'muted small', text: `Assessed on version ${a.version}.` }),
      impactBlock(c, a));
  }

  function impactBlock(c, a) {
    const names = a ? a.impact_set || [] : (st.impact || []).map((s) => s.name);
    const tier = new Map((st.impact || []).map((s) => [s.name, s]));
    const rows = names.map((n) => ({ name: n, tier: tier.has(n) ? tier.get(n).tier : null, touched: (c.services || []).includes(n) }))
      .sort((x, y) => (x.tier || 9) - (y.tier || 9) || x.name.localeCompare(y.name));
    return h('div', { class: 'impact' }, h('h3', { text: `Impact set (${rows.length})` }),
      rows.length ? h('ul', { class: 'tags impact-set' }, rows.map((s) => h('li', { data: { tier: s.tier || '' } },
        h('span', { text: s.name }), s.tier ? h('span', { class: 'tier', text: `tier ${s.tier}` }) : null,
        s.touched ? h('span', { class: 'visually-hidden', text: ' (touched)' }) : null)))
        : h('p', { class: 'muted', text: 'No services.' }));
  }

  function required(c) {
    const ra = c.required_approvals;
    if (!ra) return null;
    const quotas = ra.policy && ra.policy.quotas ? ra.policy.quotas.map((q) => `${q.count} ${q.role}`).join(' + ') : '';
    return card('Required approvals',
      h('p', { class: 'row' }, h('strong', { class: 'big', text: `${ra.have} / ${ra.needed}` }),
        h('span', { class: ['badge', ra.satisfied ? 'ok' : null], text: ra.satisfied ? 'satisfied' : 'not yet satisfied' })),
      h('progress', { max: String(Math.max(ra.needed, 1)), value: String(Math.min(ra.have, ra.needed)), 'aria-label': `${ra.have} of ${ra.needed} approvals` }),
      quotas ? h('p', { class: 'muted small', text: `Policy: ${quotas} (distinct people, never the requester).` }) : null);
  }

  function conflicts(c) {
    const s = c.conflict_summary || { total: 0 };
    const items = c.conflicts || [];
    return card('Conflicts',
      s.total ? h('p', { class: 'muted small', text: `${s.total} in all: ${s.open} open, ${s.acknowledged} acknowledged, ${s.direct} direct` }) : null,
      items.length ? h('ul', { class: 'plain conflicts' }, items.map(conflictItem)) : h('p', { class: 'muted', text: 'No conflicts.' }),
      h('p', null, h('a', { href: `#/conflicts?change=${enc(c.ref)}`, text: 'All conflicts of this change' })));
  }

  function approvals(c) {
    const list = c.approvals || [];
    return card('Approvals', list.length ? h('ul', { class: 'plain approvals' }, list.map(approvalItem))
      : h('p', { class: 'muted', text: c.state === 'draft' ? 'Approvals are collected once it is submitted.' : 'No decisions yet.' }));
  }

  function gate(c) {
    const evidence = h('button', { type: 'button', class: 'secondary', text: 'Download evidence' });
    evidence.addEventListener('click', () => busy(evidence, async () => {
      const r = await api('GET', `${path()}/evidence`);
      if (!r.ok) { showFailure(r); return; }
      const url = URL.createObjectURL(new Blob([JSON.stringify(r.data, null, 2)], { type: 'application/json' }));
      const a = h('a', { href: url, download: `${c.ref}-evidence.json`, class: 'visually-hidden', text: 'evidence' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    }));
    return card('Deployment gate',
      c.gate_url ? [h('p', { class: 'muted small', text: 'Pipelines ask this URL whether the change may deploy now.' }),
        h('div', { class: 'gate row' }, h('code', { class: 'gate-url', text: c.gate_url }),
          h('button', { type: 'button', class: 'secondary', text: 'Copy gate URL', on: { click: () => copy(c.gate_url) } }))]
        : h('p', { class: 'muted', text: 'No gate URL.' }),
      h('div', { class: 'actions' }, evidence));
  }

  function draw() {
    const c = st.c;
    learn(c);
    const y = window.scrollY;
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.action : null;
    top.replaceChildren(header(c));
    main.replaceChildren(details(c), risk(c), approvals(c));
    side.replaceChildren(...[required(c), conflicts(c), gate(c)].filter(Boolean));
    setTitle(`${c.ref} · ${c.title}`);
    window.scrollTo(0, y);
    if (focused) { const again = top.querySelector(`[data-action="${focused}"]`); if (again) again.focus({ preventScroll: true }); }
    const key = (c.services || []).slice().sort().join(',');
    if (key !== st.impactKey) loadImpact(key);
  }

  async function loadImpact(key) {
    st.impactKey = key;
    const names = key ? key.split(',').slice(0, 10) : [];
    const found = await Promise.all(names.map((n) => api('GET', `/services/${enc(n)}/impact`)));
    if (st.impactKey !== key) return;
    const best = new Map();
    for (const r of found) if (r.ok) for (const s of r.data.impact_set) if (!best.has(s.name) || best.get(s.name).depth > s.depth) best.set(s.name, s);
    st.impact = [...best.values()];
    main.replaceChild(risk(st.c), main.children[1]);
  }

  function drawComments() {
    commentList.replaceChildren(...st.comments.map((m) => h('li', { class: 'comment' },
      h('p', { class: 'row' }, h('strong', { text: m.author ? m.author.name : 'Unknown' }), h('span', { class: 'muted small', text: fmtTime(m.created_at) })),
      h('p', { class: 'prose', text: m.body }))));
    if (!st.comments.length) commentList.append(h('li', { class: 'muted', text: 'No comments yet.' }));
  }

  async function loadComments() {
    const r = await api('GET', `${path()}/comments`);
    if (!r.ok) return false;
    const before = st.comments.map((m) => m.id).join();
    st.comments = r.data.items;
    learn(st.c);
    if (before === st.comments.map((m) => m.id).join() && commentList.children.length) return false;
    drawComments();
    return true;
  }

  async function loadTimeline() {
    const r = await api('GET', `${path()}/timeline`);
    if (!r.ok) return;
    st.timeline = r.data.items;
    timelineList.replaceChildren(...st.timeline.map((e) => h('li', null,
      h('time', { datetime: e.at, text: fmtTime(e.at) }), ' ',
      h('strong', { text: actorName(e.actor, st.c, people) }), ' ', describe(e))));
    if (!st.timeline.length) timelineList.append(h('li', { class: 'muted', text: 'Nothing yet.' }));
  }

  commentForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(postBtn, async () => {
      clearProblems(commentForm);
      const r = await api('POST', `${path()}/comments`, { body: { body: commentBox.value } });
      if (r.status !== 201 && r.status !== 200) { showProblem(commentForm, r.problem); return; }
      commentBox.value = '';
      await loadComments();
      loadTimeline();
      notify('Comment posted');
    });
  });

  async function refresh(force) {
    const r = await api('GET', `/changes/${st.c.id}`, { etag: force ? null : st.etag });
    let changed = false;
    if (r.status === 200 && r.data && (force || r.etag !== st.etag)) {
      changed = r.etag !== st.etag;
      st.c = r.data;
      st.etag = r.etag;
      draw();
      loadTimeline();
    }
    const more = await loadComments();
    if ((changed || more) && !force) notify('Updated');
  }

  draw();
  await Promise.all([loadComments(), loadTimeline()]);
  return poll(() => refresh(false), 5000);
}
