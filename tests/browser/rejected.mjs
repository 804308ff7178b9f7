// The rejected path: a change awaiting approval (made through the API);
// cab1 makes a key in the browser and rejects it with a comment; the change
// is rejected, and the rejection is listed as a verified decision.
import { Api, email, hoursAhead, login, scenario, screenshot, unique, until, waitState } from './lib.mjs';
import { approvals, decide, makeKey, openChange } from './flows.mjs';

scenario('rejected', async (t) => {
  const admin = await Api.as('admin');
  const svc = unique('rejected');
  await admin.service(svc, { tier: 3 });
  const alice = await Api.as('alice');
  const c = await alice.change({ title: `Resize the ${svc} volumes`, services: [svc], window: hoursAhead(24 * 6 + 5, 1) });
  await alice.submit(c.ref);

  const cab = await t.page('cab1');
  await login(cab, email('cab1'));
  await makeKey(cab, 'cab1 rejects');
  await openChange(cab, c.ref);
  await waitState(cab, 'awaiting_approval');
  const comment = 'No backout tested for the resize; bring the test results.';
  await decide(cab, 'reject', comment);
  await waitState(cab, 'rejected');
  const shown = await until(async () => {
    const a = await approvals(cab);
    return a.length === 1 && a[0].verified.length ? a : null;
  }, 10000, 'the rejection listed as verified');
  t.check(shown[0].text.includes('Cab1'), `the decision does not name Cab1: ${shown[0].text}`);
  t.check(shown[0].text.includes(comment), `the decision does not show its comment: ${shown[0].text}`);
  const doc = await alice.get(`/changes/${c.ref}`);
  t.check(doc.state === 'rejected', `server state ${doc.state}`);
  t.check(doc.approvals.length === 1 && doc.approvals[0].decision === 'reject' && doc.approvals[0].comment === comment,
    `server approvals ${JSON.stringify(doc.approvals.map((a) => [a.decision, a.comment]))}`);
  // nothing is left to decide or do on a rejected change
  for (const name of ['Approve', 'Reject', 'Start']) {
    const n = await cab.locator('#view').getByRole('button', { name, exact: true }).count();
    t.check(n === 0, `a rejected change still offers "${name}"`);
  }
  await screenshot(t, cab, 'change-rejected');
});
