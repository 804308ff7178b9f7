// No WebCrypto: the UI reached over plain HTTP by a name that is not
// loopback (cabinet.test, mapped to 127.0.0.1 by the browser's resolver) is
// not a secure context. My keys and the decision dialog must say that HTTPS
// is needed instead of failing silently.
import { Api, BASE, INSECURE_HOST, dialog, email, hoursAhead, login, scenario, screenshot, unique } from './lib.mjs';
import { accountLink, openChange } from './flows.mjs';

scenario('no_webcrypto', async (t) => {
  const admin = await Api.as('admin');
  const svc = unique('insecure');
  await admin.service(svc, { tier: 4 });
  const api = await Api.as('alice');
  const c = await api.change({ title: `Upgrade ${svc}`, services: [svc], window: hoursAhead(24 * 9, 1) });
  await api.submit(c.ref);

  const url = new URL(BASE);
  url.hostname = INSECURE_HOST;
  const base = url.origin;
  // Chromium says it ignores Cross-Origin-Opener-Policy on such an origin:
  // expected here, and only here.
  const page = await t.page('cab1 over http://' + INSECURE_HOST, {
    base, allowConsole: [/^The Cross-Origin-Opener-Policy header has been ignored, because the URL's origin was untrustworthy/],
  });
  await login(page, email('cab1'));
  const secure = await page.evaluate(() => ({ secure: window.isSecureContext, subtle: !!(globalThis.crypto && crypto.subtle) }));
  t.check(!secure.secure && !secure.subtle, `${base} counts as a secure context: ${JSON.stringify(secure)}`);

  // My keys says so, and offers no key it cannot make
  await accountLink(page, 'My keys', '/keys');
  const keysText = await page.locator('#view').innerText();
  t.check(/HTTPS/.test(keysText), `My keys does not say HTTPS is needed: ${keysText.slice(0, 300)}`);
  const make = page.getByRole('button', { name: 'Generate a signing key' });
  t.check((await make.count()) === 0 || (await make.isDisabled()), '"Generate a signing key" is offered without WebCrypto');
  await screenshot(t, page, 'keys');

  // so does the decision dialog, with nothing to sign with
  await openChange(page, c.ref);
  await page.locator('#view').getByRole('button', { name: 'Approve', exact: true }).click();
  const dlg = dialog(page);
  await dlg.waitFor({ state: 'visible' });
  const text = await dlg.innerText();
  t.check(/HTTPS/.test(text), `the decision dialog does not say HTTPS is needed: ${text.slice(0, 300)}`);
  t.check((await dlg.getByRole('button', { name: 'Sign and approve' }).count()) === 0,
    'the decision dialog offers "Sign and approve" without WebCrypto');
  await screenshot(t, page, 'decision-dialog');
  const doc = await api.get(`/changes/${c.ref}`);
  t.check(doc.approvals.length === 0 && doc.state === 'awaiting_approval', `the change changed: ${doc.state}`);
});
