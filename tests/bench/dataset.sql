-- The benchmark's data set (tests/bench/scale.py runs it, step by step: each
-- "-- step: NAME" line starts a statement group run and timed on its own).
-- @N@ changes in all over three years ending two weeks ahead: @H@ of history
-- (closed, in review, cancelled, rejected), and in the coming two weeks @A@
-- active (awaiting_approval, approved, in_progress), @D@ drafts and @X@
-- cancelled. 2,000 services in 10 levels of 200, each depending on ~5 of the
-- level below. Every table a change fills is filled in its realistic share;
-- what is a placeholder is said where it is made.

-- step: services
SELECT setseed(0.31);
INSERT INTO services (name, title, tier, owner, description)
SELECT 's' || l || '-' || lpad(i::text, 3, '0'),
       (ARRAY['Network', 'Storage', 'Database', 'Messaging', 'Platform', 'Identity', 'Payments',
              'Catalog', 'Frontend', 'Mobile'])[l + 1] || ' '
       || (ARRAY['core', 'edge', 'api', 'worker', 'gateway', 'cache', 'search', 'billing',
                 'reports', 'sync'])[1 + i % 10] || ' ' || i,
       CASE WHEN l = 0 THEN 1 WHEN l <= 2 THEN 2 WHEN l <= 5 THEN 3 ELSE 4 END,
       'team-' || (l * 20 + i / 10), 'Service ' || i || ' of level ' || l
FROM generate_series(0, 9) l, generate_series(0, 199) i;
-- each service of levels 1-9 depends on ~5 services of the level below
INSERT INTO service_deps (service, depends_on)
SELECT DISTINCT 's' || l || '-' || lpad(i::text, 3, '0'),
       's' || (l - 1) || '-' || lpad(floor(random() * 200)::int::text, 3, '0')
FROM generate_series(1, 9) l, generate_series(0, 199) i, generate_series(1, 5) k
ON CONFLICT DO NOTHING;
-- each service's impact set, once (assessments copy it)
CREATE UNLOGGED TABLE bench_impact AS
SELECT s.name::text AS service,
       ARRAY(SELECT i.name FROM impact_set(ARRAY[s.name::text]) i ORDER BY i.name) AS names
FROM services s;
ALTER TABLE bench_impact ADD PRIMARY KEY (service);

-- step: people
-- requesters who never log in (their password hash is a placeholder), with
-- API tokens; the approvers' keys of the history (placeholder public keys)
INSERT INTO users (email, name, password_hash, created_at)
SELECT 'req' || i || '@bench.test', 'Requester ' || i, 'bench-no-login',
       now() - interval '4 years'
FROM generate_series(1, 200) i;
INSERT INTO api_tokens (user_id, name, token_hash, created_at, last_used_at)
SELECT u.id, 'ci ' || k, sha256(convert_to('bench-token-' || u.id || '-' || k, 'UTF8')),
       now() - interval '1 year', now() - interval '1 day'
FROM users u, generate_series(1, 2) k WHERE u.email LIKE 'req%@bench.test';
INSERT INTO user_keys (user_id, public_key, label, created_at)
SELECT u.id, encode(decode(md5('k' || u.id) || md5('K' || u.id), 'hex'), 'base64'),
       'history key', now() - interval '4 years'
FROM users u WHERE u.roles && ARRAY['cab', 'ecab', 'manager'];
-- approver k of a change: cab users 1-3, then the manager; emergency: ecab
CREATE UNLOGGED TABLE bench_approver AS
SELECT row_number() OVER (ORDER BY 'ecab' = ANY (u.roles), 'manager' = ANY (u.roles), u.id) AS k,
       u.id AS uid, min(k.id) AS kid, 'ecab' = ANY (u.roles) AS ecab
FROM users u JOIN user_keys k ON k.user_id = u.id
WHERE u.name IN ('Cab1', 'Cab2', 'Cab3', 'Manager', 'Ecab')
GROUP BY u.id, u.roles;

-- step: plan
-- one row per change with everything drawn at random; ids follow the windows
CREATE UNLOGGED TABLE bench_plan AS
WITH req AS (SELECT array_agg(id ORDER BY id) AS ids FROM users WHERE email LIKE 'req%@bench.test'),
hist AS (
    SELECT g AS n, 'h' AS kind,
           now() - interval '1081 days'
           + (g - 1 + random()) * ((interval '1081 days' - interval '6 hours') / @H@) AS start
    FROM generate_series(1, @H@) g),
