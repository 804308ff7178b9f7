// Live updates: alice has her change's page open while cab1, in a browser of
// their own, approves it; alice's page shows the approval and the new state
// by itself (no reload) within a bounded time. cab1's header badge counts
// the changes awaiting cab1's decision and follows the decision.
import { Api, email, hoursAhead, log, login, scenario, screenshot, unique, until, waitState } from './lib.mjs';
import { approvals, decide, makeKey, openChange } from './flows.mjs';

const LIVE_MS = 12000;

async function badge(page) {
  return page.locator('#queue-badge').evaluate((b) => ({ hidden: b.hidden, text: b.textContent.trim(), label: b.getAttribute('aria-label') }));
}

scenario('live', async (t) => {
  const admin = await Api.as('admin');
  const svc = unique('live');
  await admin.service(svc, { tier: 4 });
  const api = await Api.as('alice');
  // low risk (tier 4, both plans, days ahead): one approval approves it
  const c = await api.change({ title: `Tune the ${svc} cache`, services: [svc], window: hoursAhead(24 * 8, 1) });
  await api.submit(c.ref);
  const cabApi = await Api.as('cab1');
  const q = await cabApi.req('GET', '/me/queue?limit=1');
  t.check(q.status === 200, `GET /me/queue (the header badge's count): ${q.status}`);
  const queued = q.status === 200 ? q.data.count : null;

  const alice = await t.page('alice');
  await login(alice, email('alice'));
  await openChange(alice, c.ref);
  await waitState(alice, 'awaiting_approval');
  const marker = await alice.evaluate(() => { window.__notReloaded = true; return location.href; });

  const cab = await t.page('cab1');
  await login(cab, email('cab1'));
  if (queued !== null) {
    t.check(queued >= 1, `cab1's queue is empty although ${c.ref} awaits cab1`);
    const b0 = await until(async () => { const b = await badge(cab); return !b.hidden && b.text ? b : null; }, 10000, "cab1's header badge");
    t.check(b0.text === String(queued), `cab1's badge says ${b0.text}, the queue has ${queued}`);
    t.check(/awaiting/.test(b0.label || ''), `the badge's label is "${b0.label}"`);
    log(`cab1's badge: ${b0.text} (${b0.label})`);
  }
  await makeKey(cab, 'cab1 live');
  await openChange(cab, c.ref);
  const t0 = Date.now();
  await decide(cab, 'approve', 'Looks fine.');
  await waitState(cab, 'approved');
  if (queued !== null) {
    const b1 = await until(async () => { const b = await badge(cab); return (queued - 1 === 0 ? b.hidden : b.text === String(queued - 1)) ? b : null; },
      10000, `cab1's badge going down to ${queued - 1}`);
    log(`cab1's badge after the decision: ${b1.hidden ? 'hidden' : b1.text}`);
  }

  await waitState(alice, 'approved', LIVE_MS);
  log(`alice's page showed "approved" ${((Date.now() - t0) / 1000).toFixed(1)} s after cab1's decision`);
  await until(async () => (await approvals(alice)).length === 1, 5000, "cab1's approval on alice's page");
  const same = await alice.evaluate(() => window.__notReloaded === true);
  t.check(same, 'alice\'s page was reloaded rather than updated');
  t.check(alice.url() === marker, `alice's page moved to ${alice.url()}`);
  await screenshot(t, alice, 'updated-by-itself');
});
