// The Notifications page: bob switches off the e-mails about decisions on
// his changes, with the keyboard's own checkbox and the Save button; the
// server holds it, the page shows it again after a reload, and it is
// switched back on the same way.
import { Api, email, login, scenario, screenshot, until } from './lib.mjs';
import { accountLink } from './flows.mjs';

scenario('notifications', async (t) => {
  const bob = await Api.as('bob');
  const before = await bob.get('/me/notifications');
  t.check(JSON.stringify(before.kinds) === JSON.stringify({ awaiting_approval: true, decision: true, conflict: true }),
    `bob starts with ${JSON.stringify(before.kinds)}`);

  const page = await t.page('bob');
  await login(page, email('bob'));
  await accountLink(page, 'Notifications', '/me/notifications');
  const decision = page.getByLabel('A decision on my change', { exact: true });
  t.check(await decision.isChecked(), 'the decision box is not checked at first');
  t.check((await page.locator('#view legend').textContent()).includes(email('bob')), 'the legend does not name the address');
  await decision.uncheck();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const saved = await until(async () => {
    const k = (await bob.get('/me/notifications')).kinds;
    return k.decision === false ? k : null;
  }, 10000, 'the server to hold decision: false');
  t.check(saved.awaiting_approval === true && saved.conflict === true, `the other kinds changed: ${JSON.stringify(saved)}`);
  await screenshot(t, page, 'notifications');

  await page.reload();
  await accountLink(page, 'Notifications', '/me/notifications');
  const again = page.getByLabel('A decision on my change', { exact: true });
  t.check(!(await again.isChecked()), 'after a reload the decision box is checked again');
  await again.check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await until(async () => ((await bob.get('/me/notifications')).kinds.decision === true ? true : null),
    10000, 'the server to hold decision: true');
});