fut AS (
    SELECT g AS n, CASE WHEN g <= @A@ THEN 'a' WHEN g <= @A@ + @D@ THEN 'd' ELSE 'x' END AS kind,
           now() + interval '1 hour' + random() * (interval '14 days' - interval '6 hours') AS start
    FROM generate_series(1, @A@ + @D@ + @X@) g),
drawn AS (
    SELECT row_number() OVER (ORDER BY a.start, a.kind, a.n) AS id, a.kind, a.start,
           random() AS r_state, random() AS r_model, random() AS r_level, random() AS r_dur,
           random() AS r_svc, random() AS r_ver, random() AS r_out, random() AS r_misc,
           random() AS r_word
    FROM (SELECT * FROM hist UNION ALL SELECT * FROM fut) a),
s1 AS (
    SELECT d.*,
           CASE d.kind
               WHEN 'h' THEN CASE WHEN d.r_state < 0.85 THEN 'closed'
                                  WHEN d.r_state < 0.93 THEN 'cancelled'
                                  WHEN d.r_state < 0.97 THEN 'rejected'
                                  WHEN d.start > now() - interval '30 days' THEN 'review'
                                  ELSE 'closed' END
               WHEN 'a' THEN CASE WHEN d.r_state < 0.40 THEN 'awaiting_approval'
                                  WHEN d.r_state < 0.95 THEN 'approved'
                                  ELSE 'in_progress' END
               WHEN 'd' THEN 'draft'
               ELSE 'cancelled' END AS state,
           CASE WHEN d.r_model < 0.15 THEN 'standard' WHEN d.r_model < 0.18 THEN 'emergency'
                ELSE 'normal' END AS model,
           CASE WHEN d.r_level < 0.45 THEN 'low' WHEN d.r_level < 0.80 THEN 'medium'
                WHEN d.r_level < 0.95 THEN 'high' ELSE 'critical' END AS level,
           CASE WHEN d.r_svc < 0.75 THEN 1 WHEN d.r_svc < 0.95 THEN 2 ELSE 3 END AS nsvc
    FROM drawn d),
s2 AS (
    SELECT s.*,
           s.state <> 'draft' AND NOT (s.state = 'cancelled' AND s.r_misc < 0.3) AS submitted,
           date_trunc('minute', CASE WHEN s.state = 'in_progress'
                                     THEN now() - s.r_dur * interval '1 hour'
                                     ELSE s.start END) AS ws,
           CASE WHEN s.model = 'emergency' THEN 1
                WHEN s.model = 'standard' AND s.level = 'low' THEN 0
                ELSE (ARRAY[1, 2, 3, 4])[CASE s.level WHEN 'low' THEN 1 WHEN 'medium' THEN 2
                                         WHEN 'high' THEN 3 ELSE 4 END] END AS needed,
           ARRAY(SELECT DISTINCT 's' || (k / 200) || '-' || lpad((k % 200)::text, 3, '0')
                 FROM (SELECT floor(random() * 2000)::int + 0 * s.nsvc AS k
                       FROM generate_series(1, s.nsvc)) x) AS services
    FROM s1 s)
