// Admin › Integrations: webhook links through which dev tools raise, start
// and complete changes.
import { api, h, navigate, notify, busy, fmtTime, fmtDuration, changeHref } from '../core.js';
import { head, back, link, td, tr, facts, table, fields, form, addHead, paged, danger, failed, confirmDo, onOff, secretPanel, snippet, servicesInput, serviceNames } from './admin.js';

let revealed = null; // the link and secret of the integration just made or rotated

export function render(view, id) { return id ? detail(view, id) : list(view); }

// Environment -> services rows.
function envs(all, map = {}) {
  const rows = h('div', { class: 'env-rows' });
  const add = (e = '', s = []) => {
    const name = h('input', { type: 'text', value: e, 'aria-label': 'Environment', placeholder: 'production' });
    const svc = servicesInput(all, s);
    svc.el.setAttribute('aria-label', `Services of the environment`);
    const row = h('div', { class: 'env-row' }, name, svc.el, svc.extra, h('button', { type: 'button', class: 'secondary', text: 'Remove', on: { click: () => row.remove() } }));
    row.get = () => [name.value.trim(), svc.value()];
    rows.append(row);
    return name;
  };
  Object.entries(map).forEach(([e, s]) => add(e, s));
  return { el: h('div', null, rows, h('button', { type: 'button', class: 'secondary', text: 'Add environment', on: { click: () => add().focus() } })),
    value: () => Object.fromEntries([...rows.children].map((r) => r.get()).filter(([e]) => e)) };
}

async function spec(it = {}) {
  const [all, m] = await Promise.all([serviceNames(), api('GET', '/models')]);
  return [['name', 'Name'], ['model', 'Default model', 'select', { options: (m.ok ? m.data.items : []).map((x) => [x.name, `${x.title} (${x.name})`]) }],
    ['services', 'Default services', 'svc', { all, hint: 'What a raised change touches when its environment names nothing.' }],
    ['environments', 'Environments', 'custom', { c: envs(all, it.environments), hint: 'Each deployment environment and the services it deploys to.' }],
    ['default_duration_s', 'Default duration (minutes)', 'num', { scale: 60, def: 60, hint: 'The window of a raised change that gives none: 1 to 10080 minutes.' }]];
}

async function list(view) {
  const f = fields([['kind', 'Kind', 'select', { options: [['generic', 'Generic (Standard Webhooks, any CI)'], ['github', 'GitHub deployments'], ['gitlab', 'GitLab deployments']] }], ...await spec()], { model: 'normal' });
  addHead(view, 'Integrations', 'Add integration', form('Add integration', f.nodes, 'Create integration', () => api('POST', '/integrations', { body: f.body() }),
    (r) => { revealed = r.data; navigate('/admin/integrations/' + r.data.id); }), f.first);
  view.append(h('p', { class: 'muted', text: 'A link lets GitHub, GitLab or a CI job raise a change, start and complete it, and wait at its gate.' }));
  const t = table('Integrations', ['Name', 'Kind', 'Status', 'Model?', 'Services?', 'Last delivery']);
  await paged(view, t, '/integrations', (it) => {
    const last = td('…');
    api('GET', `/integrations/${it.id}/deliveries?limit=1`).then((r) => {
      const d = r.ok && r.data.items[0];
      last.textContent = d ? `${fmtTime(d.received_at)} · ${d.event || '—'} · ${d.result}` : 'none yet';
    });
    return tr(link('#/admin/integrations/' + it.id, it.name), td(it.kind), td(onOff(it.enabled, 'enabled', 'disabled')), td(it.model, 1), td(it.services.join(', ') || '—', 1), last);
  }, 'No integrations yet.');
}

