// What the browser scenarios share: Debian's Chromium through playwright-core
// (no browser is ever downloaded), pages that fail the scenario on any console
// error, uncaught exception, CSP violation, failed request or server error,
// the shell's "drawn with its data" signal, axe-core, screenshots at two
// widths, page weights, and the API for making data quickly.
//
// A scenario is a script: `node tests/browser/<name>.mjs`, run by
// tests/api/test_browser.py with
//   CABINET_URL       the server, e.g. http://127.0.0.1:8123
//   CABINET_USERS     JSON {name: email} of the standard users
//   CABINET_PASSWORD  their password
//   CABINET_OUT       the output folder (screenshots go to its screenshots/)
// It prints its steps and exits 0 when everything held, 1 otherwise; it
// ends itself after its overall time limit.

import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);

export const BASE = (process.env.CABINET_URL || '').replace(/\/$/, '');
export const USERS = JSON.parse(process.env.CABINET_USERS || '{}');
export const PASSWORD = process.env.CABINET_PASSWORD || '';
export const OUT = process.env.CABINET_OUT || path.resolve('build/test-output');
export const SHOTS = path.join(OUT, 'screenshots');
// Every wait of a scenario is bounded by this unless it says otherwise.
export const WAIT_MS = Number(process.env.BROWSER_WAIT_MS || 10000);
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// The host name the no-WebCrypto scenario reaches the server by: plain HTTP
// to a name that is not loopback is not a secure context.
export const INSECURE_HOST = 'cabinet.test';

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // Loopback only: cabinet.test is 127.0.0.1, every other name resolves to nothing.
  `--host-resolver-rules=MAP ${INSECURE_HOST} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1`,
];

export function email(name) {
  if (!USERS[name]) throw new Error(`no standard user ${name}`);
  return USERS[name];
}

export function log(...args) {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  console.log(`[${t}s]`, ...args);
}

const started = Date.now();

/* ---- the scenario: one browser, its contexts, its failures ----------------- */

