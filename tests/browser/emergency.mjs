// The emergency path: alice submits an emergency change (a model of kind
// emergency) in the UI; ecab approves it alone; alice starts and completes
// it, which always leads to review; "Close" with the review text closes it.
import { Api, email, hoursAhead, login, scenario, screenshot, unique, until, waitState } from './lib.mjs';
import { act, approvals, decide, makeKey, openChange } from './flows.mjs';

scenario('emergency', async (t) => {
  const admin = await Api.as('admin');
  const svc = unique('emergency');
  await admin.service(svc, { tier: 1 });
  const models = await admin.get('/models');
  const model = models.items.find((m) => m.kind === 'emergency');
  if (!model) throw new Error(`no model of kind emergency in ${JSON.stringify(models.items.map((m) => m.name))}`);
  const api = await Api.as('alice');
  const c = await api.change({
    title: `Patch the ${svc} outage`, model: model.name, services: [svc], window: hoursAhead(0.25, 1),
    business_impact: 'high',
  });

  const alice = await t.page('alice');
  await login(alice, email('alice'));
  await openChange(alice, c.ref);
  await waitState(alice, 'draft');
  await act(alice, 'Submit for approval', { expect: 'awaiting_approval' });
  const doc = await api.get(`/changes/${c.ref}`);
  t.check(doc.kind === 'emergency' && doc.required_approvals.needed === 1,
    `kind ${doc.kind}, ${doc.required_approvals.needed} approvals needed`);

  const ecab = await t.page('ecab');
  await login(ecab, email('ecab'));
  await makeKey(ecab, 'ecab on call');
  await openChange(ecab, c.ref);
  await decide(ecab, 'approve', 'Go ahead, the outage costs more.');
  await waitState(ecab, 'approved');
  await until(async () => (await approvals(ecab)).some((a) => a.verified.includes('verified')), 10000,
    'the ECAB approval verified');

  await openChange(alice, c.ref);
  await waitState(alice, 'approved');
  await act(alice, 'Start', { expect: 'in_progress' });
  await act(alice, 'Complete', { fields: { Outcome: 'successful', Notes: 'Patched.' }, expect: 'review' });
  await screenshot(t, alice, 'change-review');
  await act(alice, 'Close', {
    fields: { Review: 'The outage came from an expired token; the patch renews it automatically.' },
    expect: 'closed',
  });
  const end = await api.get(`/changes/${c.ref}`);
  t.check(end.state === 'closed', `server state ${end.state}`);
  await screenshot(t, alice, 'change-closed');
});