// What to paste where, with this link's values in.
function kit(kind, url, secret) {
  const q = (v) => `'${v}'`;
  if (kind === 'github') return [h('p', { text: 'In the repository: Settings › Webhooks › Add webhook, with the link as payload URL, content type application/json, the secret, and the events Deployments, Deployment statuses and Deployment protection rules. Or with the GitHub CLI (put in your OWNER/REPO):' }),
    snippet('GitHub CLI command', `gh api repos/OWNER/REPO/hooks -f name=web -F active=true \\\n  -f 'events[]=deployment' -f 'events[]=deployment_status' -f 'events[]=deployment_protection_rule' \\\n  -f config[url]=${q(url)} -f config[content_type]=json \\\n  -f config[secret]=${q(secret)}`)];
  if (kind === 'gitlab') return [h('p', { text: 'In the project: Settings › Webhooks › Add new webhook, with the link as URL, the secret as secret token, and the trigger Deployment events. Or through GitLab’s API (put in your host and GROUP%2FPROJECT):' }),
    snippet('GitLab API command', `curl -fsS -X POST -H "PRIVATE-TOKEN: $GITLAB_TOKEN" \\\n  "https://gitlab.example.com/api/v4/projects/GROUP%2FPROJECT/hooks" \\\n  --data-urlencode url=${q(url)} \\\n  --data-urlencode token=${q(secret)} \\\n  --data deployment_events=true --data push_events=false`)];
  const sign = (i, id) => [`id="${id}"`, 'ts=$(date +%s)', `key=$(printf '%s' "\${CABINET_HOOK_SECRET#whsec_}" | base64 -d | od -An -v -tx1 | tr -d ' \\n')`,
    `sig=$(printf '%s.%s.%s' "$id" "$ts" "$body" |\n${i}  openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64)`,
    `answer=$(curl -fsS "$CABINET_HOOK_URL" -H 'Content-Type: application/json' \\\n${i}  -H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" \\\n${i}  --data-binary "$body")`].join('\n' + i);
  const i10 = ' '.repeat(10), i6 = ' '.repeat(6);
  return [h('p', { text: 'Store the link and the secret as the CI secrets CABINET_HOOK_URL and CABINET_HOOK_SECRET; the job raises the change, then waits at its gate until it is approved and its window open.' }),
    snippet('GitHub Actions job', `jobs:\n  deploy:\n    runs-on: ubuntu-latest\n    environment: production\n    env:\n      CABINET_HOOK_URL: \${{ secrets.CABINET_HOOK_URL }}\n      CABINET_HOOK_SECRET: \${{ secrets.CABINET_HOOK_SECRET }}\n    steps:\n      - name: Raise the change in Cabinet\n        run: |\n${i10}body=$(printf '{"title":"Deploy %s %.12s","external_ref":"github:%s:production:%s"}' \\\n${i10}  "$GITHUB_REPOSITORY" "$GITHUB_SHA" "$GITHUB_REPOSITORY" "$GITHUB_SHA")\n${i10}${sign(i10, 'gh-$GITHUB_RUN_ID-$GITHUB_RUN_ATTEMPT')}\n${i10}echo "GATE_URL=$(printf '%s' "$answer" | jq -r .gate_url)" >> "$GITHUB_ENV"\n      - name: Wait until Cabinet allows the deployment\n        run: curl -f --retry 10 "$GATE_URL?wait=600"\n      - uses: actions/checkout@v4\n      - name: Deploy\n        run: ./deploy.sh`),
    snippet('GitLab CI job', `deploy:\n  stage: deploy\n  environment: production\n  image: alpine:3.20\n  before_script:\n    - apk add --no-cache curl openssl jq\n  script:\n    - |\n${i6}body=$(printf '{"title":"Deploy %s %.12s","external_ref":"gitlab:%s:%s:%s"}' \\\n${i6}  "$CI_PROJECT_PATH" "$CI_COMMIT_SHA" "$CI_PROJECT_PATH" "$CI_ENVIRONMENT_NAME" "$CI_COMMIT_SHA")\n${i6}${sign(i6, 'gl-$CI_JOB_ID')}\n${i6}GATE_URL=$(printf '%s' "$answer" | jq -r .gate_url)\n${i6}curl -f --retry 10 "$GATE_URL?wait=600"\n    - ./deploy.sh`),
    snippet('Shell (curl) with this link', `CABINET_HOOK_URL=${q(url)}\nCABINET_HOOK_SECRET=${q(secret)}\nbody='{"title":"Deploy by hand"}'\n${sign('', 'manual-$(date +%s)')}\necho "$answer"`)];
}