// scenario(name, fn, {timeoutMs}): runs fn(t) and exits. t.fail(msg) records a
// failure without stopping; a thrown error stops the scenario as a failure.
export function scenario(name, fn, { timeoutMs = 90000 } = {}) {
  const t = new Scenario(name);
  const timer = setTimeout(() => {
    console.log(`FAIL ${name}: did not finish within ${timeoutMs / 1000} s`);
    t.dump();
    process.exit(1);
  }, timeoutMs);
  timer.unref();
  (async () => {
    let ok = true;
    try {
      if (!BASE) throw new Error('CABINET_URL is not set');
      fs.mkdirSync(SHOTS, { recursive: true });
      await t.launch();
      await fn(t);
    } catch (err) {
      ok = false;
      console.log(`ERROR ${name}: ${err && err.stack ? err.stack : err}`);
      await t.failureShots();
    }
    await t.close();
    if (t.failures.length) ok = false;
    if (!ok) t.dump();
    for (const f of t.failures) console.log(`FAIL ${f.split('\n')[0]}`);
    console.log(`${ok ? 'PASS' : 'FAIL'} ${name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    clearTimeout(timer);
    process.exit(ok ? 0 : 1);
  })();
}

class Scenario {
  constructor(name) {
    this.name = name;
    this.failures = [];
    this.browser = null;
    this.pages = [];
  }

  async launch() {
    // launch() gives the browser a fresh, empty --user-data-dir of its own
    // (removed on close); every context in it is a separate profile.
    this.browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30000,
    });
    log(`chromium ${this.browser.version()}`);
  }

  fail(msg) {
    this.failures.push(msg);
    log(`FAILED: ${msg}`);
  }

  check(cond, msg) {
    if (!cond) this.fail(msg);
    return !!cond;
  }

  // A new browser context (its own cookies and keys) with one page, watched.
  // label names it in messages (e.g. the user).
  // allowConsole: patterns of console errors this page expects (the
  // browser's own warnings about an insecure origin, say).
  async page(label, { width = 1280, height = 900, base = BASE, allowConsole = [] } = {}) {
    const context = await this.browser.newContext({
      viewport: { width, height }, baseURL: base, locale: 'en-GB', timezoneId: 'UTC',
      serviceWorkers: 'block',
    });
    context.setDefaultTimeout(WAIT_MS);
    context.setDefaultNavigationTimeout(WAIT_MS * 2);
    const page = await context.newPage();
    page.allowConsole = allowConsole;
    await watch(this, page, label);
    page.label = label;
    page.base = base;
    this.pages.push(page);
    return page;
  }

  // The last things each page saw (console lines, API errors, failed
  // requests), printed when the scenario fails.
  dump() {
    for (const p of this.pages) for (const line of (p.seen || []).slice(-30)) console.log(`  ${p.label}: ${line}`);
  }

  async failureShots() {
    for (const p of this.pages) {
      try {
        const f = path.join(SHOTS, `${this.name}-FAILED-${slug(p.label)}.png`);
        await p.screenshot({ path: f, fullPage: true, timeout: 5000 });
        log(`failure screenshot ${f}`);
      } catch { /* the page may be gone */ }
    }
  }

  async close() {
    if (!this.browser) return;
    try { await withTimeout(this.browser.close(), 15000, 'closing the browser'); } catch (e) { log(String(e)); }
  }
}

function slug(s) {
  return String(s).replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase() || 'page';
}

export async function withTimeout(promise, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); });
  try { return await Promise.race([promise, limit]); } finally { clearTimeout(timer); }
}

// The browser's own line for a response with an error status; the UI handles
// those of the API (a 422 is shown in the form), so they are not failures.
const NETWORK_ERROR_LINE = /^Failed to load resource: the server responded with a status of (\d+)/;

async function watch(t, page, label) {
  page.seen = [];
  page.weight = { bytes: 0, count: 0, pending: [] };
  page.on('console', (m) => {
    const text = m.text();
    page.seen.push(`console.${m.type()}: ${text}`);
    if (m.type() !== 'error') return;
    const net = NETWORK_ERROR_LINE.exec(text);
    if (net) return; // judged by the response handler below, which knows the URL
    if (page.allowConsole.some((re) => re.test(text))) return;
    t.fail(`${label}: console error: ${text} (at ${page.url()})`);
  });
  page.on('pageerror', (e) => t.fail(`${label}: uncaught exception: ${e.message} (at ${page.url()})`));
  page.on('requestfailed', (req) => {
    const why = req.failure() ? req.failure().errorText : 'failed';
    page.seen.push(`request failed: ${req.method()} ${req.url()} ${why}`);
    // requests cut short by leaving the page (polls, a view replaced) are fine
    if (/ERR_ABORTED|ERR_BLOCKED_BY_CLIENT/.test(why)) return;
    t.fail(`${label}: request failed: ${req.method()} ${req.url()}: ${why}`);
  });
  page.on('response', (res) => {
    const url = res.url();
    const status = res.status();
    const api = new URL(url).pathname.startsWith('/api/');
    if (status >= 500) t.fail(`${label}: ${status} from ${res.request().method()} ${url}`);
    else if (status >= 400 && !api) t.fail(`${label}: ${status} for ${url}`);
    else if (status >= 400) page.seen.push(`API ${status}: ${res.request().method()} ${url}`);
    const w = page.weight;
    w.pending.push(res.body().then((b) => { w.bytes += b.length; w.count++; }, () => {}));
  });
  // CSP violations: the browser reports them to the console too, but the
  // event says which directive and where, and cannot be missed.
  await page.exposeBinding('__cabinetCsp', (_src, v) => t.fail(`${label}: CSP violation: ${v}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cabinetCsp(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile || ''}:${e.lineNumber || ''} ${e.sample || ''}`);
    });
  });
}

/* ---- the shell -------------------------------------------------------------- */

// Waits until the shell has drawn `route` (a path without the query, e.g.
// "/changes/CHG-12") with its data: #view[aria-busy="false"][data-rendered].
export async function waitRendered(page, route, timeout = WAIT_MS) {
  // Ends early when the shell shows that the page failed (its module did
  // not load, or render threw): aria-busy="false" without data-rendered of
  // this route, and the shell's problem heading.
  let how;
  try {
    how = await page.waitForFunction((r) => {
      const v = document.getElementById('view');
      if (!v || v.getAttribute('aria-busy') !== 'false') return false;
      if (v.dataset.rendered === r) return 'drawn';
      const h1 = v.querySelector('.problem h1');
      return h1 && h1.textContent === 'This page could not be shown' ? 'failed' : false;
    }, route, { timeout, polling: 50 }).then((hd) => hd.jsonValue());
  } catch (e) {
    how = 'timeout';
  }
  if (how === 'drawn') return;
  const now = await page.evaluate(() => {
    const v = document.getElementById('view');
    return v ? `aria-busy=${v.getAttribute('aria-busy')} data-rendered=${v.dataset.rendered} h1="${(v.querySelector('h1') || {}).textContent}" text="${v.innerText.slice(0, 200)}"` : 'no #view';
  }).catch(() => '?');
  throw new Error(`${page.label}: ${route} was ${how === 'failed' ? 'not drawn: the shell shows an error' : `not drawn within ${timeout} ms`} (${now}; at ${page.url()})`);
}

function cssString(s) {
  return String(s).replace(/["\\]/g, '\\$&');
}

// Opens a route as a fresh document load (so that the page weight counts
// the shell too) and waits until it is drawn.
export async function open(page, route) {
  const url = (page.base || BASE) + '/#' + route;
  if (page.url() !== 'about:blank' && page.url().split('#')[0] === url.split('#')[0]) {
    await page.goto('about:blank');
  }
  await page.goto(url);
  await waitRendered(page, route.split('?')[0]);
}

// Moves within the app (a hash change, no reload) and waits until drawn.
export async function go(page, route) {
  await page.evaluate((r) => { location.hash = '#' + r; }, route);
  await waitRendered(page, route.split('?')[0]);
}

// Logs in through the form; lands on `next` (default the changes list).
export async function login(page, address, { next = '/changes' } = {}) {
  const url = (page.base || BASE) + '/#/login' + (next !== '/changes' ? '?next=' + encodeURIComponent(next) : '');
  await page.goto(url);
  await waitRendered(page, '/login');
  await page.getByLabel('E-mail address').fill(address);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await waitRendered(page, next.split('?')[0]);
  log(`${page.label}: logged in as ${address}`);
}

/* ---- accessibility, keyboard ------------------------------------------------ */

let axeSource = null;

// Runs axe-core on the page; serious and critical violations fail the
// scenario (each printed with its rule, impact and nodes), lesser ones are
// printed. axe is evaluated through the DevTools protocol, which the page's
// CSP does not govern, so the CSP stays as strict as served.
export async function axeCheck(t, page, what) {
  axeSource = axeSource || fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  const has = await page.evaluate(() => typeof window.axe === 'object');
  if (!has) await page.evaluate(axeSource);
  const res = await withTimeout(page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 8).map((n) => `${n.target.join(' ')} — ${n.failureSummary.replace(/\s+/g, ' ').slice(0, 240)}`),
      count: v.nodes.length,
    }));
  }), 30000, `axe on ${what}`);
  let bad = 0;
  for (const v of res) {
    const serious = v.impact === 'serious' || v.impact === 'critical';
    if (serious) bad++;
    const lines = [`axe ${serious ? 'VIOLATION' : 'note'} on ${what}: ${v.id} (${v.impact}, ${v.count} nodes): ${v.help}`,
      ...v.nodes.map((n) => `    ${n}`)];
    if (serious) t.fail(lines.join('\n'));
    else log(lines.join('\n'));
  }
  if (!bad) log(`axe: ${what} has no serious or critical violations`);
  return res;
}

// Presses Tab up to `max` times from the top of the page; each name in
// `want` (accessible names of links/buttons/controls) must be reached, and
// the focused element must show a visible focus indicator (outline or box
// shadow differing from its unfocused look).
export async function keyboardCheck(t, page, what, want, max = 60) {
  await page.evaluate(() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); });
  await page.focus('body').catch(() => {});
  const reached = new Set();
  let invisible = [];
  for (let i = 0; i < max && reached.size < want.length; i++) {
    await page.keyboard.press('Tab');
    const info = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const name = (el.getAttribute('aria-label') || (el.labels && el.labels[0] && el.labels[0].textContent) || el.textContent || el.value || '').trim().replace(/\s+/g, ' ');
      const cs = getComputedStyle(el);
      // date and time inputs: the browser highlights the focused part itself
      const segmented = el.tagName === 'INPUT' && /^(date|time|datetime-local|month|week)$/.test(el.type);
      const visible = segmented || (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || (cs.boxShadow && cs.boxShadow !== 'none');
      return { name, tag: el.tagName, visible };
    });
    if (!info) continue;
    for (const w of want) if (info.name === w || info.name.startsWith(w)) reached.add(w);
    if (!info.visible) invisible.push(`${info.tag} "${info.name.slice(0, 40)}"`);
  }
  const missing = want.filter((w) => !reached.has(w));
  t.check(!missing.length, `${what}: Tab never reached ${missing.join(', ')}`);
  invisible = [...new Set(invisible)];
  t.check(!invisible.length, `${what}: no visible focus on ${invisible.join(', ')}`);
  if (!missing.length && !invisible.length) log(`keyboard: ${what}: Tab reaches ${want.join(', ')} with visible focus`);
}

/* ---- screenshots, weight ------------------------------------------------------ */

// screenshots/<scenario>-<name>-1280.png and -375.png (full page).
export async function screenshot(t, page, name) {
  const size = page.viewportSize();
  const files = [];
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: width === 375 ? 812 : 900 });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const f = path.join(SHOTS, `${t.name}-${slug(name)}-${width}.png`);
    await page.screenshot({ path: f, fullPage: true });
    files.push(f);
  }
  await page.setViewportSize(size);
  return files;
}

// Checks that at 375 px the document does not scroll sideways.
export async function narrowCheck(t, page, what) {
  const size = page.viewportSize();
  await page.setViewportSize({ width: 375, height: 812 });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.setViewportSize(size);
  t.check(over <= 1, `${what}: at 375 px the page is ${over} px wider than the screen`);
}

// Starts counting the bytes of every response from now on.
export function weighFrom(page) {
  page.weight = { bytes: 0, count: 0, pending: [] };
}

// The bytes (decoded, before compression) of every response since
// weighFrom(), once their bodies are in.
export async function weight(page) {
  await withTimeout(Promise.all(page.weight.pending), 10000, 'response bodies');
  return { bytes: page.weight.bytes, count: page.weight.count };
}

/* ---- waiting for what the page shows ---------------------------------------- */

// Polls fn() (in Node) until it returns a truthy value, for up to ms.
export async function until(fn, ms, what) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not within ${ms} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

export async function stateOf(page) {
  return page.locator('#view .badge.state[data-state]').first().getAttribute('data-state', { timeout: WAIT_MS });
}

export async function waitState(page, states, ms = WAIT_MS) {
  const want = [].concat(states);
  const sel = want.map((s) => `#view .badge.state[data-state="${s}"]`).join(', ');
  try {
    await page.locator(sel).first().waitFor({ state: 'visible', timeout: ms });
  } catch {
    const now = await page.locator('#view .badge.state[data-state]').first().getAttribute('data-state', { timeout: 1000 }).catch(() => 'none');
    throw new Error(`${page.label}: the state badge never showed ${want.join(' or ')} within ${ms} ms (it shows ${now})`);
  }
  return stateOf(page);
}

// The open (topmost) <dialog>.
export function dialog(page) {
  return page.locator('dialog[open]').last();
}

/* ---- data through the API ----------------------------------------------------- */

// An API client with a cookie session (or none), for setting scenarios up.
export class Api {
  constructor(base = BASE) {
    this.base = base;
    this.cookie = null;
    this.csrf = null;
    this.user = null;
  }

  static async as(name) {
    const a = new Api();
    await a.login(email(name));
    return a;
  }

  async login(address, password = PASSWORD) {
    const r = await this.req('POST', '/session', { email: address, password }, { want: 200 });
    const set = r.headers.getSetCookie().find((c) => c.startsWith('cabinet_session='));
    if (!set) throw new Error('no session cookie');
    this.cookie = set.split(';')[0];
    this.csrf = r.data.csrf_token;
    this.user = r.data.user;
    return this;
  }

  // req(method, path, body, {want}): path under /api/v1. want: the status
  // expected (a number or a list); anything else throws with the problem.
  async req(method, p, body, { want, headers = {} } = {}) {
    const h = { Accept: 'application/json', ...headers };
    if (body !== undefined) h['Content-Type'] = 'application/json';
    if (this.cookie) h.Cookie = this.cookie;
    if (this.csrf && method !== 'GET') h['X-CSRF-Token'] = this.csrf;
    const res = await fetch(this.base + '/api/v1' + p, {
      method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20000),
    });
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = text; }
    const wanted = want === undefined ? null : [].concat(want);
    if (wanted && !wanted.includes(res.status))
      throw new Error(`${method} ${p}: ${res.status} (wanted ${wanted.join('/')}): ${text.slice(0, 800)}`);
    return { status: res.status, data, headers: res.headers };
  }

  get(p, o) { return this.req('GET', p, undefined, { want: 200, ...o }).then((r) => r.data); }
  post(p, body, o) { return this.req('POST', p, body, o).then((r) => r.data); }

  async service(name, { tier = 3, depends_on = [] } = {}) {
    return this.post('/services', { name, title: `Service ${name}`, tier, owner: 'team-web', depends_on }, { want: 201 });
  }

  // A draft: fields default to a complete low-impact change.
  async change(fields = {}) {
    const body = {
      title: 'A change', description: 'Made by a browser test.', model: 'normal', services: [],
      window: hoursAhead(72, 2), business_impact: 'low',
      implementation_plan: 'Deploy.', backout_plan: 'Roll back.', test_plan: 'Smoke test.',
      ...fields,
    };
    return this.post('/changes', body, { want: 201 });
  }

  async submit(ref) { return this.post(`/changes/${ref}/submit`, undefined, { want: 200 }); }

  // A fresh Ed25519 key registered for this user (Node's crypto); returns
  // a decide(ref, decision, comment) signing as DESIGN §3 says.
  async signer(label = 'test key') {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
    const key = await this.post('/me/keys', { public_key: raw.toString('base64'), label }, { want: 201 });
    return async (ref, decision, comment = '') => {
      const c = await this.get(`/changes/${ref}`);
      const signedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const statement = ['cabinet-approval-v1', c.ref, String(c.version), c.content_hash, decision, signedAt].join('\n');
      const signature = crypto.sign(null, Buffer.from(statement, 'utf8'), privateKey).toString('base64');
      return this.post(`/changes/${c.ref}/approvals`, { decision, comment, key_id: key.id, signed_at: signedAt, signature }, { want: 201 });
    };
  }
}

// A window starting `hours` from now (whole minutes), lasting `len` hours.
export function hoursAhead(hours, len = 2) {
  const start = new Date(Math.ceil((Date.now() + hours * 3600e3) / 60000) * 60000);
  const end = new Date(start.getTime() + len * 3600e3);
  const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { start: iso(start), end: iso(end) };
}

// The value a datetime-local input takes for an RFC 3339 time, in the
// browser's zone (the contexts run in UTC).
export function localInput(iso) {
  return iso.slice(0, 16);
}

export function unique(prefix) {
  return `${prefix}-${crypto.randomBytes(4).toString('hex')}`;
}
