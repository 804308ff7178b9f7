// Admin › Integrations: webhook links for dev tools.
import { api, h, navigate, notify, busy, fmtTime, changeHref } from '../core.js';
import { head, link, td, tr, facts, table, fields, form, addPage, edit, paged, danger, failed, confirmDo, onOff, secretPanel, snippet, note, badge, btn, load } from './admin.js';

let revealed = null; // the link and secret just made or rotated

export function render(view, id) { return id ? detail(view, id) : list(view); }

// Lines "production: payments, ledger" <-> {production: [...]}.
function envs(map = {}) {
  const el = h('textarea', { rows: 3, placeholder: 'production: payments, ledger', text: Object.entries(map).map(([e, v]) => `${e}: ${v.join(', ')}`).join('\n') });
  return { el, value: () => Object.fromEntries(el.value.split('\n').filter((l) => l.trim()).map((l) => {
    const [e, v = ''] = l.split(/:(.*)/);
    return [e.trim(), v.split(/[\s,]+/).filter(Boolean)];
  })) };
}

async function spec(it = {}) {
  const m = await api('GET', '/models');
  return [['name', 'Name'], ['model', 'Default model', 'select', { def: 'normal', options: (m.ok ? m.data.items : []).map((x) => [x.name, `${x.title} (${x.name})`]) }],
    ['services', 'Default services', 'svc', { hint: 'Service names, separated by commas.' }],
    ['environments', 'Environments', 'custom', { c: envs(it.environments), hint: 'A line per deployment environment: its name, a colon, its services.' }],
    ['default_duration_s', 'Default duration (minutes)', 'num', { scale: 60, def: 60, hint: 'For a change raised without a window.' }]];
}

async function list(view) {
  addPage(view, 'Integrations', 'integration', [['kind', 'Kind', 'select', { options: [['generic', 'Generic (any CI)'], ['github', 'GitHub deployments'], ['gitlab', 'GitLab deployments']] }], ...await spec()],
    '/integrations', (r) => { revealed = r.data; navigate('/admin/integrations/' + r.data.id); });
  const t = table(['Name', 'Kind', 'Status', 'Services?', 'Last delivery']);
  await paged(view, t, '/integrations', (it) => {
    const d = it.last_delivery;
    return tr(link('#/admin/integrations/' + it.id, it.name), td(it.kind), td(onOff(it.enabled, 'enabled', 'disabled')), td(it.services.join(', ') || '—', 1),
      td(d ? [fmtTime(d.received_at), ' · ', d.event || '—', ' ', badge('result', 'result', d.result, d.result), d.change ? [' · ', link(changeHref(d.change.ref), d.change.ref)] : null] : 'none yet'));
  }, 'No integrations yet.');
}

