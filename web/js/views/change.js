// The change page: fields, risk, conflicts, signed approvals (re-verified
// here), timeline, comments and the document's actions; polled every 5 s.
import {
  api, h, field, formError, showProblem, clearProblems, problemView, changeHref, fmtTime,
  stateBadge, levelBadge, flagBadges, stateLabel, notify, poll, busy, copy, setTitle, fmtWindow,
} from '../core.js';
import { decide, verifyApproval } from '../sign.js';
import { dialogForm } from '../changeparts.js';

const enc = encodeURIComponent;
const LABELS = { approve: 'Approve', reject: 'Reject', submit: 'Submit for approval', start: 'Start', complete: 'Complete',
  close: 'Close', edit: 'Edit', cancel: 'Cancel change' };
// The actions that ask first: [title, button, fields, notice after].
const ASK = {
  retro: ['Start # before approval', 'Start now', [['reason', 'Reason', 'It stays flagged unauthorized until ECAB approves it.']], 'Started'],
  complete: ['Complete #', 'Complete change', [['outcome', 'Outcome'], ['notes', 'Notes']], 'Completed'],
  close: ['Close #', 'Close change', [['review', 'Review']], 'Closed'],
  cancel: ['Cancel #', 'Cancel change', [['reason', 'Reason']], 'Cancelled'],
};
const PLANS = [['implementation_plan', 'Implementation plan'], ['backout_plan', 'Backout plan'], ['test_plan', 'Test plan']];

const card = (title, ...body) => h('section', { class: 'card' }, h('h2', { text: title }), ...body);
const muted = (text, cls = 'muted') => h('p', { class: cls, text });

// verifyApproval's answer as a badge: true, false, or null (no WebCrypto).
function verifyBadge(a) {
  const b = h('span', { class: 'badge neutral', text: 'checking…' });
  Promise.resolve(a).then(verifyApproval).catch(() => null).then((ok) => {
    [b.className, b.textContent] = ok ? ['badge verified', 'verified'] : ok === false ? ['badge unverified', 'not verified'] : ['badge neutral', 'cannot check here'];
  });
  return b;
}

const approvalItem = (a) => h('li', { class: ['approval', !a.valid && 'void'] },
  h('div', { class: 'row' }, h('strong', { text: a.approver ? a.approver.name : 'Unknown' }),
    h('span', { class: 'badge', data: { decision: a.decision }, text: a.decision === 'approve' ? 'approved' : 'rejected' }),
    verifyBadge(a), h('span', { class: 'muted', text: a.valid ? 'counts' : 'not counted: earlier version' })),
  a.comment ? h('p', { class: 'prose', text: a.comment }) : null,
  muted(`Signed ${fmtTime(a.signed_at)} · key #${a.key_id} · version ${a.version}`, 'small'));

const conflictItem = (x) => h('li', null,
  x.kind === 'freeze' && x.freeze ? ['Freeze ', h('strong', { text: x.freeze.name })]
    : [h('a', { href: changeHref(x.other.ref), text: x.other.ref }), ' ', x.other.title], ' ',
  x.overlap ? h('span', { class: 'badge', data: { overlap: x.overlap }, text: { direct: 'direct overlap', shared: 'shared downstream' }[x.overlap] || x.overlap }) : null, ' ',
  h('span', { class: 'badge', data: { cstate: x.state }, text: x.state }));

function describe(e) {
  const d = e.data || {};
  const act = e.action.replace(/^change\./, '').replace(/_/g, ' ');
  return act + (d.from && d.to ? `: ${stateLabel(d.from)} → ${stateLabel(d.to)}` : d.decision || d.level ? `: ${d.decision || d.level}` : '');
}

