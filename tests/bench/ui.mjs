// The browser half of tests/bench/ui.py: logs in as cab1, then loads each
// view BENCH_UI_LOADS times as a fresh document with the cache off (cold),
// and as many with the browser's cache (warm), taking navigation start →
// the shell's 'cabinet:rendered' mark (its detail is the path drawn) and →
// DOMContentLoaded. Prints progress, then one JSON line:
// {chromium, views: [{name, path, cold: {ms, dcl}, warm: {ms, dcl}, bytes, responses}]}.
import { chromium } from 'playwright-core';
import { Api, BASE, CHROMIUM, CHROMIUM_ARGS, email, login, withTimeout } from '../browser/lib.mjs';

const LOADS = Number(process.env.BENCH_UI_LOADS || 20);

async function main() {
  const cab = await Api.as('cab1');
  const awaiting = await cab.get('/changes?state=awaiting_approval&limit=1');
  const ref = awaiting.items.length ? awaiting.items[0].ref : (await cab.get('/changes?limit=1')).items[0].ref;
  const views = [
    ['list', '/changes'], ['change', `/changes/${ref}`], ['agenda', '/agenda'], ['schedule', '/schedule'],
  ];
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30000 });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
  context.setDefaultTimeout(30000);
  const page = await context.newPage();
  page.label = 'cab1';
  page.base = BASE;
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await login(page, email('cab1'));
  let bytes = 0;
  let responses = 0;
  const pending = [];
  page.on('response', (r) => { pending.push(r.body().then((b) => { bytes += b.length; responses++; }, () => {})); });
  // one load: a fresh document; navigation start → the mark, and → the
  // end of DOMContentLoaded (the shell's scripts are in by then)
  const load = async (path) => {
    await page.goto('about:blank');
    await Promise.all(pending.splice(0));
    bytes = 0;
    responses = 0;
    await page.goto(`${BASE}/#${path}`, { waitUntil: 'commit' });
    return page.waitForFunction((p) => {
      const m = performance.getEntriesByName('cabinet:rendered').find((e) => e.detail === p);
      const nav = performance.getEntriesByType('navigation')[0];
      return m ? { ms: m.startTime, dcl: nav ? nav.domContentLoadedEventEnd : null } : null;
    }, path, { timeout: 30000, polling: 10 }).then((hd) => hd.jsonValue());
  };
  const out = [];
  for (const [name, path] of views) {
    const series = {};
    let weight = null;
    // cold: nothing cached; warm: the browser's cache as the first load left it
    for (const mode of ['cold', 'warm']) {
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: mode === 'cold' });
      if (mode === 'warm') await load(path);
      const ms = [];
      const dcl = [];
      for (let i = 0; i < LOADS; i++) {
        const r = await load(path);
        ms.push(r.ms);
        dcl.push(r.dcl);
        if (mode === 'cold' && i === 0) {
          await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
          await withTimeout(Promise.all(pending.splice(0)), 10000, 'response bodies');
          weight = { bytes, responses };
        }
      }
      series[mode] = { ms, dcl };
      const sorted = [...ms].sort((a, b) => a - b);
      console.log(`${name.padEnd(9)} ${path.padEnd(22)} ${mode} median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms`);
    }
    out.push({ name, path, ...series, ...weight });
  }
  const version = browser.version();
  await browser.close();
  if (errors.length) throw new Error(`the pages threw: ${errors.slice(0, 5).join('; ')}`);
  console.log(JSON.stringify({ chromium: `Chromium ${version}`, views: out }));
}

withTimeout(main(), 600000, 'the ui benchmark').then(() => process.exit(0), (e) => { console.error(e.stack || String(e)); process.exit(1); });