async function detail(view, id) {
  const r = await api('GET', '/integrations/' + encodeURIComponent(id));
  view.append(back('integrations', 'All integrations'));
  if (!r.ok) return view.append(h('h1', { text: 'Integration not found' }));
  const it = r.data, path = '/integrations/' + it.id, again = () => navigate('/admin' + path, true);
  const toggle = h('button', { type: 'button', class: 'secondary', text: it.enabled ? 'Disable' : 'Enable' });
  toggle.addEventListener('click', () => busy(toggle, async () => {
    const x = await api('PATCH', path, { body: { enabled: !it.enabled } });
    if (!x.ok) return failed(x);
    notify(it.enabled ? 'Disabled: the link now answers 404' : 'Enabled');
    again();
  }));
  view.append(it.deleted_at ? head(`Integration: ${it.name}`) : head(`Integration: ${it.name}`, toggle,
    danger('Delete integration', `Delete ${it.name}?`, 'The link stops working for good; its deliveries and the changes it raised stay.', 'DELETE', path, 'Integration deleted', '/admin/integrations')));
  if (revealed && revealed.id === it.id) view.append(secretPanel('Link and secret', [['Link', revealed.url], ['Secret', revealed.secret]], kit(it.kind, revealed.url, revealed.secret)));
  revealed = null;
  view.append(facts([['Kind', it.kind], ['Status', it.deleted_at ? `deleted ${fmtTime(it.deleted_at)}` : onOff(it.enabled, 'enabled', 'disabled')], ['Model', it.model],
    ['Services', it.services.join(', ') || '—'], ['Environments', Object.entries(it.environments).map(([e, s]) => `${e}: ${s.join(', ')}`).join('; ') || '—'],
    ['Default duration', fmtDuration(it.default_duration_s)],
    ['Secret rotated', it.rotated_at ? fmtTime(it.rotated_at) + (it.previous_link_until ? ` (the old link works until ${fmtTime(it.previous_link_until)})` : '') : 'never'],
    ['Created', `${fmtTime(it.created_at)} by ${it.created_by ? it.created_by.name : '—'}`]]));

  view.append(h('h2', { text: 'Deliveries' }));
  await paged(view, table('Deliveries received', ['Received', 'Event', 'Result', 'Reason?', 'Change']), path + '/deliveries', (d) => tr(fmtTime(d.received_at), td(d.event || '—'),
    td(h('span', { class: 'badge result', data: { result: d.result }, text: `${d.result} · ${d.status}` })),
    td(d.reason || (d.callback_url ? `callback ${d.callback_url}` : '—'), 1), td(d.change ? link(changeHref(d.change.ref), d.change.ref) : '—')), 'Nothing received yet.');
  if (it.deleted_at) return;
  const f = fields(await spec(it), it);
  view.append(form('Settings', f.nodes, 'Save changes', () => api('PATCH', path, { body: f.body() }), () => { notify('Saved'); again(); }));
  const g = fields([['grace_s', 'Grace period (minutes)', 'num', { scale: 60, def: 0, hint: 'How long the old link and secret keep working: 0 (they stop now) to 10080.' }]]);
  view.append(form('Rotate the secret', [h('p', { class: 'muted', text: 'Makes a new link and secret, shown once.' }), g.nodes], 'Rotate secret',
    async () => (await confirmDo('Rotate the secret?', 'The tool must then be given the new link and secret.', 'Rotate secret')) && api('POST', path + '/rotate', { body: g.body() }),
    (x) => { revealed = { ...x.data, id: it.id }; again(); }));
}