SELECT s.id, s.kind, s.state, s.model, s.level, s.submitted, s.services,
       tstzrange(s.ws, s.ws + (1 + floor(s.r_dur * 4)) * interval '1 hour') AS win,
       CASE s.level WHEN 'low' THEN 5 + floor(s.r_level * 30)::int
                    WHEN 'medium' THEN 25 + floor(s.r_level * 20)::int
                    WHEN 'high' THEN 45 + floor(s.r_level * 20)::int
                    ELSE 70 + floor(s.r_level * 20)::int END AS score,
       s.needed,
       CASE WHEN NOT s.submitted THEN NULL
            WHEN s.state IN ('approved', 'in_progress', 'review', 'closed') THEN s.needed
            WHEN s.state = 'awaiting_approval' THEN floor(s.r_misc * s.needed)::int
            ELSE 0 END AS have,
       CASE WHEN s.r_ver < 0.1 THEN 2 ELSE 1 END AS version,
       CASE WHEN s.state IN ('review', 'closed') THEN
            CASE WHEN s.r_out < 0.93 THEN 'successful' WHEN s.r_out < 0.97 THEN 'failed'
                 ELSE 'rolled_back' END END AS outcome,
       (ARRAY['low', 'medium', 'high'])[1 + floor(s.r_out * 3)::int] AS business_impact,
       (SELECT ids FROM req)[1 + floor(s.r_misc * 200)::int] AS requester,
       (ARRAY['Upgrade', 'Patch', 'Migrate', 'Restart', 'Reconfigure', 'Roll out', 'Replace',
              'Scale out', 'Rotate certificates on', 'Decommission node of', 'Tune',
              'Failover test of'])[1 + floor(s.r_word * 12)::int]
       || ' ' || s.services[1] || ' ('
       || (ARRAY['kernel', 'firmware', 'tls', 'schema', 'pool', 'release', 'os', 'capacity',
                 'config', 'balancer', 'backup', 'logging'])[1 + floor(s.r_dur * 12)::int]
       || ') #' || (s.id % 997) AS title,
       'Planned work on ' || s.services[1] || ': '
       || (ARRAY['kernel security patches', 'firmware update', 'TLS certificate renewal',
                 'schema migration adding an index', 'connection pool resize',
                 'blue-green deployment', 'OS minor upgrade', 'capacity increase',
                 'config drift cleanup', 'load balancer rules', 'backup agent upgrade',
                 'logging pipeline change'])[1 + floor(s.r_level * 12)::int]
       || '; ' || (ARRAY['no downtime expected', 'brief failover', 'read-only for minutes',
                         'rolling restart', 'needs a maintenance page'])[1 + floor(s.r_model * 5)::int]
       || '.' AS description,
       least(now() - interval '6 hours', s.ws - (1 + s.r_misc * 9) * interval '1 day')
           AS created_at
FROM s2 s;
ALTER TABLE bench_plan ADD PRIMARY KEY (id);

-- step: changes
SET work_mem = '256MB';
INSERT INTO changes (id, title, description, model, state, version, rev, win, business_impact,
                     implementation_plan, backout_plan, test_plan, requester_id, source, outcome,
                     content_hash, gate_token, cancel_reason, completion_notes, review, policy,
                     approvals_needed, approvals_have, created_at, updated_at, submitted_at,
                     approved_at, started_at, completed_at, closed_at)
SELECT p.id, p.title, p.description, p.model, p.state, p.version, 1 + p.version * 3, p.win,
       p.business_impact, 'deploy with the standard runbook', 'roll back the release',
       'smoke tests', p.requester, 'api', p.outcome,
       -- a placeholder: the hash of the content is not recomputed here
       encode(sha256(convert_to('bench-content-' || p.id || '-' || p.version, 'UTF8')), 'hex'),
       'gt_bench_' || md5(p.id::text),
       CASE WHEN p.state = 'cancelled' THEN 'no longer needed' END,
       CASE WHEN p.outcome IS NOT NULL THEN 'done: ' || p.outcome END,
       CASE WHEN p.state = 'closed' THEN 'reviewed, nothing to add' END,
       CASE WHEN p.submitted THEN jsonb_build_object('level', p.level, 'quotas',
            CASE WHEN p.model = 'emergency' THEN '[{"role":"ecab","count":1}]'::jsonb
                 WHEN p.needed = 0 THEN '[]'::jsonb
                 WHEN p.needed = 4 THEN '[{"role":"cab","count":3},{"role":"manager","count":1}]'::jsonb
                 ELSE jsonb_build_array(jsonb_build_object('role', 'cab', 'count', p.needed)) END) END,
       CASE WHEN p.submitted THEN p.needed END, p.have,
       p.created_at,
       least(now() - interval '1 minute',
             greatest(p.created_at, CASE WHEN p.kind = 'h' THEN upper(p.win) + interval '1 day'
                                         ELSE p.created_at + interval '3 hours' END)),
       CASE WHEN p.submitted THEN p.created_at + interval '2 hours' END,
       CASE WHEN p.state IN ('approved', 'in_progress', 'review', 'closed')
            THEN p.created_at + interval '3 hours' END,
       CASE WHEN p.state IN ('in_progress', 'review', 'closed') THEN lower(p.win) END,
       CASE WHEN p.state IN ('review', 'closed') THEN upper(p.win) END,
       CASE WHEN p.state = 'closed'
            THEN least(now() - interval '1 minute', upper(p.win) + interval '1 day') END
