// A tour of every page: each opened as a fresh load, drawn with its data,
// with no console error, exception or CSP violation, axe-clean (serious and
// critical), not wider than a 375 px screen, screenshots at 1280 and 375 px,
// and its weight (the bytes of every response it loaded, before
// compression) printed and under 150 KB. Tab reaches the main controls of a
// few, with visible focus. The help page's API section, opened, lists every
// operation of web/openapi.json and stays axe-clean and narrow.
import { readFileSync } from 'node:fs';
import {
  Api, SHOTS, WAIT_MS, axeCheck, email, keyboardCheck, hoursAhead, log, login, narrowCheck, open, scenario, screenshot, unique,
  weighFrom, weight,
} from './lib.mjs';

const BUDGET = 150 * 1024;

// One page; a page that fails is reported and the tour goes on.
async function visit(t, page, route, name, weights) {
  try {
    await visitPage(t, page, route, name, weights);
  } catch (e) {
    t.fail(`${route}: ${e.message}`);
    await page.screenshot({ path: `${SHOTS}/tour-FAILED-${name}.png`, fullPage: true }).catch(() => {});
  }
}

async function visitPage(t, page, route, name, weights) {
  weighFrom(page);
  await open(page, route);
  // what the page fetches right after drawing (badges, verification)
  await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
  const w = await weight(page);
  weights.push([route, w]);
  t.check(w.bytes < BUDGET, `${route} weighs ${(w.bytes / 1024).toFixed(1)} KB (${w.count} responses), over 150 KB`);
  const h1 = await page.locator('#view h1').count();
  t.check(h1 >= 1, `${route} has no <h1>`);
  await axeCheck(t, page, route);
  await narrowCheck(t, page, route);
  await screenshot(t, page, name);
}

// The help page's API section, fetched only when opened: one entry per
// operation of the document, the first one expanded for the checks.
async function apiSection(t, page) {
  const doc = JSON.parse(readFileSync(new URL('../../web/openapi.json', import.meta.url), 'utf8'));
  const want = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).filter((k) => k !== 'parameters').length, 0);
  try {
    await page.locator('.api-all > summary').click();
    await page.locator('.api-op').first().waitFor({ timeout: WAIT_MS });
    const got = await page.locator('.api-op').count();
    t.check(got === want, `/help lists ${got} API operations, the document has ${want}`);
    await page.locator('.api-op > summary').first().click();
    await axeCheck(t, page, '/help (API)');
    await narrowCheck(t, page, '/help (API)');
    await screenshot(t, page, 'help-api');
  } catch (e) {
    t.fail(`/help (API): ${e.message}`);
  }
}

scenario('tour', async (t) => {
  // something on every page: services in a chain, changes that conflict,
  // one approval, a freeze, drafts
  const admin = await Api.as('admin');
  const tag = unique('tour');
  await admin.service(`${tag}-db`, { tier: 1 });
  await admin.service(`${tag}-api`, { tier: 2, depends_on: [`${tag}-db`] });
  await admin.service(`${tag}-web`, { tier: 3, depends_on: [`${tag}-api`] });
  const alice = await Api.as('alice');
  const bob = await Api.as('bob');
  const w = hoursAhead(24 * 3, 3);
  const a = await alice.change({ title: 'Upgrade the API servers', services: [`${tag}-api`], window: w, business_impact: 'medium' });
  await alice.submit(a.ref);
  const b = await bob.change({ title: 'New web front end release', services: [`${tag}-web`], window: hoursAhead(24 * 3 + 1, 2) });
  await bob.submit(b.ref);
  await alice.change({ title: 'Draft: retire the old reports', services: [`${tag}-web`], window: hoursAhead(24 * 10, 1) });
  const cab1 = await Api.as('cab1');
  const sign = await cab1.signer('cab1 tour key');
  await sign(a.ref, 'approve', 'The upgrade notes look complete.');
  const manager = await Api.as('manager');
  await manager.post('/freezes', {
    name: 'Year-end freeze', window: hoursAhead(24 * 12, 48), services: [`${tag}-db`], hard: true, reason: 'Financial close',
  }, { want: 201 });
  const conflicts = (await alice.get(`/changes/${a.ref}`)).conflict_summary;
  log(`data: ${a.ref} and ${b.ref} (conflicts of ${a.ref}: ${JSON.stringify(conflicts)}), a freeze, a draft`);

  const weights = [];
  const anon = await t.page('anonymous');
  await visit(t, anon, '/login', 'login', weights);
  await keyboardLogin(t, anon);
  await visit(t, anon, '/help', 'help-public', weights);
  await apiSection(t, anon);

  const page = await t.page('admin');
  await login(page, email('admin'));
  const routes = [
    ['/changes', 'changes'], ['/changes/new', 'new-change'], [`/changes/${a.ref}`, 'change'],
    ['/agenda', 'agenda'], ['/conflicts', 'conflicts'], ['/schedule', 'schedule'], ['/dashboard', 'dashboard'],
    ['/keys', 'keys'], ['/me/tokens', 'tokens'], ['/me/activity', 'activity'], ['/me/password', 'password'],
    ['/me/notifications', 'notifications'],
    ['/help', 'help'],
    ['/admin/services', 'admin-services'], [`/admin/services/${tag}-api`, 'admin-service'],
    ['/admin/users', 'admin-users'], ['/admin/models', 'admin-models'], ['/admin/freezes', 'admin-freezes'],
    ['/admin/integrations', 'admin-integrations'], ['/admin/webhooks', 'admin-webhooks'], ['/admin/audit', 'admin-audit'],
  ];
  for (const [route, name] of routes) {
    await visit(t, page, route, name, weights);
    if (route === '/changes' && !t.failures.some((f) => f.startsWith(route + ':'))) {
      await keyboard(t, page, route, ['Changes', 'New change', 'CAB agenda', 'Conflicts', 'Schedule', 'Dashboard', 'Admin', 'Help']);
    }
    if (route === '/changes/new' && !t.failures.some((f) => f.startsWith(route + ':'))) {
      await keyboard(t, page, route, ['Title', 'Description', 'Model', 'Services', 'Window start', 'Window end',
        'Business impact', 'Implementation plan', 'Backout plan', 'Test plan', 'Create draft']);
    }
  }

  console.log('\npage weight (every response of a fresh load, before compression):');
  for (const [route, wt] of weights)
    console.log(`  ${route.padEnd(36)} ${(wt.bytes / 1024).toFixed(1).padStart(7)} KB  ${String(wt.count).padStart(3)} responses`);
}, { timeoutMs: 150000 });

async function keyboardLogin(t, page) {
  await open(page, '/login');
  await keyboard(t, page, '/login', ['E-mail address', 'Password', 'Log in']);
}

async function keyboard(t, page, what, names) {
  try {
    await keyboardCheck(t, page, what, names);
  } catch (e) {
    t.fail(`keyboard on ${what}: ${e.message}`);
  }
}