// What to paste where, with this link's values in.
function kit(kind, url, secret) {
  if (kind === 'github') return note('In the repository, Settings › Webhooks › Add webhook: the link as payload URL, content type application/json, the secret, and the events Deployments, Deployment statuses and Deployment protection rules.', '');
  if (kind === 'gitlab') return note('In the project, Settings › Webhooks › Add new webhook: the link as URL, the secret as secret token, and the trigger Deployment events.', '');
  const sign = (i, id) => [`id="${id}"`, 'ts=$(date +%s)', `key=$(printf '%s' "\${CABINET_HOOK_SECRET#whsec_}" | base64 -d | od -An -v -tx1 | tr -d ' \\n')`,
    `sig=$(printf '%s.%s.%s' "$id" "$ts" "$body" |\n${i}  openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64)`,
    `answer=$(curl -fsS "$CABINET_HOOK_URL" -H 'Content-Type: application/json' \\\n${i}  -H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" \\\n${i}  --data-binary "$body")`].join('\n' + i);
  const i10 = ' '.repeat(10), i6 = ' '.repeat(6);
  return [note('Store them as the CI secrets CABINET_HOOK_URL and CABINET_HOOK_SECRET.', ''),
    snippet('GitHub Actions job', `jobs:\n  deploy:\n    runs-on: ubuntu-latest\n    environment: production\n    env:\n      CABINET_HOOK_URL: \${{ secrets.CABINET_HOOK_URL }}\n      CABINET_HOOK_SECRET: \${{ secrets.CABINET_HOOK_SECRET }}\n    steps:\n      - name: Raise the change in Cabinet\n        run: |\n${i10}body=$(printf '{"title":"Deploy %s %.12s","external_ref":"github:%s:production:%s"}' \\\n${i10}  "$GITHUB_REPOSITORY" "$GITHUB_SHA" "$GITHUB_REPOSITORY" "$GITHUB_SHA")\n${i10}${sign(i10, 'gh-$GITHUB_RUN_ID-$GITHUB_RUN_ATTEMPT')}\n${i10}echo "GATE_URL=$(printf '%s' "$answer" | jq -r .gate_url)" >> "$GITHUB_ENV"\n      - name: Wait until Cabinet allows the deployment\n        run: curl -f --retry 10 "$GATE_URL?wait=600"\n      - uses: actions/checkout@v4\n      - name: Deploy\n        run: ./deploy.sh`),
    snippet('GitLab CI job', `deploy:\n  stage: deploy\n  environment: production\n  image: alpine:3.20\n  before_script:\n    - apk add --no-cache curl openssl jq\n  script:\n    - |\n${i6}body=$(printf '{"title":"Deploy %s %.12s","external_ref":"gitlab:%s:%s:%s"}' \\\n${i6}  "$CI_PROJECT_PATH" "$CI_COMMIT_SHA" "$CI_PROJECT_PATH" "$CI_ENVIRONMENT_NAME" "$CI_COMMIT_SHA")\n${i6}${sign(i6, 'gl-$CI_JOB_ID')}\n${i6}GATE_URL=$(printf '%s' "$answer" | jq -r .gate_url)\n${i6}curl -f --retry 10 "$GATE_URL?wait=600"\n    - ./deploy.sh`),
    snippet('Shell (curl) with this link', `CABINET_HOOK_URL='${url}'\nCABINET_HOOK_SECRET='${secret}'\nbody='{"title":"Deploy by hand"}'\n${sign('', 'manual-$(date +%s)')}\necho "$answer"`)];
}

async function detail(view, id) {
  const it = await load(view, 'integrations', '/integrations/' + encodeURIComponent(id), 'Integration');
  if (!it) return;
  const path = '/integrations/' + it.id, again = () => navigate('/admin' + path, true);
  const toggle = btn(it.enabled ? 'Disable' : 'Enable', 'secondary', () => busy(toggle, async () => {
    const x = await api('PATCH', path, { body: { enabled: !it.enabled } });
    if (!x.ok) return failed(x);
    notify(it.enabled ? 'Disabled' : 'Enabled');
    again();
  }));
  view.append(head(`Integration: ${it.name}`, !it.deleted_at && [toggle,
    danger('Delete integration', `Delete ${it.name}?`, 'The link stops working for good.', path, 'Integration deleted', '/admin/integrations')]));
  if (revealed && revealed.id === it.id) view.append(secretPanel('Link and secret', [['Link', revealed.url], ['Secret', revealed.secret]], kit(it.kind, revealed.url, revealed.secret)));
  revealed = null;
  view.append(facts([['Kind', it.kind], ['Status', it.deleted_at ? `deleted ${fmtTime(it.deleted_at)}` : onOff(it.enabled, 'enabled', 'disabled')],
    ['Secret rotated', it.rotated_at ? fmtTime(it.rotated_at) + (it.previous_link_until ? `; the old one works until ${fmtTime(it.previous_link_until)}` : '') : 'never'],
    ['Created by', it.created_by.name]]));

  view.append(h('h2', { text: 'Deliveries' }));
  await paged(view, table(['Received', 'Event', 'Result', 'Reason?', 'Change']), path + '/deliveries', (d) => tr(fmtTime(d.received_at), td(d.event || '—'),
    td(badge('result', 'result', d.result, `${d.result} · ${d.status}`)),
    td(d.reason || (d.callback_url ? `callback ${d.callback_url}` : '—'), 1), td(d.change ? link(changeHref(d.change.ref), d.change.ref) : '—')), 'Nothing received yet.');
  if (it.deleted_at) return;
  view.append(edit('Settings', await spec(it), it, path));
  const g = fields([['grace_s', 'Grace period (minutes)', 'num', { scale: 60, def: 0, hint: 'How long the old link keeps working.' }]]);
  view.append(form('Rotate the secret', g.nodes, 'Rotate secret',
    async () => (await confirmDo('Rotate the secret?', 'The tool then needs the new link and secret.', 'Rotate secret')) && api('POST', path + '/rotate', { body: g.body() }),
    (x) => { revealed = { ...x.data, id: it.id }; again(); }));
}
