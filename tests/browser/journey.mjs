// The whole journey through the UI: alice raises a change in the form and
// submits it; cab1 and cab2, each in a browser of their own, make a signing
// key and sign an approval; the change shows two verified approvals and is
// approved; alice starts it and completes it.
import {
  Api, email, hoursAhead, localInput, log, login, scenario, screenshot, unique, until,
  waitRendered, waitState,
} from './lib.mjs';
import { act, approvals, decide, makeKey, navLink, openChange } from './flows.mjs';

scenario('journey', async (t) => {
  // A tier-2 service nothing else touches: 25 points for the tier and 2 for
  // a blast radius of one, with both plans given and the window five days
  // ahead: "medium", two CAB approvals (DESIGN §3).
  const admin = await Api.as('admin');
  const svc = unique('journey');
  await admin.service(svc, { tier: 2 });
  const win = hoursAhead(24 * 5, 2);

  const alice = await t.page('alice');
  await login(alice, email('alice'));
  await navLink(alice, 'New change', '/changes/new');
  const title = `Rotate the payment gateway certificates ${svc}`;
  await alice.getByLabel('Title', { exact: true }).fill(title);
  await alice.getByLabel('Description', { exact: true }).fill('The certificates expire next month.');
  await alice.getByLabel('Model', { exact: true }).selectOption('normal');
  const services = alice.getByLabel('Services', { exact: true });
  await services.fill(svc);
  await alice.getByRole('button', { name: `Add ${svc}` }).click();
  await alice.getByLabel('Window start', { exact: true }).fill(localInput(win.start));
  await alice.getByLabel('Window end', { exact: true }).fill(localInput(win.end));
  await alice.getByLabel('Business impact', { exact: true }).selectOption('low');
  await alice.getByLabel('Implementation plan', { exact: true }).fill('Install the new certificates on both gateways, one at a time.');
  await alice.getByLabel('Backout plan', { exact: true }).fill('Put the old certificates back.');
  await alice.getByLabel('Test plan', { exact: true }).fill('A test payment through each gateway.');
  await screenshot(t, alice, 'new-change-filled');
  await alice.getByRole('button', { name: 'Create draft' }).click();
  await alice.waitForURL(/#\/changes\/CHG-\d+$/);
  const ref = decodeURIComponent(new URL(alice.url()).hash.slice('#/changes/'.length));
  await waitRendered(alice, '/changes/' + ref);
  log(`alice: created ${ref}`);
  const h1 = (await alice.locator('#view h1').first().textContent()).trim();
  t.check(h1.startsWith(ref) && h1.includes(title), `the change page's heading is "${h1}"`);
  await waitState(alice, 'draft');

  // what the form sent is what the server keeps
  const api = await Api.as('alice');
  const doc = await api.get(`/changes/${ref}`);
  t.check(JSON.stringify(doc.services) === JSON.stringify([svc]), `services ${JSON.stringify(doc.services)}`);
  t.check(doc.window && doc.window.start === win.start && doc.window.end === win.end,
    `window ${JSON.stringify(doc.window)}, wanted ${JSON.stringify(win)}`);
  t.check(doc.model === 'normal' && doc.source === 'web', `model ${doc.model}, source ${doc.source}`);

  await act(alice, 'Submit for approval', { expect: 'awaiting_approval' });
  const submitted = await api.get(`/changes/${ref}`);
  log(`assessed ${submitted.assessment.level} (${submitted.assessment.score} points), ` +
    `${submitted.required_approvals.needed} approvals needed`);
  t.check(submitted.required_approvals.needed === 2,
    `the change needs ${submitted.required_approvals.needed} approvals (${submitted.assessment.level}), not 2`);
  await screenshot(t, alice, 'change-awaiting');

  for (const [i, name] of ['cab1', 'cab2'].entries()) {
    const cab = await t.page(name);
    await login(cab, email(name));
    await makeKey(cab, `${name}'s test browser`);
    await openChange(cab, ref);
    await decide(cab, 'approve', `Fine by ${name}.`);
    const want = i === 0 ? 'awaiting_approval' : 'approved';
    await waitState(cab, want);
    await until(async () => (await approvals(cab)).length === i + 1, 10000, `${name} sees ${i + 1} approvals`);
    if (i === 1) await screenshot(t, cab, 'change-approved-cab2');
  }

  await openChange(alice, ref);
  await waitState(alice, 'approved');
  const shown = await until(async () => {
    const a = await approvals(alice);
    return a.length === 2 && a.every((x) => x.verified.length) ? a : null;
  }, 10000, 'two verified approvals');
  for (const a of shown) t.check(a.verified.includes('verified'), `approval "${a.text}" is not badged verified`);
  t.check(shown.some((a) => a.text.includes('Cab1')) && shown.some((a) => a.text.includes('Cab2')),
    `the approvals do not name Cab1 and Cab2: ${shown.map((a) => a.text).join(' | ')}`);
  const server = await api.get(`/changes/${ref}`);
  t.check(server.state === 'approved' && server.approvals.filter((a) => a.valid).length === 2,
    `server: ${server.state}, ${server.approvals.length} approvals`);
  await screenshot(t, alice, 'change-approved');

  await act(alice, 'Start', { expect: 'in_progress' });
  const end = await act(alice, 'Complete', {
    fields: { Outcome: 'successful', Notes: 'Both gateways took the new certificates.' },
    expect: ['closed', 'review'],
  });
  const final = await api.get(`/changes/${ref}`);
  t.check(final.state === end, `the badge says ${end}, the server ${final.state}`);
  t.check(final.outcome === 'successful', `outcome ${final.outcome}`);
  await screenshot(t, alice, 'change-completed');
}, { timeoutMs: 120000 });
