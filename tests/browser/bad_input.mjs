// Bad input in the new-change form: an empty title and a window that ends
// before it starts. The live check (the server's ?validate=only) marks both
// fields before any submit; "Create draft" then keeps the form, with the
// errors next to Title and Window end, and creates nothing.
import { Api, email, hoursAhead, localInput, log, login, scenario, screenshot, WAIT_MS } from './lib.mjs';
import { navLink } from './flows.mjs';

// The control's error: aria-invalid, and a visible message among the
// elements its aria-describedby names (not its hint).
async function fieldError(page, label) {
  const control = page.getByLabel(label, { exact: true });
  return control.evaluate((el) => {
    const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    const msgs = ids.map((id) => document.getElementById(id))
      .filter((m) => m && !m.hidden && m.offsetParent !== null && !m.classList.contains('hint') && m.textContent.trim())
      .map((m) => m.textContent.trim());
    return { invalid: el.getAttribute('aria-invalid') === 'true', message: msgs.join(' ') };
  });
}

async function waitError(t, page, label, when) {
  const end = Date.now() + WAIT_MS;
  let e;
  while (Date.now() < end) {
    e = await fieldError(page, label);
    if (e.invalid && e.message) { log(`${when}: ${label}: "${e.message}"`); return e; }
    await page.waitForTimeout(150);
  }
  t.fail(`${when}: ${label} shows no error (aria-invalid=${e.invalid}, message "${e.message}")`);
  return e;
}

scenario('bad_input', async (t) => {
  const api = await Api.as('alice');
  const before = (await api.get('/changes?limit=200')).items.length;
  const page = await t.page('alice');
  await login(page, email('alice'));
  await navLink(page, 'New change', '/changes/new');

  const checks = [];
  page.on('request', (r) => { if (r.url().includes('validate=only')) checks.push(r.method()); });
  page.on('response', async (r) => {
    if (r.url().includes('validate=only')) log(`live check: ${r.request().method()} ${new URL(r.url()).search} → ${r.status()} ${(await r.text().catch(() => '')).slice(0, 200)}`);
  });
  const win = hoursAhead(24 * 4, 2);
  // typed and wiped: the title was touched and is empty
  const title = page.getByLabel('Title', { exact: true });
  await title.fill('x');
  await title.fill('');
  await page.getByLabel('Window start', { exact: true }).fill(localInput(win.start));
  await page.getByLabel('Window end', { exact: true }).fill(localInput(hoursAhead(24 * 4 - 3, 1).start));
  await page.getByLabel('Implementation plan', { exact: true }).focus();

  await waitError(t, page, 'Title', 'live');
  await waitError(t, page, 'Window end', 'live');
  t.check(checks.length > 0, 'no ?validate=only request was made before submitting');
  t.check(page.url().endsWith('#/changes/new'), `the form moved to ${page.url()}`);
  await screenshot(t, page, 'live-errors');

  await page.getByRole('button', { name: 'Create draft' }).click();
  await page.waitForTimeout(500);
  await waitError(t, page, 'Title', 'after Create draft');
  await waitError(t, page, 'Window end', 'after Create draft');
  t.check(page.url().endsWith('#/changes/new'), `the form moved to ${page.url()} after a refused create`);
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('aria-invalid'));
  t.check(focused === 'true', 'focus did not move to a field at fault');
  const after = (await api.get('/changes?limit=200')).items.length;
  t.check(after === before, `a change was created from bad input (${before} → ${after})`);
  await screenshot(t, page, 'submit-errors');

  // fixing them clears the errors
  await title.fill('A title at last');
  await page.getByLabel('Window end', { exact: true }).fill(localInput(win.end));
  await page.getByLabel('Implementation plan', { exact: true }).focus();
  const end = Date.now() + WAIT_MS;
  let cleared = false;
  while (!cleared && Date.now() < end) {
    const [a, b] = [await fieldError(page, 'Title'), await fieldError(page, 'Window end')];
    cleared = !a.invalid && !b.invalid;
    if (!cleared) await page.waitForTimeout(150);
  }
  t.check(cleared, 'the errors stayed after the fields were fixed');
});