FROM bench_plan p ORDER BY p.id;
SELECT setval(pg_get_serial_sequence('changes', 'id'), (SELECT max(id) FROM changes));
INSERT INTO change_services (change_id, service)
SELECT p.id, unnest(p.services) FROM bench_plan p;
INSERT INTO change_versions (change_id, version, content, content_hash, created_at)
SELECT p.id, v,
       jsonb_build_object('title', p.title, 'description', p.description, 'model', p.model,
                          'services', to_jsonb(p.services),
                          'window', jsonb_build_object('start', cab_ts(lower(p.win)),
                                                       'end', cab_ts(upper(p.win))),
                          'business_impact', p.business_impact,
                          'implementation_plan', 'deploy with the standard runbook',
                          'backout_plan', 'roll back the release', 'test_plan', 'smoke tests'),
       encode(sha256(convert_to('bench-content-' || p.id || '-' || v, 'UTF8')), 'hex'),
       p.created_at + (v - 1) * interval '1 hour'
FROM bench_plan p, generate_series(1, p.version) v;

-- step: assessments
-- the impact set stored is that of the change's first service
INSERT INTO assessments (change_id, version, score, level, reasons, impact_set, created_at)
SELECT p.id, p.version, p.score, p.level,
       jsonb_build_array(
           jsonb_build_object('factor', 'tier', 'points', p.score / 2,
                              'detail', 'touches ' || p.services[1]),
           jsonb_build_object('factor', 'impact', 'points', p.score - p.score / 2,
                              'detail', cardinality(bi.names) || ' services affected')),
       bi.names, p.created_at + interval '2 hours'
FROM bench_plan p JOIN bench_impact bi ON bi.service = p.services[1]
WHERE p.submitted;

-- step: approvals
-- statements as signed; the signatures are placeholders (never verified here)
INSERT INTO approvals (change_id, approver_id, key_id, decision, comment, version, content_hash,
                       signed_at, statement, signature, policy, created_at)
SELECT p.id, a.uid, a.kid, d.decision, 'looks fine', p.version, c.content_hash,
       cab_ts(p.created_at + interval '2 hours' + g.j * interval '10 minutes'),
       'cabinet-approval-v1' || E'\n' || 'CHG-' || p.id || E'\n' || p.version || E'\n'
       || c.content_hash || E'\n' || d.decision || E'\n'
       || cab_ts(p.created_at + interval '2 hours' + g.j * interval '10 minutes'),
       replace(encode(decode(md5('s1' || p.id || g.j) || md5('s2' || p.id || g.j)
                             || md5('s3' || p.id || g.j) || md5('s4' || p.id || g.j), 'hex'),
                      'base64'), E'\n', ''),
       jsonb_build_object('roles', CASE WHEN a.ecab THEN '["ecab"]'::jsonb
                                        WHEN a.k = 4 THEN '["manager"]'::jsonb
                                        ELSE '["cab"]'::jsonb END),
       p.created_at + interval '2 hours' + g.j * interval '10 minutes'
FROM bench_plan p JOIN changes c ON c.id = p.id
CROSS JOIN LATERAL (SELECT CASE WHEN p.state = 'rejected' THEN 'reject' ELSE 'approve' END
                           AS decision,
                           CASE WHEN p.state = 'rejected' THEN 1 ELSE p.have END AS n) d
CROSS JOIN LATERAL generate_series(1, d.n) AS g(j)
JOIN bench_approver a ON (p.model = 'emergency' AND a.ecab)
                      OR (p.model <> 'emergency' AND NOT a.ecab AND a.k = g.j)
WHERE p.submitted;
INSERT INTO comments (change_id, author_id, body, created_at)
SELECT p.id, p.requester, 'Status: ' || p.state || ', see the runbook.',
       p.created_at + interval '1 hour'
FROM bench_plan p WHERE p.submitted AND p.id % 7 = 0;

-- step: audit
-- the history's entries come chained; the chain hashes are placeholders
-- (the chainer links what the benchmark writes after them)
SET work_mem = '256MB';
INSERT INTO audit_log (at, actor, action, entity, entity_id, data, seq, prev_hash, hash)
SELECT e.at, e.actor, e.action, 'change', e.change_id::text, e.data, e.s,
       encode(sha256(convert_to('bench-chain-' || (e.s - 1), 'UTF8')), 'hex'),
       encode(sha256(convert_to('bench-chain-' || e.s, 'UTF8')), 'hex')
