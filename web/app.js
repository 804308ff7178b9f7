// Cabinet's web interface: the shell (header, login, routing). Each page is
// a module under js/views/ exporting render(view, params, query), loaded
// when first visited; render may return a function called on leaving.
import {
  api, session, h, navigate, currentPath, query, hasRole, field, formError, showProblem,
  problemView, setTitle, loading, poll, busy,
} from './js/core.js';

// [pattern, module, export, options]; patterns are matched in order and
// ':name' captures one path segment. public: shown before login.
const routes = [
  ['/login', null, 'login', { public: true }],
  ['/help', 'help', 'render', { public: true }],
  ['/changes', 'changes', 'render'],
  ['/changes/new', 'new-change', 'render'],
  ['/changes/:ref/edit', 'new-change', 'renderEdit'],
  ['/changes/:ref', 'change', 'render'],
  ['/agenda', 'agenda', 'render'],
  ['/conflicts', 'conflicts', 'render'],
  ['/keys', 'keys', 'render'],
  ['/schedule', 'schedule', 'render'],
  ['/dashboard', 'dashboard', 'render'],
  ['/me/activity', 'me', 'renderActivity'],
  ['/me/tokens', 'me', 'renderTokens'],
  ['/me/password', 'me', 'renderPassword'],
  ['/me/notifications', 'me', 'renderNotifications'],
  ['/admin', 'admin', 'render'],
  ['/admin/:section', 'admin', 'render'],
  ['/admin/:section/:id', 'admin', 'render'],
];

const view = document.getElementById('view');
let leave = null;
let renderSeq = 0;

function match(path) {
  const parts = path.split('/').filter(Boolean);
  for (const [pattern, mod, fn, opts] of routes) {
    const want = pattern.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    if (want.every((w, i) => (w.startsWith(':') ? ((params[w.slice(1)] = decodeURIComponent(parts[i])), true) : w === parts[i])))
      return { mod, fn, opts: opts || {}, params };
  }
  return null;
}

async function render() {
  const seq = ++renderSeq;
  if (leave) { try { leave(); } catch { /* a view's clean-up must not stop the next */ } leave = null; }
  let path = currentPath().split('?')[0];
  if (path === '/' || path === '') path = '/changes';
  const m = match(path);
  markNav(path);
  openMenu(false);
  if (!m) {
    setTitle('Not found');
    problemView(view, { title: 'No such page', detail: `Nothing lives at ${path}.` });
    view.setAttribute('aria-busy', 'false');
    return;
  }
  if (!m.opts.public && !session.me) {
    navigate('/login?next=' + encodeURIComponent(currentPath()), true);
    return;
  }
  view.replaceChildren(loading());
  view.setAttribute('aria-busy', 'true');
  try {
    let fn;
    if (m.mod === null) fn = renderLogin;
    else fn = (await import(`./js/views/${m.mod}.js`))[m.fn];
    if (seq !== renderSeq) return;
    view.replaceChildren();
    const cleanup = await fn(view, m.params, query());
    if (seq !== renderSeq) { if (typeof cleanup === 'function') cleanup(); return; }
    if (typeof cleanup === 'function') leave = cleanup;
    // Tests and the browser benchmark wait for this: the page is drawn with its data.
    view.setAttribute('aria-busy', 'false');
    view.dataset.rendered = path;
    performance.mark('cabinet:rendered', { detail: path });
    const h1 = view.querySelector('h1');
    if (h1 && !document.title.startsWith(h1.textContent)) setTitle(h1.textContent);
    if (document.activeElement === document.body || !view.contains(document.activeElement)) view.focus({ preventScroll: true });
  } catch (err) {
    if (seq !== renderSeq) return;
    console.error(err);
    problemView(view, { title: 'This page could not be shown', detail: String(err.message || err) });
    view.setAttribute('aria-busy', 'false');
  }
}