export async function render(view, { ref }) {
  const first = await api('GET', `/changes/${enc(ref)}`);
  if (!first.ok) return problemView(view, first.status === 404 ? { status: 404, title: 'No such change', detail: `There is no change ${ref}.` } : first.problem || {});
  const st = { c: first.data, etag: first.etag, impact: [], impactKey: null, ids: null };
  const path = () => `/changes/${st.c.id}`;
  const top = h('div');
  const main = h('div');
  const side = h('div', { class: 'side-col' });
  const problems = h('div', null, formError());
  const commentList = h('ul', { class: 'plain', 'aria-label': 'Comments' });
  const commentBox = h('textarea', { rows: 3 });
  const postBtn = h('button', { type: 'submit', text: 'Post comment' });
  const commentForm = h('form', { novalidate: true }, field('Add a comment', commentBox, { field: 'body' }), formError(), postBtn);
  const timeline = h('ol', { class: 'timeline', 'aria-label': 'Timeline' });
  view.append(top, problems, h('div', { class: 'change-cols' }, main, side,
    h('div', null, card('Discussion', commentList, commentForm), card('Timeline', timeline))));

  const fail = (r) => {
    showProblem(problems, r.problem);
    if (r.status === 412) refresh(true);
  };
  const applied = (r, message) => {
    if (r.status !== 200 || !r.data || !r.data.ref) return false;
    st.c = r.data;
    st.etag = r.etag || st.etag;
    draw();
    loadTimeline();
    notify(message);
    return true;
  };
  const post = (action, body) => api('POST', `${path()}/${action}`, { body, ifMatch: st.etag });
  const refocus = (action) => (top.querySelector(`[data-action="${action}"]`) || top.querySelector('h1')).focus();
  const control = (name) => (name === 'outcome'
    ? h('select', null, ['successful', 'failed', 'rolled_back'].map((v) => h('option', { value: v, text: stateLabel(v) })))
    : h('textarea', { rows: 4 }));

  async function act(action, button) {
    clearProblems(problems);
    const c = st.c;
    if (action === 'approve' || action === 'reject') {
      const r = await decide(c, action);
      if (r && !r.ok) fail(r);
      if (r) { await refresh(true); window.dispatchEvent(new Event('cabinet:queue')); }
      return refocus(action);
    }
    const key = action === 'start' && c.state === 'awaiting_approval' ? 'retro' : action;
    if (!ASK[key]) {
      const r = await busy(button, () => post(action));
      if (!applied(r, `Now ${stateLabel(r.data && r.data.state)}`)) fail(r);
      return null;
    }
    const [title, submitLabel, names, done] = ASK[key];
    const r = await dialogForm({ title: title.replace('#', c.ref), submitLabel, opener: button, danger: key === 'cancel' || key === 'retro',
      fields: names.map(([name, label, hint]) => ({ name, label, hint, control: control(name) })),
      submit: (v) => post(action, { ...(key === 'retro' ? { retrospective: true } : {}), ...Object.fromEntries(Object.entries(v).filter(([, x]) => x)) }) });
    if (r) applied(r, done);
    return refocus(action);
  }

  const actionBar = (c) => h('div', { class: 'actions change-actions' }, Object.keys(LABELS).filter((a) => (c.actions || []).includes(a)).map((a) => (a === 'edit'
    ? h('a', { class: 'btn secondary', href: `#/changes/${enc(c.ref)}/edit`, data: { action: a }, text: LABELS[a] })
    : h('button', { type: 'button', class: { approve: '', submit: '', start: '', cancel: 'secondary danger', reject: 'secondary danger' }[a] ?? 'secondary',
      data: { action: a }, text: LABELS[a], on: { click: (ev) => act(a, ev.currentTarget) } }))));

  const header = (c) => h('header', { class: 'change-head' },
    h('h1', { tabindex: '-1' }, h('span', { class: 'ref', text: c.ref }), ` · ${c.title}`),
    h('div', { class: 'row' }, stateBadge(c.state),
      h('span', { class: 'badge', data: { kind: c.kind }, text: c.model === c.kind ? c.kind : `${c.model} (${c.kind})` }),
      levelBadge(c.assessment && c.assessment.level), flagBadges(c.flags),
      c.outcome ? h('span', { class: 'badge', data: { outcome: c.outcome }, text: `outcome: ${stateLabel(c.outcome)}` }) : null),
    h('p', { class: 'change-meta' }, h('strong', { text: fmtWindow(c.window) }), c.requester ? ` · raised by ${c.requester.name}` : '', ` · version ${c.version}`),
    actionBar(c));

  const text = (c, k, label) => [h('h3', { text: label }), c[k] ? h('p', { class: 'prose', text: c[k] }) : muted('None given.')];
  const fact = (dt, dd) => [h('dt', { text: dt }), h('dd', null, dd)];
  const details = (c) => card('Details', text(c, 'description', 'Description'),
    h('dl', { class: 'facts' },
      fact('Services', c.services && c.services.length ? h('ul', { class: 'tags' }, c.services.map((s) => h('li', { text: s }))) : 'None'),
      fact('Business impact', c.business_impact || 'not stated'),
      fact('Requester', c.requester ? [c.requester.name, h('span', { class: 'small email', text: c.requester.email })] : '—'),
      fact('Source', c.source + (c.external_ref ? ` · ${c.external_ref}` : '')),
    ),
    PLANS.map(([k, label]) => text(c, k, label)));

  function risk(c) {
    const a = c.assessment;
    const tiers = new Map(st.impact.map((s) => [s.name, s.tier]));
    const names = a ? a.impact_set || [] : st.impact.map((s) => s.name);
    const set = names.map((n) => ({ n, t: tiers.get(n) })).sort((x, y) => (x.t || 9) - (y.t || 9) || x.n.localeCompare(y.n));
    return card('Risk',
      a ? [h('p', { class: 'row' }, h('span', { class: 'big', text: String(a.score) }), 'points', levelBadge(a.level)),
        a.reasons && a.reasons.length
          ? h('ul', { class: 'plain reasons', 'aria-label': 'Reasons' }, a.reasons.map((x) => h('li', null, h('span', { class: 'pts', text: `+${x.points}` }), x.detail)))
          : muted('No risk factor applies.'),
        muted(`Assessed on version ${a.version}.`, 'small')]
        : muted('Not assessed yet: submitting the change assesses it.'),
      h('h3', { text: `Impact set (${set.length})` }),
      set.length ? h('ul', { class: 'tags' }, set.map((s) => h('li', { data: { tier: s.t || '' } },
        s.n, s.t ? h('span', { class: 'small', text: `tier ${s.t}` }) : null))) : muted('No services.'));
  }

  function required(ra) {
    const quotas = ((ra.policy && ra.policy.quotas) || []).map((q) => `${q.count} ${q.role}`).join(' + ');
    return h('div', null,
      h('p', { class: 'row' }, h('strong', { class: 'big', text: `${ra.have} / ${ra.needed}` }),
        h('span', { class: ['badge', ra.satisfied && 'ok'], text: ra.satisfied ? 'satisfied' : 'pending' }),
        quotas ? h('span', { class: 'small', text: `${quotas}, never the requester` }) : null),
      h('progress', { max: String(Math.max(ra.needed, 1)), value: String(Math.min(ra.have, ra.needed)), 'aria-label': `${ra.have} of ${ra.needed} approvals` }));
  }

  function conflicts(c) {
    const s = c.conflict_summary || {};
    return card('Conflicts',
      s.total ? muted(`${s.total} in all, ${s.open} open, ${s.direct} direct`, 'small') : null,
      c.conflicts && c.conflicts.length ? h('ul', { class: 'plain conflicts' }, c.conflicts.map(conflictItem)) : muted('No conflicts.'),
      h('p', null, h('a', { href: `#/conflicts?change=${enc(c.ref)}`, text: 'All conflicts of this change' })));
  }

  const approvals = (c) => card('Approvals', c.required_approvals ? required(c.required_approvals) : null, c.approvals && c.approvals.length
    ? h('ul', { class: 'plain' }, c.approvals.map(approvalItem))
    : muted('No decisions yet.'));

  async function download(c) {
    const r = await api('GET', `${path()}/evidence`);
    if (!r.ok) return fail(r);
    const url = URL.createObjectURL(new Blob([JSON.stringify(r.data, null, 2)], { type: 'application/json' }));
    const a = h('a', { href: url, download: `${c.ref}-evidence.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function gate(c) {
    const evidence = h('button', { type: 'button', class: 'secondary', text: 'Download evidence', on: { click: () => busy(evidence, () => download(c)) } });
    return card('Deployment gate',
      c.gate_url ? h('code', { class: 'gate-url', text: c.gate_url }) : null,
      h('div', { class: 'actions' }, c.gate_url ? h('button', { type: 'button', class: 'secondary', text: 'Copy gate URL', on: { click: () => copy(c.gate_url) } }) : null, evidence));
  }

  function draw() {
    const c = st.c;
    const y = window.scrollY;
    const focused = top.contains(document.activeElement) && document.activeElement.dataset.action;
    top.replaceChildren(header(c));
    main.replaceChildren(details(c), risk(c));
    side.replaceChildren(approvals(c), conflicts(c), gate(c));
    setTitle(`${c.ref} · ${c.title}`);
    window.scrollTo(0, y);
    if (focused) refocus(focused);
    const key = (c.services || []).slice().sort().join(',');
    if (key !== st.impactKey) loadImpact(key);
  }

  // The impact set's tiers, from the touched services' impact (10 at most).
  async function loadImpact(key) {
    st.impactKey = key;
    const found = await Promise.all((key ? key.split(',') : []).slice(0, 10).map((n) => api('GET', `/services/${enc(n)}/impact`)));
    if (st.impactKey !== key) return;
    const best = new Map();
    for (const r of found) if (r.ok) for (const s of r.data.impact_set) if (!best.has(s.name)) best.set(s.name, s);
    st.impact = [...best.values()];
    main.children[1].replaceWith(risk(st.c));
  }

  async function loadComments() {
    const r = await api('GET', `${path()}/comments`);
    const ids = r.ok && r.data.items.map((m) => m.id).join();
    if (!r.ok || ids === st.ids) return false;
    st.ids = ids;
    commentList.replaceChildren(...r.data.items.map((m) => h('li', null,
      h('p', { class: 'row' }, h('strong', { text: m.author.name }), h('span', { class: 'small', text: fmtTime(m.created_at) })),
      h('p', { class: 'prose', text: m.body }))));
    if (!ids) commentList.append(h('li', { class: 'muted', text: 'No comments yet.' }));
    return true;
  }

  async function loadTimeline() {
    const r = await api('GET', `${path()}/timeline`);
    if (!r.ok) return;
    timeline.replaceChildren(...r.data.items.map((e) => h('li', null,
      h('time', { datetime: e.at, text: fmtTime(e.at) }), ' ', h('strong', { text: e.actor_name || e.actor }), ' ', describe(e))));
  }

  commentForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(postBtn, async () => {
      clearProblems(commentForm);
      const r = await api('POST', `${path()}/comments`, { body: { body: commentBox.value } });
      if (!r.ok) { showProblem(commentForm, r.problem); return; }
      commentBox.value = '';
      await loadComments();
      loadTimeline();
      notify('Comment posted');
    });
  });

  // 304 or the same ETag: nothing new. The comment box is never redrawn.
  async function refresh(force) {
    const r = await api('GET', path(), { etag: force ? null : st.etag });
    const changed = r.status === 200 && r.data && r.etag !== st.etag;
    if (changed || (force && r.ok)) {
      st.c = r.data;
      st.etag = r.etag;
      draw();
      loadTimeline();
    }
    if ((await loadComments() || changed) && !force) notify('Updated');
  }

  draw();
  await Promise.all([loadComments(), loadTimeline()]);
  return poll(() => refresh(false), 5000);
}