FROM (SELECT x.*, row_number() OVER (ORDER BY x.at, x.change_id, x.ord) AS s
      FROM (SELECT p.id AS change_id, v.ord, date_trunc('second', v.at) AS at, v.actor,
                   v.action, v.data
            FROM bench_plan p JOIN changes c ON c.id = p.id
            CROSS JOIN LATERAL (VALUES
                (1, c.created_at, 'user:' || p.requester, 'change.created',
                 jsonb_build_object('ref', 'CHG-' || p.id, 'title', p.title, 'version', 1,
                                    'content_hash', c.content_hash, 'source', 'api')),
                (2, CASE WHEN p.version > 1 THEN c.created_at + interval '1 hour' END,
                 'user:' || p.requester, 'change.updated',
                 jsonb_build_object('ref', 'CHG-' || p.id, 'version', 2,
                                    'content_hash', c.content_hash, 'fields', '["title"]'::jsonb)),
                (3, c.submitted_at, 'user:' || p.requester, 'change.submit',
                 jsonb_build_object('ref', 'CHG-' || p.id, 'from', 'draft',
                                    'to', 'awaiting_approval')),
                (4, c.submitted_at, 'system', 'change.assessed',
                 jsonb_build_object('version', p.version, 'score', p.score, 'level', p.level,
                                    'needed', p.needed)),
                (6, c.started_at, 'user:' || p.requester, 'change.start',
                 jsonb_build_object('ref', 'CHG-' || p.id, 'from', 'approved', 'to', 'in_progress')),
                (7, c.completed_at, 'user:' || p.requester, 'change.complete',
                 jsonb_build_object('ref', 'CHG-' || p.id, 'from', 'in_progress', 'to',
                                    'review', 'outcome', p.outcome)),
                (8, c.closed_at, 'user:' || p.requester, 'change.close',
                 jsonb_build_object('ref', 'CHG-' || p.id, 'from', 'review', 'to', 'closed')),
                (9, CASE WHEN p.state = 'cancelled' THEN c.updated_at END,
                 'user:' || p.requester, 'change.cancel',
                 jsonb_build_object('ref', 'CHG-' || p.id, 'to', 'cancelled',
                                    'reason', 'no longer needed'))
            ) v(ord, at, actor, action, data)
            WHERE v.at IS NOT NULL
            UNION ALL
            SELECT a.change_id, 5, date_trunc('second', a.created_at), 'user:' || a.approver_id,
                   'change.decided',
                   jsonb_build_object('ref', 'CHG-' || a.change_id, 'approval', a.id,
                                      'decision', a.decision, 'version', a.version,
                                      'content_hash', a.content_hash, 'key_id', a.key_id,
                                      'signed_at', a.signed_at, 'signature', a.signature)
            FROM approvals a
            UNION ALL
            SELECT k.change_id, 10, date_trunc('second', k.created_at), 'user:' || k.author_id,
                   'change.commented', jsonb_build_object('comment', k.id, 'body', k.body)
            FROM comments k) x) e
ORDER BY e.s;

-- step: outbox
-- the events of the last 90 days (older ones were fanned out long ago and
-- stand for what a pruned outbox keeps)
INSERT INTO outbox (event_id, type, payload, created_at, fanned_out)
SELECT 'msg_bench_' || md5(c.id || ':' || v.k), v.type,
       jsonb_build_object('change', jsonb_build_object(
           'id', c.id, 'ref', 'CHG-' || c.id, 'title', c.title, 'state', c.state,
           'window', jsonb_build_object('start', cab_ts(lower(c.win)), 'end', cab_ts(upper(c.win))))),
       v.at, true
FROM changes c
CROSS JOIN LATERAL (VALUES (1, 'change.created', c.created_at),
                           (2, 'change.submitted', c.submitted_at),
                           (3, 'change.approved', c.approved_at),
                           (4, 'change.state_changed', c.started_at),
                           (5, 'change.state_changed', c.completed_at),
                           (6, 'change.state_changed', c.closed_at)) v(k, type, at)
WHERE c.created_at > now() - interval '90 days' AND v.at IS NOT NULL;

-- step: history conflicts
-- one in twenty changes of the history met the next one (resolved since)
INSERT INTO conflicts (kind, change_a, change_b, state, services, overlap, detected_at,
                       resolved_at)
SELECT 'change', p.id, p.id + 1, 'resolved', ARRAY[p.services[1]], 'shared',
       p.created_at + interval '2 hours', upper(p.win)
FROM bench_plan p JOIN bench_plan q ON q.id = p.id + 1
WHERE p.kind = 'h' AND q.kind = 'h' AND p.id % 20 = 0 AND p.submitted AND q.submitted;
