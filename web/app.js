// Cabinet's web interface: log in, see and search changes.
const api = '/api/v1';
let csrf = null;
let next = null;

const $ = (id) => document.getElementById(id);

async function call(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  const res = await fetch(api + path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const type = res.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await res.json() : null;
  return { status: res.status, data };
}

function show(view) {
  for (const id of ['login-view', 'changes-view']) $(id).hidden = id !== view;
  const signedIn = view !== 'login-view';
  $('who').hidden = !signedIn;
  $('logout').hidden = !signedIn;
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function windowText(w) {
  if (!w) return '—';
  return `${w.start.replace('T', ' ').replace('Z', '')} – ${w.end.replace('T', ' ').replace('Z', '')}`;
}

async function loadChanges(append) {
  const params = new URLSearchParams();
  const q = $('q').value.trim();
  const state = $('state').value;
  if (q) params.set('q', q);
  if (state) params.set('state', state);
  if (append && next) params.set('cursor', next);
  const { status, data } = await call('GET', '/changes?' + params);
  if (status === 401) return start();
  const body = $('changes');
  if (!append) body.replaceChildren();
  for (const c of data.items) {
    const tr = document.createElement('tr');
    tr.append(cell(c.ref), cell(c.title), cell(c.state.replace('_', ' ')),
              cell(c.services.join(', ')), cell(windowText(c.window)));
    body.append(tr);
  }
  next = data.next_cursor;
  $('more').hidden = !next;
  $('changes-empty').hidden = body.children.length > 0;
}

async function start() {
  const config = await call('GET', '/config');
  if (config.data && config.data.support_contact) {
    $('support').textContent = 'Help: ' + config.data.support_contact;
  }
  const me = await call('GET', '/me');
  if (me.status !== 200) {
    csrf = null;
    show('login-view');
    $('email').focus();
    return;
  }
  csrf = me.data.csrf_token;
  $('who').textContent = me.data.user.name;
  show('changes-view');
  await loadChanges(false);
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const err = $('login-error');
  err.hidden = true;
  const { status, data } = await call('POST', '/session', {
    email: $('email').value, password: $('password').value,
  });
  if (status !== 200) {
    err.textContent = (data && data.detail) || 'Logging in failed.';
    err.hidden = false;
    return;
  }
  $('password').value = '';
  await start();
});

$('logout').addEventListener('click', async () => {
  await call('DELETE', '/session');
  csrf = null;
  show('login-view');
});

$('search-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  loadChanges(false);
});
$('more').addEventListener('click', () => loadChanges(true));

start();