function markNav(path) {
  for (const a of document.querySelectorAll('#nav a, #account a')) {
    const target = a.getAttribute('href').slice(1);
    const here = target === path || (target !== '/changes' && path.startsWith(target + '/')) ||
      (target === '/changes' && path.startsWith('/changes/') && path !== '/changes/new');
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function renderLogin(v, params, q) {
  setTitle('Log in');
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', text: 'Log in' });
  const form = h('form', { class: 'card narrow', novalidate: true },
    h('h1', { text: 'Log in' }),
    field('E-mail address', email, { field: 'email' }),
    field('Password', password, { field: 'password' }),
    formError(), submit,
    h('p', { class: 'muted' }, 'New here? Read ', h('a', { href: '#/help', text: 'the guide' }), '.'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(submit, async () => {
      const r = await api('POST', '/session', { body: { email: email.value, password: password.value } });
      if (r.status !== 200) {
        if (r.status === 401 && r.problem) r.problem.detail = r.problem.detail || 'The e-mail address or password is wrong.';
        showProblem(form, r.problem);
        return;
      }
      await signedIn(r.data.user, r.data.csrf_token);
      const next = q.next && q.next.startsWith('/') && !q.next.startsWith('/login') ? q.next : '/changes';
      navigate(next, true);
    });
  });
  v.append(form);
  email.focus();
}

let stopBadge = null;

async function refreshBadge() {
  const r = await api('GET', '/me/queue?limit=1', { quiet401: true });
  if (!r.ok || !r.data) return;
  const n = r.data.count || 0;
  for (const badge of [document.getElementById('queue-badge'), document.getElementById('menu-count')]) {
    badge.hidden = n === 0;
    badge.textContent = String(n);
    badge.setAttribute('aria-label', `${n} awaiting your decision`);
  }
}

// On a phone the main navigation folds behind the Menu button.
const bar = document.querySelector('.bar');
const menu = document.getElementById('menu');
function openMenu(open) {
  bar.classList.toggle('open', open);
  menu.setAttribute('aria-expanded', String(open));
}
menu.addEventListener('click', () => openMenu(menu.getAttribute('aria-expanded') !== 'true'));
bar.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && bar.classList.contains('open')) { openMenu(false); menu.focus(); }
});

async function signedIn(user, csrf) {
  hint(true);
  session.me = user;
  session.csrf = csrf;
  document.getElementById('who').textContent = user.name;
  for (const li of document.querySelectorAll('#nav [data-roles]'))
    li.hidden = !hasRole(...li.dataset.roles.split(' '));
  document.getElementById('nav').hidden = false;
  menu.hidden = false;
  document.getElementById('account').hidden = false;
  document.getElementById('help-public').hidden = true;
  if (stopBadge) stopBadge();
  refreshBadge();
  stopBadge = poll(refreshBadge, 30000);
}

function signedOut() {
  hint(false);
  session.me = null;
  session.csrf = null;
  if (stopBadge) { stopBadge(); stopBadge = null; }
  document.getElementById('nav').hidden = true;
  menu.hidden = true;
  openMenu(false);
  document.getElementById('account').hidden = true;
  document.getElementById('help-public').hidden = false;
}

// Other views call this after a decision so the header count follows at once.
window.addEventListener('cabinet:queue', refreshBadge);
// The session ended (expired, or signed out elsewhere): the header follows.
window.addEventListener('cabinet:signed-out', () => signedOut());

document.getElementById('logout').addEventListener('click', async () => {
  await api('DELETE', '/session');
  signedOut();
  document.getElementById('account').open = false;
  navigate('/login', true);
});

// Closing the account menu after choosing from it.
document.getElementById('account').addEventListener('click', (ev) => {
  if (ev.target.closest('a')) ev.currentTarget.open = false;
});

// Whether this browser signed in last time. The session cookie is HttpOnly,
// so on a public page (login, help) this hint spares a GET /me that can
// only answer 401; any other page asks the server.
const HINT = 'cabinet:signed-in';
function hint(on) {
  try { if (on) localStorage.setItem(HINT, '1'); else localStorage.removeItem(HINT); } catch { /* no storage: always ask */ }
}
function hinted() {
  try { return localStorage.getItem(HINT) === '1'; } catch { return true; }
}

async function boot() {
  const first = currentPath().split('?')[0];
  const m = match(first === '/' || first === '' ? '/changes' : first);
  // The page's module loads while the session is asked for, not after.
  if (m && m.mod) import(`./js/views/${m.mod}.js`).catch(() => { /* render() reports it */ });
  const ask = !(m && m.opts.public) || hinted();
  const [config, me] = await Promise.all([api('GET', '/config'), ask ? api('GET', '/me', { quiet401: true }) : { status: 401 }]);
  session.config = config.data || { product: 'Cabinet' };
  document.getElementById('product').textContent = session.config.product || 'Cabinet';
  if (session.config.support_contact)
    document.getElementById('support').textContent = `Support: ${session.config.support_contact}`;
  if (me.status === 200) await signedIn(me.data.user, me.data.csrf_token);
  else signedOut();
  window.addEventListener('hashchange', render);
  window.addEventListener('cabinet:navigate', render);
  await render();
}

boot();
