// Steps the scenarios share: the account menu, making a signing key,
// taking an action on the change page (with its dialog, if it asks), and
// signing a decision in the decision dialog.
import { dialog, go, log, waitRendered, waitState, WAIT_MS } from './lib.mjs';

// Opens the account menu and follows one of its links.
export async function accountLink(page, name, route) {
  const menu = page.locator('#account');
  if (!(await menu.evaluate((d) => d.open))) await menu.locator('summary').click();
  await page.getByRole('link', { name, exact: true }).click();
  await waitRendered(page, route);
}

// My keys → "Generate a signing key"; waits until the new key is listed.
export async function makeKey(page, label) {
  await accountLink(page, 'My keys', '/keys');
  const before = await page.getByRole('button', { name: 'Revoke', exact: true }).count();
  await page.getByLabel('Key label').fill(label);
  await page.getByRole('button', { name: 'Generate a signing key' }).click();
  await page.getByRole('button', { name: 'Revoke', exact: true }).nth(before).waitFor({ state: 'visible' });
  log(`${page.label}: made signing key "${label}"`);
}

export async function openChange(page, ref) {
  await go(page, '/changes/' + ref);
  const h1 = (await page.locator('#view h1').first().textContent()).trim();
  if (!h1.startsWith(ref)) throw new Error(`${page.label}: the change page's heading is "${h1}", not "${ref} · …"`);
  return h1;
}

// Clicks an action button of the change page. When it opens a dialog, fills
// `fields` ({label: value}; a select takes the option's value) and presses
// the dialog's submit button. Waits for the state badge to show `expect`.
export async function act(page, name, { fields = {}, expect } = {}) {
  const button = page.locator('#view').getByRole('button', { name, exact: true });
  await button.first().click();
  const dlg = dialog(page);
  const asked = await dlg.waitFor({ state: 'visible', timeout: 2500 }).then(() => true, () => false);
  if (asked) {
    for (const [label, value] of Object.entries(fields)) {
      const control = dlg.getByLabel(label, { exact: true });
      const tag = await control.evaluate((el) => el.tagName);
      if (tag === 'SELECT') await control.selectOption(value);
      else await control.fill(value);
    }
    await dlg.locator('button[type="submit"]').first().click();
    await dlg.waitFor({ state: 'detached', timeout: WAIT_MS }).catch(async () => {
      const text = await dlg.innerText().catch(() => '');
      throw new Error(`${page.label}: the "${name}" dialog stayed open: ${text.slice(0, 400)}`);
    });
  } else if (Object.keys(fields).length) {
    throw new Error(`${page.label}: "${name}" asked for nothing, but ${Object.keys(fields).join(', ')} were expected`);
  }
  const state = expect ? await waitState(page, expect) : null;
  log(`${page.label}: ${name}${asked ? ' (dialog)' : ''}${state ? ` → ${state}` : ''}`);
  return state;
}

// "Approve"/"Reject" → the decision dialog: "Comment", "Sign and approve" /
// "Sign and reject"; waits until the dialog has gone.
export async function decide(page, decision, comment) {
  const verb = decision === 'approve' ? 'Approve' : 'Reject';
  await page.locator('#view').getByRole('button', { name: verb, exact: true }).click();
  const dlg = dialog(page);
  await dlg.waitFor({ state: 'visible' });
  await dlg.getByLabel('Comment').fill(comment);
  await dlg.getByRole('button', { name: decision === 'approve' ? 'Sign and approve' : 'Sign and reject' }).click();
  await dlg.waitFor({ state: 'detached' }).catch(async () => {
    const text = await dlg.innerText().catch(() => '');
    throw new Error(`${page.label}: the decision dialog stayed open: ${text.slice(0, 400)}`);
  });
  log(`${page.label}: signed "${decision}"`);
}

// The approvals the change page lists: [{text, verified, unverified}].
export async function approvals(page) {
  return page.locator('#view .approval').evaluateAll((els) => els.map((el) => ({
    text: el.textContent.replace(/\s+/g, ' ').trim(),
    verified: [...el.querySelectorAll('.badge.verified')].map((b) => b.textContent.trim()),
    unverified: [...el.querySelectorAll('.badge.unverified')].map((b) => b.textContent.trim()),
  })));
}

// Follows a link of the main navigation.
export async function navLink(page, name, route) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
  await waitRendered(page, route);
}
